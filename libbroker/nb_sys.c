/*
 * $SYS.REQ.SERVER handlers. A request body is a JSON object of options (empty: none): the
 * filters every request takes (server_name, host, cluster: substrings; tags, domain: natsctl has
 * none, so asking for any leaves this server silent) and the endpoint's own options, which become
 * the monitoring endpoint's query so /connz and this answer parse them the same way.
 */
#include "nb_sys.h"
#include "nb_account.h"
#include "nb_cluster.h"
#include "nb_monitor.h"
#include "nb_srv.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sys_kind { SYS_STATSZ, SYS_VARZ, SYS_CONNZ };

/* One subscription's handler: what it answers. */
struct sys_sub {
    enum sys_kind kind;
};

static const struct sys_sub kinds[] = {{SYS_STATSZ}, {SYS_VARZ}, {SYS_CONNZ}};
static const char *const kind_names[] = {"STATSZ", "VARZ", "CONNZ"};

/* The JSON names of /connz's options that differ from its query's. */
static const struct {
    const char *json, *query;
} renames[] = {
    {"subscriptions", "subs"},
};

static const char *
server_name(const struct nb_server *srv)
{
    return srv->cfg.server_name ? srv->cfg.server_name : srv->server_id;
}

/* Whether the filters of body leave this server out (nats-server's filterRequest). */
static bool
filtered(const struct nb_server *srv, const cJSON *body)
{
    const char *cluster = srv->cluster ? srv->cluster->name : "";
    const struct {
        const char *key, *ours;
    } subs[] = {{"server_name", server_name(srv)}, {"host", srv->cfg.host}, {"cluster", cluster}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, subs[i].key);
        if (cJSON_IsString(v) && v->valuestring[0] && !strstr(subs[i].ours, v->valuestring))
            return true;
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags");
    const cJSON *domain = cJSON_GetObjectItemCaseSensitive(body, "domain");
    return cJSON_GetArraySize(tags) > 0 || (cJSON_IsString(domain) && domain->valuestring[0]);
}

/* Appends "&name=value" with the value percent-encoded. */
static int
query_add(struct np_buf *q, const char *name, const char *value)
{
    int rc = np_buf_adds(q, q->len ? "&" : "");
    rc |= np_buf_adds(q, name);
    rc |= np_buf_adds(q, "=");
    for (const unsigned char *p = (const unsigned char *)value; *p && !rc; p++) {
        char esc[4];
        bool plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= 'A' && *p <= 'Z') || strchr("-_.~$>*", *p);
        snprintf(esc, sizeof esc, plain ? "%c" : "%%%02X", *p);
        rc |= np_buf_adds(q, esc);
    }
    return rc ? NB_ENOMEM : 0;
}

/* nats-server's state option is a number: 0 open, 1 closed, 2 any. */
static const char *
state_name(const cJSON *v)
{
    static const char *const names[] = {"open", "closed", "any"};
    int i = (int)v->valuedouble;
    return i >= 0 && i <= 2 ? names[i] : "invalid";
}

/* body's options as the endpoint's query string. */
static int
body_query(const cJSON *body, struct np_buf *q)
{
    int rc = 0;
    for (const cJSON *m = body ? body->child : NULL; m && !rc; m = m->next) {
        const char *name = m->string;
        char num[32];
        for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++) {
            if (strcmp(name, renames[i].json) == 0) name = renames[i].query;
        }
        if (strcmp(m->string, "subscriptions_detail") == 0 && cJSON_IsTrue(m)) {
            rc = query_add(q, "subs", "detail");
        } else if (strcmp(m->string, "state") == 0 && cJSON_IsNumber(m)) {
            rc = query_add(q, "state", state_name(m));
        } else if (cJSON_IsBool(m)) {
            rc = query_add(q, name, cJSON_IsTrue(m) ? "true" : "false");
        } else if (cJSON_IsNumber(m)) {
            snprintf(num, sizeof num, "%.0f", m->valuedouble);
            rc = query_add(q, name, num);
        } else if (cJSON_IsString(m)) {
            rc = query_add(q, name, m->valuestring);
        }
    }
    return rc;
}

static void
write_server(struct nb_server *srv, struct nb_jw *w)
{
    nb_jw_obj(w, "server");
    nb_jw_str(w, "name", server_name(srv));
    nb_jw_str(w, "host", srv->cfg.host);
    nb_jw_str(w, "id", srv->server_id);
    if (srv->cluster) nb_jw_str(w, "cluster", srv->cluster->name);
    nb_jw_str(w, "ver", NP_SERVER_VERSION);
    nb_jw_u64(w, "seq", ++srv->sys_seq);
    nb_jw_bool(w, "jetstream", srv->js != NULL);
    nb_jw_time(w, "time", nb__wall_ns());
    nb_jw_end_obj(w);
}

static void
write_data_stats(struct nb_jw *w, const char *key, uint64_t msgs, uint64_t bytes)
{
    nb_jw_obj(w, key);
    nb_jw_u64(w, "msgs", msgs);
    nb_jw_u64(w, "bytes", bytes);
    nb_jw_end_obj(w);
}

/* ServerStats of nats-server 2.9.10's events.go (without per-route figures). */
static void
write_statsz(struct nb_server *srv, struct nb_jw *w)
{
    struct nb_stats st;
    nb_server_stats(srv, &st);
    size_t rss = 0, active = 0;
    uv_resident_set_memory(&rss);
    for (size_t i = 0; i < nb__accounts_count(srv->accounts); i++)
        active += nb__account_conns(nb__accounts_at(srv->accounts, i)) > 0;
    nb_jw_obj(w, "statsz");
    nb_jw_time(w, "start", srv->start_ns);
    nb_jw_u64(w, "mem", rss);
    nb_jw_u64(w, "cores", uv_available_parallelism());
    nb_jw_f64(w, "cpu", srv->mon->cpu_pct); /* as of the last /varz */
    nb_jw_u64(w, "connections", st.connections);
    nb_jw_u64(w, "total_connections", st.total_connections);
    nb_jw_u64(w, "active_accounts", active);
    nb_jw_u64(w, "subscriptions", st.subscriptions);
    write_data_stats(w, "sent", st.out_msgs, st.out_bytes);
    write_data_stats(w, "received", st.in_msgs, st.in_bytes);
    nb_jw_u64(w, "slow_consumers", st.slow_consumers);
    nb_jw_u64(w, "active_servers", 1 + nb__cluster_nroutes(srv));
    nb_jw_end_obj(w);
}

static void
write_error(struct nb_jw *w, int code, const char *text)
{
    nb_jw_obj(w, "error");
    nb_jw_i64(w, "code", code);
    nb_jw_str(w, "description", text);
    nb_jw_end_obj(w);
}

/* "data" from the monitoring endpoint, or nats-server's "data": null and error on a bad option. */
static int
write_endpoint(struct nb_server *srv, enum sys_kind kind, const cJSON *body, struct nb_jw *w)
{
    struct np_buf q = {0}, err = {0}, data = {0};
    int rc = body_query(body, &q);
    struct nb_httpreq req = {
        .method = NB_HTTP_GET, .query = q.ptr ? q.ptr : "", .query_len = q.len};
    struct nb_jw dw;
    nb_jw_init(&dw, &data, false);
    int status = rc                 ? 0
                 : kind == SYS_VARZ ? nb__mon_varz(srv, &req, &dw, &err)
                                    : nb__mon_connz(srv, &req, &dw, &err);
    if (!rc && nb_jw_failed(&dw)) rc = NB_ENOMEM;
    if (!rc && status == 200) {
        cJSON *parsed = cJSON_ParseWithLength(data.ptr, data.len);
        if (!parsed) rc = NB_ENOMEM;
        nb_jw_cjson(w, "data", parsed);
        cJSON_Delete(parsed);
    } else if (!rc) {
        nb_jw_null(w, "data");
        write_error(w, 500, err.ptr ? err.ptr : "bad request");
    }
    np_buf_release(&q);
    np_buf_release(&err);
    np_buf_release(&data);
    return rc;
}

/* The answer to one request into out; false when this server does not answer. */
static bool
answer(struct nb_server *srv, enum sys_kind kind, const struct nb_msg *msg, struct np_buf *out)
{
    const char *data = msg->data + msg->hdr_len;
    size_t len = msg->len - msg->hdr_len;
    cJSON *body = len ? cJSON_ParseWithLength(data, len) : NULL;
    struct nb_jw w;
    nb_jw_init(&w, out, false);
    nb_jw_obj(&w, NULL);
    write_server(srv, &w);
    bool bad = len && !cJSON_IsObject(body);
    if (bad) {
        write_error(&w, 400, "invalid request body: expected a JSON object of options");
    } else if (filtered(srv, body)) {
        cJSON_Delete(body);
        return false;
    } else if (kind == SYS_STATSZ) {
        write_statsz(srv, &w);
    } else if (write_endpoint(srv, kind, body, &w) != 0) {
        cJSON_Delete(body);
        return false;
    }
    nb_jw_end_obj(&w);
    cJSON_Delete(body);
    return !nb_jw_failed(&w);
}

static void
on_request(struct nb_server *srv, const struct nb_msg *msg, void *ud)
{
    const struct sys_sub *s = ud;
    if (!msg->reply_len) return;
    struct np_buf out = {0};
    if (answer(srv, s->kind, msg, &out)) {
        struct nb_msg reply = {
            .subject = msg->reply, .subject_len = msg->reply_len, .data = out.ptr, .len = out.len};
        nb__publish_in(srv, nb__accounts_system(srv->accounts), NULL, msg->reply, msg->reply_len,
                       &reply);
    }
    np_buf_release(&out);
}

static int
subscribe(struct nb_server *srv, const char *subject, enum sys_kind kind)
{
    struct nb_isub *is;
    struct nb_account *sys = nb__accounts_system(srv->accounts);
    return nb__subscribe_in(srv, sys, subject, NULL, on_request, (void *)&kinds[kind], &is);
}

int
nb__sys_start(struct nb_server *srv)
{
    char subject[128];
    /* The endpoints' CPU sample and request counters live in the monitor, port or not. */
    if (!srv->mon && !(srv->mon = nb__monitor_new())) return NB_ENOMEM;
    int rc = subscribe(srv, "$SYS.REQ.SERVER.PING", SYS_STATSZ);
    for (int k = SYS_STATSZ; k <= SYS_CONNZ && !rc; k++) {
        snprintf(subject, sizeof subject, "$SYS.REQ.SERVER.PING.%s", kind_names[k]);
        rc = subscribe(srv, subject, (enum sys_kind)k);
        snprintf(subject, sizeof subject, "$SYS.REQ.SERVER.%s.%s", srv->server_id, kind_names[k]);
        if (!rc) rc = subscribe(srv, subject, (enum sys_kind)k);
    }
    return rc;
}
