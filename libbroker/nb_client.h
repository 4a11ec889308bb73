/*
 * The client protocol on a connection: INFO and CONNECT (with authentication), PUB and HPUB into
 * the message path, SUB and UNSUB with the connection's sid table, PING and PONG with stale
 * detection. The transport underneath is nb_conn.
 */
#ifndef NB_CLIENT_H
#define NB_CLIENT_H

#include "nb_conn.h"
#include "nb_perm.h"
#include "nb_sublist.h"
#include "np.h"
#include "np_map.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct nb_account;
struct nb_auth_job;

struct nb_client {
    struct nb_conn conn; /* first: a connection pointer of a client is a client pointer */
    struct np_parser parser;
    struct np_map subs;         /* sid -> struct nb_sub * */
    struct nb_perm_state *perm; /* its user's permissions; NULL: may do anything */
    char *user;                 /* the user name it authenticated as or sent, for logs */
    struct nb_account *acc;     /* its subject space: $G until it authenticates */
    char nonce[16];             /* its first INFO's nonce (nkey users sign it), "" when none */
    struct nb_auth_job *auth;   /* a bcrypt check in flight; its input waits in held */
    char *held;                 /* input that arrived behind that CONNECT */
    size_t held_len;
    uint64_t next_ping_ms;
    uint64_t auth_deadline_ms;   /* 0 when no CONNECT is awaited */
    uint32_t pings_out;          /* PINGs sent and not answered */
    uint64_t ping_sent_ns;       /* uv_hrtime() of the last PING, for the round trip time */
    int64_t rtt_ns;              /* the last measured round trip, 0 until one was */
    char *name, *lang, *version; /* as the CONNECT said, NULL when it did not */
    /* The credentials it authenticated with, checked again when a reload changes authorization. */
    struct np_connect creds;
    char *bcrypt_ok; /* the bcrypt hash those matched, so a reload keeping it needs no bcrypt */
    unsigned connected : 1; /* CONNECT received */
    unsigned verbose : 1, pedantic : 1, echo : 1, no_responders : 1;
    unsigned protocol : 1;
    unsigned activity : 1;      /* a message, SUB or UNSUB arrived since the last ping check */
    unsigned client_pinged : 1; /* the client sent a PING since the last ping check */
    unsigned rtt_known : 1;     /* the client has answered a PING */
    unsigned track_replies : 1; /* allow_responses: reply subjects it receives become publishable */
    unsigned first_pong : 1;    /* the handshake is done: async INFOs may follow */
    unsigned user_is_nkey : 1;  /* user is the nkey its CONNECT sent, named so in logs */
    uint32_t urls_gen;          /* the cluster's connect_urls generation its last INFO showed */
};

/* Accepts a client connection from the listener; on failure the connection is dropped. */
void nb__client_accept(struct nb_server *srv, uv_stream_t *listener);
/* Returns the client behind a client-kind connection. */
static inline struct nb_client *
nb__client_of(struct nb_conn *c)
{
    return (struct nb_client *)c;
}
/* Whether c is a client connection (and not a route). */
bool nb__conn_is_client(const struct nb_conn *c);
/*
 * Spec 2.6: tells a requester that nobody is listening, on its first plain subscription that
 * matches the reply subject (if it has one).
 */
void nb__client_no_responders(struct nb_client *c, const struct nb_msg *msg);
/* Sends the client a fresh INFO (new connect_urls) if it takes async INFOs. */
void nb__client_async_info(struct nb_client *c);
/* Traces a CONNECT (dir "<<-" or "->>") with pass and auth_token replaced, as nats-server does. */
void nb__trace_connect(struct nb_conn *c, const char *dir, struct np_str arg);
/*
 * After a reload replaced the server's authentication, as nats-server's reloadAuthorization: a
 * client of a user no longer in the users list is closed, one whose credentials no longer hold
 * gets "-ERR 'Authorization Violation'" and is closed, the others take their user's new
 * permissions and lose the subscriptions those refuse.
 */
void nb__client_recheck(struct nb_client *c);
/* Removes one subscription of c from the sublist and c's sid table, and frees it. */
void nb__client_unsub(struct nb_client *c, struct nb_sub *sub);

#endif
