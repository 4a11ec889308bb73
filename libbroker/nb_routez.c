/*
 * /routez: the registered routes with nats-server 2.9's field names (monitor.go's RouteInfo), and
 * with subs=1 or subs=detail the interest each peer announced.
 */
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_monitor.h"
#include "nb_srv.h"

#include <string.h>

static void
write_route_subs(struct nb_jw *w, struct nb_route *r, bool detail)
{
    nb_jw_arr(w, detail ? "subscriptions_list_detail" : "subscriptions_list");
    size_t it = 0;
    void *val;
    while (np_map_next(&r->subs, &it, NULL, NULL, &val)) {
        const struct nb_rsub *rs = val;
        const struct nb_sub *s = &rs->sub;
        if (!detail) {
            nb_jw_strn(w, NULL, s->subject, s->subject_len);
            continue;
        }
        nb_jw_obj(w, NULL);
        nb_jw_strn(w, "subject", s->subject, s->subject_len);
        if (s->queue) nb_jw_strn(w, "qgroup", s->queue, s->queue_len);
        nb_jw_strn(w, "sid", s->sid, s->sid_len);
        nb_jw_u64(w, "msgs", s->delivered);
        nb_jw_u64(w, "cid", r->conn.id);
        nb_jw_end_obj(w);
    }
    nb_jw_end_arr(w);
}

static void
write_route(struct nb_server *srv, struct nb_jw *w, struct nb_route *r, int subs, uint64_t now_ms)
{
    struct nb_conn *c = &r->conn;
    char text[48];
    nb_jw_obj(w, NULL);
    nb_jw_u64(w, "rid", c->id);
    nb_jw_str(w, "remote_id", r->remote_id);
    nb_jw_bool(w, "did_solicit", r->solicited);
    nb_jw_bool(w, "is_configured", r->solicit && r->solicit->configured);
    nb_jw_str(w, "ip", c->ip);
    nb_jw_u64(w, "port", c->port);
    nb_jw_time(w, "start", nb__mon_wall_ns(srv, c->start_ms));
    nb_jw_time(w, "last_activity", nb__mon_wall_ns(srv, c->last_ms));
    nb__mon_duration(r->rtt_ns, text, sizeof text);
    nb_jw_str(w, "rtt", text);
    nb__mon_uptime((int64_t)(now_ms - c->start_ms) * 1000000, text, sizeof text);
    nb_jw_str(w, "uptime", text);
    nb__mon_uptime((int64_t)(now_ms - c->last_ms) * 1000000, text, sizeof text);
    nb_jw_str(w, "idle", text);
    nb_jw_u64(w, "pending_size", c->out.pending);
    nb_jw_u64(w, "in_msgs", c->in_msgs);
    nb_jw_u64(w, "out_msgs", c->out_msgs);
    nb_jw_u64(w, "in_bytes", c->in_bytes);
    nb_jw_u64(w, "out_bytes", c->out_bytes);
    nb_jw_u64(w, "subscriptions", np_map_count(&r->subs));
    if (subs && np_map_count(&r->subs)) write_route_subs(w, r, subs > 1);
    nb_jw_end_obj(w);
}

int
nb__mon_routez(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
               struct np_buf *err)
{
    bool subs = false;
    char v[16];
    nb__mon_str(req, "subs", v, sizeof v);
    bool detail = strcmp(v, "detail") == 0;
    if (!detail && nb__mon_bool(req, "subs", &subs, err)) return 400;
    uint64_t now = nb__now_ms(srv);
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_u64(w, "num_routes", nb__cluster_nroutes(srv));
    nb_jw_arr(w, "routes");
    for (struct nb_conn *c = srv->conns; srv->cluster && c; c = c->next) {
        if (nb__conn_is_client(c) || !nb__route_of(c)->registered) continue;
        write_route(srv, w, nb__route_of(c), detail ? 2 : subs, now);
    }
    nb_jw_end_arr(w);
    nb_jw_end_obj(w);
    return 200;
}
