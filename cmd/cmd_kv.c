/*
 * natsctl kv: key-value buckets on the KV conventions (jetstream.md 3.3), which nats.c, nats.js
 * and natscli share: bucket B is stream KV_B on "$KV.B.>", a put is a publish to "$KV.B.<key>"
 * whose sequence is the revision, a delete or purge is an empty message with a KV-Operation
 * header, and a get reads the last message on the key, by direct get when the stream allows it.
 * watch and history read the bucket's stream through a pull consumer (cli_jsc.h): the last
 * value of each key then every update, or every revision the bucket keeps of one key.
 */
#include "cli.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_host.h"
#include "cli_js.h"
#include "cli_jsc.h"
#include "cli_out.h"
#include "np_b64.h"
#include "np_time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_HISTORY = 1,
    OPT_TTL,
    OPT_MAX_VALUE_SIZE,
    OPT_MAX_BUCKET_SIZE,
    OPT_STORAGE,
    OPT_REPLICAS,
    OPT_JSON,
    OPT_FORCE,
    OPT_PURGE,
    OPT_COUNT,
};

static const char *const storages[] = {"file", "memory", NULL};

/* clang-format off */
#define ROW_JSON {OPT_JSON, "j", "json", NULL, NULL, "print the result as JSON", NULL}
#define ROW_END {0, NULL, NULL, NULL, NULL, NULL, NULL}
/* clang-format on */

const struct cli_opt cmd_kv_add_opts[] = {
    {OPT_HISTORY, NULL, "history", NULL, "N", "values kept per key, 1 to 64 (default 1)", NULL},
    {OPT_TTL, NULL, "ttl", NULL, "DURATION", "how long a value lives (default forever)", NULL},
    {OPT_MAX_VALUE_SIZE, NULL, "max-value-size", NULL, "SIZE", "largest value accepted", NULL},
    {OPT_MAX_BUCKET_SIZE, NULL, "max-bucket-size", NULL, "SIZE", "most bytes the bucket keeps",
     NULL},
    {OPT_STORAGE, NULL, "storage", NULL, "TYPE", "file (default) or memory", storages},
    {OPT_REPLICAS, NULL, "replicas", NULL, "N", "number of replicas (default 1)", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_kv_put_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_kv_get_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_kv_ls_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_kv_del_opts[] = {
    {OPT_PURGE, NULL, "purge", NULL, NULL, "also drop the key's history", NULL},
    {OPT_FORCE, "f", "force", NULL, NULL, "do not ask for confirmation", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};

const struct cli_opt cmd_kv_watch_opts[] = {
    {OPT_COUNT, NULL, "count", NULL, "N", "exit 0 after N updates", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_kv_history_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};

const char *const cmd_kv_subcommands[] = {"add", "del", "get",   "history",
                                          "ls",  "put", "watch", NULL};

const char cmd_kv_details[] =
    "Subcommands; `natsctl kv SUBCOMMAND --help` has more:\n"
    "  add BUCKET              create a bucket\n"
    "  put BUCKET KEY [VALUE]  store a value (stdin when VALUE is '-' or stdin is a pipe)\n"
    "  get BUCKET KEY          print a key's value\n"
    "  del BUCKET KEY          delete a key (--purge: and its history)\n"
    "  ls                      list the buckets\n"
    "  watch BUCKET [KEY]      print the latest values, then every update\n"
    "  history BUCKET KEY      print every revision kept of a key\n"
    "\n"
    "Exit status: 0 done, 2 usage, 3 connection, 4 no reply, 5 JetStream is not enabled,\n"
    "6 the server refused, or the bucket or the key does not exist.\n";
const char cmd_kv_add_details[] =
    "Creates stream KV_BUCKET on $KV.BUCKET.> the way nats.c and natscli do.\n"
    "\n"
    "Example:\n"
    "  natsctl kv add config --history 5 --ttl 24h\n";
const char cmd_kv_put_details[] =
    "Prints the value stored; --json the acknowledgement, whose seq is the revision.\n";
const char cmd_kv_get_details[] =
    "Prints the value; --json an object with bucket, key, revision, created and value (or\n"
    "value_b64 when it is not UTF-8 text). A deleted or purged key is not found (exit 6).\n";
const char cmd_kv_del_details[] = "Asks first on a terminal; without one, -f is required.\n";
const char cmd_kv_watch_details[] =
    "Prints the latest value of each key (or of KEY; wildcards work), then every update until\n"
    "interrupted or --count: one line per update, \"[REVISION] OP KEY: VALUE\" with OP one of\n"
    "PUT, DEL and PURGE. --json prints objects with bucket, key, revision, operation, created\n"
    "and value (or value_b64).\n";
const char cmd_kv_history_details[] =
    "Prints every revision of KEY the bucket keeps, oldest first, like watch, then exits. A\n"
    "key without any is not found (exit 6).\n";
const char cmd_kv_ls_details[] = "Prints one bucket name per line; --json a JSON array.\n";

struct kv {
    struct cli_jsc j; /* first: cli_jsc finds itself through cc.ud */
    struct cli_conn cc;
    struct cli_env env;
    const char *bucket, *key;
    char stream[300], subject[600];
    long long history, replicas, max_value, max_bucket;
    uint64_t ttl_ms;
    const char *storage;
    bool json, force, purge;
    struct np_buf value;
    int64_t offset;
    cJSON *names;
    long long count;
};

static struct kv *
of(struct cli_conn *cc)
{
    return cc->ud;
}

static int
on_opt(void *ud, int id, const char *arg)
{
    struct kv *k = ud;
    bool ok = true;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&k->env, id, arg);
    switch (id) {
    case OPT_HISTORY:
        ok = cli_parse_int(arg, 1, 64, &k->history);
        break;
    case OPT_TTL:
        ok = cli_parse_duration(arg, &k->ttl_ms) && k->ttl_ms <= INT64_MAX / 1000000;
        break;
    case OPT_MAX_VALUE_SIZE:
        ok = cli_parse_size(arg, &k->max_value);
        break;
    case OPT_MAX_BUCKET_SIZE:
        ok = cli_parse_size(arg, &k->max_bucket);
        break;
    case OPT_STORAGE:
        ok = strcmp(arg, "file") == 0 || strcmp(arg, "memory") == 0;
        k->storage = arg;
        break;
    case OPT_REPLICAS:
        ok = cli_parse_int(arg, 1, 5, &k->replicas);
        break;
    case OPT_JSON:
        k->json = true;
        break;
    case OPT_FORCE:
        k->force = true;
        break;
    case OPT_PURGE:
        k->purge = true;
        break;
    case OPT_COUNT:
        ok = cli_parse_int(arg, 1, INT64_MAX, &k->count);
        break;
    }
    return ok ? 0 : cli_bad_value(k->cc.cmd, id, arg);
}

/* ---------------------------------------------------------------------------------------------- */
/* Arguments                                                                                       */
/* ---------------------------------------------------------------------------------------------- */

static bool
valid_bucket(const char *s)
{
    return *s && strlen(s) < 200 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
               strlen(s);
}

/* natscli's key rule: letters, digits and -/_=. with no dot at either end. */
static bool
valid_key(const char *s)
{
    size_t n = strlen(s);
    return n && n < 256 && s[0] != '.' && s[n - 1] != '.' && !strstr(s, "..") &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_=.") == n;
}

static int
want(struct kv *k, int nargs, char **args, int min, int max, const char *usage)
{
    if (nargs < min || nargs > max)
        return cli_usage(k->cc.cmd, "usage: natsctl %s %s (see --help)", k->cc.cmd->name, usage);
    if (nargs == 0) return 0;
    if (!valid_bucket(args[0])) return cli_usage(k->cc.cmd, "invalid bucket name '%s'", args[0]);
    k->bucket = args[0];
    snprintf(k->stream, sizeof k->stream, "KV_%s", k->bucket);
    if (nargs < 2) return 0;
    if (!valid_key(args[1])) return cli_usage(k->cc.cmd, "invalid key '%s'", args[1]);
    k->key = args[1];
    snprintf(k->subject, sizeof k->subject, "$KV.%s.%s", k->bucket, k->key);
    return 0;
}

static int
check_add(void *ud, int nargs, char **args)
{
    return want(ud, nargs, args, 1, 1, "BUCKET [options]");
}

static int
check_put(void *ud, int nargs, char **args)
{
    struct kv *k = ud;
    int rc = want(k, nargs, args, 2, 3, "BUCKET KEY [VALUE|-]");
    if (rc) return rc;
    bool from_stdin = nargs == 3 ? strcmp(args[2], "-") == 0 : cli_stdin_has_data();
    if (!from_stdin && nargs < 3) return cli_usage(k->cc.cmd, "no value: give VALUE or '-'");
    rc = from_stdin ? cli_host_read_fd(&k->value, STDIN_FILENO) : np_buf_adds(&k->value, args[2]);
    if (rc == -EINTR) return CLI_EXIT_INTERRUPTED;
    if (rc != 0) {
        cli_error(k->cc.cmd, "cannot read the value: %s", strerror(-rc));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int
check_get(void *ud, int nargs, char **args)
{
    return want(ud, nargs, args, 2, 2, "BUCKET KEY");
}

static int
check_del(void *ud, int nargs, char **args)
{
    struct kv *k = ud;
    char q[600];
    int rc = want(k, nargs, args, 2, 2, "BUCKET KEY [--purge] [-f]");
    if (rc || k->force) return rc;
    if (!cli_stdin_is_tty())
        return cli_usage(k->cc.cmd, "not deleting key '%s' without confirmation: use -f", k->key);
    snprintf(q, sizeof q, "Really %s key '%s' of bucket '%s'?", k->purge ? "purge" : "delete",
             k->key, k->bucket);
    return cli_js_confirm(q) ? 0 : -1;
}

static int
check_ls(void *ud, int nargs, char **args)
{
    struct kv *k = ud;
    (void)args;
    if (nargs != 0)
        return cli_usage(k->cc.cmd,
                         "usage: natsctl kv ls [options] (listing keys needs consumers)");
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* add                                                                                             */
/* ---------------------------------------------------------------------------------------------- */

static void
done(struct cli_conn *cc)
{
    cli_conn_finish(cc, CLI_EXIT_OK, false);
}

static void
on_added(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct kv *k = of(cc);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(resp, "config");
    char ttl[32];
    int64_t age = cli_js_int(cfg, "max_age", 0);
    cli_format_duration((uint64_t)age, ttl, sizeof ttl);
    if (k->json)
        printf("%.*s\n", (int)raw.len, raw.ptr);
    else
        printf("Created bucket %s: history %" PRId64 ", ttl %s, storage %s\n", k->bucket,
               cli_js_int(cfg, "max_msgs_per_subject", 1), age ? ttl : "forever",
               cli_js_str(cfg, "storage"));
    done(cc);
}

/* The duplicate window nats.c gives a bucket: 2 minutes, or the TTL when that is shorter. */
static int64_t
dupe_window_ns(const struct kv *k)
{
    const int64_t two_min = 120 * INT64_C(1000000000);
    int64_t ttl = (int64_t)k->ttl_ms * 1000000;
    return ttl > 0 && ttl < two_min ? ttl : two_min;
}

static cJSON *
bucket_config(const struct kv *k)
{
    char subject[300];
    cJSON *cfg = cJSON_CreateObject();
    cJSON *subjects = cJSON_AddArrayToObject(cfg, "subjects");
    snprintf(subject, sizeof subject, "$KV.%s.>", k->bucket);
    cJSON_AddItemToArray(subjects, cJSON_CreateString(subject));
    cJSON_AddStringToObject(cfg, "name", k->stream);
    cli_js_add_int(cfg, "max_msgs_per_subject", k->history);
    cli_js_add_int(cfg, "max_bytes", k->max_bucket);
    cli_js_add_int(cfg, "max_msg_size", k->max_value);
    cli_js_add_int(cfg, "max_age", (int64_t)k->ttl_ms * 1000000);
    cli_js_add_int(cfg, "duplicate_window", dupe_window_ns(k));
    cli_js_add_int(cfg, "num_replicas", k->replicas);
    cJSON_AddStringToObject(cfg, "storage", k->storage);
    cJSON_AddStringToObject(cfg, "discard", "new");
    cJSON_AddBoolToObject(cfg, "allow_rollup_hdrs", true);
    cJSON_AddBoolToObject(cfg, "deny_delete", true);
    cJSON_AddBoolToObject(cfg, "allow_direct", true);
    return cfg;
}

static void
start_add(struct cli_conn *cc)
{
    char api[400];
    cJSON *cfg = bucket_config(of(cc));
    snprintf(api, sizeof api, "STREAM.CREATE.%s", of(cc)->stream);
    cli_js_call(cc, api, cfg, on_added);
    cJSON_Delete(cfg);
}

/* ---------------------------------------------------------------------------------------------- */
/* put and del: a publish that the bucket's stream acknowledges                                     */
/* ---------------------------------------------------------------------------------------------- */

static void
on_stored(struct cli_conn *cc, int status, const struct np_msg *m)
{
    struct kv *k = of(cc);
    if (status == NP_CLIENT_ENO_RESPONDERS) {
        cli_error(cc->cmd, "bucket '%s' not found", k->bucket);
        cli_conn_finish(cc, CLI_EXIT_REJECTED, false);
        return;
    }
    if (status != 0) {
        cli_js_fail(cc, status, k->subject);
        return;
    }
    cJSON *ack = cJSON_ParseWithLength(m->data.ptr, m->data.len);
    if (cJSON_GetObjectItemCaseSensitive(ack, "error")) {
        cli_js_refused(cc, ack);
    } else {
        if (k->json)
            printf("%.*s\n", (int)m->data.len, m->data.ptr);
        else if (strcmp(cc->cmd->name, "kv put") == 0)
            printf("%.*s\n", (int)k->value.len, k->value.ptr ? k->value.ptr : "");
        done(cc);
    }
    cJSON_Delete(ack);
}

static void
start_put(struct cli_conn *cc)
{
    struct kv *k = of(cc);
    struct np_str data = {k->value.ptr ? k->value.ptr : "", k->value.len};
    cli_js_request(cc, k->subject, (struct np_str){NULL, 0}, data, on_stored);
}

static void
start_del(struct cli_conn *cc)
{
    static const char del[] = "NATS/1.0\r\nKV-Operation: DEL\r\n\r\n";
    static const char purge[] = "NATS/1.0\r\nKV-Operation: PURGE\r\nNats-Rollup: sub\r\n\r\n";
    struct kv *k = of(cc);
    struct np_str hdrs =
        k->purge ? (struct np_str){purge, sizeof purge - 1} : (struct np_str){del, sizeof del - 1};
    cli_js_request(cc, k->subject, hdrs, (struct np_str){"", 0}, on_stored);
}

/* ---------------------------------------------------------------------------------------------- */
/* get: stream info (does the bucket allow direct get?), then the last message on the key           */
/* ---------------------------------------------------------------------------------------------- */

struct entry {
    struct np_str headers, data;
    int64_t revision;
    const char *created;
};

static void
not_found(struct cli_conn *cc)
{
    cli_error(cc->cmd, "key '%s' not found in bucket '%s'", of(cc)->key, of(cc)->bucket);
    cli_conn_finish(cc, CLI_EXIT_REJECTED, false);
}

static bool
is_marker(struct np_str headers)
{
    struct np_hdr h;
    struct np_str op;
    return headers.len && np_hdr_parse(&h, headers.ptr, headers.len) == 0 &&
           np_hdr_get(&h, "KV-Operation", &op) && (np_str_eq(op, "DEL") || np_str_eq(op, "PURGE"));
}

/* op: watch and history say what each revision did; NULL for get. */
static int
print_json_entry(struct kv *k, const struct entry *e, const char *op)
{
    cJSON *o = cJSON_CreateObject();
    struct np_buf b64 = {0};
    cJSON_AddStringToObject(o, "bucket", k->bucket);
    cJSON_AddStringToObject(o, "key", k->key);
    cli_js_add_int(o, "revision", e->revision);
    if (op) cJSON_AddStringToObject(o, "operation", op);
    cJSON_AddStringToObject(o, "created", e->created);
    bool text = cli_utf8_valid(e->data.ptr, e->data.len) && !memchr(e->data.ptr, 0, e->data.len);
    int rc = text ? 0 : np_b64_encode(e->data.ptr, e->data.len, &b64);
    char *value = text ? strndup(e->data.ptr, e->data.len) : NULL;
    cJSON_AddStringToObject(o, text ? "value" : "value_b64", text ? value : b64.ptr);
    char *out = rc == 0 ? cJSON_PrintUnformatted(o) : NULL;
    if (out) puts(out);
    cJSON_free(out);
    free(value);
    np_buf_release(&b64);
    cJSON_Delete(o);
    return out ? 0 : -ENOMEM;
}

static void
print_entry(struct cli_conn *cc, const struct entry *e)
{
    struct kv *k = of(cc);
    if (is_marker(e->headers)) {
        not_found(cc);
        return;
    }
    int rc = 0;
    if (k->json) {
        rc = print_json_entry(k, e, NULL);
    } else {
        fwrite(e->data.ptr, 1, e->data.len, stdout);
        putchar('\n');
    }
    if (rc != 0)
        cli_conn_fail(cc, rc, "print");
    else
        done(cc);
}

static void
on_direct(struct cli_conn *cc, int status, const struct np_msg *m)
{
    if (status != 0) {
        cli_js_fail(cc, status, of(cc)->subject);
        return;
    }
    if (m->status == 404) {
        not_found(cc);
        return;
    }
    struct np_hdr h;
    struct np_str seq = {"0", 1}, ts = {"", 0};
    if (m->headers.len && np_hdr_parse(&h, m->headers.ptr, m->headers.len) == 0) {
        np_hdr_get(&h, "Nats-Sequence", &seq);
        np_hdr_get(&h, "Nats-Time-Stamp", &ts);
    }
    char created[64];
    snprintf(created, sizeof created, "%.*s", (int)ts.len, ts.ptr);
    struct entry e = {.headers = m->headers,
                      .data = m->data,
                      .revision = strtoll(seq.ptr, NULL, 10),
                      .created = created};
    print_entry(cc, &e);
}

static void
on_msg_get(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    char why[512];
    int code;
    (void)raw;
    if (cli_js_error(resp, why, sizeof why, &code)) {
        if (code == 10037)
            not_found(cc);
        else
            cli_js_refused(cc, resp);
        return;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");
    struct np_buf hdrs = {0}, data = {0};
    if (cli_js_b64(m, "hdrs", &hdrs) != 0 || cli_js_b64(m, "data", &data) != 0) {
        cli_error(cc->cmd, "the stored message does not decode");
        cli_conn_finish(cc, CLI_EXIT_FAIL, false);
    } else {
        struct entry e = {.headers = {hdrs.ptr, hdrs.len},
                          .data = {data.ptr ? data.ptr : "", data.len},
                          .revision = cli_js_int(m, "seq", 0),
                          .created = cli_js_str(m, "time")};
        print_entry(cc, &e);
    }
    np_buf_release(&hdrs);
    np_buf_release(&data);
}

static void
on_bucket_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct kv *k = of(cc);
    char api[1000], why[512];
    int code;
    (void)raw;
    if (cli_js_error(resp, why, sizeof why, &code)) {
        if (code != 10059) {
            cli_js_refused(cc, resp);
            return;
        }
        cli_error(cc->cmd, "bucket '%s' not found", k->bucket);
        cli_conn_finish(cc, CLI_EXIT_REJECTED, false);
        return;
    }
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(resp, "config");
    if (cli_js_bool(cfg, "allow_direct")) {
        snprintf(api, sizeof api, "$JS.API.DIRECT.GET.%s.%s", k->stream, k->subject);
        cli_js_request(cc, api, (struct np_str){NULL, 0}, (struct np_str){"", 0}, on_direct);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "last_by_subj", k->subject);
    snprintf(api, sizeof api, "STREAM.MSG.GET.%s", k->stream);
    cli_js_call_any(cc, api, body, on_msg_get);
    cJSON_Delete(body);
}

static void
start_get(struct cli_conn *cc)
{
    char api[400];
    snprintf(api, sizeof api, "STREAM.INFO.%s", of(cc)->stream);
    cli_js_call_any(cc, api, NULL, on_bucket_info);
}

/* ---------------------------------------------------------------------------------------------- */
/* watch and history                                                                               */
/* ---------------------------------------------------------------------------------------------- */

static int
check_watch(void *ud, int nargs, char **args)
{
    struct kv *k = ud;
    if (nargs == 2 && !valid_key(args[1]) && strpbrk(args[1], "*>")) {
        k->key = args[1];
        nargs = 1;
    }
    int rc = want(k, nargs, args, 1, 2, "BUCKET [KEY]");
    if (rc == 0 && !k->key) k->key = ">";
    if (rc == 0) snprintf(k->subject, sizeof k->subject, "$KV.%s.%s", k->bucket, k->key);
    return rc;
}

static int
check_history(void *ud, int nargs, char **args)
{
    return want(ud, nargs, args, 2, 2, "BUCKET KEY");
}

static const char *
operation(struct np_str headers)
{
    struct np_hdr h;
    struct np_str op;
    if (!headers.len || np_hdr_parse(&h, headers.ptr, headers.len) != 0 ||
        !np_hdr_get(&h, "KV-Operation", &op))
        return "PUT";
    return np_str_eq(op, "DEL") ? "DEL" : np_str_eq(op, "PURGE") ? "PURGE" : "PUT";
}

static int
print_update(struct kv *k, const struct np_msg *m, const struct cli_jsc_meta *meta)
{
    const char *op = operation(m->headers);
    size_t prefix = strlen(k->bucket) + 5;
    struct np_str key = {m->subject.ptr + prefix, m->subject.len - prefix};
    if (!k->json) {
        printf("[%" PRIu64 "] %s %.*s", meta->stream_seq, op, (int)key.len, key.ptr);
        if (strcmp(op, "PUT") == 0) printf(": %.*s", (int)m->data.len, m->data.ptr);
        putchar('\n');
        return fflush(stdout) == 0 ? 0 : -errno;
    }
    char created[64], name[512];
    np_time_format(meta->ts_ns, created, sizeof created);
    snprintf(name, sizeof name, "%.*s", (int)key.len, key.ptr);
    const char *saved = k->key;
    k->key = name;
    struct entry e = {.headers = m->headers,
                      .data = m->data,
                      .revision = (int64_t)meta->stream_seq,
                      .created = created};
    int rc = print_json_entry(k, &e, op);
    k->key = saved;
    return rc == 0 && fflush(stdout) == 0 ? 0 : rc ? rc : -errno;
}

static void
on_update(struct cli_jsc *j, const struct np_msg *m, const struct cli_jsc_meta *meta)
{
    struct kv *k = j->ud;
    int rc = print_update(k, m, meta);
    if (rc != 0)
        cli_conn_output_failed(&k->cc, rc);
    else if (k->count && j->received == (uint64_t)k->count)
        cli_conn_finish(&k->cc, CLI_EXIT_OK, true);
}

static void
on_history_end(struct cli_jsc *j)
{
    struct kv *k = j->ud;
    if (j->received == 0)
        cli_error(k->cc.cmd, "key '%s' not found in bucket '%s'", k->key, k->bucket);
    /* Drained, so the consumer's delete reaches the server. */
    cli_conn_finish(&k->cc, j->received ? CLI_EXIT_OK : CLI_EXIT_REJECTED, true);
}

static void
start_reading(struct cli_conn *cc, const char *policy, bool until_end)
{
    struct kv *k = of(cc);
    k->j = (struct cli_jsc){.cc = cc,
                            .stream = k->stream,
                            .until_end = until_end,
                            .on_msg = on_update,
                            .on_end = on_history_end,
                            .ud = k};
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "deliver_policy", policy);
    cJSON_AddStringToObject(cfg, "ack_policy", "none");
    cJSON_AddStringToObject(cfg, "filter_subject", k->subject);
    cli_jsc_create(&k->j, cfg);
    cJSON_Delete(cfg);
}

static void
start_watch(struct cli_conn *cc)
{
    start_reading(cc, "last_per_subject", false);
}

static void
start_history(struct cli_conn *cc)
{
    start_reading(cc, "all", true);
}

static void
on_finish(struct cli_conn *cc)
{
    cli_jsc_cleanup(&of(cc)->j);
}

/* ---------------------------------------------------------------------------------------------- */
/* ls: the streams named KV_*                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static void ls_page(struct cli_conn *cc);

static void
ls_done(struct cli_conn *cc)
{
    struct kv *k = of(cc);
    const cJSON *it;
    if (k->json) {
        char *text = cJSON_PrintUnformatted(k->names);
        if (text) puts(text);
        cJSON_free(text);
    } else {
        cJSON_ArrayForEach(it, k->names) puts(it->valuestring);
    }
    done(cc);
}

static void
on_names(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct kv *k = of(cc);
    const cJSON *it;
    int n = 0;
    (void)raw;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(resp, "streams"))
    {
        n++;
        if (cJSON_IsString(it) && strncmp(it->valuestring, "KV_", 3) == 0)
            cJSON_AddItemToArray(k->names, cJSON_CreateString(it->valuestring + 3));
    }
    k->offset += n;
    if (n == 0 || k->offset >= cli_js_int(resp, "total", 0))
        ls_done(cc);
    else
        ls_page(cc);
}

static void
ls_page(struct cli_conn *cc)
{
    cJSON *body = cJSON_CreateObject();
    cli_js_add_int(body, "offset", of(cc)->offset);
    cli_js_call(cc, "STREAM.NAMES", body, on_names);
    cJSON_Delete(body);
}

static void
start_ls(struct cli_conn *cc)
{
    of(cc)->names = cJSON_CreateArray();
    ls_page(cc);
}

/* ---------------------------------------------------------------------------------------------- */

static int
run(const struct cli_cmd *self, int argc, char **argv, cli_args_fn check,
    void (*start)(struct cli_conn *))
{
    struct kv *k = calloc(1, sizeof *k);
    if (!k) return CLI_EXIT_FAIL;
    k->cc = (struct cli_conn){
        .cmd = self, .env = &k->env, .on_connected = start, .on_finish = on_finish, .ud = k};
    k->history = k->replicas = 1;
    k->max_value = k->max_bucket = -1;
    k->storage = "file";
    cli_env_init(&k->env, self);
    int rc = cli_conn_parse(self, &k->env, argc, argv, on_opt, check, k);
    k->cc.long_running = start == start_watch && k->count == 0;
    if (rc == 0) rc = cli_conn_run(&k->cc);
    np_buf_release(&k->value);
    cJSON_Delete(k->names);
    free(k);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int
cmd_kv_add(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_add, start_add);
}

int
cmd_kv_put(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_put, start_put);
}

int
cmd_kv_get(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_get, start_get);
}

int
cmd_kv_del(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_del, start_del);
}

int
cmd_kv_ls(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_ls, start_ls);
}

int
cmd_kv_watch(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_watch, start_watch);
}

int
cmd_kv_history(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_history, start_history);
}

int
cmd_kv(int argc, char **argv, const struct cli_cmd *self)
{
    if (argc < 2) return cli_usage(self, "usage: natsctl kv SUBCOMMAND ... (see --help)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_cmd_help(self, stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage(self, "'%s' is not a kv subcommand (see --help)", argv[1]);
}
