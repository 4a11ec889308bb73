/*
 * jscons: what a consumer's unacknowledged messages cost a JetStream server, through libnats, for
 * tests/bench/js.sh. The stream STREAM must exist and hold the messages (subject SUBJECT).
 *
 * usage: jscons redeliver PORT STREAM SUBJECT N ACK_WAIT_MS
 *        jscons pending PORT STREAM SUBJECT P OPS
 *
 * redeliver: a durable pull consumer with ack_wait ACK_WAIT_MS fetches N messages without acking
 *   them, waits until all have expired (ACK_WAIT_MS plus a second), then fetches until all N
 *   came back. Prints "first_msgs_per_s=X redeliver_msgs_per_s=Y". Fails if a message was
 *   redelivered during the first pass (ack_wait too short for N).
 * pending: a durable pull consumer (ack_wait 1 h) fetches P messages without acking them, then
 *   times OPS operations of each kind, with P messages pending throughout, picked at random:
 *   info (CONSUMER.INFO), nak (a -NAK sent as a request, and the fetch that brings the message
 *   back) and ack (an ack
 *   sent as a request, answered once applied; a new message is fetched untimed afterwards, so
 *   P + OPS messages are needed). Prints " info_us=A info_p99_us=A99 nak_us=..." (medians and
 *   99th percentiles).
 *
 * Both create the consumer "jscons" and delete it at the end. Exit 1 on any error.
 */
#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONSUMER "jscons"
#define BATCH    1000
#define WAIT_MS  5000

static natsConnection *nc;
static jsCtx *js;
static const char *stream, *subject;

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
check(natsStatus s, const char *what)
{
    if (s == NATS_OK) return;
    fprintf(stderr, "jscons: %s: %s\n", what, natsStatus_GetText(s));
    exit(1);
}

static natsSubscription *
consumer(int64_t ack_wait_ms)
{
    jsConsumerConfig cfg;
    jsConsumerInfo *ci = NULL;
    jsSubOptions so;
    natsSubscription *sub = NULL;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = CONSUMER;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = ack_wait_ms * 1000000;
    /* every message may be pending, not the default 1000 (libnats drops a -1) */
    cfg.MaxAckPending = 100000000;
    check(js_AddConsumer(&ci, js, stream, &cfg, NULL, NULL), "create the consumer");
    jsConsumerInfo_Destroy(ci);
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = CONSUMER;
    check(js_PullSubscribe(&sub, js, subject, CONSUMER, NULL, &so, NULL), "bind the consumer");
    return sub;
}

static uint64_t
delivered(natsMsg *m)
{
    jsMsgMetaData *meta = NULL;
    check(natsMsg_GetMetaData(&meta, m), "read the delivery metadata");
    uint64_t n = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    return n;
}

/* Fetches n messages; kept in out (taken over) when out is not NULL. Returns those redelivered. */
static uint64_t
fetch(natsSubscription *sub, natsMsg **out, int64_t n)
{
    uint64_t again = 0;
    for (int64_t got = 0; got < n;) {
        natsMsgList list = {0};
        int want = n - got < BATCH ? (int)(n - got) : BATCH;
        check(natsSubscription_Fetch(&list, sub, want, WAIT_MS, NULL), "fetch");
        for (int i = 0; i < list.Count; i++, got++) {
            again += delivered(list.Msgs[i]) > 1;
            if (out) {
                out[got] = list.Msgs[i];
                list.Msgs[i] = NULL;
            }
        }
        natsMsgList_Destroy(&list);
    }
    return again;
}

static void
redeliver(int64_t n, int64_t ack_wait_ms)
{
    natsSubscription *sub = consumer(ack_wait_ms);
    double t0 = now_us();
    if (fetch(sub, NULL, n) != 0) check(NATS_ERR, "redelivered before the first pass ended");
    double t1 = now_us();
    struct timespec nap = {(ack_wait_ms + 1000) / 1000, (ack_wait_ms + 1000) % 1000 * 1000000};
    nanosleep(&nap, NULL);
    double t2 = now_us();
    if (fetch(sub, NULL, n) != (uint64_t)n) check(NATS_ERR, "a fresh message among the expired");
    double t3 = now_us();
    printf("first_msgs_per_s=%.0f redeliver_msgs_per_s=%.0f\n", (double)n * 1e6 / (t1 - t0),
           (double)n * 1e6 / (t3 - t2));
    natsSubscription_Destroy(sub);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints NAME_us=median NAME_p99_us=p99 of n samples. */
static void
print_times(const char *name, double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf(" %s_us=%.1f %s_p99_us=%.1f", name, v[n / 2], name, v[n * 99 / 100]);
}

/* As a request: nats-server applies acks on another goroutine, a fetch could overtake them. */
static void
nak(natsMsg *m)
{
    natsMsg *answer = NULL;
    check(natsConnection_Request(&answer, nc, natsMsg_GetReply(m), "-NAK", 4, WAIT_MS), "nak");
    natsMsg_Destroy(answer);
}

/* Times one operation of each kind per round, on a pending message chosen at random. */
static void
pending(int64_t p, int64_t ops)
{
    natsSubscription *sub = consumer(3600 * 1000);
    natsMsg **msgs = calloc((size_t)p, sizeof *msgs);
    double *t = calloc((size_t)ops * 3, sizeof *t);
    if (!msgs || !t) check(NATS_NO_MEMORY, "allocate");
    fetch(sub, msgs, p);
    srand(1);
    for (int64_t i = 0; i < ops; i++) {
        jsConsumerInfo *ci = NULL;
        double t0 = now_us();
        check(js_GetConsumerInfo(&ci, js, stream, CONSUMER, NULL, NULL), "consumer info");
        t[i] = now_us() - t0;
        if (ci->NumAckPending != (int64_t)p) check(NATS_ERR, "pending is not P");
        jsConsumerInfo_Destroy(ci);
        int64_t k = rand() % p;
        t0 = now_us();
        nak(msgs[k]);
        natsMsg_Destroy(msgs[k]);
        if (fetch(sub, &msgs[k], 1) != 1) check(NATS_ERR, "a fresh message instead of the nak'd");
        t[ops + i] = now_us() - t0;
        k = rand() % p;
        t0 = now_us();
        check(natsMsg_AckSync(msgs[k], NULL, NULL), "ack");
        t[2 * ops + i] = now_us() - t0;
        natsMsg_Destroy(msgs[k]);
        fetch(sub, &msgs[k], 1);
    }
    print_times("info", t, ops);
    print_times("nak", t + ops, ops);
    print_times("ack", t + 2 * ops, ops);
    printf("\n");
    for (int64_t i = 0; i < p; i++)
        natsMsg_Destroy(msgs[i]);
    free(msgs);
    free(t);
    natsSubscription_Destroy(sub);
}

int
main(int argc, char **argv)
{
    if (argc != 7 || (strcmp(argv[1], "redeliver") != 0 && strcmp(argv[1], "pending") != 0)) {
        fprintf(stderr, "usage: jscons redeliver|pending PORT STREAM SUBJECT N ACK_WAIT_MS|OPS\n");
        return 2;
    }
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%s", argv[2]);
    stream = argv[3];
    subject = argv[4];
    int64_t n = strtoll(argv[5], NULL, 10), m = strtoll(argv[6], NULL, 10);
    if (n < 1 || m < 1) return 2;
    check(natsConnection_ConnectTo(&nc, url), "connect");
    check(natsConnection_JetStream(&js, nc, NULL), "JetStream context");
    if (argv[1][0] == 'r')
        redeliver(n, m);
    else
        pending(n, m);
    check(js_DeleteConsumer(js, stream, CONSUMER, NULL, NULL), "delete the consumer");
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}
