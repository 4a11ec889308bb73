/*
 * natsload: the same pub and pubsub runs as `natsctl bench`, driven by the official C client
 * (libnats), so that docs/benchmarks.md can show whether natsctl bench pushes a server as hard as
 * an official client does. tests/bench/client-compare.sh runs the two side by side.
 *
 * The client is used as its documentation says and with its default options: no batching or flow
 * control of our own, only what natsConnection_Publish and its flusher thread do. The one change
 * is natsSubscription_SetPendingLimits(-1, -1): otherwise libnats drops messages a callback has
 * not taken yet (65536 by default), and a dropped message would look like the server's fault.
 *
 * pub    N messages of SIZE bytes on one connection; the clock stops when
 *        natsConnection_FlushTimeout returns, i.e. at the PONG after the last message, so the
 *        time covers the server accepting them, not just libnats buffering them.
 * pubsub 1 publisher and S subscriber connections, each with one async subscription counting
 *        messages in its callback; the clock runs from the first publish until every subscriber
 *        has had all N.
 *
 * Counting happens on each subscription's own delivery thread, so the counter needs no lock;
 * only reaching N takes the mutex that wakes the main thread. CPU is getrusage(RUSAGE_SELF), so
 * it covers libnats' reader, flusher and delivery threads too, and may exceed 100 (% of a core).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SUBJECT  "bench.natsload"
#define MAX_SUBS 64
#define MAX_SIZE (1024 * 1024) /* nats-server's default max_payload */
#define SETUP_MS 5000          /* connect, subscribe and register deadline */

static const char usage_text[] =
    "usage: natsload pub|pubsub [options]\n"
    "\n"
    "Drives a NATS server on 127.0.0.1:PORT through libnats and prints one line:\n"
    "  msgs_per_sec=X secs=Y msgs=N lost=L cpu_pct=C\n"
    "(msgs_per_sec = N / secs; cpu_pct = this process's user+system CPU over the measured phase\n"
    "as a percentage of one core). Exit status 0 on success, 1 on loss, timeout or error, 2 on\n"
    "bad usage.\n"
    "\n"
    "Modes:\n"
    "  pub     one connection publishes N messages; the clock stops at the flush's PONG\n"
    "  pubsub  one publisher, S subscriber connections each receiving all N messages; the clock\n"
    "          runs from the first publish until the last subscriber has its last message\n"
    "\n"
    "Options:\n"
    "  -p PORT   server port on 127.0.0.1 (default 4222)\n"
    "  -n N      messages (default 1000000)\n"
    "  -s SIZE   payload bytes, 0 to 1048576 (default 16)\n"
    "  -S SUBS   pubsub: subscriber connections, 1 to 64 (default 1)\n"
    "  -t SEC    deadline for the measured phase (default 60)\n"
    "  -h        this text\n";

struct opts {
    bool pubsub;
    unsigned port;
    uint64_t msgs;
    size_t size;
    unsigned subs;
    uint64_t timeout_s;
};

struct sub {
    natsConnection *nc;
    natsSubscription *sub;
    _Atomic uint64_t got; /* written only by this subscription's delivery thread */
};

/* What the callbacks share with the main thread. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done;    /* subscribers that have all N */
    uint64_t last_ns; /* when the last of them got there */
    uint64_t n;
    atomic_bool failed; /* an asynchronous error (slow consumer, disconnect) was reported */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
            (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) *
           1000ull;
}

static int
fail(const char *what, natsStatus s)
{
    fprintf(stderr, "natsload: %s: %s\n", what, natsStatus_GetText(s));
    return 1;
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc, (void)sub, (void)closure;
    fprintf(stderr, "natsload: asynchronous error: %s\n", natsStatus_GetText(err));
    atomic_store(&g.failed, true);
}

static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct sub *s = closure;
    (void)nc, (void)sub;
    natsMsg_Destroy(msg);
    uint64_t got = atomic_load_explicit(&s->got, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->got, got, memory_order_relaxed);
    if (got != g.n) return;
    uint64_t t = now_ns();
    pthread_mutex_lock(&g.mu);
    g.done++;
    if (t > g.last_ns) g.last_ns = t;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* 0 ok, 1 help, -1 bad usage */
static int
parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.port = 4222, .msgs = 1000000, .size = 16, .subs = 1, .timeout_s = 60};
    if (argc < 2) return -1;
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) return 1;
    if (!strcmp(argv[1], "pubsub"))
        o->pubsub = true;
    else if (strcmp(argv[1], "pub"))
        return -1;
    /* the mode comes first, so getopt starts after it and never needs to permute */
    int ch;
    uint64_t v;
    optind = 2;
    while ((ch = getopt(argc, argv, "p:n:s:S:t:h")) != -1) {
        if (ch == 'h') return 1;
        if (ch == '?') return -1;
        static const uint64_t lim[][2] = {['p'] = {1, 65535},
                                          ['n'] = {1, UINT32_MAX},
                                          ['s'] = {0, MAX_SIZE},
                                          ['S'] = {1, MAX_SUBS},
                                          ['t'] = {1, 86400}};
        if (parse_u64(optarg, lim[ch][0], lim[ch][1], &v) < 0) return -1;
        if (ch == 'p') o->port = (unsigned)v;
        if (ch == 'n') o->msgs = v;
        if (ch == 's') o->size = (size_t)v;
        if (ch == 'S') o->subs = (unsigned)v;
        if (ch == 't') o->timeout_s = v;
    }
    return optind == argc ? 0 : -1;
}

static int
run(const struct opts *o, natsOptions *nopts)
{
    static struct sub subs[MAX_SUBS];
    unsigned nsubs = o->pubsub ? o->subs : 0;
    natsConnection *pub = NULL;
    natsStatus s;
    int rc = 1;
    g.n = o->msgs;

    /* every subscription is registered at the server (flushed) before the first publish */
    for (unsigned i = 0; i < nsubs; i++) {
        if ((s = natsConnection_Connect(&subs[i].nc, nopts)) != NATS_OK)
            return fail("connect subscriber", s);
        if ((s = natsConnection_Subscribe(&subs[i].sub, subs[i].nc, SUBJECT, on_msg, &subs[i])) !=
                NATS_OK ||
            (s = natsSubscription_SetPendingLimits(subs[i].sub, -1, -1)) != NATS_OK ||
            (s = natsConnection_FlushTimeout(subs[i].nc, SETUP_MS)) != NATS_OK)
            return fail("subscribe", s);
    }
    if ((s = natsConnection_Connect(&pub, nopts)) != NATS_OK) return fail("connect publisher", s);

    char *payload = calloc(1, o->size ? o->size : 1);
    if (!payload) return fail("payload", NATS_NO_MEMORY);
    uint64_t deadline = now_ns() + o->timeout_s * 1000000000ull;
    uint64_t c0 = cpu_ns(), t0 = now_ns(), t1;
    for (uint64_t i = 0; i < o->msgs; i++) {
        if ((s = natsConnection_Publish(pub, SUBJECT, payload, (int)o->size)) != NATS_OK) {
            fail("publish", s);
            goto out;
        }
        /* a publisher blocked by a stalled server must still honour -t; checked rarely, as it
           costs a clock read */
        if ((i & 0xffff) == 0xffff && now_ns() > deadline) {
            fail("publish", NATS_TIMEOUT);
            goto out;
        }
    }
    uint64_t left_ms = (deadline - now_ns()) / 1000000;
    if ((s = natsConnection_FlushTimeout(pub, left_ms ? (int64_t)left_ms : 1)) != NATS_OK) {
        fail("flush", s);
        goto out;
    }
    t1 = now_ns();

    /* pubsub: wait for the subscribers, with the same deadline */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)((deadline - now_ns()) / 1000000000ull) + 1;
    pthread_mutex_lock(&g.mu);
    while (g.done < nsubs && !atomic_load(&g.failed) && now_ns() < deadline) {
        if (pthread_cond_timedwait(&g.cv, &g.mu, &ts) == ETIMEDOUT) break;
    }
    if (nsubs) t1 = g.last_ns;
    bool all = g.done == nsubs;
    pthread_mutex_unlock(&g.mu);
    uint64_t c1 = cpu_ns();
    if (!all) t1 = now_ns();

    uint64_t lost = 0, extra = 0;
    for (unsigned i = 0; i < nsubs; i++) {
        uint64_t got = atomic_load(&subs[i].got);
        int64_t dropped = 0;
        natsSubscription_GetDropped(subs[i].sub, &dropped);
        lost += got < o->msgs ? o->msgs - got : 0;
        extra += got > o->msgs ? got - o->msgs : 0;
        if (dropped)
            fprintf(stderr, "natsload: subscriber %u: libnats dropped %" PRId64 "\n", i, dropped);
    }
    double secs = (double)(t1 - t0) / 1e9;
    printf("msgs_per_sec=%.0f secs=%.6f msgs=%" PRIu64 " lost=%" PRIu64 " cpu_pct=%.1f\n",
           (double)o->msgs / secs, secs, o->msgs, lost,
           100.0 * (double)(c1 - c0) / (double)(t1 - t0));
    if (!all) fprintf(stderr, "natsload: not every subscriber had all messages by the deadline\n");
    if (extra) fprintf(stderr, "natsload: %" PRIu64 " extra messages\n", extra);
    rc = all && !lost && !extra && !atomic_load(&g.failed) ? 0 : 1;
out:
    free(payload);
    natsConnection_Destroy(pub);
    for (unsigned i = 0; i < nsubs; i++) {
        natsSubscription_Destroy(subs[i].sub);
        natsConnection_Destroy(subs[i].nc);
    }
    return rc;
}

int
main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        fputs(usage_text, rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the deadline must not follow wall time */
    pthread_cond_init(&g.cv, &ca);

    natsOptions *nopts = NULL;
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%u", o.port);
    natsStatus s;
    if ((s = natsOptions_Create(&nopts)) != NATS_OK ||
        (s = natsOptions_SetURL(nopts, url)) != NATS_OK ||
        (s = natsOptions_SetTimeout(nopts, SETUP_MS)) != NATS_OK ||
        /* a reconnect would hide lost messages behind a slow run: fail instead */
        (s = natsOptions_SetAllowReconnect(nopts, false)) != NATS_OK ||
        (s = natsOptions_SetErrorHandler(nopts, on_error, NULL)) != NATS_OK)
        return fail("options", s);
    rc = run(&o, nopts);
    natsOptions_Destroy(nopts);
    nats_Close();
    return rc;
}
