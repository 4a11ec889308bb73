/*
 * Clustering (spec 5, docs/clustering.md): the servers of a cluster are joined by routes, one per
 * pair, and a message crosses at most one of them. Four modules share this header:
 *
 * - nb_route.c: the route protocol on one connection (handshake, interest, messages, pings);
 * - nb_cluster.c: the cluster as a whole: the route listener, the URLs to dial and redial, the
 *   registry of connected peers by server id, gossip and the cluster name;
 * - nb_interest.c: the local interest announced to peers (RS+/RS-), counted per subject and queue;
 * - nb_curls.c: the client URLs of the cluster, for connect_urls in clients' INFO.
 *
 * srv->cluster is NULL when clustering is off, and every hook on the client side tests that first,
 * so a server without routes pays one pointer test per subscribe and nothing per message.
 */
#ifndef NB_CLUSTER_H
#define NB_CLUSTER_H

#include "nb_conn.h"
#include "nb_sublist.h"
#include "np.h"
#include "np_map.h"
#include "np_route.h"
#include "np_url.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct nb_account;
struct nb_route;
struct nb_resolve;

/* A route URL to dial: configured (explicit, dialed for as long as the server runs) or gossiped. */
struct nb_solicit {
    struct nb_solicit *next;
    struct np_url url;
    char *shown;                /* the URL with its password hidden, for log lines */
    struct nb_route *route;     /* the connection dialing or using it, NULL between attempts */
    struct nb_resolve *resolve; /* a host name being resolved, NULL otherwise */
    uint64_t next_try_ms;       /* when to dial next, 0 when nothing is scheduled */
    uint32_t attempts;          /* failed dials since the last connection */
    char *remote_id;            /* the server it led to last time, NULL until known */
    bool configured;            /* an explicit route (cfg->routes) */
    bool self;                  /* it led back to this server: never dialed again */
    bool connected_once;        /* after a first connection, every failed dial is reported */
};

/* The client URLs peers announced, counted: two routes may name the same one. */
struct nb_peer_url {
    char *url;
    uint32_t refs;
};

struct nb_cluster {
    uv_tcp_t listener;
    bool listening;            /* the listener's handle exists */
    int port;                  /* the bound cluster port */
    char *name;                /* the cluster name, configured, generated or adopted */
    bool name_dynamic;         /* generated: a peer's configured name replaces it */
    char *info_host, *info_ip; /* what this server's route INFO says (advertise or listen) */
    int info_port;
    struct np_map remotes;       /* server id -> the registered struct nb_route of that peer */
    struct nb_solicit *solicits; /* the URLs to dial */
    struct np_map interest;      /* "subject[ queue]" -> struct nb_interest, local subscriptions */
    char **own_urls;             /* this server's client URLs */
    size_t nown;
    struct nb_peer_url *peer_urls;
    size_t npeer_urls;
    bool urls_announced; /* clients get connect_urls (a peer has told us its URLs) */
    uint32_t urls_gen;   /* bumped when connect_urls change */
    char **local_ips;    /* this host's addresses, to skip dialing ourselves */
    size_t nlocal_ips;
    struct nb_tls_ctx *tls; /* routes' TLS (cluster.tls), NULL when routes are plaintext */
    /*
     * The first configured route's host name: what a dialed route's certificate must name when
     * the URL dialed is an IP address (a gossiped one), as nats-server's routeTLSName. NULL: none.
     */
    char *tls_name;
};

/* The peer's interest: one per "subject[ queue]" key it announced with RS+. */
struct nb_rsub {
    struct nb_sub sub;      /* first: the sublist's pointer is the route subscription's */
    struct nb_account *acc; /* the account whose sublist holds it */
    uint32_t weight;        /* queue members the peer has (RS+ of a queue) */
    uint32_t key_len;
    char key[]; /* "account subject[ queue]"; sub.subject and sub.queue point into it */
};

struct nb_route {
    struct nb_conn conn; /* first: a connection pointer of a route is a route pointer */
    struct np_rparser parser;
    struct np_map subs;         /* key -> struct nb_rsub *, the peer's interest */
    struct nb_solicit *solicit; /* the URL this connection was dialed from (or inherited) */
    uv_connect_t creq;
    char *remote_id; /* the peer's server id, from its CONNECT or INFO */
    char *dial_url;  /* "nats-route://host:port/" of the peer, to redial it */
    bool peer_auth;  /* the peer asks routes for credentials */
    char **urls;     /* the peer's client URLs, counted in the cluster's set */
    size_t nurls;
    struct np_buf key; /* scratch for RS- keys */
    uint64_t next_ping_ms;
    uint64_t deadline_ms; /* the dial or the authentication must be done by then, 0: none */
    uint64_t ping_sent_ns;
    int64_t rtt_ns;
    uint32_t pings_out;
    int dial_status;           /* why the dial failed (a libuv code) */
    unsigned solicited : 1;    /* this server dialed */
    unsigned tcp_up : 1;       /* the dial completed (always set for accepted routes) */
    unsigned connect_seen : 1; /* the peer's CONNECT arrived (accepted routes) */
    unsigned info_seen : 1;    /* the peer's first INFO arrived */
    unsigned registered : 1;   /* the route of its peer in the registry */
    unsigned retry : 1;        /* kept over a duplicate: redial it if it drops */
    unsigned activity : 1;     /* traffic since the last ping check */
    unsigned rtt_known : 1;
};

static inline struct nb_route *
nb__route_of(struct nb_conn *c)
{
    return (struct nb_route *)c;
}

/* ---- nb_route.c ---------------------------------------------------------------------------- */

/* Accepts a route from the cluster listener and sends it this server's INFO. */
void nb__route_accept(struct nb_server *srv, uv_stream_t *listener);
/* Dials addr for s. The outcome comes back through s (nb__cluster_route_gone on failure). */
void nb__route_dial(struct nb_server *srv, struct nb_solicit *s, const struct sockaddr *addr);
/* Queues a protocol line on a route, traced. */
void nb__route_send(struct nb_route *r, const char *line, size_t len);

/* ---- nb_cluster.c -------------------------------------------------------------------------- */

/*
 * Creates srv->cluster (at nb_server_new, so that subscriptions made before the start, such as
 * JetStream's, are counted as interest). Returns 0 or NB_ENOMEM.
 */
int nb__cluster_new(struct nb_server *srv);
/* Listens for routes and starts dialing. Returns 0 or an error, with srv->start_error set. */
int nb__cluster_start(struct nb_server *srv);
/* Stops listening and dialing; routes are closed with the other connections. */
void nb__cluster_stop(struct nb_server *srv);
void nb__cluster_free(struct nb_server *srv);
/* Dials what is due. */
void nb__cluster_tick(struct nb_server *srv, uint64_t now_ms);
/*
 * The cluster name check of a CONNECT or an INFO (spec 5.2): true when theirs matches ours, or
 * when ours was generated and gives way to theirs (the other routes are then closed).
 */
bool nb__cluster_name_ok(struct nb_route *r, const char *theirs, bool theirs_dynamic);
/*
 * The peer's first INFO: registers the route (or closes it as a duplicate), sends it our interest,
 * tells the other peers about it and takes its client URLs.
 */
void nb__cluster_register(struct nb_route *r, const struct np_info *info, struct np_str json);
/* An INFO on an established route about another server: dial it if it is new (spec 5.3). */
void nb__cluster_gossip(struct nb_server *srv, const struct np_info *info);
/* The route is being torn down: unregister it and decide whether to dial again. */
void nb__cluster_route_gone(struct nb_route *r);
/* The route INFO of this server, with a fresh nonce. Returns a malloc'd JSON or NULL. */
char *nb__cluster_info_json(struct nb_server *srv);
/* How many routes are registered (/varz, /routez). */
size_t nb__cluster_nroutes(const struct nb_server *srv);

/* ---- nb_interest.c ------------------------------------------------------------------------- */

/* A local subscription (client or internal) was added or removed: tell the peers if it matters. */
void nb__interest_add(struct nb_server *srv, const struct nb_account *acc,
                      const struct nb_sub *sub);
void nb__interest_del(struct nb_server *srv, const struct nb_account *acc,
                      const struct nb_sub *sub);
/* Sends every local interest to a route that just registered. */
void nb__interest_send_all(struct nb_route *r);
void nb__interest_release(struct nb_cluster *cl);

/* ---- nb_curls.c ---------------------------------------------------------------------------- */

/* This server's client URLs: client_advertise, the listen address, or every interface's. */
int nb__curls_init(struct nb_server *srv);
/* A peer's client URLs join or leave the set; clients hear about a change (async INFO). */
void nb__curls_add(struct nb_server *srv, char *const *urls, size_t n);
void nb__curls_remove(struct nb_server *srv, char *const *urls, size_t n);
/*
 * The connect_urls of a client INFO: own URLs first, then the peers'. Returns a malloc'd array of
 * borrowed strings (free only the array) and its length, or NULL with 0 when there are none.
 */
char **nb__curls_list(const struct nb_server *srv, size_t *n);
void nb__curls_release(struct nb_cluster *cl);

#endif
