/*
 * The JetStream API helper (cli_js.h). Requests go through the client's muxed inbox, one at a
 * time per caller; each carries a small heap record naming the callback, freed when it answers.
 */
#include "cli_js.h"
#include "cli_host.h"
#include "np_b64.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JS_API "$JS.API."

struct js_req {
    struct cli_conn *cc;
    cli_js_cb cb;
    cli_js_msg_cb mcb;
    bool any; /* error responses go to cb too */
    char subject[];
};

void
cli_js_fail(struct cli_conn *cc, int status, const char *subject)
{
    if (status == NP_CLIENT_ENO_RESPONDERS) {
        if (strncmp(subject, JS_API, strlen(JS_API)) == 0)
            cli_error(cc->cmd, "JetStream is not enabled on the server (no responders on '%s')",
                      subject);
        else
            cli_error(cc->cmd, "no responders on '%s'", subject);
        cli_conn_finish(cc, CLI_EXIT_NO_RESPONDERS, false);
    } else if (status == NP_CLIENT_ETIMEOUT) {
        cli_error(cc->cmd, "no reply on '%s' within the timeout", subject);
        cli_conn_finish(cc, CLI_EXIT_TIMEOUT, false);
    } else {
        cli_conn_fail(cc, status, "request");
    }
}

bool
cli_js_error(const cJSON *resp, char *msg, size_t cap, int *err_code)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp, "error");
    if (!cJSON_IsObject(e)) return false;
    const char *desc = cli_js_str(e, "description");
    *err_code = (int)cli_js_int(e, "err_code", 0);
    if (*err_code)
        snprintf(msg, cap, "%s (%d)", *desc ? desc : "JetStream error", *err_code);
    else
        snprintf(msg, cap, "%s", *desc ? desc : "JetStream error");
    return true;
}

void
cli_js_refused(struct cli_conn *cc, const cJSON *resp)
{
    char msg[512];
    int code;
    if (!cli_js_error(resp, msg, sizeof msg, &code)) snprintf(msg, sizeof msg, "JetStream error");
    cli_error(cc->cmd, "%s", msg);
    cli_conn_finish(cc, CLI_EXIT_REJECTED, false);
}

static void
on_api_reply(struct np_client *c, int status, const struct np_msg *m, void *ud)
{
    struct js_req *r = ud;
    struct cli_conn *cc = r->cc;
    (void)c;
    if (cc->finishing) {
        free(r);
        return;
    }
    if (status != 0) {
        cli_js_fail(cc, status, r->subject);
        free(r);
        return;
    }
    cJSON *resp = cJSON_ParseWithLength(m->data.ptr, m->data.len);
    if (!cJSON_IsObject(resp)) {
        cli_error(cc->cmd, "the reply on '%s' is not a JSON object", r->subject);
        cli_conn_finish(cc, CLI_EXIT_FAIL, false);
    } else if (!r->any && cJSON_GetObjectItemCaseSensitive(resp, "error")) {
        cli_js_refused(cc, resp);
    } else {
        r->cb(cc, resp, m->data);
    }
    cJSON_Delete(resp);
    free(r);
}

static void
on_msg_reply(struct np_client *c, int status, const struct np_msg *m, void *ud)
{
    struct js_req *r = ud;
    (void)c;
    if (!r->cc->finishing) r->mcb(r->cc, status, m);
    free(r);
}

static struct js_req *
new_req(struct cli_conn *cc, const char *prefix, const char *subject)
{
    size_t len = strlen(prefix) + strlen(subject) + 1;
    struct js_req *r = calloc(1, sizeof *r + len);
    if (!r) return NULL;
    r->cc = cc;
    snprintf(r->subject, len, "%s%s", prefix, subject);
    return r;
}

static void
send_req(struct js_req *r, struct np_str headers, struct np_str data, np_reply_cb cb)
{
    struct cli_conn *cc = r->cc;
    int rc = np_client_request(cc->nc, r->subject, headers, data, cc->env->timeout_ms, cb, r);
    if (rc != 0) {
        free(r);
        cli_conn_fail(cc, rc, "request");
    }
}

static void
call(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb, bool any)
{
    struct js_req *r = new_req(cc, JS_API, api);
    char *text = NULL;
    if (r && body && (cli_js_ints(body) != 0 || !(text = cJSON_PrintUnformatted(body)))) {
        free(r);
        r = NULL;
    }
    if (!r) {
        cli_conn_fail(cc, NP_ENOMEM, "request");
        return;
    }
    r->cb = cb;
    r->any = any;
    struct np_str data = {text ? text : "", text ? strlen(text) : 0};
    send_req(r, (struct np_str){NULL, 0}, data, on_api_reply);
    cJSON_free(text);
}

void
cli_js_call(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb)
{
    call(cc, api, body, cb, false);
}

void
cli_js_call_any(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb)
{
    call(cc, api, body, cb, true);
}

void
cli_js_request(struct cli_conn *cc, const char *subject, struct np_str headers, struct np_str data,
               cli_js_msg_cb cb)
{
    struct js_req *r = new_req(cc, "", subject);
    if (!r) {
        cli_conn_fail(cc, NP_ENOMEM, "request");
        return;
    }
    r->mcb = cb;
    send_req(r, headers, data, on_msg_reply);
}

/* ---------------------------------------------------------------------------------------------- */
/* JSON                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static bool
whole(double d)
{
    return isfinite(d) && d == floor(d) && fabs(d) < 9.2e18;
}

int
cli_js_ints(cJSON *item)
{
    if (cJSON_IsNumber(item) && whole(item->valuedouble)) {
        char num[32];
        snprintf(num, sizeof num, "%" PRId64, (int64_t)item->valuedouble);
        char *copy = strdup(num);
        if (!copy) return NP_ENOMEM;
        item->type = cJSON_Raw;
        item->valuestring = copy;
    }
    for (cJSON *it = item->child; it; it = it->next) {
        if (cli_js_ints(it) != 0) return NP_ENOMEM;
    }
    return 0;
}

bool
cli_js_add_int(cJSON *obj, const char *key, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    return cJSON_AddRawToObject(obj, key, num) != NULL;
}

int64_t
cli_js_int(const cJSON *obj, const char *key, int64_t def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsRaw(it)) return strtoll(it->valuestring, NULL, 10);
    return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : def;
}

const char *
cli_js_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : "";
}

bool
cli_js_bool(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* ---------------------------------------------------------------------------------------------- */
/* Decoding and formatting                                                                         */
/* ---------------------------------------------------------------------------------------------- */

int
cli_js_b64(const cJSON *obj, const char *key, struct np_buf *out)
{
    const char *s = cli_js_str(obj, key);
    out->len = 0;
    return np_b64_decode(s, strlen(s), out) == 0 ? 0 : -1;
}

void
cli_js_fmt_bytes(uint64_t n, char *buf, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n < 1024) {
        snprintf(buf, cap, "%" PRIu64 " B", n);
        return;
    }
    double v = (double)n / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.1f %s", v, units[u]);
}

/* ---------------------------------------------------------------------------------------------- */
/* Prompts                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

bool
cli_js_ask(const char *question, char *line, size_t cap)
{
    fputs(question, stderr);
    fflush(stderr);
    if (cli_host_wait_input(STDIN_FILENO) != 0 || !fgets(line, (int)cap, stdin)) return false;
    line[strcspn(line, "\r\n")] = '\0';
    return true;
}

bool
cli_js_confirm(const char *question)
{
    char q[512], line[16];
    snprintf(q, sizeof q, "%s [y/N] ", question);
    return cli_js_ask(q, line, sizeof line) && (strcmp(line, "y") == 0 || strcmp(line, "yes") == 0);
}
