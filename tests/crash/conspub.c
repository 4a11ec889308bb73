/*
 * The client side of consumer-crash.sh, on libnats' JetStream API: a stream of N messages with
 * contents derived from their index, and a durable pull consumer (explicit acks, 1 s ack wait)
 * that reads it while the server is killed under it. The log is the consumer's word for what
 * happened: "R IDX DELIVERED" when a message arrived (written before it is acked), "S IDX" just
 * before its ack is sent, and "A IDX" once AckSync came back OK, i.e. the server confirmed the
 * ack. All are flushed at once, so a killed server never leaves a confirmed ack unrecorded.
 *
 *   conspub setup URL STREAM N             the stream with messages 1..N (seq == index) and the
 *                                          durable "C"; an existing stream is kept
 *   conspub consume URL STREAM LOG PACE_US reads and acks, sleeping PACE_US per message, until
 *                                          the server goes away or everything is acked; prints
 *                                          "received R acked A lost-server" or "... done"
 *   conspub state URL STREAM N             the consumer has everything acked: ack floor N,
 *                                          nothing pending or waiting for an ack
 *
 * Exit status: 0 when the command did what it checks, 1 on a failed check, 2 on usage errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "crashlib.h"

#define WAIT_MS  3000
#define MAX_DATA 300
#define DURABLE  "C"

const char *crash_prog = "conspub";

/* 16 to 271 bytes. */
static int
payload(uint64_t idx, char *buf)
{
    return crash_payload(idx, 16, 256, buf, MAX_DATA);
}

/* Publishes the indexes the stream does not hold yet, asynchronously, then waits for the acks. */
static natsStatus
fill_stream(jsCtx *js, const char *stream, uint64_t n)
{
    jsStreamInfo *si = NULL;
    natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, NULL);
    uint64_t have = s == NATS_OK ? si->State.LastSeq : 0;
    jsStreamInfo_Destroy(si);
    char data[MAX_DATA], subject[300], id[32];
    for (uint64_t idx = have + 1; s == NATS_OK && idx <= n; idx++) {
        snprintf(subject, sizeof subject, "%s.%" PRIu64, stream, idx % 4);
        snprintf(id, sizeof id, "c-%" PRIu64, idx);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        s = js_PublishAsync(js, subject, data, payload(idx, data), &po);
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    if (s == NATS_OK) s = js_PublishAsyncComplete(js, &po);
    return s;
}

static int
cmd_setup(jsCtx *js, const char *stream, uint64_t n)
{
    natsStatus s = crash_add_stream(js, stream, NULL);
    if (s == NATS_OK) s = fill_stream(js, stream, n);
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = DURABLE;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = 1000LL * 1000 * 1000;
    jsConsumerInfo *ci = NULL;
    if (s == NATS_OK) s = js_AddConsumer(&ci, js, stream, &cfg, NULL, NULL);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK ? 0 : crash_fail("setup %s: %s", stream, nats_GetLastError(NULL));
}

/* Checks the delivery's content and sequence; *idx and *delivered tell which one it was. */
static int
check_delivery(natsMsg *m, uint64_t *idx, uint64_t *delivered)
{
    jsMsgMetaData *md = NULL;
    if (natsMsg_GetMetaData(&md, m) != NATS_OK) return crash_fail("a delivery without metadata");
    uint64_t seq = md->Sequence.Stream;
    *delivered = md->NumDelivered;
    jsMsgMetaData_Destroy(md);
    char want[MAX_DATA];
    int len = natsMsg_GetDataLength(m);
    const char *data = natsMsg_GetData(m);
    int ok = sscanf(data ? data : "", "idx=%" SCNu64 ";", idx) == 1 && *idx == seq &&
             len == payload(*idx, want) && memcmp(data, want, (size_t)len) == 0;
    return ok ? 0 : crash_fail("seq %" PRIu64 ": content is not message %" PRIu64, seq, seq);
}

struct counts {
    uint64_t received, acked;
};

/* Logs, paces and acks one delivery; returns 1 on a bad one, -1 once the server is gone. */
static int
handle(natsMsg *m, FILE *log, unsigned pace_us, struct counts *c)
{
    uint64_t idx = 0, delivered = 0;
    if (check_delivery(m, &idx, &delivered) != 0) return 1;
    fprintf(log, "R %" PRIu64 " %" PRIu64 "\n", idx, delivered);
    fflush(log);
    c->received++;
    if (pace_us > 0) usleep(pace_us);
    fprintf(log, "S %" PRIu64 "\n", idx);
    fflush(log);
    if (natsMsg_AckSync(m, NULL, NULL) != NATS_OK) return -1;
    fprintf(log, "A %" PRIu64 "\n", idx);
    fflush(log);
    c->acked++;
    return 0;
}

/* Whether the consumer has acked everything the stream holds. */
static int
all_acked(jsCtx *js, const char *stream)
{
    jsConsumerInfo *ci = NULL;
    if (js_GetConsumerInfo(&ci, js, stream, DURABLE, NULL, NULL) != NATS_OK) return 0;
    int done = ci->NumPending == 0 && ci->NumAckPending == 0;
    jsConsumerInfo_Destroy(ci);
    return done;
}

static int
consume_loop(jsCtx *js, natsSubscription *sub, const char *stream, FILE *log, unsigned pace_us,
             struct counts *c)
{
    for (;;) {
        natsMsgList l = {0};
        natsStatus s = natsSubscription_Fetch(&l, sub, 10, 1000, NULL);
        int rc = 0;
        for (int i = 0; rc == 0 && i < l.Count; i++)
            rc = handle(l.Msgs[i], log, pace_us, c);
        natsMsgList_Destroy(&l);
        if (rc != 0) return rc;
        if (s == NATS_TIMEOUT && all_acked(js, stream)) return 0;
        if (s != NATS_OK && s != NATS_TIMEOUT) return -1;
    }
}

static int
cmd_consume(jsCtx *js, const char *stream, const char *path, unsigned pace_us)
{
    FILE *log = fopen(path, "a");
    if (!log) return crash_fail("cannot append to %s", path);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = DURABLE;
    natsSubscription *sub = NULL;
    struct counts c = {0, 0};
    int rc = -1;
    if (js_PullSubscribe(&sub, js, NULL, DURABLE, NULL, &so, NULL) == NATS_OK)
        rc = consume_loop(js, sub, stream, log, pace_us, &c);
    natsSubscription_Destroy(sub);
    if (fclose(log) != 0) return crash_fail("cannot write %s", path);
    if (rc > 0) return 1;
    printf("received %" PRIu64 " acked %" PRIu64 " %s\n", c.received, c.acked,
           rc == 0 ? "done" : "lost-server");
    return 0;
}

static int
cmd_state(jsCtx *js, const char *stream, uint64_t n)
{
    jsConsumerInfo *ci = NULL;
    if (js_GetConsumerInfo(&ci, js, stream, DURABLE, NULL, NULL) != NATS_OK)
        return crash_fail("consumer info: %s", nats_GetLastError(NULL));
    uint64_t floor = ci->AckFloor.Stream, pending = ci->NumPending;
    int64_t ack_pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    if (floor != n || pending != 0 || ack_pending != 0)
        return crash_fail("consumer: ack floor %" PRIu64 " of %" PRIu64 ", %" PRIu64
                          " pending, %" PRId64 " waiting for an ack",
                          floor, n, pending, ack_pending);
    printf("ack floor %" PRIu64 "\n", floor);
    return 0;
}

static int
usage(void)
{
    fputs("usage: conspub setup URL STREAM N | consume URL STREAM LOG PACE_US |\n"
          "       state URL STREAM N\n",
          stderr);
    return 2;
}

static int
dispatch(int argc, char **argv, jsCtx *js)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "setup") == 0 && argc == 5)
        return cmd_setup(js, argv[3], strtoull(argv[4], NULL, 10));
    if (strcmp(cmd, "consume") == 0 && argc == 6)
        return cmd_consume(js, argv[3], argv[4], (unsigned)strtoul(argv[5], NULL, 10));
    if (strcmp(cmd, "state") == 0 && argc == 5)
        return cmd_state(js, argv[3], strtoull(argv[4], NULL, 10));
    return usage();
}

int
main(int argc, char **argv)
{
    if (argc < 3) return usage();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = crash_connect(argv[2], WAIT_MS, &nc, &js);
    int rc = s == NATS_OK ? dispatch(argc, argv, js)
                          : crash_fail("cannot connect to %s: %s", argv[2], natsStatus_GetText(s));
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_CloseAndWait(2000);
    return rc;
}
