/*
 * /varz and /jsz. natsctl has no gateways, leaf nodes, MQTT or websockets, so their objects are
 * empty, as nats-server's are when they are not configured (and "cluster" too without routes). Memory and CPU come from
 * libuv (RSS, getrusage); the CPU percentage is averaged since the previous /varz, as ps would.
 */
#include "nb_account.h"
#include "nb_auth.h"
#include "nb_cluster.h"
#include "nb_consumer.h"
#include "nb_js.h"
#include "nb_monitor.h"
#include "nb_srv.h"
#include "np.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CPU use since the previous sample, kept for a second so close requests agree. */
static double
cpu_percent(struct nb_monitor *mon, int64_t now_ns, int64_t start_ns)
{
    uv_rusage_t ru;
    if (uv_getrusage(&ru) != 0) return mon->cpu_pct;
    uint64_t used = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    int64_t since = mon->cpu_wall_ns ? mon->cpu_wall_ns : start_ns;
    if (now_ns - since < 1000000000 && mon->cpu_wall_ns) return mon->cpu_pct;
    double wall_us = (double)(now_ns - since) / 1000;
    mon->cpu_pct = wall_us > 0 ? (double)(used - mon->cpu_used_us) * 100 / wall_us : 0;
    mon->cpu_pct = (double)(int64_t)(mon->cpu_pct * 100 + 0.5) / 100;
    mon->cpu_used_us = used;
    mon->cpu_wall_ns = now_ns;
    return mon->cpu_pct;
}

static void
write_js_config(struct nb_server *srv, struct nb_jw *w)
{
    nb_jw_obj(w, "config");
    nb_jw_i64(w, "max_memory", srv->js ? srv->cfg.js_max_memory : 0);
    nb_jw_i64(w, "max_storage", srv->js ? srv->cfg.js_max_file : 0);
    if (srv->js && srv->cfg.store_dir) {
        char *dir = nb__path_join(srv->cfg.store_dir, "jetstream");
        nb_jw_str(w, "store_dir", dir ? dir : srv->cfg.store_dir);
        free(dir);
    }
    nb_jw_end_obj(w);
}

/* JetStreamStats: what the streams hold; natsctl reserves nothing and has one account. */
static void
write_js_stats(struct nb_server *srv, struct nb_jw *w, bool account)
{
    struct nb_js *js = srv->js;
    nb_jw_u64(w, "memory", js ? nb__js_usage(js, NB_STORE_MEMORY) : 0);
    nb_jw_u64(w, "storage", js ? nb__js_usage(js, NB_STORE_FILE) : 0);
    nb_jw_u64(w, "reserved_memory", account ? UINT64_MAX : 0);
    nb_jw_u64(w, "reserved_storage", account ? UINT64_MAX : 0);
    nb_jw_u64(w, "accounts", js && !account ? 1 : 0);
    nb_jw_u64(w, "ha_assets", 0);
    nb_jw_obj(w, "api");
    nb_jw_u64(w, "total", js ? js->api_total : 0);
    nb_jw_u64(w, "errors", js ? js->api_errors : 0);
    nb_jw_end_obj(w);
}

/* nats-server's ClusterOptsVarz: the configured routes' host:port as urls. */
static void
write_cluster(struct nb_server *srv, struct nb_jw *w)
{
    const struct nb_config *c = &srv->cfg;
    nb_jw_obj(w, "cluster");
    if (srv->cluster) {
        nb_jw_str(w, "name", srv->cluster->name);
        nb_jw_str(w, "addr", c->cluster_host ? c->cluster_host : c->host);
        nb_jw_i64(w, "cluster_port", srv->cluster->port);
        nb_jw_f64(w, "auth_timeout", (double)c->cluster_auth_timeout_ms / 1000);
        if (c->nroutes) nb_jw_arr(w, "urls");
        for (const struct nb_solicit *s = srv->cluster->solicits; c->nroutes && s; s = s->next) {
            char hp[320];
            if (!s->configured) continue;
            snprintf(hp, sizeof hp, strchr(s->url.host, ':') ? "[%s]:%d" : "%s:%d", s->url.host,
                     s->url.port);
            nb_jw_str(w, NULL, hp);
        }
        if (c->nroutes) nb_jw_end_arr(w);
        nb_jw_f64(w, "tls_timeout", (double)c->cluster_tls.timeout_ms / 1000);
        if (c->cluster_tls.enabled) {
            nb_jw_bool(w, "tls_required", true);
            nb_jw_bool(w, "tls_verify", true);
        }
    }
    nb_jw_end_obj(w);
}

static void
write_config(struct nb_server *srv, struct nb_jw *w)
{
    const struct nb_config *c = &srv->cfg;
    nb_jw_i64(w, "max_connections", c->max_connections);
    if (c->max_subscriptions > 0) nb_jw_i64(w, "max_subscriptions", c->max_subscriptions);
    nb_jw_i64(w, "ping_interval", c->ping_interval_ms * 1000000);
    nb_jw_i64(w, "ping_max", c->ping_max);
    nb_jw_str(w, "http_host", c->host);
    nb_jw_i64(w, "http_port", c->http_port);
    nb_jw_str(w, "http_base_path", "");
    nb_jw_i64(w, "https_port", c->https_port);
    nb_jw_f64(w, "auth_timeout", (double)c->auth_timeout_ms / 1000);
    nb_jw_i64(w, "max_control_line", c->max_control_line);
    nb_jw_i64(w, "max_payload", c->max_payload);
    nb_jw_i64(w, "max_pending", c->max_pending);
    write_cluster(srv, w);
    static const char *const off[] = {"gateway", "leaf", "mqtt", "websocket"};
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
        nb_jw_obj(w, off[i]);
        nb_jw_end_obj(w);
    }
    nb_jw_obj(w, "jetstream");
    if (srv->js) {
        write_js_config(srv, w);
        nb_jw_obj(w, "stats");
        write_js_stats(srv, w, false);
        nb_jw_end_obj(w);
    }
    nb_jw_end_obj(w);
    nb_jw_f64(w, "tls_timeout", (double)c->tls.timeout_ms / 1000);
    nb_jw_i64(w, "write_deadline", c->write_deadline_ms * 1000000);
}

static void
write_runtime(struct nb_server *srv, struct nb_jw *w)
{
    char up[48];
    size_t rss = 0;
    int64_t now = nb__wall_ns();
    uv_resident_set_memory(&rss);
    nb__mon_uptime(now - srv->start_ns, up, sizeof up);
    nb_jw_time(w, "start", srv->start_ns);
    nb_jw_time(w, "now", now);
    nb_jw_str(w, "uptime", up);
    nb_jw_u64(w, "mem", rss);
    nb_jw_u64(w, "cores", uv_available_parallelism());
    nb_jw_u64(w, "gomaxprocs", 1); /* one loop thread runs the broker */
    nb_jw_f64(w, "cpu", cpu_percent(srv->mon, now, srv->start_ns));
}

static void
write_counters(struct nb_server *srv, struct nb_jw *w)
{
    static const char *const paths[] = {
#define NB__MON_PATH_TEXT(name, text) text,
        NB_MON_PATHS(NB__MON_PATH_TEXT)
#undef NB__MON_PATH_TEXT
    };
    struct nb_stats st;
    nb_server_stats(srv, &st);
    nb_jw_u64(w, "connections", st.connections);
    nb_jw_u64(w, "total_connections", st.total_connections);
    nb_jw_u64(w, "routes", nb__cluster_nroutes(srv));
    nb_jw_i64(w, "remotes", 0);
    nb_jw_i64(w, "leafnodes", 0);
    nb_jw_u64(w, "in_msgs", st.in_msgs);
    nb_jw_u64(w, "out_msgs", st.out_msgs);
    nb_jw_u64(w, "in_bytes", st.in_bytes);
    nb_jw_u64(w, "out_bytes", st.out_bytes);
    nb_jw_u64(w, "slow_consumers", st.slow_consumers);
    nb_jw_u64(w, "subscriptions", st.subscriptions);
    nb_jw_obj(w, "http_req_stats");
    for (size_t i = 0; i < NB_MON_NPATHS; i++) {
        if (srv->mon->req_stats[i]) nb_jw_u64(w, paths[i], srv->mon->req_stats[i]);
    }
    nb_jw_end_obj(w);
    nb_jw_time(w, "config_load_time", srv->config_load_ns);
    nb_jw_str(w, "system_account", nb__account_name(nb__accounts_system(srv->accounts)));
}

int
nb__mon_varz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
             struct np_buf *err)
{
    const struct nb_config *c = &srv->cfg;
    (void)req;
    (void)err;
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "server_id", srv->server_id);
    nb_jw_str(w, "server_name", c->server_name ? c->server_name : srv->server_id);
    nb_jw_str(w, "version", NP_SERVER_VERSION);
    nb_jw_i64(w, "proto", 1);
    nb_jw_str(w, "go", "natsctl-" NB_VERSION);
    nb_jw_str(w, "host", c->host);
    nb_jw_i64(w, "port", srv->port);
    /* the server's view: with no_auth_user a client's INFO says otherwise, /varz does not */
    if (srv->auth->required) nb_jw_bool(w, "auth_required", true);
    if (c->tls.enabled) nb_jw_bool(w, "tls_required", true);
    if (c->tls.enabled && c->tls.verify) nb_jw_bool(w, "tls_verify", true);
    write_config(srv, w);
    write_runtime(srv, w);
    write_counters(srv, w);
    nb_jw_end_obj(w);
    return 200;
}

/* ---- /jsz ---------------------------------------------------------------------------------------- */

struct jsz_opts {
    bool accounts, streams, consumers, config;
};

static void
write_consumers(struct nb_stream *st, struct nb_jw *w)
{
    if (!st->consumers) return;
    nb_jw_arr(w, "consumer_detail");
    for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c)) {
        cJSON *info = nb__consumer_info(c);
        if (!info) {
            w->failed = true;
            continue;
        }
        nb_jw_cjson(w, NULL, info);
        cJSON_Delete(info);
    }
    nb_jw_end_arr(w);
}

static void
write_stream(struct nb_stream *st, struct nb_jw *w, const struct jsz_opts *o, const char *name)
{
    cJSON *info = nb__stream_info(st, NULL, false);
    if (!info) {
        w->failed = true;
        return;
    }
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "name", st->cfg.name);
    nb_jw_time(w, "created", st->created_ns);
    nb_jw_obj(w, "cluster"); /* a single server leads every stream */
    nb_jw_str(w, "leader", name);
    nb_jw_end_obj(w);
    if (o->config) nb_jw_cjson(w, "config", cJSON_GetObjectItemCaseSensitive(info, "config"));
    nb_jw_cjson(w, "state", cJSON_GetObjectItemCaseSensitive(info, "state"));
    if (o->consumers) write_consumers(st, w);
    nb_jw_end_obj(w);
    cJSON_Delete(info);
}

static void
write_account(struct nb_server *srv, struct nb_jw *w, const struct jsz_opts *o)
{
    nb_jw_arr(w, "account_details");
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "name", NB_MON_GLOBAL_ACCOUNT);
    nb_jw_str(w, "id", NB_MON_GLOBAL_ACCOUNT);
    write_js_stats(srv, w, true);
    if (o->streams && srv->js->streams) {
        nb_jw_arr(w, "stream_detail");
        for (struct nb_stream *st = srv->js->streams; st; st = st->next)
            write_stream(st, w, o, srv->cfg.server_name ? srv->cfg.server_name : srv->server_id);
        nb_jw_end_arr(w);
    }
    nb_jw_end_obj(w);
    nb_jw_end_arr(w);
}

static void
write_totals(struct nb_server *srv, struct nb_jw *w)
{
    uint64_t streams = 0, consumers = 0, msgs = 0, bytes = 0;
    for (struct nb_stream *st = srv->js ? srv->js->streams : NULL; st; st = st->next) {
        struct nb_store_state s;
        nb_store_state(st->store, &s);
        streams++;
        msgs += s.msgs;
        bytes += s.bytes;
        for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c))
            consumers++;
    }
    nb_jw_u64(w, "streams", streams);
    nb_jw_u64(w, "consumers", consumers);
    nb_jw_u64(w, "messages", msgs);
    nb_jw_u64(w, "bytes", bytes);
}

int
nb__mon_jsz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
            struct np_buf *err)
{
    struct jsz_opts o = {0};
    bool leader = false;
    int64_t offset = 0, limit = 0;
    char acc[256];
    if (nb__mon_bool(req, "accounts", &o.accounts, err) ||
        nb__mon_bool(req, "streams", &o.streams, err) ||
        nb__mon_bool(req, "consumers", &o.consumers, err) ||
        nb__mon_bool(req, "config", &o.config, err) || nb__mon_int(req, "offset", &offset, err) ||
        nb__mon_int(req, "limit", &limit, err) || nb__mon_bool(req, "leader-only", &leader, err))
        return 400;
    /* A single server with JetStream leads it; without, it leads nothing. */
    if (leader && !srv->js) {
        np_buf_adds(err, "filtered response: not leader");
        return 400;
    }
    nb__mon_str(req, "acc", acc, sizeof acc);
    o.streams |= o.consumers;
    o.accounts |= o.streams;
    /*
     * acc picks the account to detail, whatever the paging; otherwise offset pages the accounts
     * in name order, and $G is the only one with JetStream.
     */
    bool detail = strcmp(acc, NB_MON_GLOBAL_ACCOUNT) == 0 || (o.accounts && offset <= 0);
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    if (!srv->js) nb_jw_bool(w, "disabled", true);
    write_js_config(srv, w);
    write_js_stats(srv, w, false);
    write_totals(srv, w);
    if (srv->js && detail) write_account(srv, w, &o);
    nb_jw_end_obj(w);
    return 200;
}
