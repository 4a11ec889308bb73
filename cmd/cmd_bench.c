/*
 * natsctl bench: throughput and latency of a NATS server, measured by clients on one event loop.
 *
 * Publishers write in windows: a window of messages, then a flush (PING/PONG), with at most two
 * windows unconfirmed. The flush tells us the server has taken the messages, so a publisher's time
 * covers delivery to the server and not a buffer append, and neither side's buffers grow without
 * bound. Subscribers see each message as a view into the read buffer (the zero-copy parser).
 *
 * When the payload has room (16 bytes or more) it carries the publisher, a sequence number and the
 * send time (CLOCK_MONOTONIC, so it is comparable across processes on one machine): subscribers
 * count duplicates and out-of-order arrivals exactly, and pubsub and queue modes measure latency
 * end to end. With --throughput the send time written is the intended one, so a publisher that
 * falls behind shows up in the latency tail rather than hiding it.
 *
 * With --js, publishers publish into a JetStream stream and each message asks for a PubAck: one at
 * a time (--sync) or up to --window unanswered. Each message's reply subject is the publisher's
 * inbox plus the message number, so an ack finds its send time, and the latency is publish to ack.
 * Only positive PubAcks count as sent messages; refusals and missing acks are counted and warned
 * about. The stream (capturing the subject) is created when missing and then deleted at the end.
 */
#include "cli.h"
#include "cli_benchjs.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_embed.h"
#include "cli_env.h"
#include "cli_hist.h"
#include "cli_host.h"
#include "cli_msg.h"
#include "cli_out.h"
#include "cli_report.h"
#include "cli_stats.h"
#include "np_client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_CLIENTS = 1,
    OPT_PUB,
    OPT_SUB,
    OPT_MSGS,
    OPT_SIZE,
    OPT_DURATION,
    OPT_THROUGHPUT,
    OPT_MULTISUBJECT,
    OPT_MULTISUBJECT_MAX,
    OPT_HEADER,
    OPT_CSV,
    OPT_JSON,
    OPT_NO_PROGRESS,
    OPT_EMBEDDED,
    OPT_JS,
    OPT_STORAGE,
    OPT_STREAM,
    OPT_SYNC,
    OPT_WINDOW,
    OPT_PURGE,
    OPT_PULL,
    OPT_PUSH,
    OPT_BATCH,
    OPT_ACK,
};

static const char *const storage_values[] = {"file", "memory", NULL};
static const char *const ack_values[] = {"explicit", "none", NULL};

/* The order of enum mode; also the completion candidates of the first argument. */
const char *const cmd_bench_modes[] = {"pub", "sub", "pubsub", "request", "reply", "queue", NULL};
enum mode { M_PUB, M_SUB, M_PUBSUB, M_REQUEST, M_REPLY, M_QUEUE };

const struct cli_opt cmd_bench_opts[] = {
    {OPT_CLIENTS, NULL, "clients", NULL, "N", "clients of the mode's role (default 1; queue 2)",
     NULL},
    {OPT_PUB, NULL, "pub", NULL, "N", "publishers in pubsub and queue modes (default 1)", NULL},
    {OPT_SUB, NULL, "sub", NULL, "N", "subscribers in pubsub and queue modes", NULL},
    {OPT_MSGS, NULL, "msgs", NULL, "N",
     "messages to send in total (default: sub and reply 100000, other modes run --duration 5s)",
     NULL},
    {OPT_SIZE, NULL, "size", NULL, "SIZE", "payload size: 16, 128B, 1KiB, 1MB (default 128)", NULL},
    {OPT_DURATION, NULL, "duration", NULL, "DURATION", "run for this long instead of --msgs", NULL},
    {OPT_THROUGHPUT, NULL, "throughput", NULL, "MSGS/S",
     "publish at this aggregate rate; latency counts from each intended send time", NULL},
    {OPT_MULTISUBJECT, NULL, "multisubject", NULL, NULL,
     "publish to SUBJECT.<n> (n cycles up to --multisubject-max), subscribe to SUBJECT.>", NULL},
    {OPT_MULTISUBJECT_MAX, NULL, "multisubject-max", NULL, "N", "subjects to cycle (default 100)",
     NULL},
    {OPT_HEADER, "H", "header", NULL, "KEY:VALUE", "add a header to every message (repeatable)",
     NULL},
    {OPT_CSV, NULL, "csv", NULL, "FILE", "also write per-client results in natscli's CSV columns",
     NULL},
    {OPT_JSON, NULL, "json", NULL, NULL, "print the results as one JSON document", NULL},
    {OPT_NO_PROGRESS, NULL, "no-progress", NULL, NULL, "no progress line on stderr", NULL},
    {OPT_EMBEDDED, NULL, "embedded", NULL, NULL,
     "start a broker in this process on a free port and measure against it", NULL},
    {OPT_JS, NULL, "js", NULL, NULL,
     "pub: publish into a JetStream stream and wait for PubAcks; sub: consume from one", NULL},
    {OPT_STORAGE, NULL, "storage", NULL, "file|memory",
     "--js: storage of a stream the bench creates (default file)", storage_values},
    {OPT_STREAM, NULL, "stream", NULL, "NAME",
     "--js: the stream (default benchstream); pub creates a missing one, deleted at the end", NULL},
    {OPT_SYNC, NULL, "sync", NULL, NULL, "--js: wait for each PubAck before the next publish",
     NULL},
    {OPT_WINDOW, NULL, "window", NULL, "N",
     "--js: PubAcks awaited at once per publisher (default 256)", NULL},
    {OPT_PURGE, NULL, "purge", NULL, NULL, "--js: purge an existing stream before the run", NULL},
    {OPT_PULL, NULL, "pull", NULL, NULL, "sub --js: through a pull consumer (the default)", NULL},
    {OPT_PUSH, NULL, "push", NULL, NULL, "sub --js: through a push consumer", NULL},
    {OPT_BATCH, NULL, "batch", NULL, "N",
     "sub --js --pull: messages per pull request, two requests in flight (default 100)", NULL},
    {OPT_ACK, NULL, "ack", NULL, "explicit|none",
     "sub --js: the consumer's ack policy; explicit acks every message (default explicit)",
     ack_values},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_bench_details[] =
    "Modes:\n"
    "  pub      publishers only            sub      subscribers for another bench's publishers\n"
    "  pubsub   both, with latency         queue    publishers and a queue group of subscribers\n"
    "  request  requesters, with round-trip latency (with --embedded, one replier runs too)\n"
    "  reply    repliers for another bench's requesters\n"
    "\n"
    "Without --msgs or --duration the modes that send run for 5 seconds, long enough for stable\n"
    "figures; a measured phase under a second prints a NOTE on stderr that its figures are\n"
    "unreliable. --msgs is the total over all publishers or requesters; every subscriber\n"
    "expects all of them (a queue group expects each once), 100000 by default. Rates are per "
    "client and aggregate, byte rates in\n"
    "MiB/s (1024*1024 bytes), latency from an HDR histogram. Lost, duplicate or out-of-order\n"
    "messages, disconnects and slow consumers print a WARNING and make the exit status 1.\n"
    "Progress is shown on stderr when it is a terminal. Ctrl-C prints what was measured so far,\n"
    "marked PARTIAL, and exits 130.\n"
    "\n"
    "Examples:\n"
    "  natsctl bench pubsub --embedded\n"
    "  natsctl bench pub --clients 4 --msgs 1000000 --size 16 bench.x\n"
    "  natsctl bench pubsub --pub 1 --sub 4 --throughput 50000 --duration 10s --json\n"
    "  natsctl bench request --embedded --clients 2 --msgs 20000 --csv rr.csv\n"
    "  natsctl bench pub --js --storage memory --window 256 --size 1KiB --msgs 100000 orders\n"
    "  natsctl bench sub --js --stream ORDERS --pull --batch 100 --msgs 100000\n"
    "\n"
    "JetStream (pub --js): natscli's `bench js pub sync|async`. --sync waits for every PubAck;\n"
    "otherwise up to --window publishes await their PubAck at once (natscli's --batch waits for\n"
    "whole batches instead). Rates count acknowledged messages; latency is publish to PubAck.\n"
    "\n"
    "JetStream (sub --js): natscli's consume modes. --msgs messages are read from the existing\n"
    "--stream (a SUBJECT filters it) through an ephemeral consumer, deliver all, deleted at the\n"
    "end: --pull (the default) keeps two requests of --batch messages outstanding, --push\n"
    "subscribes to a deliver subject. --ack explicit (the default) acks every message without\n"
    "waiting, and the run ends at the PONG after the last ack; --ack none acks nothing.\n";

/*
 * Windows bound how far publishers run ahead of the server. With subscribers in the run they stay
 * small, so the server's queues (and the latency measured) stay short; publish-only runs use
 * larger ones, because each window costs the server a PONG write and a wakeup.
 */
#define WINDOW_BYTES     (256u * 1024)
#define WINDOW_MSGS      4096u
#define PUB_WINDOW_BYTES (2u * 1024 * 1024)
#define PUB_WINDOW_MSGS  32768u
#define MAX_WINDOWS      2
#define STAMP_BYTES      16
#define TICK_MS          100
#define PACED_TICK_MS    1
#define HIST_HIGHEST     (3600ull * 1000000000ull)
#define QUEUE_NAME       "natsctl-bench"
#define DEFAULT_SUBJ     "natsctl.bench"
#define DEFAULT_MSGS     100000
#define DEFAULT_DURATION 5000 /* ms: senders without --msgs or --duration */
#define RELIABLE_NS      1000000000ull
#define DEFAULT_STREAM   "benchstream"
#define DEFAULT_WINDOW   256
#define MAX_WINDOW       65536
#define DEFAULT_BATCH    100
#define MAX_BATCH        10000
#define PULL_EXPIRES_MS  5000

struct opts {
    enum mode mode;
    const char *subject, *csv, *stream, *storage;
    long long clients, pubs, subs, msgs, size, multi_max, window, batch;
    uint64_t duration_ms;
    double throughput;
    bool multisubject, json, no_progress, embedded, msgs_given, js, purge;
    bool pull, push, ack_none, batch_given, ack_given, subject_given;
};

/* Which sequence numbers of one publisher a subscriber (or a queue group) has seen. */
struct seen {
    uint64_t *bits;
    size_t words;
    uint64_t high;
    bool any;
};

struct group {
    struct seen *pubs; /* one per publisher */
    uint64_t unique, dups, ooo;
};

struct bench;

struct client {
    struct bench *b;
    enum cli_role role;
    int id, index; /* index: publisher number for the payload stamp */
    struct np_client *nc;
    bool up, done, failed;
    uint64_t target, sent, msgs, bytes, wire, first_ns, last_ns;
    int windows;
    struct group *grp;
    struct cli_hist lat;
    bool has_lat;
    char inbox[64];
    uint64_t req_ns;
    uint64_t *ack_ns; /* --js: send time of each message awaiting its PubAck, by number % window */
    uint64_t inflight, acked, refused;
};

struct bench {
    const struct cli_cmd *cmd;
    struct opts o;
    struct cli_env env;
    struct cli_msg hdr; /* only the -H headers are used */
    struct np_str headers;
    uv_loop_t own_loop, *loop; /* its own, or the shell's (cli_host.h) */
    bool hosted;
    size_t open; /* clients not closed yet */
    struct client *c;
    size_t n, npubs;
    struct group *groups;
    size_t ngroups;
    char *payload;
    uv_timer_t tick;
    uv_signal_t sigs[2];
    uint64_t start_ns, end_ns, last_activity_ns, last_draw_ns, published;
    size_t pending_connects, pending_ready, pubs_left;
    bool started, finishing, interrupted, progress, progress_drawn;
    struct cli_embed emb;
    bool embedded_up;
    char broker[96], servers[64];
    FILE *csv; /* opened before the run, so a bad path costs no run */
    int rc;
    bool stream_created;
    bool consume;       /* sub --js */
    struct cli_bjs bjs; /* its consumer */
};

/* ---------------------------------------------------------------------------------------------- */
/* Options                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static const char *
opt_name(int id)
{
    for (const struct cli_opt *o = cmd_bench_opts; o->id; o++) {
        if (o->id == id) return o->long_name;
    }
    return "?";
}

/* The --js family; a stream name becomes an API subject token, so it must be one. */
static int
on_js_opt(struct bench *b, int id, const char *arg)
{
    struct opts *o = &b->o;
    switch (id) {
    case OPT_JS:
        o->js = true;
        return 0;
    case OPT_STORAGE:
        if (strcmp(arg, "file") != 0 && strcmp(arg, "memory") != 0)
            return cli_bad_value(b->cmd, id, arg);
        o->storage = arg;
        return 0;
    case OPT_STREAM:
        if (!*arg || strlen(arg) > 255 || strpbrk(arg, " \t\r\n\f.*>\\/"))
            return cli_bad_value(b->cmd, id, arg);
        o->stream = arg;
        return 0;
    case OPT_SYNC:
        o->window = 1;
        return 0;
    case OPT_WINDOW:
        return cli_parse_int(arg, 1, MAX_WINDOW, &o->window) ? 0 : cli_bad_value(b->cmd, id, arg);
    case OPT_PURGE:
        o->purge = true;
        return 0;
    case OPT_PULL:
        o->pull = true;
        return 0;
    case OPT_PUSH:
        o->push = true;
        return 0;
    case OPT_BATCH:
        o->batch_given = true;
        return cli_parse_int(arg, 1, MAX_BATCH, &o->batch) ? 0 : cli_bad_value(b->cmd, id, arg);
    case OPT_ACK:
        if (strcmp(arg, "explicit") != 0 && strcmp(arg, "none") != 0)
            return cli_bad_value(b->cmd, id, arg);
        o->ack_given = true;
        o->ack_none = strcmp(arg, "none") == 0;
        return 0;
    }
    return CLI_EXIT_FAIL;
}

static int
on_opt(void *ud, int id, const char *arg)
{
    struct bench *b = ud;
    struct opts *o = &b->o;
    long long *num[] = {[OPT_CLIENTS] = &o->clients,
                        [OPT_PUB] = &o->pubs,
                        [OPT_SUB] = &o->subs,
                        [OPT_MSGS] = &o->msgs,
                        [OPT_MULTISUBJECT_MAX] = &o->multi_max};
    if (cli_env_is_global(id)) return cli_conn_env_opt(&b->env, id, arg);
    if (id == OPT_MSGS) o->msgs_given = true;
    if (id < (int)(sizeof num / sizeof num[0]) && num[id])
        return cli_parse_int(arg, 1, 1000000000000ll, num[id])
                   ? 0
                   : cli_usage(b->cmd, "invalid value '%s' for --%s: want a whole number from 1",
                               arg, opt_name(id));
    switch (id) {
    case OPT_SIZE:
        if (!cli_parse_size(arg, &o->size) || o->size < 0 || o->size > 64 * 1024 * 1024)
            return cli_bad_value(b->cmd, id, arg);
        return 0;
    case OPT_DURATION:
        return cli_parse_duration(arg, &o->duration_ms) && o->duration_ms
                   ? 0
                   : cli_bad_value(b->cmd, id, arg);
    case OPT_THROUGHPUT: {
        long long t;
        if (!cli_parse_int(arg, 1, 1000000000ll, &t)) return cli_bad_value(b->cmd, id, arg);
        o->throughput = (double)t;
        return 0;
    }
    case OPT_HEADER: {
        const char *why = cli_header_add(&b->hdr, arg);
        return why ? cli_usage(b->cmd, "invalid -H '%s': %s", arg, why) : 0;
    }
    case OPT_CSV:
        o->csv = arg;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_NO_PROGRESS:
        o->no_progress = true;
        return 0;
    case OPT_EMBEDDED:
        o->embedded = true;
        return 0;
    case OPT_MULTISUBJECT:
        o->multisubject = true;
        return 0;
    }
    return on_js_opt(b, id, arg);
}

/* The consumer flags belong to sub --js, and a consumer is either pull or push. */
static int
check_consume(struct bench *b)
{
    struct opts *o = &b->o;
    b->consume = o->js && o->mode == M_SUB;
    bool flags = o->pull || o->push || o->batch_given || o->ack_given;
    if (flags && !b->consume)
        return cli_usage(b->cmd, "--pull, --push, --batch and --ack work with sub --js only");
    if (!b->consume) return 0;
    if (o->pull && o->push) return cli_usage(b->cmd, "--pull and --push exclude each other");
    if (o->push && o->batch_given) return cli_usage(b->cmd, "--batch works with --pull only");
    if (o->clients > 1) return cli_usage(b->cmd, "sub --js reads with one client (--clients 1)");
    if (o->duration_ms)
        return cli_usage(b->cmd, "sub --js reads --msgs messages, not a --duration");
    o->pull = !o->push;
    return 0;
}

static int
parse_mode(void *ud, int nargs, char **args)
{
    struct bench *b = ud;
    if (nargs < 1 || nargs > 2)
        return cli_usage(b->cmd,
                         "usage: natsctl bench pub|sub|pubsub|request|reply|queue [SUBJECT]");
    for (int i = 0; cmd_bench_modes[i]; i++) {
        if (strcmp(args[0], cmd_bench_modes[i]) == 0) b->o.mode = (enum mode)i;
    }
    if (strcmp(args[0], cmd_bench_modes[b->o.mode]) != 0)
        return cli_usage(b->cmd, "unknown mode '%s': pub, sub, pubsub, request, reply or queue",
                         args[0]);
    b->o.subject = nargs == 2 ? args[1] : DEFAULT_SUBJ;
    b->o.subject_given = nargs == 2;
    char why[160];
    /* room for ".<n>" (--multisubject), an inbox reply, the header and total sizes */
    size_t others = 21 + 1 + 64 + cli_pub_args(0, 1 << 20, 64u << 20);
    if (!cli_subject_check("subject", b->o.subject, false, others, why, sizeof why))
        return cli_usage(b->cmd, "%s", why);
    if (b->o.embedded && (b->o.mode == M_SUB || b->o.mode == M_REPLY))
        return cli_usage(b->cmd, "--embedded needs a mode that sends: pub, pubsub, queue, request");
    if (b->o.js && b->o.mode != M_PUB && b->o.mode != M_SUB)
        return cli_usage(b->cmd, "--js works with pub and sub only");
    if (b->o.js && b->o.embedded)
        return cli_usage(b->cmd, "--js needs a JetStream server; the embedded broker has none");
    int rc = check_consume(b);
    if (rc != 0) return rc;
    bool sends = b->o.mode != M_SUB && b->o.mode != M_REPLY;
    if (sends && !b->o.msgs_given && !b->o.duration_ms) b->o.duration_ms = DEFAULT_DURATION;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Sequence tracking                                                                               */
/* ---------------------------------------------------------------------------------------------- */

static int
seen_grow(struct seen *s, uint64_t seq)
{
    size_t need = (size_t)(seq / 64) + 1, words = s->words ? s->words : 1024;
    while (words < need)
        words *= 2;
    uint64_t *bits = realloc(s->bits, words * sizeof *bits);
    if (!bits) return -ENOMEM;
    memset(bits + s->words, 0, (words - s->words) * sizeof *bits);
    s->bits = bits;
    s->words = words;
    return 0;
}

static void
group_record(struct group *g, struct seen *s, uint64_t seq)
{
    if (seq / 64 >= s->words && seen_grow(s, seq) != 0) return;
    uint64_t mask = 1ull << (seq % 64);
    if (s->bits[seq / 64] & mask) {
        g->dups++;
        return;
    }
    s->bits[seq / 64] |= mask;
    g->unique++;
    if (s->any && seq < s->high) g->ooo++;
    if (!s->any || seq > s->high) s->high = seq;
    s->any = true;
}

/* ---------------------------------------------------------------------------------------------- */
/* Wire accounting                                                                                 */
/* ---------------------------------------------------------------------------------------------- */

static size_t
digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Bytes of one PUB/HPUB (or MSG/HMSG with sid_len > 0) frame: line, payload and CRLF. */
static uint64_t
frame_bytes(size_t subj, size_t reply, size_t sid_len, size_t hlen, size_t total)
{
    size_t line = 3 + (hlen ? 1 : 0) + 1 + subj + (sid_len ? sid_len + 1 : 0) +
                  (reply ? reply + 1 : 0) + (hlen ? digits(hlen) + 1 : 0) + 1 + digits(total) + 2;
    return line + total + 2;
}

/* ---------------------------------------------------------------------------------------------- */
/* Ending                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

static void finish(struct bench *b);
static void end_run(struct bench *b);

static uint64_t
now_ns(void)
{
    return uv_hrtime();
}

/* Repliers serve until the others are done, unless answering is the whole job (reply mode). */
static bool
all_done(const struct bench *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (!b->c[i].done && (b->c[i].role != CLI_ROLE_REP || b->o.mode == M_REPLY)) return false;
    }
    return true;
}

static void
client_done(struct client *c)
{
    if (c->done) return;
    c->done = true;
    if (!c->last_ns) c->last_ns = now_ns();
    if (all_done(c->b)) end_run(c->b);
}

static void
client_failed(struct client *c, const char *why)
{
    struct bench *b = c->b;
    if (b->finishing) return;
    c->failed = true;
    cli_error(b->cmd, "client %c%d: %s", "PSRE"[c->role], c -> id, why);
    client_done(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Subscribers and repliers                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* What a subscriber (in queue mode: the whole group) has received, duplicates left out. */
static uint64_t
received(const struct client *c)
{
    const struct bench *b = c->b;
    /* unstamped payloads (under 16 bytes) can only be counted, not told apart */
    if (c->grp && b->o.size >= STAMP_BYTES) return c->grp->unique;
    if (b->o.mode != M_QUEUE) return c->msgs;
    uint64_t sum = 0;
    for (size_t i = 0; i < b->n; i++)
        sum += b->c[i].role == CLI_ROLE_SUB ? b->c[i].msgs : 0;
    return sum;
}

static void
sub_check_done(struct client *c)
{
    struct bench *b = c->b;
    if (!c->target || received(c) < c->target) return;
    if (b->o.mode != M_QUEUE) {
        client_done(c);
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->c[i].role == CLI_ROLE_SUB) client_done(&b->c[i]);
    }
}

static void
read_stamp(const struct np_msg *m, uint64_t *id_seq, uint64_t *ts)
{
    memcpy(id_seq, m->data.ptr, 8);
    memcpy(ts, m->data.ptr + 8, 8);
}

static void
on_sub_msg(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct client *c = ud;
    uint64_t now = now_ns();
    (void)nc;
    if (c->done || c->b->finishing) return;
    if (!c->first_ns) c->first_ns = now;
    c->last_ns = c->b->last_activity_ns = now;
    c->msgs++;
    c->bytes += m->data.len;
    c->wire +=
        frame_bytes(m->subject.len, m->reply.len, 2, m->headers.len, m->headers.len + m->data.len);
    if (m->data.len >= STAMP_BYTES && c->grp) {
        uint64_t id_seq, ts;
        read_stamp(m, &id_seq, &ts);
        size_t pub = (size_t)(id_seq >> 48);
        if (pub < c->b->npubs) group_record(c->grp, &c->grp->pubs[pub], id_seq & 0xffffffffffffull);
        if (c->has_lat) cli_hist_record(&c->lat, now > ts ? now - ts : 0);
    }
    sub_check_done(c);
}

static void
on_request(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct client *c = ud;
    uint64_t now = now_ns();
    if (!m->reply.len || c->b->finishing) return;
    char reply[256];
    snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
    if (np_client_publish(nc, reply, NULL, m->headers, m->data) != 0) return;
    if (!c->first_ns) c->first_ns = now;
    c->last_ns = c->b->last_activity_ns = now;
    c->msgs++;
    c->bytes += m->data.len;
    c->wire += frame_bytes(strlen(reply), 0, 0, m->headers.len, m->headers.len + m->data.len);
    if (c->b->o.mode != M_REPLY || ++c->b->published < (uint64_t)c->b->o.msgs) return;
    for (size_t i = 0; i < c->b->n; i++)
        client_done(&c->b->c[i]);
}

/* ---------------------------------------------------------------------------------------------- */
/* Publishers                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static void pub_pump(struct client *c);

static void
publish_failed(struct client *c, int rc, const char *what)
{
    char why[160];
    if (rc == NP_CLIENT_EMAX_PAYLOAD)
        cli_payload_problem(c->nc, c->b->headers.len, (size_t)c->b->o.size, why, sizeof why);
    else
        snprintf(why, sizeof why, "%s", np_client_strerror(rc));
    char line[200];
    snprintf(line, sizeof line, "%s failed: %s", what, why);
    client_failed(c, line);
}

static const char *
pub_subject(struct client *c, char *buf, size_t cap)
{
    struct bench *b = c->b;
    if (!b->o.multisubject) return b->o.subject;
    snprintf(buf, cap, "%s.%llu", b->o.subject,
             (unsigned long long)(c->sent % (uint64_t)b->o.multi_max));
    return buf;
}

/* The send time a message carries: now, or its slot in the fixed-rate schedule. */
static uint64_t
intended_ns(const struct client *c)
{
    const struct bench *b = c->b;
    if (!b->o.throughput) return now_ns();
    double per_pub = b->o.throughput / (double)b->npubs;
    return b->start_ns + (uint64_t)((double)c->sent * 1e9 / per_pub);
}

static int
publish_one(struct client *c, const char *reply)
{
    struct bench *b = c->b;
    char subj[300];
    const char *s = pub_subject(c, subj, sizeof subj);
    size_t size = (size_t)b->o.size;
    if (size >= STAMP_BYTES) {
        uint64_t id_seq = ((uint64_t)c->index << 48) | c->sent, ts = intended_ns(c);
        memcpy(b->payload, &id_seq, 8);
        memcpy(b->payload + 8, &ts, 8);
    }
    int rc = np_client_publish(c->nc, s, reply, b->headers, (struct np_str){b->payload, size});
    if (rc != 0) return rc;
    c->sent++;
    c->bytes += size;
    c->wire +=
        frame_bytes(strlen(s), reply ? strlen(reply) : 0, 0, b->headers.len, b->headers.len + size);
    return 0;
}

/* How many more messages this publisher may send now. */
static uint64_t
pub_allowance(struct client *c, uint64_t now)
{
    struct bench *b = c->b;
    if (b->o.duration_ms && now - b->start_ns >= b->o.duration_ms * 1000000ull) c->target = c->sent;
    uint64_t left = c->target - c->sent;
    if (b->o.throughput) {
        double per_pub = b->o.throughput / (double)b->npubs;
        uint64_t due = (uint64_t)((double)(now - b->start_ns) * per_pub / 1e9) + 1;
        left = due > c->sent ? due - c->sent : 0;
        if (left > c->target - c->sent) left = c->target - c->sent;
    }
    return left;
}

static void on_window(struct np_client *nc, int status, void *ud);

static void
pub_finished(struct client *c)
{
    struct bench *b = c->b;
    c->msgs = c->sent;
    c->last_ns = now_ns();
    b->published += c->sent;
    client_done(c);
    if (--b->pubs_left > 0) return;
    /* every subscriber (or the queue group as a whole) now knows what to expect */
    for (size_t i = 0; i < b->n; i++) {
        if (b->c[i].role != CLI_ROLE_SUB) continue;
        b->c[i].target = b->published ? b->published : 1;
        if (!b->published) client_done(&b->c[i]);
        sub_check_done(&b->c[i]);
    }
}

static void js_pump(struct client *c);

static void
pub_pump(struct client *c)
{
    struct bench *b = c->b;
    if (b->o.js) {
        js_pump(c);
        return;
    }
    while (!c->done && !b->finishing && c->windows < MAX_WINDOWS) {
        uint64_t allow = pub_allowance(c, now_ns());
        if (c->sent == c->target) {
            if (c->windows == 0) pub_finished(c);
            return;
        }
        if (allow == 0) return; /* paced: the tick comes back */
        bool alone = b->o.mode == M_PUB;
        uint64_t max_msgs = alone ? PUB_WINDOW_MSGS : WINDOW_MSGS;
        size_t max_bytes = alone ? PUB_WINDOW_BYTES : WINDOW_BYTES, bytes = 0;
        for (uint64_t k = 0; k < allow && k < max_msgs && bytes < max_bytes; k++) {
            int rc = publish_one(c, NULL);
            if (rc != 0) {
                publish_failed(c, rc, "publish");
                return;
            }
            bytes += (size_t)b->o.size + 32;
        }
        if (np_client_flush(c->nc, on_window, c) != 0) {
            client_failed(c, "flush failed");
            return;
        }
        c->windows++;
    }
}

static void
on_window(struct np_client *nc, int status, void *ud)
{
    struct client *c = ud;
    (void)nc;
    c->windows--;
    if (c->b->finishing) return;
    if (status != 0) {
        client_failed(c, np_client_strerror(status));
        return;
    }
    c->b->last_activity_ns = now_ns();
    pub_pump(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* JetStream publishers                                                                            */
/* ---------------------------------------------------------------------------------------------- */

/* Publishes while fewer than the window await their PubAck. */
static void
js_pump(struct client *c)
{
    struct bench *b = c->b;
    uint64_t window = (uint64_t)b->o.window;
    while (!c->done && !b->finishing && c->inflight < window) {
        uint64_t allow = pub_allowance(c, now_ns());
        if (c->sent == c->target) {
            if (c->inflight == 0) pub_finished(c);
            return;
        }
        if (allow == 0) return; /* paced: the tick comes back */
        char reply[96];
        snprintf(reply, sizeof reply, "%s.%llu", c->inbox, (unsigned long long)c->sent);
        c->ack_ns[c->sent % window] = intended_ns(c);
        int rc = publish_one(c, reply);
        if (rc != 0) {
            publish_failed(c, rc, "publish");
            return;
        }
        c->inflight++;
    }
}

/* A PubAck is positive when it names a stream and a sequence and carries no error. */
static bool
puback_ok(struct np_str data)
{
    cJSON *doc = cJSON_ParseWithLength(data.ptr, data.len);
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(doc, "seq");
    bool ok = doc && !cJSON_HasObjectItem(doc, "error") && cJSON_IsNumber(seq) &&
              seq->valuedouble > 0 &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "stream"));
    cJSON_Delete(doc);
    return ok;
}

/* The message number at the end of a PubAck's subject (<inbox>.<n>). */
static uint64_t
ack_number(struct np_str subject)
{
    char buf[32];
    size_t i = subject.len;
    while (i > 0 && subject.ptr[i - 1] != '.')
        i--;
    snprintf(buf, sizeof buf, "%.*s", (int)(subject.len - i), subject.ptr + i);
    return strtoull(buf, NULL, 10);
}

static void
on_puback(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct client *c = ud;
    struct bench *b = c->b;
    uint64_t now = now_ns(), n = ack_number(m->subject);
    (void)nc;
    if (c->done || b->finishing || !c->inflight || n >= c->sent) return;
    if (m->status == NP_STATUS_NO_RESPONDERS) {
        client_failed(c, "no stream captures the subject (no responders)");
        return;
    }
    uint64_t sent_ns = c->ack_ns[n % (uint64_t)b->o.window];
    cli_hist_record(&c->lat, now > sent_ns ? now - sent_ns : 0);
    c->inflight--;
    if (puback_ok(m->data))
        c->acked++;
    else
        c->refused++;
    c->last_ns = b->last_activity_ns = now;
    js_pump(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Requesters                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static void
req_send(struct client *c)
{
    struct bench *b = c->b;
    if (b->o.duration_ms && now_ns() - b->start_ns >= b->o.duration_ms * 1000000ull)
        c->target = c->sent;
    if (c->sent >= c->target) {
        client_done(c);
        return;
    }
    c->req_ns = now_ns();
    int rc = publish_one(c, c->inbox);
    if (rc != 0) publish_failed(c, rc, "request");
}

static void
on_reply(struct np_client *nc, const struct np_msg *m, void *ud)
{
    struct client *c = ud;
    uint64_t now = now_ns();
    (void)nc;
    if (c->done || c->b->finishing) return;
    if (m->status == NP_STATUS_NO_RESPONDERS && m->data.len == 0) {
        client_failed(c, "no responders");
        return;
    }
    if (!c->first_ns) c->first_ns = c->req_ns;
    c->last_ns = c->b->last_activity_ns = now;
    c->msgs++;
    cli_hist_record(&c->lat, now - c->req_ns);
    req_send(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Start                                                                                           */
/* ---------------------------------------------------------------------------------------------- */

static void js_setup(struct bench *b);

static void
start_run(struct bench *b)
{
    b->started = true;
    b->start_ns = b->last_activity_ns = now_ns();
    /* receive-only modes depend on another process: say when it may start */
    if (b->consume)
        fprintf(stderr, "Consuming %lld messages of stream %s through a %s consumer\n", b->o.msgs,
                b->o.stream, b->o.push ? "push" : "pull");
    else if (b->o.mode == M_SUB || b->o.mode == M_REPLY)
        fprintf(stderr, "Waiting for %s on %s with %zu clients\n",
                b->o.mode == M_SUB ? "messages" : "requests", b->o.subject, b->n);
    for (size_t i = 0; i < b->n; i++) {
        struct client *c = &b->c[i];
        if (c->role == CLI_ROLE_PUB) {
            c->first_ns = b->start_ns;
            pub_pump(c);
        } else if (c->role == CLI_ROLE_REQ) {
            req_send(c);
        }
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* The stream: found, created or purged before the run; deleted after it if the bench created it  */
/* ---------------------------------------------------------------------------------------------- */

static void
js_failed(struct bench *b, const char *why)
{
    cli_error(b->cmd, "stream %s: %s", b->o.stream, why);
    b->rc = CLI_EXIT_FAIL;
    finish(b);
}

static int
js_api(struct bench *b, const char *op, const char *body, np_reply_cb cb)
{
    char subj[320];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.%s.%s", op, b->o.stream);
    struct np_str data = {body, strlen(body)};
    return np_client_request(b->c[0].nc, subj, (struct np_str){0}, data, 0, cb, b);
}

static void
on_stream_ready(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct bench *b = ud;
    char why[300];
    (void)nc;
    if (b->finishing) return;
    if (cli_bjs_api_error(status, m, why, sizeof why) != 0) {
        js_failed(b, why);
        return;
    }
    start_run(b);
}

static void
on_created(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct bench *b = ud;
    char why[300];
    (void)nc;
    if (b->finishing) return;
    if (cli_bjs_api_error(status, m, why, sizeof why) != 0) {
        js_failed(b, why);
        return;
    }
    b->stream_created = true;
    start_run(b);
}

/* The stream the bench creates: the subject (all of SUBJECT.> with --multisubject). */
static char *
stream_config(const struct bench *b)
{
    char subj[300];
    snprintf(subj, sizeof subj, b->o.multisubject ? "%s.>" : "%s", b->o.subject);
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "name", b->o.stream);
    cJSON *subjects = cJSON_AddArrayToObject(cfg, "subjects");
    if (subjects) cJSON_AddItemToArray(subjects, cJSON_CreateString(subj));
    cJSON_AddStringToObject(cfg, "storage", b->o.storage);
    char *text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    return text;
}

static void
on_info(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct bench *b = ud;
    char why[300];
    (void)nc;
    if (b->finishing) return;
    long err = cli_bjs_api_error(status, m, why, sizeof why);
    if (err == 0) {
        if (!b->o.purge)
            start_run(b);
        else if (js_api(b, "PURGE", "", on_stream_ready) != 0)
            js_failed(b, "cannot send PURGE");
        return;
    }
    if (err != 10059) { /* anything but "stream not found" */
        js_failed(b, why);
        return;
    }
    char *cfg = stream_config(b);
    int rc = cfg ? js_api(b, "CREATE", cfg, on_created) : -ENOMEM;
    free(cfg);
    if (rc != 0) js_failed(b, "cannot send CREATE");
}

static void consume_setup(struct bench *b);

static void
js_setup(struct bench *b)
{
    if (b->consume)
        consume_setup(b);
    else if (js_api(b, "INFO", "", on_info) != 0)
        js_failed(b, "cannot send INFO");
}

static void
on_deleted(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct bench *b = ud;
    char why[300];
    (void)nc;
    if (cli_bjs_api_error(status, m, why, sizeof why) != 0)
        cli_error(b->cmd, "cannot delete stream %s: %s", b->o.stream, why);
    finish(b);
}

/* ---------------------------------------------------------------------------------------------- */
/* sub --js: the consumer, created before the run and deleted after it                           */
/* ---------------------------------------------------------------------------------------------- */

static void
on_consumed(struct cli_bjs *j, const struct np_msg *m)
{
    struct bench *b = j->ud;
    on_sub_msg(b->c[0].nc, m, &b->c[0]);
}

static void
on_consume_error(struct cli_bjs *j, const char *why)
{
    struct bench *b = j->ud;
    client_failed(&b->c[0], why);
}

/* A push consumer may deliver everything before its CREATE is answered: the end waits for it. */
static void
on_consumer(struct cli_bjs *j, int status, long err_code, const char *why)
{
    struct bench *b = j->ud;
    if (b->finishing) return;
    if (why) {
        cli_error(b->cmd, "stream %s: %s", b->o.stream, why);
        b->rc = err_code > 0 || status == 0 ? CLI_EXIT_REJECTED : CLI_EXIT_FAIL;
        finish(b);
        return;
    }
    start_run(b);
    if (b->c[0].done) end_run(b);
}

static void
consume_setup(struct bench *b)
{
    b->bjs = (struct cli_bjs){.nc = b->c[0].nc,
                              .stream = b->o.stream,
                              .filter = b->o.subject_given ? b->o.subject : NULL,
                              .push = b->o.push,
                              .ack = !b->o.ack_none,
                              .batch = (uint64_t)b->o.batch,
                              .want = (uint64_t)b->o.msgs,
                              .expires_ms = PULL_EXPIRES_MS,
                              .on_ready = on_consumer,
                              .on_error = on_consume_error,
                              .on_msg = on_consumed,
                              .ud = b};
    int rc = cli_bjs_start(&b->bjs);
    if (rc != 0) js_failed(b, np_client_strerror(rc));
}

static void
on_consumer_deleted(struct np_client *nc, int status, const struct np_msg *m, void *ud)
{
    struct bench *b = ud;
    char why[300];
    (void)nc;
    if (cli_bjs_api_error(status, m, why, sizeof why) != 0)
        cli_error(b->cmd, "cannot delete consumer %s: %s", b->bjs.consumer, why);
    finish(b);
}

/* The run ends once the server has taken every ack: the flush's PONG comes after all of them. */
static void
on_acks_taken(struct np_client *nc, int status, void *ud)
{
    struct bench *b = ud;
    (void)nc;
    if (b->finishing) return;
    if (status != 0) {
        b->c[0].failed = true;
        cli_error(b->cmd, "the acks were not confirmed: %s", np_client_strerror(status));
    }
    b->c[0].last_ns = now_ns();
    if (cli_bjs_delete(&b->bjs, on_consumer_deleted, b) != 0) finish(b);
}

static void
consume_end(struct bench *b)
{
    if (!b->started) return; /* on_consumer comes back */
    int rc = b->bjs.ack ? np_client_flush(b->c[0].nc, on_acks_taken, b)
                        : cli_bjs_delete(&b->bjs, on_consumer_deleted, b);
    if (rc != 0) finish(b);
}

/* The end of a run that was not interrupted: the stream the bench created goes first. */
static void
end_run(struct bench *b)
{
    if (b->consume) {
        consume_end(b);
        return;
    }
    if (!b->stream_created || b->interrupted || js_api(b, "DELETE", "", on_deleted) != 0) {
        finish(b);
        return;
    }
    b->stream_created = false;
}

static void
on_ready(struct np_client *nc, int status, void *ud)
{
    struct client *c = ud;
    (void)nc;
    if (c->b->finishing) return;
    if (status != 0) {
        client_failed(c, np_client_strerror(status));
        return;
    }
    if (--c->b->pending_ready == 0) c->b->o.js ? js_setup(c->b) : start_run(c->b);
}

static int
client_subscribe(struct client *c)
{
    struct bench *b = c->b;
    char subj[300];
    const char *s = b->o.subject;
    if (c->role == CLI_ROLE_PUB) { /* --js: the PubAcks */
        np_client_new_inbox(c->nc, c->inbox, sizeof c->inbox);
        snprintf(subj, sizeof subj, "%s.*", c->inbox);
        return (int)np_client_subscribe(c->nc, subj, NULL, 0, on_puback, c);
    }
    if (b->o.multisubject && c->role != CLI_ROLE_REQ) {
        snprintf(subj, sizeof subj, "%s.>", b->o.subject);
        s = subj;
    }
    if (c->role == CLI_ROLE_SUB)
        return (int)np_client_subscribe(c->nc, s, b->o.mode == M_QUEUE ? QUEUE_NAME : NULL, 0,
                                        on_sub_msg, c);
    if (c->role == CLI_ROLE_REP)
        return (int)np_client_subscribe(c->nc, s, QUEUE_NAME, 0, on_request, c);
    np_client_new_inbox(c->nc, c->inbox, sizeof c->inbox);
    return (int)np_client_subscribe(c->nc, c->inbox, NULL, 0, on_reply, c);
}

static void
note_broker(struct bench *b, struct np_client *nc)
{
    const struct np_info *info = np_client_info(nc);
    if (b->broker[0] || !info) return;
    /* natsctl's INFO says version 2.9.10, the protocol level it follows; its own is in "go" */
    bool ours = info->go && strncmp(info->go, "natsctl-", 8) == 0;
    if (b->o.embedded)
        snprintf(b->broker, sizeof b->broker, "natsctl %s", NATSCTL_VERSION);
    else if (ours)
        snprintf(b->broker, sizeof b->broker, "natsctl %s", info->go + 8);
    else
        snprintf(b->broker, sizeof b->broker, "nats-server %s",
                 info->version ? info->version : "?");
}

/* Refuses a --size the server would refuse, before anything is measured. */
static bool
too_big(struct bench *b, struct np_client *nc)
{
    const struct np_info *info = np_client_info(nc);
    size_t total = (size_t)b->o.size + b->headers.len;
    bool sends = b->o.mode != M_SUB && b->o.mode != M_REPLY;
    if (!sends || !info || info->max_payload <= 0 || total <= (uint64_t)info->max_payload)
        return false;
    char why[160];
    cli_payload_problem(nc, b->headers.len, (size_t)b->o.size, why, sizeof why);
    cli_error(b->cmd, "--size %lld: %s", b->o.size, why);
    b->rc = CLI_EXIT_REJECTED;
    finish(b);
    return true;
}

static void
on_connect(struct np_client *nc, int status, void *ud)
{
    struct client *c = ud;
    struct bench *b = c->b;
    if (b->finishing) return;
    if (status != 0) {
        cli_conn_connect_error(b->cmd, &b->env, nc, status);
        b->rc = CLI_EXIT_CONNECT;
        finish(b);
        return;
    }
    c->up = true;
    note_broker(b, nc);
    if (too_big(b, nc)) return;
    /* the consumer's subscriptions come with it, once everyone is connected */
    if (!b->consume && (c->role != CLI_ROLE_PUB || b->o.js) && client_subscribe(c) < 0) {
        client_failed(c, "subscribe failed");
        return;
    }
    if (--b->pending_connects > 0) return;
    /* one flush per client proves every subscription is in place before anyone publishes */
    b->pending_ready = b->n;
    for (size_t i = 0; i < b->n; i++)
        np_client_flush(b->c[i].nc, on_ready, &b->c[i]);
}

static void
on_event(struct np_client *nc, enum np_client_event ev, int status, void *ud)
{
    struct client *c = ud;
    if (c->b->finishing || ev == NP_CLIENT_CONNECTED) return;
    if (ev == NP_CLIENT_SERVER_ERROR) {
        client_failed(c, np_client_last_error(nc));
    } else if (ev == NP_CLIENT_DISCONNECTED && c->up) {
        char why[160];
        snprintf(why, sizeof why, "disconnected: %s",
                 *np_client_last_error(nc) ? np_client_last_error(nc) : np_client_strerror(status));
        client_failed(c, why);
    }
}

static int
connect_client(struct bench *b, struct client *c)
{
    char name[64];
    snprintf(name, sizeof name, "natsctl bench %c%d", "PSRE"[c->role], c -> id);
    struct np_client_opts o = cli_conn_client_opts(&b->env);
    if (b->o.embedded) o.servers = b->servers;
    o.name = name;
    o.on_event = on_event;
    o.ud = c;
    int rc = np_client_new(&c->nc, b->loop, &o);
    if (rc != 0) return rc;
    b->open++;
    return np_client_connect(c->nc, on_connect, c);
}

/* ---------------------------------------------------------------------------------------------- */
/* The tick: progress, pacing, the duration of receive-only modes, and stalls                      */
/* ---------------------------------------------------------------------------------------------- */

static void
draw_progress(struct bench *b)
{
    uint64_t sent = 0, target = 0, recv = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct client *c = &b->c[i];
        if (c->role == CLI_ROLE_PUB || c->role == CLI_ROLE_REQ) {
            sent += c->role == CLI_ROLE_PUB ? c->sent : c->msgs;
            target += c->target;
        } else {
            recv += c->msgs;
        }
    }
    char a[32], t[32], r[32];
    cli_fmt_rate((double)sent, a, sizeof a);
    cli_fmt_rate((double)recv, r, sizeof r);
    if (b->o.duration_ms || !target)
        snprintf(t, sizeof t, "%.1fs", (double)(now_ns() - b->start_ns) / 1e9);
    else
        snprintf(t, sizeof t, "%3.0f%%", 100.0 * (double)sent / (double)target);
    fprintf(stderr, "\r\033[K%s sent %s received %s", t, a, r);
    fflush(stderr);
    b->progress_drawn = true;
}

static bool
stalled(struct bench *b, uint64_t now)
{
    bool sends = b->o.mode != M_SUB && b->o.mode != M_REPLY;
    if (!sends && b->last_activity_ns == b->start_ns) return false; /* nothing arrived yet */
    return now - b->last_activity_ns > b->env.timeout_ms * 1000000ull;
}

static void
on_tick(uv_timer_t *t)
{
    struct bench *b = t->data;
    uint64_t now = now_ns();
    if (!b->started || b->finishing) return;
    for (size_t i = 0; b->o.throughput && i < b->n; i++) {
        if (b->c[i].role == CLI_ROLE_PUB) pub_pump(&b->c[i]);
    }
    if (b->finishing) return;
    bool receive_only = b->o.mode == M_SUB || b->o.mode == M_REPLY;
    if (receive_only && b->o.duration_ms && now - b->start_ns >= b->o.duration_ms * 1000000ull) {
        finish(b);
        return;
    }
    if (stalled(b, now)) {
        cli_error(b->cmd, "no progress for %llums: ending the run",
                  (unsigned long long)b->env.timeout_ms);
        finish(b);
        return;
    }
    if (b->progress && now - b->last_draw_ns >= TICK_MS * 1000000ull) {
        b->last_draw_ns = now;
        draw_progress(b);
    }
}

static void
on_interrupt(void *ud)
{
    struct bench *b = ud;
    b->interrupted = true;
    finish(b);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    on_interrupt(h->data);
}

static void
on_client_closed(struct np_client *nc, int status, void *ud)
{
    struct bench *b = ud;
    (void)nc;
    (void)status;
    b->open--;
}

static void
finish(struct bench *b)
{
    if (b->finishing) return;
    b->finishing = true;
    b->end_ns = now_ns();
    if (b->progress_drawn) fputs("\r\033[K", stderr);
    uv_close((uv_handle_t *)&b->tick, NULL);
    if (b->hosted) cli_host_listen(NULL, NULL);
    for (size_t i = 0; i < 2 && !b->hosted; i++)
        uv_close((uv_handle_t *)&b->sigs[i], NULL);
    /* a drain sends what is still queued (a replier's last answers); Ctrl-C does not wait */
    for (size_t i = 0; i < b->n; i++) {
        struct np_client *nc = b->c[i].nc;
        b->c[i].nc = NULL;
        if (nc && (b->interrupted || np_client_drain(nc, on_client_closed, b) != 0))
            np_client_close(nc, on_client_closed, b);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* The report                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

/* Lost, duplicate and out-of-order counts, from what the publishers sent and the groups saw. */
/* --js: what the stream acknowledged and refused, and how many publishes got no PubAck at all. */
static void
count_acks(const struct bench *b, struct cli_report *r)
{
    r->js = true;
    for (size_t i = 0; i < b->npubs; i++) {
        const struct client *c = &b->c[i];
        r->acked += c->acked;
        r->refused += c->refused;
        if (!b->interrupted) r->lost += c->sent - c->acked - c->refused;
    }
}

static void
count_losses(const struct bench *b, struct cli_report *r)
{
    bool stamped = b->o.size >= STAMP_BYTES;
    for (size_t i = 0; i < b->n; i++) {
        const struct client *c = &b->c[i];
        if (c->role != CLI_ROLE_SUB || (b->o.mode == M_QUEUE && c != &b->c[b->npubs])) continue;
        uint64_t expect = b->o.mode == M_SUB ? (uint64_t)b->o.msgs : b->published;
        uint64_t got = received(c);
        if (c->grp && stamped) {
            r->duplicates += c->grp->dups;
            if (b->o.mode != M_QUEUE) r->out_of_order += c->grp->ooo;
        } else if (got > expect) {
            r->duplicates += got - expect;
        }
        if (b->o.mode == M_SUB && b->o.duration_ms) continue; /* nothing to expect */
        if (got < expect) r->lost += expect - got;
    }
}

/* A publisher cut short (Ctrl-C, a failure) counts until the run ended. */
static double
client_secs(const struct client *c)
{
    uint64_t last = c->last_ns ? c->last_ns : c->role == CLI_ROLE_PUB ? c->b->end_ns : 0;
    return c->first_ns && last > c->first_ns ? (double)(last - c->first_ns) / 1e9 : 0;
}

static void
build_clients(struct bench *b, struct cli_report_client *rc, struct cli_hist *all)
{
    for (size_t i = 0; i < b->n; i++) {
        struct client *c = &b->c[i];
        uint64_t msgs = c->role == CLI_ROLE_PUB ? b->o.js ? c->acked : c->sent : c->msgs;
        uint64_t bytes = b->o.js && !b->consume ? msgs * (uint64_t)b->o.size : c->bytes;
        rc[i] = (struct cli_report_client){.role = c->role,
                                           .id = c->id,
                                           .msgs = msgs,
                                           .bytes = bytes,
                                           .wire = c->wire,
                                           .secs = client_secs(c)};
        if (c->has_lat) {
            rc[i].latency = &c->lat;
            cli_hist_merge(all, &c->lat);
        }
    }
}

static int
write_csv(struct bench *b, const struct cli_report *r)
{
    int rc = cli_report_csv(r, b->csv);
    if (fclose(b->csv) != 0 && rc == 0) rc = -errno;
    b->csv = NULL;
    if (rc != 0) cli_error(b->cmd, "cannot write %s: %s", b->o.csv, strerror(-rc));
    return rc;
}

static int
open_csv(struct bench *b)
{
    if (!b->o.csv) return 0;
    b->csv = fopen(b->o.csv, "w");
    if (!b->csv) return cli_usage(b->cmd, "cannot write --csv %s: %s", b->o.csv, strerror(errno));
    return 0;
}

static void
fill_params(const struct bench *b, struct cli_report_param *p, size_t *n)
{
    const struct opts *o = &b->o;
    size_t k = 0;
    size_t senders = 0;
    for (size_t i = 0; i < b->n; i++)
        senders += b->c[i].role == CLI_ROLE_PUB || b->c[i].role == CLI_ROLE_REQ;
    p[k++] = cli_report_num("senders", (double)senders);
    p[k++] = cli_report_num("receivers", (double)(b->n - senders));
    p[k++] = o->duration_ms ? cli_report_num("duration_ms", (double)o->duration_ms)
                            : cli_report_num("msgs", (double)o->msgs);
    if (!b->consume) p[k++] = cli_report_num("size", (double)o->size);
    p[k++] = (struct cli_report_param){.key = "subject", .value = o->subject};
    if (o->throughput) p[k++] = cli_report_num("throughput", o->throughput);
    if (o->multisubject) p[k++] = (struct cli_report_param){.key = "multisubject", .value = "yes"};
    if (b->consume) {
        p[k++] = (struct cli_report_param){.key = "stream", .value = o->stream};
        p[k++] = (struct cli_report_param){.key = "consumer", .value = o->push ? "push" : "pull"};
        p[k++] =
            (struct cli_report_param){.key = "ack", .value = o->ack_none ? "none" : "explicit"};
        if (o->pull) p[k++] = cli_report_num("batch", (double)o->batch);
    } else if (o->js) {
        p[k++] = (struct cli_report_param){.key = "stream", .value = o->stream};
        p[k++] = (struct cli_report_param){.key = "storage", .value = o->storage};
        p[k++] = cli_report_num("window", (double)o->window);
    }
    *n = k;
}

/* The longest client's measured time: under a second, the figures are mostly noise. */
static void
note_short_run(const struct bench *b, const struct cli_report_client *clients)
{
    double secs = 0;
    for (size_t i = 0; i < b->n; i++)
        secs = clients[i].secs > secs ? clients[i].secs : secs;
    if (b->interrupted || secs * 1e9 >= (double)RELIABLE_NS) return;
    fprintf(stderr,
            "NOTE: the measured phase lasted %.3fs; figures from under a second are unreliable "
            "(use --duration 5s or more --msgs)\n",
            secs);
}

static int
report(struct bench *b)
{
    struct cli_report_client *clients = calloc(b->n, sizeof *clients);
    struct cli_hist all;
    struct cli_report_param params[12];
    struct cli_report r = {.mode = cmd_bench_modes[b->o.mode],
                           .params = params,
                           .clients = clients,
                           .nclients = b->n,
                           .broker = b->broker[0] ? b->broker : NULL,
                           .embedded = b->o.embedded,
                           .partial = b->interrupted};
    if (!clients || cli_hist_init(&all, 1, HIST_HIGHEST, 3) != 0) {
        free(clients);
        return CLI_EXIT_FAIL;
    }
    fill_params(b, params, &r.nparams);
    build_clients(b, clients, &all);
    if (cli_hist_count(&all)) r.latency = &all;
    r.consume = b->consume;
    r.acks = b->bjs.acks;
    if (b->o.js && !b->consume)
        count_acks(b, &r);
    else if (!b->interrupted)
        count_losses(b, &r);
    for (size_t i = 0; i < b->n; i++)
        r.errors += b->c[i].failed;
    r.slow_consumers = b->emb.stats.slow_consumers;
    int rc = b->o.json ? cli_report_json(&r, stdout) : cli_report_text(&r, stdout);
    if (cli_report_unreliable(&r) && b->o.json) fputs("WARNING: results are unreliable\n", stderr);
    if (b->csv && write_csv(b, &r) != 0) rc = -EIO;
    note_short_run(b, clients);
    int code = b->interrupted              ? CLI_EXIT_INTERRUPTED
               : rc != 0 && rc != -EPIPE   ? CLI_EXIT_FAIL
               : cli_report_unreliable(&r) ? CLI_EXIT_FAIL
                                           : CLI_EXIT_OK;
    cli_hist_release(&all);
    free(clients);
    return code;
}

/* ---------------------------------------------------------------------------------------------- */
/* Setup                                                                                           */
/* ---------------------------------------------------------------------------------------------- */

/* Publishers first (their index is the one stamped in payloads), then the other roles. */
static int
plan_clients(struct bench *b, size_t *nsend, size_t *nrecv, enum cli_role *send,
             enum cli_role *recv)
{
    const struct opts *o = &b->o;
    long long clients = o->clients ? o->clients : 1;
    *send = CLI_ROLE_PUB;
    *recv = CLI_ROLE_SUB;
    switch (o->mode) {
    case M_PUB:
        *nsend = (size_t)clients;
        *nrecv = 0;
        break;
    case M_SUB:
        *nsend = 0;
        *nrecv = (size_t)clients;
        break;
    case M_PUBSUB:
    case M_QUEUE:
        *nsend = (size_t)(o->pubs ? o->pubs : 1);
        *nrecv = (size_t)(o->subs ? o->subs : o->clients ? o->clients : o->mode == M_QUEUE ? 2 : 1);
        break;
    case M_REQUEST:
        *send = CLI_ROLE_REQ;
        *recv = CLI_ROLE_REP;
        *nsend = (size_t)clients;
        *nrecv = o->embedded ? 1 : 0;
        break;
    case M_REPLY:
        *send = CLI_ROLE_REQ;
        *recv = CLI_ROLE_REP;
        *nsend = 0;
        *nrecv = (size_t)clients;
        break;
    }
    if (*nsend + *nrecv > 10000) return cli_usage(b->cmd, "at most 10000 clients");
    return 0;
}

static int
setup_groups(struct bench *b, size_t nrecv)
{
    if (b->o.mode != M_PUBSUB && b->o.mode != M_QUEUE) return 0;
    b->ngroups = b->o.mode == M_QUEUE ? 1 : nrecv;
    b->groups = calloc(b->ngroups, sizeof *b->groups);
    if (!b->groups) return -ENOMEM;
    for (size_t g = 0; g < b->ngroups; g++) {
        b->groups[g].pubs = calloc(b->npubs, sizeof *b->groups[g].pubs);
        if (!b->groups[g].pubs) return -ENOMEM;
    }
    for (size_t i = b->npubs, g = 0; i < b->n; i++)
        b->c[i].grp = &b->groups[b->o.mode == M_QUEUE ? 0 : g++];
    return 0;
}

static int
setup_clients(struct bench *b)
{
    size_t nsend = 0, nrecv = 0;
    enum cli_role send, recv;
    int rc = plan_clients(b, &nsend, &nrecv, &send, &recv);
    if (rc != 0) return rc;
    b->n = nsend + nrecv;
    b->npubs = send == CLI_ROLE_PUB ? nsend : 0;
    b->c = calloc(b->n, sizeof *b->c);
    if (!b->c) return CLI_EXIT_FAIL;
    uint64_t total = b->o.duration_ms ? UINT64_MAX : (uint64_t)b->o.msgs;
    for (size_t i = 0; i < b->n; i++) {
        struct client *c = &b->c[i];
        bool sender = i < nsend;
        *c = (struct client){.b = b,
                             .role = sender ? send : recv,
                             .index = (int)i,
                             .id = (int)(sender ? i + 1 : i - nsend + 1)};
        if (sender)
            c->target = total == UINT64_MAX ? total : total / nsend + (i < total % nsend);
        else if (b->o.mode == M_SUB)
            c->target = total;
        c->has_lat = c->role == CLI_ROLE_REQ || (c->role == CLI_ROLE_PUB && b->o.js) ||
                     (c->role == CLI_ROLE_SUB && b->o.mode != M_SUB && b->o.size >= STAMP_BYTES);
        if (c->has_lat && cli_hist_init(&c->lat, 1, HIST_HIGHEST, 3) != 0) return CLI_EXIT_FAIL;
        if (b->o.js && !(c->ack_ns = calloc((size_t)b->o.window, sizeof *c->ack_ns)))
            return CLI_EXIT_FAIL;
    }
    b->pubs_left = b->npubs;
    return setup_groups(b, nrecv) == 0 ? 0 : CLI_EXIT_FAIL;
}

static int
build_headers(struct bench *b)
{
    struct cli_tmpl_ctx ctx = {.count = 1};
    b->hdr.subject = b->o.subject;
    b->hdr.literal = true;
    if (cli_msg_render(&b->hdr, &ctx) != 0) return cli_usage(b->cmd, "invalid -H header");
    b->headers = b->hdr.out_headers;
    return 0;
}

static int
start_embedded(struct bench *b)
{
    int rc = cli_embed_start(&b->emb);
    if (rc != 0) {
        cli_error(b->cmd, "cannot start the embedded broker: %s", nb_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    b->embedded_up = true;
    snprintf(b->servers, sizeof b->servers, "nats://127.0.0.1:%d", b->emb.port);
    return 0;
}

/* Returns whether a Ctrl-C came already (hosted: while the run was being prepared). */
static bool
arm_loop(struct bench *b)
{
    static const int signums[2] = {SIGINT, SIGTERM};
    uv_timer_init(b->loop, &b->tick);
    b->tick.data = b;
    uint64_t every = b->o.throughput ? PACED_TICK_MS : 10;
    uv_timer_start(&b->tick, on_tick, every, every);
    if (b->hosted) return cli_host_listen(on_interrupt, b);
    for (size_t i = 0; i < 2; i++) {
        uv_signal_init(b->loop, &b->sigs[i]);
        b->sigs[i].data = b;
        uv_signal_start(&b->sigs[i], on_signal, signums[i]);
    }
    return false;
}

static bool
closed(void *ud)
{
    struct bench *b = ud;
    return b->finishing && b->open == 0;
}

/* Runs the loop until the run is over and every client closed. */
static void
run_loop(struct bench *b)
{
    if (b->hosted) {
        cli_host_run(closed, b);
        return;
    }
    uv_run(b->loop, UV_RUN_DEFAULT);
    uv_loop_close(b->loop);
}

static int
run(struct bench *b)
{
    b->loop = cli_host_loop();
    b->hosted = b->loop != NULL;
    if (!b->hosted) {
        b->loop = &b->own_loop;
        if (uv_loop_init(b->loop) != 0) return CLI_EXIT_FAIL;
    }
    if (arm_loop(b)) on_interrupt(b);
    b->pending_connects = b->n;
    b->progress = !b->o.no_progress && cli_stderr_is_tty();
    for (size_t i = 0; i < b->n && !b->finishing; i++) {
        int rc = connect_client(b, &b->c[i]);
        if (rc != 0) {
            bool file = rc == NP_CLIENT_ETLS_FILES || rc == NP_CLIENT_ECREDS_FILES;
            cli_error(b->cmd, "%s",
                      file && b->c[i].nc ? np_client_last_error(b->c[i].nc)
                                         : np_client_strerror(rc));
            b->rc = cli_exit_for(rc);
            finish(b);
        }
    }
    run_loop(b);
    if (b->embedded_up) cli_embed_stop(&b->emb);
    if (b->rc != 0) return b->rc;
    return report(b);
}

static void
release(struct bench *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cli_hist_release(&b->c[i].lat);
        free(b->c[i].ack_ns);
    }
    for (size_t g = 0; g < b->ngroups; g++) {
        for (size_t p = 0; p < b->npubs; p++)
            free(b->groups[g].pubs[p].bits);
        free(b->groups[g].pubs);
    }
    free(b->groups);
    free(b->c);
    free(b->payload);
    cli_msg_release(&b->hdr);
    if (b->csv) fclose(b->csv);
}

int
cmd_bench(int argc, char **argv, const struct cli_cmd *self)
{
    struct bench *b = calloc(1, sizeof *b);
    if (!b) return CLI_EXIT_FAIL;
    b->cmd = self;
    b->o.msgs = DEFAULT_MSGS;
    b->o.size = 128;
    b->o.multi_max = 100;
    b->o.stream = DEFAULT_STREAM;
    b->o.storage = "file";
    b->o.window = DEFAULT_WINDOW;
    b->o.batch = DEFAULT_BATCH;
    cli_env_init(&b->env, self);
    int rc = cli_conn_parse(self, &b->env, argc, argv, on_opt, parse_mode, b);
    if (rc == 0) rc = build_headers(b);
    if (rc == 0) rc = setup_clients(b);
    if (rc == 0 && !(b->payload = calloc(1, (size_t)b->o.size + 1))) rc = CLI_EXIT_FAIL;
    if (rc == 0) rc = open_csv(b);
    if (rc == 0 && b->o.embedded) rc = start_embedded(b);
    if (rc == 0) rc = run(b);
    release(b);
    free(b);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
