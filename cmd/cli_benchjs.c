/*
 * bench sub --js (cli_benchjs.h). Each pull request has its own reply subject and subscription,
 * so a 404/408 that ends one request is told apart from the other's messages without request ids.
 */
#include "cli_benchjs.h"
#include "cli_jsc.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ACK_BODY "+ACK"

static void
fail(struct cli_bjs *j, const char *why)
{
    if (j->failed) return;
    j->failed = true;
    j->on_error(j, why);
}

/* Asks for what is still missing, at most a batch, on a request slot that has none in flight. */
static void
pull(struct cli_bjs_pull *p)
{
    struct cli_bjs *j = p->j;
    uint64_t n = j->want - j->asked < j->batch ? j->want - j->asked : j->batch;
    if (n == 0 || p->left || j->failed) return;
    char subj[300], body[96];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", j->stream, j->consumer);
    int len = snprintf(body, sizeof body, "{\"batch\":%" PRIu64 ",\"expires\":%" PRIu64 "}", n,
                       j->expires_ms * 1000000u);
    int rc = np_client_publish(j->nc, subj, p->reply, (struct np_str){0},
                               (struct np_str){body, (size_t)len});
    if (rc != 0) {
        fail(j, np_client_strerror(rc));
        return;
    }
    p->left = n;
    j->asked += n;
}

/* A view is not NUL-terminated; subjects are, for np_client_publish(). */
static int
publish_to(struct cli_bjs *j, struct np_str subject, struct np_str body)
{
    char subj[512];
    if (subject.len >= sizeof subj) return NP_ESUBJECT;
    memcpy(subj, subject.ptr, subject.len);
    subj[subject.len] = '\0';
    return np_client_publish(j->nc, subj, NULL, (struct np_str){0}, body);
}

/* The ack goes out before on_msg, so a flush the bench sends at the end covers every ack. */
static void
deliver(struct cli_bjs *j, const struct np_msg *m)
{
    if (j->received >= j->want) return; /* a push consumer delivers past what was wanted */
    j->received++;
    if (j->ack && m->reply.len) {
        int rc = publish_to(j, m->reply, (struct np_str){ACK_BODY, sizeof ACK_BODY - 1});
        if (rc != 0) {
            fail(j, np_client_strerror(rc));
            return;
        }
        j->acks++;
    }
    j->on_msg(j, m);
}

static void
refused(struct cli_bjs *j, const struct np_msg *m)
{
    char why[200];
    snprintf(why, sizeof why, "the server ended the reading: status %d", m->status);
    fail(j, why);
}

static void
on_pulled(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct cli_bjs_pull *p = ud;
    struct cli_bjs *j = p->j;
    (void)nc;
    if (j->failed) return;
    switch (cli_jsc_kind(m)) {
    case CLI_JSC_MSG:
        if (p->left) p->left--;
        deliver(j, m);
        break;
    case CLI_JSC_CONTROL:
        return;
    case CLI_JSC_END: /* what this request did not bring is not coming */
        j->asked -= p->left;
        p->left = 0;
        break;
    case CLI_JSC_REFUSED:
        refused(j, m);
        return;
    }
    pull(p);
}

/* Flow control asks for a reply (heartbeats have none); stream messages are counted. */
static void
on_pushed(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct cli_bjs *j = ud;
    (void)nc;
    if (j->failed) return;
    switch (cli_jsc_kind(m)) {
    case CLI_JSC_MSG:
        deliver(j, m);
        return;
    case CLI_JSC_CONTROL:
        if (m->reply.len) publish_to(j, m->reply, (struct np_str){"", 0});
        return;
    case CLI_JSC_END:
    case CLI_JSC_REFUSED:
        refused(j, m);
        return;
    }
}

long
cli_bjs_api_error(int status, const struct np_msg *m, char *why, size_t cap)
{
    if (status == NP_CLIENT_ENO_RESPONDERS) {
        snprintf(why, cap, "the server has no JetStream (no responders on $JS.API)");
        return -1;
    }
    if (status != 0) {
        snprintf(why, cap, "%s", np_client_strerror(status));
        return -1;
    }
    cJSON *doc = cJSON_ParseWithLength(m->data.ptr, m->data.len);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "err_code");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(err, "description");
    long rc = !doc ? -1 : !err ? 0 : cJSON_IsNumber(code) ? (long)code->valuedouble : -1;
    snprintf(why, cap, "%s (err_code %ld)",
             !doc                   ? "the answer is not JSON"
             : cJSON_IsString(text) ? text->valuestring
                                    : "error",
             rc);
    cJSON_Delete(doc);
    return rc;
}

/* The consumer's name, given by the server to an ephemeral. */
static bool
read_name(struct cli_bjs *j, const struct np_msg *m)
{
    cJSON *doc = cJSON_ParseWithLength(m->data.ptr, m->data.len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
    bool ok = cJSON_IsString(name);
    if (ok) snprintf(j->consumer, sizeof j->consumer, "%s", name->valuestring);
    cJSON_Delete(doc);
    return ok;
}

static void
on_created(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct cli_bjs *j = ud;
    char why[300];
    (void)nc;
    long err = cli_bjs_api_error(status, m, why, sizeof why);
    if (err == 0 && !read_name(j, m)) {
        snprintf(why, sizeof why, "the CONSUMER.CREATE answer names no consumer");
        err = -1;
    }
    if (err != 0) {
        j->failed = true;
        j->on_ready(j, status, err > 0 ? err : 0, why);
        return;
    }
    j->on_ready(j, 0, 0, NULL);
    for (size_t i = 0; !j->push && i < CLI_BJS_PULLS; i++)
        pull(&j->pulls[i]);
}

static char *
consumer_request(const struct cli_bjs *j)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "stream_name", j->stream);
    cJSON *cfg = cJSON_AddObjectToObject(req, "config");
    cJSON_AddStringToObject(cfg, "deliver_policy", "all");
    cJSON_AddStringToObject(cfg, "ack_policy", j->ack ? "explicit" : "none");
    if (j->push) cJSON_AddStringToObject(cfg, "deliver_subject", j->inbox);
    if (j->filter) cJSON_AddStringToObject(cfg, "filter_subject", j->filter);
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return text;
}

static int
subscribe(struct cli_bjs *j)
{
    np_client_new_inbox(j->nc, j->inbox, sizeof j->inbox);
    if (j->push) {
        int64_t sid = np_client_subscribe(j->nc, j->inbox, NULL, 0, on_pushed, j);
        return sid < 0 ? (int)sid : 0;
    }
    for (size_t i = 0; i < CLI_BJS_PULLS; i++) {
        struct cli_bjs_pull *p = &j->pulls[i];
        p->j = j;
        snprintf(p->reply, sizeof p->reply, "%s.%zu", j->inbox, i);
        int64_t sid = np_client_subscribe(j->nc, p->reply, NULL, 0, on_pulled, p);
        if (sid < 0) return (int)sid;
    }
    return 0;
}

int
cli_bjs_start(struct cli_bjs *j)
{
    int rc = subscribe(j);
    if (rc != 0) return rc;
    char subj[300], *body = consumer_request(j);
    if (!body) return NP_ENOMEM;
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.CREATE.%s", j->stream);
    rc = np_client_request(j->nc, subj, (struct np_str){0}, (struct np_str){body, strlen(body)}, 0,
                           on_created, j);
    cJSON_free(body);
    return rc;
}

int
cli_bjs_delete(struct cli_bjs *j, np_reply_cb cb, void *ud)
{
    if (!j->consumer[0]) return NP_CLIENT_ECLOSED;
    char subj[400];
    snprintf(subj, sizeof subj, "$JS.API.CONSUMER.DELETE.%s.%s", j->stream, j->consumer);
    return np_client_request(j->nc, subj, (struct np_str){0}, (struct np_str){"", 0}, 0, cb, ud);
}
