/*
 * The consumer reader (cli_jsc.h). Pull requests go one at a time to a private inbox, so every
 * status on it belongs to the request in flight and needs no bookkeeping of request ids.
 */
#include "cli_jsc.h"
#include "np_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_DEFAULT   256
#define EXPIRES_DEFAULT 30000

static uint64_t
num(struct np_str s, bool *ok)
{
    uint64_t v = 0;
    if (s.len == 0 || s.len > 19) *ok = false;
    for (size_t i = 0; i < s.len && *ok; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') *ok = false;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    return v;
}

/* Splits s on dots into at most max tokens; returns how many there were (max + 1 when more). */
static size_t
tokens(struct np_str s, struct np_str *tok, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] != '.') continue;
        if (n == max) return max + 1;
        tok[n++] = (struct np_str){s.ptr + start, i - start};
        start = i + 1;
    }
    return n;
}

bool
cli_jsc_parse_meta(struct np_str reply, struct cli_jsc_meta *out)
{
    struct np_str t[16];
    size_t n = tokens(reply, t, 16);
    if (n < 9 || n == 10 || n > 16 || !np_str_eq(t[0], "$JS") || !np_str_eq(t[1], "ACK"))
        return false;
    /* The 11+ token form adds a domain and an account hash before the stream. */
    size_t b = n == 9 ? 2 : 4;
    bool ok = true;
    out->stream = t[b];
    out->consumer = t[b + 1];
    out->delivered = num(t[b + 2], &ok);
    out->stream_seq = num(t[b + 3], &ok);
    out->cons_seq = num(t[b + 4], &ok);
    out->ts_ns = (int64_t)num(t[b + 5], &ok);
    out->pending = num(t[b + 6], &ok);
    return ok;
}

enum cli_jsc_kind
cli_jsc_kind(const struct np_msg *m)
{
    if (m->status == 0) return CLI_JSC_MSG;
    if (m->status == 100) return CLI_JSC_CONTROL;
    if (m->status == 404 || m->status == 408) return CLI_JSC_END;
    return CLI_JSC_REFUSED;
}

const char *
cli_jsc_deliver(const cJSON *info)
{
    return cli_js_str(cJSON_GetObjectItemCaseSensitive(info, "config"), "deliver_subject");
}

static bool
start_time(cJSON *config, int64_t ns)
{
    char when[64];
    np_time_format(ns, when, sizeof when);
    cJSON_AddStringToObject(config, "deliver_policy", "by_start_time");
    return cJSON_AddStringToObject(config, "opt_start_time", when) != NULL;
}

bool
cli_jsc_from(const char *from, cJSON *config, uint64_t *last_n)
{
    static const char *const named[][2] = {
        {"all", "all"}, {"new", "new"}, {"last", "last"}, {"last-per-subject", "last_per_subject"}};
    long long n;
    uint64_t ms;
    int64_t ns;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(from, named[i][0]) == 0)
            return cJSON_AddStringToObject(config, "deliver_policy", named[i][1]) != NULL;
    }
    if (from[0] == '-') {
        if (!cli_parse_int(from + 1, 1, INT64_MAX, &n)) return false;
        *last_n = (uint64_t)n;
        return cJSON_AddStringToObject(config, "deliver_policy", "all") != NULL;
    }
    if (cli_parse_int(from, 1, INT64_MAX, &n)) {
        cJSON_AddStringToObject(config, "deliver_policy", "by_start_sequence");
        return cli_js_add_int(config, "opt_start_seq", n);
    }
    if (np_time_parse(from, strlen(from), &ns) == 0) return start_time(config, ns);
    if (!cli_parse_duration(from, &ms) || ms > INT64_MAX / 2000000) return false;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (int64_t)ms * 1000000;
    return start_time(config, ns);
}

/* ---------------------------------------------------------------------------------------------- */
/* Reading                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static void
pull(struct cli_jsc *j)
{
    char body[160];
    uint64_t batch = j->batch ? j->batch : BATCH_DEFAULT;
    uint64_t expires = j->expires_ms ? j->expires_ms : EXPIRES_DEFAULT;
    char subject[600];
    snprintf(subject, sizeof subject, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", j->stream, j->consumer);
    /* Until the end: whatever is there now, then a 404/408 instead of waiting for more. */
    snprintf(body, sizeof body, "{\"batch\":%" PRIu64 ",\"expires\":%" PRIu64 "%s}", batch,
             expires * 1000000, j->until_end ? ",\"no_wait\":true" : "");
    j->left = batch;
    int rc = np_client_publish(j->cc->nc, subject, j->inbox, (struct np_str){NULL, 0},
                               (struct np_str){body, strlen(body)});
    if (rc != 0) cli_conn_fail(j->cc, rc, "pull request");
}

static void
end(struct cli_jsc *j)
{
    if (j->ended) return;
    j->ended = true;
    j->on_end(j);
}

/* Flow control wants an empty message on the request's reply subject, or on the subject a
 * heartbeat names as stalled when the request itself was missed. */
static void
control(struct cli_jsc *j, const struct np_msg *m)
{
    struct np_hdr h;
    struct np_str stalled;
    char subject[512];
    if (m->reply.len) {
        snprintf(subject, sizeof subject, "%.*s", (int)m->reply.len, m->reply.ptr);
    } else if (np_hdr_parse(&h, m->headers.ptr, m->headers.len) == 0 &&
               np_hdr_get(&h, "Nats-Consumer-Stalled", &stalled)) {
        snprintf(subject, sizeof subject, "%.*s", (int)stalled.len, stalled.ptr);
    } else {
        return;
    }
    np_client_publish(j->cc->nc, subject, NULL, (struct np_str){NULL, 0}, (struct np_str){"", 0});
}

static void
refused(struct cli_jsc *j, const struct np_msg *m)
{
    struct np_hdr h;
    struct np_str d = {"", 0};
    if (np_hdr_parse(&h, m->headers.ptr, m->headers.len) == 0) d = h.description;
    cli_error(j->cc->cmd, "consumer '%s' of stream '%s': %d %.*s", j->consumer, j->stream,
              m->status, (int)d.len, d.ptr);
    cli_conn_finish(j->cc, CLI_EXIT_REJECTED, false);
}

static void
deliver(struct cli_jsc *j, const struct np_msg *m)
{
    struct cli_jsc_meta meta = {0};
    if (!cli_jsc_parse_meta(m->reply, &meta)) return;
    /* Acked before it is handled: the last message of a --count run ends the command, after
     * which nothing more can be sent. */
    if (j->ack) {
        char reply[512];
        snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
        np_client_publish(j->cc->nc, reply, NULL, (struct np_str){NULL, 0}, NP_STR_LIT("+ACK"));
    }
    j->received++;
    j->on_msg(j, m, &meta);
    if (j->cc->finishing) return;
    if (j->until_end && meta.pending == 0) {
        end(j);
        return;
    }
    if (!j->push && --j->left == 0) {
        if (j->single)
            end(j);
        else
            pull(j);
    }
}

static void
on_delivery(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct cli_jsc *j = ud;
    (void)c;
    if (j->cc->finishing || j->ended) return;
    switch (cli_jsc_kind(m)) {
    case CLI_JSC_MSG:
        deliver(j, m);
        return;
    case CLI_JSC_CONTROL:
        control(j, m);
        return;
    case CLI_JSC_END:
        if (j->until_end || j->single)
            end(j);
        else if (!j->push)
            pull(j);
        return;
    case CLI_JSC_REFUSED:
        refused(j, m);
        return;
    }
}

static int64_t
subscribe(struct cli_jsc *j)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j->info, "config");
    const char *group = cli_js_str(cfg, "deliver_group");
    if (j->push)
        return np_client_subscribe(j->cc->nc, cli_jsc_deliver(j->info), *group ? group : NULL, 0,
                                   on_delivery, j);
    np_client_new_inbox(j->cc->nc, j->inbox, sizeof j->inbox);
    return np_client_subscribe(j->cc->nc, j->inbox, NULL, 0, on_delivery, j);
}

void
cli_jsc_start(struct cli_jsc *j, cJSON *info)
{
    cJSON_Delete(j->info);
    j->info = info;
    snprintf(j->consumer, sizeof j->consumer, "%s", cli_js_str(info, "name"));
    j->push = *cli_jsc_deliver(info) != '\0';
    j->sid = subscribe(j);
    if (j->sid < 0) {
        cli_conn_fail(j->cc, (int)j->sid, "subscribe");
        return;
    }
    if (j->on_ready) j->on_ready(j);
    if (j->cc->finishing) return;
    if (j->until_end && cli_js_int(info, "num_pending", 0) == 0)
        end(j);
    else if (!j->push)
        pull(j);
}

static struct cli_jsc *
reader(struct cli_conn *cc)
{
    return cc->ud;
}

static void
on_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    (void)raw;
    cli_jsc_start(reader(cc), cJSON_Duplicate(resp, true));
}

void
cli_jsc_create(struct cli_jsc *j, cJSON *config)
{
    char api[600];
    const char *durable = cli_js_str(config, "durable_name");
    if (*durable)
        snprintf(api, sizeof api, "CONSUMER.DURABLE.CREATE.%s.%s", j->stream, durable);
    else
        snprintf(api, sizeof api, "CONSUMER.CREATE.%s", j->stream);
    j->delete_at_end = !*durable;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "stream_name", j->stream);
    cJSON_AddItemReferenceToObject(body, "config", config);
    cli_js_call(j->cc, api, body, on_info);
    cJSON_Delete(body);
}

void
cli_jsc_bind(struct cli_jsc *j)
{
    char api[600];
    snprintf(api, sizeof api, "CONSUMER.INFO.%s.%s", j->stream, j->consumer);
    cli_js_call(j->cc, api, NULL, on_info);
}

void
cli_jsc_cleanup(struct cli_jsc *j)
{
    char api[600], inbox[64];
    if (j->delete_at_end && *j->consumer && j->cc->nc) {
        snprintf(api, sizeof api, "$JS.API.CONSUMER.DELETE.%s.%s", j->stream, j->consumer);
        /* A reply subject nobody reads: the server only answers requests that have one. */
        np_client_new_inbox(j->cc->nc, inbox, sizeof inbox);
        np_client_publish(j->cc->nc, api, inbox, (struct np_str){NULL, 0}, (struct np_str){"", 0});
    }
    cJSON_Delete(j->info);
    j->info = NULL;
}
