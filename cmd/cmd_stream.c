/*
 * natsctl stream: JetStream streams through the JSON API (cli_js.h), with natscli's subcommands
 * and flag names. Every subcommand is its own row of the command table ("stream add", ...), so
 * each has its own options, help and completion; "stream" alone only explains them and maps
 * natscli's aliases (create, list, delete, ...) to them.
 *
 * Prompts and confirmations happen before connecting, and only with a terminal on stdin: a
 * script gets a one-line usage error naming the flag (--defaults, -f) instead of a hang.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_js.h"
#include "cli_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    /* the stream configuration, in the order add prompts for it */
    OPT_SUBJECTS = 1,
    OPT_STORAGE,
    OPT_REPLICAS,
    OPT_RETENTION,
    OPT_DISCARD,
    OPT_MAX_MSGS,
    OPT_MAX_PER_SUBJECT,
    OPT_MAX_BYTES,
    OPT_MAX_AGE,
    OPT_MAX_MSG_SIZE,
    OPT_DUPE_WINDOW,
    OPT_ALLOW_ROLLUP,
    OPT_DENY_DELETE,
    OPT_DENY_PURGE,
    OPT_ALLOW_DIRECT,
    OPT_DESCRIPTION,
    OPT_CFG_END,
    OPT_DEFAULTS = OPT_CFG_END,
    OPT_CONFIG,
    OPT_JSON,
    OPT_FORCE,
    OPT_NAMES,
    OPT_SUBJECT,
    OPT_SEQ,
    OPT_KEEP,
    OPT_LAST_FOR,
    OPT_RAW,
    OPT_PAGE,
};

static const char *const storages[] = {"file", "memory", NULL};
static const char *const retentions[] = {"limits", "interest", "work", "workqueue", NULL};
static const char *const discards[] = {"old", "new", NULL};

/* clang-format off */
#define CFG_ROWS                                                                                   \
    {OPT_SUBJECTS, NULL, "subjects", NULL, "SUBJECTS",                                             \
     "subjects the stream captures, comma separated (repeatable)", NULL},                          \
    {OPT_STORAGE, NULL, "storage", NULL, "TYPE", "file or memory", storages},                      \
    {OPT_REPLICAS, NULL, "replicas", NULL, "N", "number of replicas", NULL},                       \
    {OPT_RETENTION, NULL, "retention", NULL, "POLICY", "limits, interest or work(queue)",         \
     retentions},                                                                                  \
    {OPT_DISCARD, NULL, "discard", NULL, "POLICY", "at a limit, discard old messages or new ones", \
     discards},                                                                                    \
    {OPT_MAX_MSGS, NULL, "max-msgs", NULL, "N", "most messages kept (-1 unlimited)", NULL},        \
    {OPT_MAX_PER_SUBJECT, NULL, "max-msgs-per-subject", NULL, "N",                                 \
     "most messages kept per subject (-1 unlimited)", NULL},                                       \
    {OPT_MAX_BYTES, NULL, "max-bytes", NULL, "SIZE", "most bytes kept: 1GB, 512MiB (-1 unlimited)",\
     NULL},                                                                                        \
    {OPT_MAX_AGE, NULL, "max-age", NULL, "DURATION", "oldest message kept: 1h, 168h (0 unlimited)",  \
     NULL},                                                                                        \
    {OPT_MAX_MSG_SIZE, NULL, "max-msg-size", NULL, "SIZE", "largest message accepted (-1 any)",    \
     NULL},                                                                                        \
    {OPT_DUPE_WINDOW, NULL, "dupe-window", NULL, "DURATION",                                       \
     "how long Nats-Msg-Id values are remembered", NULL},                                          \
    {OPT_ALLOW_ROLLUP, NULL, "allow-rollup", NULL, NULL, "allow Nats-Rollup headers", NULL},       \
    {OPT_DENY_DELETE, NULL, "deny-delete", NULL, NULL, "refuse deleting single messages", NULL},   \
    {OPT_DENY_PURGE, NULL, "deny-purge", NULL, NULL, "refuse purges", NULL},                       \
    {OPT_ALLOW_DIRECT, NULL, "allow-direct", NULL, NULL, "answer direct get requests", NULL},      \
    {OPT_DESCRIPTION, NULL, "description", NULL, "TEXT", "a description", NULL},                   \
    {OPT_CONFIG, NULL, "config", NULL, "FILE", "read the configuration from a JSON file", NULL}
#define ROW_JSON {OPT_JSON, "j", "json", NULL, NULL, "print the API response as JSON", NULL}
#define ROW_FORCE {OPT_FORCE, "f", "force", NULL, NULL, "do not ask for confirmation", NULL}
#define ROW_END {0, NULL, NULL, NULL, NULL, NULL, NULL}
/* clang-format on */

const struct cli_opt cmd_stream_add_opts[] = {
    CFG_ROWS,
    {OPT_DEFAULTS, NULL, "defaults", NULL, NULL, "take the server's default for what is not given",
     NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_stream_edit_opts[] = {CFG_ROWS, ROW_FORCE, ROW_JSON, CLI_GLOBAL_OPT_ROWS,
                                               ROW_END};
const struct cli_opt cmd_stream_ls_opts[] = {
    {OPT_NAMES, "n", "names", NULL, NULL, "print only the names (the default)", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_stream_info_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_stream_report_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_stream_rm_opts[] = {ROW_FORCE, ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_stream_purge_opts[] = {
    {OPT_SUBJECT, NULL, "subject", NULL, "SUBJECT", "purge only messages on this subject", NULL},
    {OPT_SEQ, NULL, "seq", NULL, "N", "purge messages below sequence N", NULL},
    {OPT_KEEP, NULL, "keep", NULL, "N", "keep the newest N messages", NULL},
    ROW_FORCE,
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_stream_get_opts[] = {
    {OPT_LAST_FOR, "S", "last-for", NULL, "SUBJECT", "the last message on SUBJECT", NULL},
    {OPT_RAW, NULL, "raw", NULL, NULL, "print the body only", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_stream_view_opts[] = {
    {OPT_SUBJECT, NULL, "subject", NULL, "SUBJECT", "only messages on SUBJECT (wildcards too)",
     NULL},
    {OPT_SEQ, NULL, "seq", NULL, "N", "start at sequence N (default the first)", NULL},
    {OPT_PAGE, NULL, "page", NULL, "N", "messages per page on a terminal (default 10)", NULL},
    {OPT_RAW, NULL, "raw", NULL, NULL, "print the bodies only", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};

const char *const cmd_stream_subcommands[] = {"add",   "edit",   "get", "info", "ls",
                                              "purge", "report", "rm",  "view", NULL};

const char cmd_stream_details[] =
    "Subcommands (natscli's aliases in brackets); `natsctl stream SUBCOMMAND --help` has more:\n"
    "  add NAME        create a stream (create, new)\n"
    "  ls              list the streams (list, l)\n"
    "  info NAME       show a stream's configuration and state (i)\n"
    "  edit NAME       change a stream's configuration (update)\n"
    "  rm NAME         delete a stream and its messages (delete, del)\n"
    "  purge NAME      delete a stream's messages\n"
    "  get NAME SEQ    print one message, or the last on a subject with --last-for\n"
    "  view NAME       page through the messages\n"
    "  report          a table of every stream\n"
    "\n"
    "Exit status: 0 done, 2 usage (also: a value missing without a terminal to ask on, or a\n"
    "confirmation without -f), 3 connection, 4 no reply from JetStream, 5 JetStream is not\n"
    "enabled, 6 the server refused (stream not found, bad configuration, ...).\n";

const char cmd_stream_add_details[] =
    "On a terminal, asks for each setting not given as a flag (Enter takes the default shown);\n"
    "without one, every setting must be given, or --defaults takes the server's defaults for the\n"
    "rest. --config FILE reads a JSON stream configuration; flags override it.\n"
    "\n"
    "Examples:\n"
    "  natsctl stream add ORDERS --subjects 'orders.>' --storage file --defaults\n"
    "  natsctl stream add LOGS --subjects 'logs.*' --max-age 24h --max-bytes 1GiB --defaults\n"
    "  natsctl stream add ORDERS --config orders.json\n";
const char cmd_stream_edit_details[] =
    "Changes the settings given as flags (or those of --config FILE) and keeps the rest. Asks\n"
    "first on a terminal; without one, -f is required.\n"
    "\n"
    "Example:\n"
    "  natsctl stream edit ORDERS --max-age 48h -f\n";
const char cmd_stream_ls_details[] = "Prints one stream name per line; --json a JSON array.\n";
const char cmd_stream_info_details[] =
    "Prints the configuration and the state: messages, bytes, first and last sequence with their\n"
    "times, deleted messages, consumers, subjects. --json prints the API response.\n";
const char cmd_stream_report_details[] =
    "One row per stream: storage, subjects, messages, bytes, consumers, deleted messages.\n"
    "--json prints a JSON array of the streams' information.\n";
const char cmd_stream_rm_details[] =
    "Deletes the stream with its messages and consumers. Asks first on a terminal; without one,\n"
    "-f is required.\n";
const char cmd_stream_purge_details[] =
    "Deletes messages and keeps the stream: all of them, those on --subject, those below --seq,\n"
    "or all but the newest --keep. Asks first on a terminal; without one, -f is required.\n"
    "\n"
    "Example:\n"
    "  natsctl stream purge ORDERS --subject orders.old --keep 10 -f\n";
const char cmd_stream_get_details[] =
    "Prints the subject, sequence, time, headers and body of one message; --raw the body alone,\n"
    "--json the API response (headers and body in base64).\n"
    "\n"
    "Examples:\n"
    "  natsctl stream get ORDERS 12\n"
    "  natsctl stream get ORDERS --last-for orders.new --raw\n";
const char cmd_stream_view_details[] =
    "Prints the messages from the first (or --seq), --page at a time: on a terminal it waits\n"
    "for Enter between pages, otherwise it prints them all. --json prints one API response per\n"
    "line.\n";

struct stream {
    struct cli_conn cc;
    struct cli_env env;
    const char *name;
    cJSON *set[OPT_CFG_END]; /* the configuration flags, as JSON values */
    const char *config_file;
    cJSON *cfg; /* add/edit: what is sent */
    bool defaults, json, force, raw, has_seq, has_keep;
    const char *subject, *last_for;
    long long seq, keep, page;
    int64_t offset;    /* ls/report: the next page */
    cJSON *collected;  /* ls/report: every page so far */
    uint64_t next_seq; /* get/view: the sequence asked for */
    uint64_t shown;
    struct cli_out out;
};

static struct stream *
of(struct cli_conn *cc)
{
    return cc->ud;
}

/* ---------------------------------------------------------------------------------------------- */
/* Option values                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

static cJSON *
int_item(long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    return cJSON_CreateRaw(num);
}

static bool
unlimited(const char *arg)
{
    return strcmp(arg, "-1") == 0 || strcmp(arg, "unlimited") == 0;
}

/* Adds each comma-separated subject of arg to list; false on an invalid one. */
static bool
add_subjects(cJSON *list, const char *arg)
{
    for (const char *p = arg; *p;) {
        size_t n = strcspn(p, ",");
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        if (n >= sizeof one || cli_subject_problem(one, n, true)) return false;
        cJSON_AddItemToArray(list, cJSON_CreateString(one));
        p += n + (p[n] == ',');
    }
    return cJSON_GetArraySize(list) > 0;
}

static const char *
enum_value(int id, const char *arg)
{
    const char *const *values = id == OPT_STORAGE   ? storages
                                : id == OPT_DISCARD ? discards
                                                    : retentions;
    for (size_t i = 0; values[i]; i++) {
        if (strcmp(values[i], arg) == 0) return strcmp(arg, "work") == 0 ? "workqueue" : arg;
    }
    return NULL;
}

/* The JSON value of a configuration option, or NULL when arg is not a valid value for it. */
static cJSON *
cfg_value(int id, const char *arg, cJSON *prev)
{
    long long n;
    uint64_t ms;
    switch (id) {
    case OPT_SUBJECTS: {
        cJSON *list = prev ? cJSON_Duplicate(prev, true) : cJSON_CreateArray();
        if (list && add_subjects(list, arg)) return list;
        cJSON_Delete(list);
        return NULL;
    }
    case OPT_STORAGE:
    case OPT_RETENTION:
    case OPT_DISCARD:
        return enum_value(id, arg) ? cJSON_CreateString(enum_value(id, arg)) : NULL;
    case OPT_REPLICAS:
        return cli_parse_int(arg, 1, 5, &n) ? int_item(n) : NULL;
    case OPT_MAX_MSGS:
    case OPT_MAX_PER_SUBJECT:
        if (unlimited(arg)) return int_item(-1);
        return cli_parse_int(arg, 0, INT64_MAX, &n) ? int_item(n) : NULL;
    case OPT_MAX_BYTES:
    case OPT_MAX_MSG_SIZE:
        if (unlimited(arg)) return int_item(-1);
        return cli_parse_size(arg, &n) ? int_item(n) : NULL;
    case OPT_MAX_AGE:
    case OPT_DUPE_WINDOW:
        if (strcmp(arg, "unlimited") == 0) return int_item(0);
        return cli_parse_duration(arg, &ms) && ms <= INT64_MAX / 1000000
                   ? int_item((long long)ms * 1000000)
                   : NULL;
    case OPT_DESCRIPTION:
        return cJSON_CreateString(arg);
    default:
        return cJSON_CreateTrue();
    }
}

/* The configuration key each option sets. */
static const char *const cfg_keys[OPT_CFG_END] = {
    [OPT_SUBJECTS] = "subjects",
    [OPT_STORAGE] = "storage",
    [OPT_REPLICAS] = "num_replicas",
    [OPT_RETENTION] = "retention",
    [OPT_DISCARD] = "discard",
    [OPT_MAX_MSGS] = "max_msgs",
    [OPT_MAX_PER_SUBJECT] = "max_msgs_per_subject",
    [OPT_MAX_BYTES] = "max_bytes",
    [OPT_MAX_AGE] = "max_age",
    [OPT_MAX_MSG_SIZE] = "max_msg_size",
    [OPT_DUPE_WINDOW] = "duplicate_window",
    [OPT_ALLOW_ROLLUP] = "allow_rollup_hdrs",
    [OPT_DENY_DELETE] = "deny_delete",
    [OPT_DENY_PURGE] = "deny_purge",
    [OPT_ALLOW_DIRECT] = "allow_direct",
    [OPT_DESCRIPTION] = "description",
};

static int
set_cfg(struct stream *s, int id, const char *arg)
{
    cJSON *v = cfg_value(id, arg, s->set[id]);
    if (!v) return cli_bad_value(s->cc.cmd, id, arg);
    cJSON_Delete(s->set[id]);
    s->set[id] = v;
    return 0;
}

static int
set_count(struct stream *s, int id, const char *arg, long long min, long long *out)
{
    if (!cli_parse_int(arg, min, INT64_MAX, out)) return cli_bad_value(s->cc.cmd, id, arg);
    return 0;
}

static int
on_opt(void *ud, int id, const char *arg)
{
    struct stream *s = ud;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&s->env, id, arg);
    if (id < OPT_CFG_END) return set_cfg(s, id, arg);
    switch (id) {
    case OPT_DEFAULTS:
        s->defaults = true;
        return 0;
    case OPT_CONFIG:
        s->config_file = arg;
        return 0;
    case OPT_JSON:
        s->json = true;
        return 0;
    case OPT_FORCE:
        s->force = true;
        return 0;
    case OPT_NAMES:
        return 0;
    case OPT_SUBJECT:
        s->subject = arg;
        return 0;
    case OPT_LAST_FOR:
        s->last_for = arg;
        return 0;
    case OPT_RAW:
        s->raw = true;
        return 0;
    case OPT_SEQ:
        s->has_seq = true;
        return set_count(s, id, arg, 1, &s->seq);
    case OPT_KEEP:
        s->has_keep = true;
        return set_count(s, id, arg, 0, &s->keep);
    case OPT_PAGE:
        return set_count(s, id, arg, 1, &s->page);
    }
    return CLI_EXIT_FAIL;
}

/* ---------------------------------------------------------------------------------------------- */
/* Arguments, prompts and confirmations (before connecting)                                        */
/* ---------------------------------------------------------------------------------------------- */

static int
want_name(struct stream *s, int nargs, char **args, int max, const char *usage)
{
    if (nargs < 1 || nargs > max)
        return cli_usage(s->cc.cmd, "usage: natsctl %s %s (see --help)", s->cc.cmd->name, usage);
    const char *bad = strpbrk(args[0], " \t\r\n\f.*>/\\");
    if (!*args[0] || bad || strlen(args[0]) > 255)
        return cli_usage(s->cc.cmd, "invalid stream name '%s'", args[0]);
    s->name = args[0];
    return 0;
}

static int
need_confirmation(struct stream *s, const char *what)
{
    char q[512];
    if (s->force) return 0;
    if (!cli_stdin_is_tty())
        return cli_usage(s->cc.cmd, "not going to %s stream '%s' without confirmation: use -f",
                         what, s->name);
    snprintf(q, sizeof q, "Really %s stream '%s'?", what, s->name);
    return cli_js_confirm(q) ? 0 : -1;
}

/* Asks for option id on the terminal until it gets a valid value or Enter (the default). */
static int
ask_one(struct stream *s, int id)
{
    const struct cli_opt *o = s->cc.cmd->opts;
    while (o->id != id)
        o++;
    char q[256], line[1024];
    snprintf(q, sizeof q, "%s (--%s) [%s]: ", o->help, o->long_name,
             id == OPT_SUBJECTS ? s->name : "server default");
    for (;;) {
        if (!cli_js_ask(q, line, sizeof line)) return cli_usage(s->cc.cmd, "no answer");
        const char *answer = *line ? line : id == OPT_SUBJECTS ? s->name : NULL;
        if (!answer) return 0;
        cJSON *v = cfg_value(id, answer, NULL);
        if (v) {
            s->set[id] = v;
            return 0;
        }
        fprintf(stderr, "invalid value '%s'\n", line);
    }
}

/* add: fills in the prompted settings not given, or says which are missing. */
static int
complete_settings(struct stream *s)
{
    char missing[512] = "";
    if (s->defaults || s->config_file) return 0;
    bool tty = cli_stdin_is_tty();
    for (int id = OPT_SUBJECTS; id <= OPT_DUPE_WINDOW; id++) {
        if (s->set[id]) continue;
        if (tty) {
            int rc = ask_one(s, id);
            if (rc) return rc;
            continue;
        }
        const struct cli_opt *o = s->cc.cmd->opts;
        while (o->id != id)
            o++;
        size_t len = strlen(missing);
        snprintf(missing + len, sizeof missing - len, "%s--%s", len ? " " : "", o->long_name);
    }
    if (*missing)
        return cli_usage(s->cc.cmd,
                         "no terminal to ask for %s: give them, or --defaults for the server's "
                         "defaults",
                         missing);
    return 0;
}

/* The configuration file's JSON object, or NULL after printing why not. */
static cJSON *
read_config(struct stream *s)
{
    struct np_buf b = {0};
    FILE *f = fopen(s->config_file, "r");
    int rc = f ? cli_read_fd(&b, fileno(f)) : -errno;
    if (f) fclose(f);
    cJSON *cfg = rc == 0 ? cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.len) : NULL;
    np_buf_release(&b);
    if (rc != 0)
        cli_error(s->cc.cmd, "cannot read %s: %s", s->config_file, strerror(-rc));
    else if (!cJSON_IsObject(cfg))
        cli_error(s->cc.cmd, "%s is not a JSON object", s->config_file);
    if (cJSON_IsObject(cfg)) return cfg;
    cJSON_Delete(cfg);
    return NULL;
}

/* Puts the flags' settings over base (taken), with the name. NULL on no memory. */
static cJSON *
apply_settings(struct stream *s, cJSON *base)
{
    cJSON_DeleteItemFromObjectCaseSensitive(base, "name");
    cJSON_AddStringToObject(base, "name", s->name);
    for (int id = OPT_SUBJECTS; id < OPT_CFG_END; id++) {
        if (!s->set[id]) continue;
        cJSON_DeleteItemFromObjectCaseSensitive(base, cfg_keys[id]);
        cJSON_AddItemToObject(base, cfg_keys[id], cJSON_Duplicate(s->set[id], true));
    }
    return base;
}

static int
check_add(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 1, "NAME [options]");
    if (rc == 0) rc = complete_settings(s);
    if (rc != 0) return rc;
    cJSON *base = s->config_file ? read_config(s) : cJSON_CreateObject();
    if (!base) return s->config_file ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    s->cfg = apply_settings(s, base);
    return 0;
}

static bool
any_setting(const struct stream *s)
{
    for (int id = OPT_SUBJECTS; id < OPT_CFG_END; id++) {
        if (s->set[id]) return true;
    }
    return s->config_file != NULL;
}

static int
check_edit(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 1, "NAME [options]");
    if (rc) return rc;
    if (!any_setting(s)) return cli_usage(s->cc.cmd, "nothing to change: give a setting to edit");
    if (s->config_file && !(s->cfg = read_config(s))) return CLI_EXIT_USAGE;
    return need_confirmation(s, "edit");
}

static int
check_name(void *ud, int nargs, char **args)
{
    return want_name(ud, nargs, args, 1, "NAME [options]");
}

static int
check_none(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    (void)args;
    if (nargs != 0)
        return cli_usage(s->cc.cmd, "usage: natsctl %s [options] (see --help)", s->cc.cmd->name);
    return 0;
}

static int
check_rm(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 1, "NAME [-f]");
    return rc ? rc : need_confirmation(s, "delete");
}

static int
check_purge(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 1, "NAME [options]");
    if (rc) return rc;
    if (s->has_seq && s->has_keep) return cli_usage(s->cc.cmd, "give --seq or --keep, not both");
    char why[160];
    if (s->subject && !cli_subject_check("subject", s->subject, true, 0, why, sizeof why))
        return cli_usage(s->cc.cmd, "%s", why);
    return need_confirmation(s, "purge");
}

static int
check_get(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 2, "NAME SEQ | NAME --last-for SUBJECT");
    if (rc) return rc;
    if ((nargs == 2) == (s->last_for != NULL))
        return cli_usage(s->cc.cmd, "give a sequence or --last-for SUBJECT, one of them");
    long long seq;
    if (nargs == 2 && !cli_parse_int(args[1], 1, INT64_MAX, &seq))
        return cli_usage(s->cc.cmd, "invalid sequence '%s'", args[1]);
    s->next_seq = nargs == 2 ? (uint64_t)seq : 0;
    if (s->json && s->raw) return cli_usage(s->cc.cmd, "give --json or --raw, not both");
    return 0;
}

static int
check_view(void *ud, int nargs, char **args)
{
    struct stream *s = ud;
    int rc = want_name(s, nargs, args, 1, "NAME [options]");
    if (rc) return rc;
    if (s->json && s->raw) return cli_usage(s->cc.cmd, "give --json or --raw, not both");
    s->next_seq = s->has_seq ? (uint64_t)s->seq : 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Printing                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

static void
print_raw(struct np_str raw)
{
    fwrite(raw.ptr, 1, raw.len, stdout);
    fputc('\n', stdout);
}

static void line(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line(const char *label, const char *fmt, ...)
{
    va_list ap;
    printf("%22s: ", label);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void
limit_line(const char *label, const cJSON *cfg, const char *key, bool bytes)
{
    int64_t v = cli_js_int(cfg, key, -1);
    char b[32];
    if (v < 0) {
        line(label, "unlimited");
    } else if (bytes) {
        cli_js_fmt_bytes((uint64_t)v, b, sizeof b);
        line(label, "%s", b);
    } else {
        line(label, "%" PRId64, v);
    }
}

static void
duration_line(const char *label, const cJSON *cfg, const char *key)
{
    int64_t ns = cli_js_int(cfg, key, 0);
    char d[32];
    cli_format_duration((uint64_t)ns, d, sizeof d);
    line(label, "%s", ns ? d : "unlimited");
}

static void
print_subjects(const cJSON *list, const char *sep)
{
    const cJSON *it;
    bool first = true;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it)) printf("%s%s", first ? "" : sep, it->valuestring);
        first = false;
    }
}

static void
print_config(const cJSON *cfg)
{
    puts("Configuration:\n");
    if (*cli_js_str(cfg, "description")) line("Description", "%s", cli_js_str(cfg, "description"));
    printf("%22s: ", "Subjects");
    print_subjects(cJSON_GetObjectItemCaseSensitive(cfg, "subjects"), ", ");
    putchar('\n');
    line("Replicas", "%" PRId64, cli_js_int(cfg, "num_replicas", 1));
    line("Storage", "%s", cli_js_str(cfg, "storage"));
    line("Retention", "%s", cli_js_str(cfg, "retention"));
    line("Discard Policy", "%s", cli_js_str(cfg, "discard"));
    duration_line("Duplicate Window", cfg, "duplicate_window");
    static const char *const flags[][2] = {{"allow_rollup_hdrs", "Allows Rollups"},
                                           {"deny_delete", "Deny Deletes"},
                                           {"deny_purge", "Deny Purges"},
                                           {"allow_direct", "Allows Direct Get"},
                                           {"sealed", "Sealed"}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (cli_js_bool(cfg, flags[i][0])) line(flags[i][1], "true");
    }
    limit_line("Maximum Messages", cfg, "max_msgs", false);
    limit_line("Maximum Per Subject", cfg, "max_msgs_per_subject", false);
    limit_line("Maximum Bytes", cfg, "max_bytes", true);
    duration_line("Maximum Age", cfg, "max_age");
    limit_line("Maximum Message Size", cfg, "max_msg_size", true);
    limit_line("Maximum Consumers", cfg, "max_consumers", false);
}

static void
seq_line(const char *label, const cJSON *state, const char *seq, const char *ts)
{
    int64_t n = cli_js_int(state, seq, 0);
    if (n && cli_js_int(state, "messages", 0))
        line(label, "%" PRId64 " @ %s", n, cli_js_str(state, ts));
    else
        line(label, "%" PRId64, n);
}

static void
print_state(const cJSON *state)
{
    char b[32];
    puts("\nState:\n");
    line("Messages", "%" PRId64, cli_js_int(state, "messages", 0));
    cli_js_fmt_bytes((uint64_t)cli_js_int(state, "bytes", 0), b, sizeof b);
    line("Bytes", "%s", b);
    seq_line("First Sequence", state, "first_seq", "first_ts");
    seq_line("Last Sequence", state, "last_seq", "last_ts");
    line("Deleted Messages", "%" PRId64, cli_js_int(state, "num_deleted", 0));
    line("Active Consumers", "%" PRId64, cli_js_int(state, "consumer_count", 0));
    line("Number of Subjects", "%" PRId64, cli_js_int(state, "num_subjects", 0));
}

static void
print_info(const cJSON *info)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(info, "config");
    printf("Information for stream %s created %s\n\n", cli_js_str(cfg, "name"),
           cli_js_str(info, "created"));
    print_config(cfg);
    print_state(cJSON_GetObjectItemCaseSensitive(info, "state"));
}

/* ---------------------------------------------------------------------------------------------- */
/* add, edit, info, rm, purge                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static void
done(struct cli_conn *cc)
{
    cli_conn_finish(cc, CLI_EXIT_OK, false);
}

static void
on_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    if (of(cc)->json)
        print_raw(raw);
    else
        print_info(resp);
    done(cc);
}

static void
call_named(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb)
{
    char subject[512];
    snprintf(subject, sizeof subject, "%s.%s", api, of(cc)->name);
    cli_js_call(cc, subject, body, cb);
}

static void
start_add(struct cli_conn *cc)
{
    call_named(cc, "STREAM.CREATE", of(cc)->cfg, on_info);
}

static void
start_info(struct cli_conn *cc)
{
    call_named(cc, "STREAM.INFO", NULL, on_info);
}

static void
on_edit_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct stream *s = of(cc);
    (void)raw;
    if (!s->cfg) s->cfg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(resp, "config"), true);
    if (!s->cfg) {
        cli_conn_fail(cc, NP_ENOMEM, "edit");
        return;
    }
    apply_settings(s, s->cfg);
    call_named(cc, "STREAM.UPDATE", s->cfg, on_info);
}

static void
start_edit(struct cli_conn *cc)
{
    call_named(cc, "STREAM.INFO", NULL, on_edit_info);
}

static void
on_rm(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    (void)resp;
    if (of(cc)->json)
        print_raw(raw);
    else
        printf("Deleted stream %s\n", of(cc)->name);
    done(cc);
}

static void
start_rm(struct cli_conn *cc)
{
    call_named(cc, "STREAM.DELETE", NULL, on_rm);
}

static void
on_purge(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    if (of(cc)->json)
        print_raw(raw);
    else
        printf("Purged %" PRId64 " messages from stream %s\n", cli_js_int(resp, "purged", 0),
               of(cc)->name);
    done(cc);
}

static void
start_purge(struct cli_conn *cc)
{
    struct stream *s = of(cc);
    cJSON *body = cJSON_CreateObject();
    if (s->subject) cJSON_AddStringToObject(body, "filter", s->subject);
    if (s->has_seq) cli_js_add_int(body, "seq", s->seq);
    if (s->has_keep) cli_js_add_int(body, "keep", s->keep);
    call_named(cc, "STREAM.PURGE", body, on_purge);
    cJSON_Delete(body);
}

/* ---------------------------------------------------------------------------------------------- */
/* ls and report: every page of STREAM.NAMES / STREAM.LIST                                         */
/* ---------------------------------------------------------------------------------------------- */

static void next_page(struct cli_conn *cc);

static void
print_names(const cJSON *names)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (cJSON_IsString(it)) puts(it->valuestring);
    }
}

static int
width(const cJSON *list, const char *key, int min)
{
    const cJSON *it;
    int w = min;
    cJSON_ArrayForEach(it, list)
    {
        int n = (int)strlen(cli_js_str(cJSON_GetObjectItemCaseSensitive(it, "config"), key));
        if (n > w) w = n;
    }
    return w;
}

static void
print_report(const cJSON *list)
{
    int w = width(list, "name", 6);
    if (!cJSON_GetArraySize(list)) {
        puts("No streams defined");
        return;
    }
    printf("%-*s  %-7s  %10s  %10s  %9s  %7s  %s\n", w, "Stream", "Storage", "Messages", "Bytes",
           "Consumers", "Deleted", "Subjects");
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(it, "config");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "state");
        char b[32];
        cli_js_fmt_bytes((uint64_t)cli_js_int(st, "bytes", 0), b, sizeof b);
        printf("%-*s  %-7s  %10" PRId64 "  %10s  %9" PRId64 "  %7" PRId64 "  ", w,
               cli_js_str(cfg, "name"), cli_js_str(cfg, "storage"), cli_js_int(st, "messages", 0),
               b, cli_js_int(st, "consumer_count", 0), cli_js_int(st, "num_deleted", 0));
        print_subjects(cJSON_GetObjectItemCaseSensitive(cfg, "subjects"), ",");
        putchar('\n');
    }
}

static void
all_pages_in(struct cli_conn *cc)
{
    struct stream *s = of(cc);
    char *text = NULL;
    bool report = strcmp(cc->cmd->name, "stream report") == 0;
    if (s->json) {
        text = cJSON_PrintUnformatted(s->collected);
        if (text) puts(text);
        cJSON_free(text);
    } else if (report) {
        print_report(s->collected);
    } else {
        print_names(s->collected);
    }
    done(cc);
}

static void
on_page(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct stream *s = of(cc);
    (void)raw;
    const cJSON *it, *streams = cJSON_GetObjectItemCaseSensitive(resp, "streams");
    int n = 0;
    cJSON_ArrayForEach(it, streams)
    {
        cJSON_AddItemToArray(s->collected, cJSON_Duplicate(it, true));
        n++;
    }
    s->offset += n;
    if (n == 0 || s->offset >= cli_js_int(resp, "total", 0))
        all_pages_in(cc);
    else
        next_page(cc);
}

static void
next_page(struct cli_conn *cc)
{
    struct stream *s = of(cc);
    bool report = strcmp(cc->cmd->name, "stream report") == 0;
    cJSON *body = cJSON_CreateObject();
    cli_js_add_int(body, "offset", s->offset);
    cli_js_call(cc, report ? "STREAM.LIST" : "STREAM.NAMES", body, on_page);
    cJSON_Delete(body);
}

static void
start_list(struct cli_conn *cc)
{
    of(cc)->collected = cJSON_CreateArray();
    next_page(cc);
}

/* ---------------------------------------------------------------------------------------------- */
/* get and view                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

/* Prints the message of a STREAM.MSG.GET response; returns 0 or a negative errno. */
static int
print_stored(struct stream *s, const cJSON *resp, struct np_str raw)
{
    if (s->json) {
        print_raw(raw);
        return fflush(stdout) == 0 ? 0 : -errno;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");
    struct np_buf hdrs = {0}, data = {0};
    int rc = cli_js_b64(m, "hdrs", &hdrs);
    if (rc == 0) rc = cli_js_b64(m, "data", &data);
    char banner[1200];
    snprintf(banner, sizeof banner, "[%" PRId64 "] Subject: %s", cli_js_int(m, "seq", 0),
             cli_js_str(m, "subject"));
    const char *subject = cli_js_str(m, "subject");
    struct cli_out_msg om = {.subject = {subject, strlen(subject)},
                             .headers = {hdrs.ptr, hdrs.len},
                             .data = {data.ptr ? data.ptr : "", data.len},
                             .banner = banner,
                             .stamp = cli_js_str(m, "time")};
    if (rc == 0) rc = cli_out_msg(&s->out, &om);
    np_buf_release(&hdrs);
    np_buf_release(&data);
    return rc;
}

static void
on_get(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    int rc = print_stored(of(cc), resp, raw);
    if (rc != 0)
        cli_conn_output_failed(cc, rc);
    else
        done(cc);
}

static void
start_get(struct cli_conn *cc)
{
    struct stream *s = of(cc);
    cJSON *body = cJSON_CreateObject();
    if (s->last_for)
        cJSON_AddStringToObject(body, "last_by_subj", s->last_for);
    else
        cli_js_add_int(body, "seq", (int64_t)s->next_seq);
    call_named(cc, "STREAM.MSG.GET", body, on_get);
    cJSON_Delete(body);
}

static void view_next(struct cli_conn *cc);

/* After a page on a terminal: Enter goes on, anything else (or end of input) stops. */
static bool
next_page_wanted(struct stream *s)
{
    char line_in[16];
    if (s->shown % (uint64_t)s->page || !cli_stdin_is_tty() || !cli_stdout_is_tty()) return true;
    return cli_js_ask("Next page? [Y/n] ", line_in, sizeof line_in) &&
           (!*line_in || *line_in == 'y' || *line_in == 'Y');
}

static void
on_view(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct stream *s = of(cc);
    int rc = print_stored(s, resp, raw);
    if (rc != 0) {
        cli_conn_output_failed(cc, rc);
        return;
    }
    s->shown++;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");
    s->next_seq = (uint64_t)cli_js_int(m, "seq", 0) + 1;
    if (next_page_wanted(s))
        view_next(cc);
    else
        done(cc);
}

/* The end of the stream shows up as "no message found"; other errors end the command. */
static void
on_view_any(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    char msg[512];
    int code;
    if (!cli_js_error(resp, msg, sizeof msg, &code)) {
        on_view(cc, resp, raw);
        return;
    }
    if (code != 10037) {
        cli_js_refused(cc, resp);
        return;
    }
    if (!of(cc)->shown) fprintf(stderr, "no messages in stream %s\n", of(cc)->name);
    done(cc);
}

static void
view_next(struct cli_conn *cc)
{
    struct stream *s = of(cc);
    cJSON *body = cJSON_CreateObject();
    cli_js_add_int(body, "seq", (int64_t)s->next_seq);
    cJSON_AddStringToObject(body, "next_by_subj", s->subject ? s->subject : ">");
    char subject[512];
    snprintf(subject, sizeof subject, "STREAM.MSG.GET.%s", s->name);
    cli_js_call_any(cc, subject, body, on_view_any);
    cJSON_Delete(body);
}

/* ---------------------------------------------------------------------------------------------- */

static void
release(struct stream *s)
{
    for (int id = 0; id < OPT_CFG_END; id++)
        cJSON_Delete(s->set[id]);
    cJSON_Delete(s->cfg);
    cJSON_Delete(s->collected);
    cli_out_release(&s->out);
    free(s);
}

static int
run(const struct cli_cmd *self, int argc, char **argv, cli_args_fn check,
    void (*start)(struct cli_conn *))
{
    struct stream *s = calloc(1, sizeof *s);
    if (!s) return CLI_EXIT_FAIL;
    s->cc = (struct cli_conn){.cmd = self, .env = &s->env, .on_connected = start, .ud = s};
    s->page = 10;
    cli_env_init(&s->env, self);
    int rc = cli_conn_parse(self, &s->env, argc, argv, on_opt, check, s);
    if (rc == 0) {
        cli_out_init(&s->out, stdout, s->raw ? CLI_OUT_RAW : CLI_OUT_PRETTY);
        rc = cli_conn_run(&s->cc);
    }
    release(s);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int
cmd_stream_add(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_add, start_add);
}

int
cmd_stream_edit(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_edit, start_edit);
}

int
cmd_stream_info(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_name, start_info);
}

int
cmd_stream_ls(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_none, start_list);
}

int
cmd_stream_report(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_none, start_list);
}

int
cmd_stream_rm(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_rm, start_rm);
}

int
cmd_stream_purge(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_purge, start_purge);
}

int
cmd_stream_get(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_get, start_get);
}

int
cmd_stream_view(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_view, view_next);
}

/* natscli's other names for the subcommands. */
static const char *
canonical(const char *sub)
{
    static const char *const map[][2] = {
        {"create", "add"}, {"new", "add"},     {"list", "ls"},   {"l", "ls"},
        {"i", "info"},     {"update", "edit"}, {"delete", "rm"}, {"del", "rm"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(sub, map[i][0]) == 0) return map[i][1];
    }
    return NULL;
}

int
cmd_stream(int argc, char **argv, const struct cli_cmd *self)
{
    if (argc < 2) return cli_usage(self, "usage: natsctl stream SUBCOMMAND ... (see --help)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_cmd_help(self, stdout);
        return CLI_EXIT_OK;
    }
    const char *sub = canonical(argv[1]);
    if (!sub) return cli_usage(self, "'%s' is not a stream subcommand (see --help)", argv[1]);
    char *words[2] = {(char *)"stream", (char *)sub};
    int used;
    const struct cli_cmd *cmd = cli_cmd_lookup(words, 2, &used);
    return cmd->fn(argc - 1, argv + 1, cmd);
}
