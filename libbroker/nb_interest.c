/*
 * The interest this server announces to its peers (spec 5.4): one entry per distinct
 * "account subject[ queue]" of its local subscriptions (clients' and internal ones), counting them.
 *
 * A plain subject is announced when its count goes from 0 to 1 (RS+) and withdrawn when it comes
 * back to 0 (RS-); two clients on "foo" cost the peers one line. A queue group's count is its
 * weight, and every change of it is sent (RS+ with the new weight, RS- at 0), so that a peer can
 * balance between servers in proportion to their members. Interest learnt from a route is never
 * passed on: every server is routed to every other (a full mesh).
 */
#include "nb_account.h"
#include "nb_cluster.h"
#include "nb_srv.h"

#include <stdlib.h>
#include <string.h>

struct nb_interest {
    uint32_t count;       /* local subscriptions with this key */
    uint32_t account_len; /* the key is "account subject", then " queue" for a queue group */
    uint32_t subject_len;
    uint32_t key_len;
    char key[];
};

static void
line_of(const struct nb_interest *in, struct np_rsub_line *l)
{
    size_t end = in->account_len + 1 + in->subject_len; /* of the subject in the key */
    *l = (struct np_rsub_line){
        .account = {in->key, in->account_len},
        .subject = {in->key + in->account_len + 1, in->subject_len},
        .weight = in->count,
    };
    if (in->key_len > end) l->queue = (struct np_str){in->key + end + 1, in->key_len - end - 1};
}

/* Writes the RS+ (or RS- when unsub) of in to route r. */
static void
send_line(struct nb_route *r, const struct nb_interest *in, bool unsub)
{
    struct np_rsub_line l;
    line_of(in, &l);
    char buf[512];
    size_t n = unsub ? np_enc_runsub(buf, sizeof buf, &l) : np_enc_rsub(buf, sizeof buf, &l);
    if (n <= sizeof buf) {
        nb__route_send(r, buf, n);
        return;
    }
    char *big = malloc(n);
    if (!big) {
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    n = unsub ? np_enc_runsub(big, n, &l) : np_enc_rsub(big, n, &l);
    nb__route_send(r, big, n);
    free(big);
}

/* Sends a change to every registered route. */
static void
broadcast(struct nb_server *srv, const struct nb_interest *in, bool unsub)
{
    size_t it = 0;
    void *val;
    while (np_map_next(&srv->cluster->remotes, &it, NULL, NULL, &val))
        send_line(val, in, unsub);
}

/* The key of sub built in a stack buffer when it fits, else on the heap (*heap to free). */
static struct np_str
key_of(struct np_str acc, const struct nb_sub *sub, char *buf, size_t cap, char **heap)
{
    size_t n = acc.len + 1 + sub->subject_len + (sub->queue ? 1 + sub->queue_len : 0);
    char *k = buf;
    *heap = NULL;
    if (n > cap && !(k = *heap = malloc(n))) return (struct np_str){0};
    memcpy(k, acc.ptr, acc.len);
    k[acc.len] = ' ';
    char *p = k + acc.len + 1;
    memcpy(p, sub->subject, sub->subject_len);
    if (sub->queue) {
        p[sub->subject_len] = ' ';
        memcpy(p + sub->subject_len + 1, sub->queue, sub->queue_len);
    }
    return (struct np_str){k, n};
}

static struct nb_interest *
interest_new(struct nb_cluster *cl, struct np_str acc, const struct nb_sub *sub, struct np_str key)
{
    struct nb_interest *in = malloc(sizeof *in + key.len);
    if (!in) return NULL;
    memcpy(in->key, key.ptr, key.len);
    in->key_len = (uint32_t)key.len;
    in->account_len = (uint32_t)acc.len;
    in->subject_len = sub->subject_len;
    in->count = 0;
    if (np_map_put(&cl->interest, in->key, in->key_len, in) != 0) {
        free(in);
        return NULL;
    }
    return in;
}

void
nb__interest_add(struct nb_server *srv, const struct nb_account *acc, const struct nb_sub *sub)
{
    char buf[256], *heap;
    struct np_str an = {nb__account_name(acc), nb__account_name_len(acc)};
    struct np_str key = key_of(an, sub, buf, sizeof buf, &heap);
    struct nb_interest *in = key.len ? np_map_get(&srv->cluster->interest, key.ptr, key.len) : NULL;
    if (!in && key.len) in = interest_new(srv->cluster, an, sub, key);
    free(heap);
    /* Without memory a peer does not learn this interest: logged, as it cannot be repaired. */
    if (!in) {
        nb__log(srv, NB_LOG_ERROR, "Out of memory: interest in \"%.*s\" not sent to routes",
                (int)sub->subject_len, sub->subject);
        return;
    }
    in->count++;
    if (sub->queue || in->count == 1) broadcast(srv, in, false);
}

void
nb__interest_del(struct nb_server *srv, const struct nb_account *acc, const struct nb_sub *sub)
{
    char buf[256], *heap;
    struct np_str an = {nb__account_name(acc), nb__account_name_len(acc)};
    struct np_str key = key_of(an, sub, buf, sizeof buf, &heap);
    struct nb_interest *in = key.len ? np_map_get(&srv->cluster->interest, key.ptr, key.len) : NULL;
    free(heap);
    if (!in) return;
    if (--in->count > 0) {
        if (sub->queue) broadcast(srv, in, false);
        return;
    }
    broadcast(srv, in, true);
    np_map_del(&srv->cluster->interest, in->key, in->key_len);
    free(in);
}

void
nb__interest_send_all(struct nb_route *r)
{
    struct nb_cluster *cl = r->conn.srv->cluster;
    size_t it = 0;
    void *val;
    while (np_map_next(&cl->interest, &it, NULL, NULL, &val))
        send_line(r, val, false);
    nb__conn_log(&r->conn, NB_LOG_DEBUG, "Sent local subscriptions to route");
}

void
nb__interest_release(struct nb_cluster *cl)
{
    size_t it = 0;
    void *val;
    while (np_map_next(&cl->interest, &it, NULL, NULL, &val))
        free(val);
    np_map_release(&cl->interest);
}
