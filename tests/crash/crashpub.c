/*
 * The client side of the crash and full-disk tests (crash.sh, fulldisk.sh), on libnats' JetStream
 * API. A message's content is a pure function of its index, so a later process can check what a
 * killed or starved server kept without sharing memory with the publisher. The log is the
 * publisher's word for what the server acknowledged: one "INDEX SEQ" line per PubAck, written
 * before the next publish, so a crash of the server never leaves an ack unrecorded.
 *
 *   crashpub create URL STREAM                 a file stream on STREAM.> (an existing one is kept)
 *   crashpub publish URL STREAM FIRST LOG [N]  indexes FIRST, FIRST+1, ... until a publish fails
 *                                              (or N acks); prints "acked A stop ERR_CODE STATUS"
 *   crashpub verify URL STREAM LOG FROM        stored messages FROM..last, and every ack at FROM or
 *                                              later; prints "verified A acked, last L"
 *   crashpub core URL                          a core publish reaches a core subscriber
 *   crashpub delete URL STREAM                 deletes the stream
 *
 * Exit status: 0 when the command did what it checks, 1 on a failed check, 2 on usage errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "crashlib.h"

#define WAIT_MS  5000
#define MAX_DATA 1100

struct ack {
    uint64_t idx, seq;
};

const char *crash_prog = "crashpub";

/* 32 to 1055 bytes. */
static int
payload(uint64_t idx, char *buf)
{
    return crash_payload(idx, 32, 1024, buf, MAX_DATA);
}

static int
cmd_create(jsCtx *js, const char *stream)
{
    jsErrCode jerr = 0;
    if (crash_add_stream(js, stream, &jerr) != NATS_OK)
        return crash_fail("create %s: %s (err_code %d)", stream, nats_GetLastError(NULL), jerr);
    return 0;
}

/* One publish with its ack; the subject spreads indexes over a few subjects. */
static natsStatus
publish_one(jsCtx *js, const char *stream, uint64_t idx, uint64_t *seq, jsErrCode *jerr)
{
    char data[MAX_DATA], subject[300], id[32];
    int len = payload(idx, data);
    snprintf(subject, sizeof subject, "%s.%" PRIu64, stream, idx % 4);
    snprintf(id, sizeof id, "m-%" PRIu64, idx);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.ExpectStream = stream;
    jsPubAck *pa = NULL;
    natsStatus s = js_Publish(&pa, js, subject, data, len, &po, jerr);
    if (s == NATS_OK) *seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    return s;
}

static int
cmd_publish(jsCtx *js, const char *stream, uint64_t first, const char *log, uint64_t limit)
{
    FILE *f = fopen(log, "a");
    if (!f) return crash_fail("cannot append to %s", log);
    uint64_t acked = 0, seq = 0;
    jsErrCode jerr = 0;
    natsStatus s = NATS_OK;
    for (uint64_t idx = first; limit == 0 || acked < limit; idx++) {
        s = publish_one(js, stream, idx, &seq, &jerr);
        if (s != NATS_OK) break;
        fprintf(f, "%" PRIu64 " %" PRIu64 "\n", idx, seq);
        fflush(f);
        acked++;
    }
    if (fclose(f) != 0) return crash_fail("cannot write %s", log);
    printf("acked %" PRIu64 " stop %d %s\n", acked, (int)jerr, natsStatus_GetText(s));
    if (s != NATS_OK)
        fprintf(stderr, "crashpub: publish stopped: %s %s\n", natsStatus_GetText(s),
                nats_GetLastError(NULL));
    return 0;
}

static int
load_log(const char *log, struct ack **out, size_t *n)
{
    FILE *f = fopen(log, "r");
    if (!f) return crash_fail("cannot read %s", log);
    size_t cap = 1024, len = 0;
    struct ack *a = malloc(cap * sizeof *a);
    uint64_t idx, seq;
    while (a && fscanf(f, "%" SCNu64 " %" SCNu64, &idx, &seq) == 2) {
        if (len == cap) {
            cap *= 2;
            struct ack *grown = realloc(a, cap * sizeof *a);
            if (!grown) free(a);
            a = grown;
        }
        if (a) a[len++] = (struct ack){idx, seq};
    }
    fclose(f);
    if (!a) return crash_fail("out of memory");
    *out = a;
    *n = len;
    return 0;
}

/* Sequences are handed out once: every ack in the log has a higher one than the acks before it. */
static int
check_increasing(const struct ack *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i].seq <= a[i - 1].seq)
            return crash_fail("sequence %" PRIu64 " (index %" PRIu64
                              ") reused or out of order after %" PRIu64,
                              a[i].seq, a[i].idx, a[i - 1].seq);
    return 0;
}

/* Reads the message at seq; *idx gets its index once its whole content checks out. */
static int
read_stored(jsCtx *js, const char *stream, uint64_t seq, uint64_t *idx)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetMsg(&m, js, stream, seq, NULL, &jerr);
    if (s != NATS_OK)
        return crash_fail("seq %" PRIu64 " missing: %s (err_code %d)", seq, nats_GetLastError(NULL),
                          jerr);
    char want[MAX_DATA];
    int len = natsMsg_GetDataLength(m);
    const char *data = natsMsg_GetData(m);
    int ok = sscanf(data ? data : "", "idx=%" SCNu64 ";", idx) == 1 && len == payload(*idx, want) &&
             memcmp(data, want, (size_t)len) == 0 && natsMsg_GetSequence(m) == seq;
    natsMsg_Destroy(m);
    return ok ? 0 : crash_fail("seq %" PRIu64 ": content is not a publisher's message", seq);
}

/*
 * Checks stored FROM..last (intact, indexes strictly increasing, so none stored twice) and that
 * every ack at FROM or later names the index stored at its sequence.
 */
static int
verify_range(jsCtx *js, const char *stream, const struct ack *a, size_t n, uint64_t from,
             uint64_t last)
{
    size_t k = 0;
    while (k < n && a[k].seq < from)
        k++;
    uint64_t prev = 0, idx = 0, checked = 0;
    for (uint64_t seq = from; seq <= last; seq++) {
        if (read_stored(js, stream, seq, &idx) != 0) return 1;
        if (seq > from && idx <= prev)
            return crash_fail("seq %" PRIu64 " holds index %" PRIu64 " again or out of order", seq,
                              idx);
        prev = idx;
        for (; k < n && a[k].seq == seq; k++, checked++)
            if (a[k].idx != idx)
                return crash_fail("acked index %" PRIu64 " at seq %" PRIu64
                                  ", stored is index %" PRIu64,
                                  a[k].idx, seq, idx);
    }
    if (k < n)
        return crash_fail("acked seq %" PRIu64 " (index %" PRIu64
                          ") lost: the stream ends at %" PRIu64,
                          a[k].seq, a[k].idx, last);
    printf("verified %" PRIu64 " acked, last %" PRIu64 "\n", checked, last);
    return 0;
}

static int
cmd_verify(jsCtx *js, const char *stream, const char *log, uint64_t from)
{
    struct ack *a = NULL;
    size_t n = 0;
    if (load_log(log, &a, &n) != 0) return 1;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int rc = check_increasing(a, n);
    if (rc == 0 && js_GetStreamInfo(&si, js, stream, NULL, &jerr) != NATS_OK)
        rc = crash_fail("stream info: %s (err_code %d)", nats_GetLastError(NULL), jerr);
    if (rc == 0 && si->State.Msgs != si->State.LastSeq - si->State.FirstSeq + 1 &&
        si->State.Msgs != 0)
        rc = crash_fail("stream has holes: %" PRIu64 " messages in %" PRIu64 "..%" PRIu64,
                        si->State.Msgs, si->State.FirstSeq, si->State.LastSeq);
    if (rc == 0 && n > 0 && si->State.FirstSeq > a[0].seq)
        rc = crash_fail("acked seq %" PRIu64 " lost: the stream starts at %" PRIu64, a[0].seq,
                        si->State.FirstSeq);
    if (rc == 0) rc = verify_range(js, stream, a, n, from, si->State.LastSeq);
    jsStreamInfo_Destroy(si);
    free(a);
    return rc;
}

static int
cmd_core(natsConnection *nc)
{
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, nc, "crash.core");
    if (s == NATS_OK) s = natsConnection_FlushTimeout(nc, 2000);
    if (s == NATS_OK) s = natsConnection_PublishString(nc, "crash.core", "still-serving");
    if (s == NATS_OK) s = natsSubscription_NextMsg(&m, sub, 2000);
    int ok = s == NATS_OK && natsMsg_GetDataLength(m) == 13 &&
             memcmp(natsMsg_GetData(m), "still-serving", 13) == 0;
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    return ok ? 0 : crash_fail("core pub/sub failed: %s", natsStatus_GetText(s));
}

static int
usage(void)
{
    fputs("usage: crashpub create URL STREAM | publish URL STREAM FIRST LOG [N] |\n"
          "       verify URL STREAM LOG FROM | core URL | delete URL STREAM\n",
          stderr);
    return 2;
}

static int
dispatch(int argc, char **argv, natsConnection *nc, jsCtx *js)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "create") == 0 && argc == 4) return cmd_create(js, argv[3]);
    if (strcmp(cmd, "publish") == 0 && (argc == 6 || argc == 7))
        return cmd_publish(js, argv[3], strtoull(argv[4], NULL, 10), argv[5],
                           argc == 7 ? strtoull(argv[6], NULL, 10) : 0);
    if (strcmp(cmd, "verify") == 0 && argc == 6)
        return cmd_verify(js, argv[3], argv[4], strtoull(argv[5], NULL, 10));
    if (strcmp(cmd, "core") == 0 && argc == 3) return cmd_core(nc);
    if (strcmp(cmd, "delete") == 0 && argc == 4)
        return js_DeleteStream(js, argv[3], NULL, NULL) == NATS_OK
                   ? 0
                   : crash_fail("delete %s: %s", argv[3], nats_GetLastError(NULL));
    return usage();
}

int
main(int argc, char **argv)
{
    if (argc < 3) return usage();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = crash_connect(argv[2], WAIT_MS, &nc, &js);
    int rc = s == NATS_OK ? dispatch(argc, argv, nc, js)
                          : crash_fail("cannot connect to %s: %s", argv[2], natsStatus_GetText(s));
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_CloseAndWait(2000);
    return rc;
}
