/*
 * The message path: one entry point for every message the server routes, whoever published it (a
 * client, a route, or the server itself), to receivers of three kinds (enum nb_recv_kind).
 */
#ifndef NB_DELIVER_H
#define NB_DELIVER_H

#include "nb.h"
#include "np.h"
#include "np_map.h"

#include <stddef.h>
#include <stdint.h>

struct nb_account;
struct nb_conn;
struct nb_server;
struct nb_sub;
struct nb_queued;
struct nb_qchunk;
struct nb_isub;

/* A queue group whose chosen member is on a route: the route forwards to it by name. */
struct nb_route_queue {
    uint32_t target; /* index into targets */
    struct np_str name;
};

/*
 * The message path's state in the server: scratch that is reused by every delivery (so a warm
 * server allocates nothing per message) and the queue of internal deliveries.
 */
struct nb_delivery {
    struct nb_sub **deferred_unsubs; /* auto-unsubscribes that reached their max during delivery */
    size_t ndeferred, deferred_cap;
    struct nb_conn **targets; /* the routes this message goes to, each once */
    size_t ntargets, targets_cap;
    struct nb_route_queue *rqueues;
    size_t nrqueues, rqueues_cap;
    struct np_str *names; /* one target's queue names while its RMSG is written */
    size_t names_cap;
    struct nb_queued *queued, *queued_tail; /* internal deliveries waiting for their callback */
    struct nb_qchunk *chunks;               /* the memory of queued deliveries */
    struct nb_isub *isubs;                  /* every internal subscription, to free at the end */
    struct np_map acks;                     /* ack prefix -> struct nb_isub *, see below */
    struct np_str route_queues;             /* the queue groups a route's message is for */
    struct np_buf reply_buf;                /* a route's "<$JS.ACK reply>@<inbox>" */
    struct nb_account *acc;                 /* the account of the message being delivered */
    unsigned depth;                         /* nesting of nb__publish() calls */
};

/*
 * Routes msg to every matching subscription: from is the publishing connection (a client or a
 * route), or NULL when the server publishes. Returns how many subscriptions got it (a route counts
 * once). A client that asked for no-responders and reached nobody gets the 503 status here.
 */
size_t nb__publish(struct nb_server *srv, struct nb_conn *from, const struct nb_msg *msg);
/*
 * Like nb__publish, but matches subscriptions against to while the receivers see msg's own subject
 * (a stream message delivered to a consumer's inbox keeps the subject it was stored under).
 */
size_t nb__publish_to(struct nb_server *srv, struct nb_conn *from, const char *to, size_t to_len,
                      const struct nb_msg *msg);
/* Like nb__publish_to, in account acc (the publisher's own account is not looked at). */
size_t nb__publish_in(struct nb_server *srv, struct nb_account *acc, struct nb_conn *from,
                      const char *to, size_t to_len, const struct nb_msg *msg);
/* nb_server_subscribe() in account acc (nb_server_subscribe() subscribes in $G). */
int nb__subscribe_in(struct nb_server *srv, struct nb_account *acc, const char *subject,
                     const char *queue, nb_msg_fn cb, void *ud, struct nb_isub **out);
/*
 * Subscribes cb to subject, "$JS.ACK.<stream>.<consumer>.>", as an internal subscription that acks
 * can also reach directly: each ack subject is used once, so its match can never come from the
 * cache. While the sublist says that nothing else can match the subject's prefix, nb__publish()
 * hands an ack straight to cb, without a match or a copy. Returns as nb_server_subscribe().
 */
int nb__subscribe_acks(struct nb_server *srv, const char *subject, nb_msg_fn cb, void *ud,
                       struct nb_isub **out);
/*
 * A message from a route (spec 5.5): local plain subscriptions get it, and of the queue groups only
 * those named in queues (the groups whose member the sending server chose here), each served by a
 * local member. Nothing goes on to another route. A $JS.ACK reply that ends in "@<inbox>" is a
 * stream message for a consumer's inbox: the inbox is matched, the message keeps its subject.
 */
size_t nb__publish_routed(struct nb_server *srv, struct nb_account *acc, struct nb_conn *route,
                          const struct nb_msg *msg, struct np_str queues);
/* Frees the scratch and drops internal deliveries still queued. */
void nb__delivery_release(struct nb_delivery *d);

#endif
