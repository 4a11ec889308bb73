/*
 * libbroker internal: permissions as a connection checks them (nats-server 2.9's permissions,
 * pcache, msgDeny and replies in client.go).
 *
 * A struct nb_perm_set is compiled once per user from its configuration and shared, read-only, by
 * the user's connections. A struct nb_perm_state belongs to one connection: the publish answers it
 * has cached, the delivery answers of its subscribe deny list, and the reply subjects it may
 * answer (allow_responses). Everything runs on the loop thread.
 */
#ifndef NB_PERM_H
#define NB_PERM_H

#include "nb.h"
#include "nb_scache.h"
#include "np.h"

#include <stdbool.h>
#include <stdint.h>

/* A subject pattern, with the queue group a subscribe entry may name (queue_len 0: none). */
struct nb_perm_entry {
    const char *subject, *queue;
    uint32_t subject_len, queue_len;
};

struct nb_perm_list {
    struct nb_perm_entry *v;
    uint32_t n;
};

struct nb_perm_set {
    struct nb_perm_list pub_allow, pub_deny, sub_allow, sub_deny;
    bool pub_limited;    /* the publish allow list applies: it has entries, or responses are on */
    bool sub_deny_plain; /* a subscribe deny entry without a queue, which filters deliveries */
    bool responses;      /* allow_responses */
    int64_t responses_max, responses_ttl_ms; /* < 0: no limit */
    char *text;                              /* the entries' subjects and queues */
};

/* Compiles cfg into *out (freed with nb__perm_set_free()). Returns 0 or NB_ENOMEM. */
int nb__perm_set_new(const struct nb_permissions *cfg, struct nb_perm_set **out);
void nb__perm_set_free(struct nb_perm_set *set);
/*
 * Whether set lets a client subscribe to subject, in queue group queue when queue.len is not 0.
 * One difference from nats-server 2.9.10, which matches the subscription's wildcards as if they
 * were literal tokens: the subscription must be covered by an allow entry, so "foo.*" does not
 * admit "foo.>" (docs/security.md).
 */
bool nb__perm_may_subscribe(const struct nb_perm_set *set, struct np_str subject,
                            struct np_str queue);
/*
 * Whether a subscription on subject can match a subject that the subscribe deny list refuses, so
 * that what it receives must be checked at delivery (nb__perm_may_deliver()).
 */
bool nb__perm_filters(const struct nb_perm_set *set, struct np_str subject);

struct nb_perm_state {
    const struct nb_perm_set *set;
    struct nb_scache pub;     /* subject -> may publish */
    struct nb_scache deliver; /* subject -> may receive, through a filtered subscription */
    struct nb_scache replies; /* reply subject -> when it arrived, replies sent to it */
};

/* Starts st for a connection of set; nothing is allocated until subjects are seen. */
void nb__perm_state_init(struct nb_perm_state *st, const struct nb_perm_set *set);
void nb__perm_state_release(struct nb_perm_state *st);
/*
 * Whether the connection may publish to subject at loop time now_ms. A publish allowed only as a
 * response counts against that reply's limit.
 */
bool nb__perm_may_publish(struct nb_perm_state *st, const char *subject, size_t len,
                          uint64_t now_ms);
/* Whether a filtered subscription may receive a message on subject. */
bool nb__perm_may_deliver(struct nb_perm_state *st, const char *subject, size_t len);
/* The connection received a message with this reply subject: with allow_responses it may answer. */
void nb__perm_reply_received(struct nb_perm_state *st, const char *reply, size_t len,
                             uint64_t now_ms);

#endif
