/*
 * JetStream consumers through libnats' API (js_*Consumer*, js_Subscribe*, js_PullSubscribe,
 * natsMsg_Ack* and kvStore_Watch/History), against a server started with -js. Every test owns its
 * stream, named after the test, and deletes it at the end. Message i of a fixture carries "m<i>",
 * and i is also its stream sequence, so every delivery is checked against the sequence the
 * metadata claims. Ack waits are at most 1 s; waits for something that must not come are short
 * fetches or NextMsg timeouts, and waits for something that must come are bounded by 2-3 s.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds, the unit of the API's durations */

static void
stream_create(struct interop_js *j, const char *name, const char *subject,
              jsRetentionPolicy retention)
{
    const char *subjects[] = {subject};
    jsStreamConfig cfg;
    assert_status(jsStreamConfig_Init(&cfg), NATS_OK);
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = retention;
    jsStreamInfo *si = NULL;
    assert_status(js_AddStream(&si, j->js, &cfg, NULL, NULL), NATS_OK);
    jsStreamInfo_Destroy(si);
}

static void
stream_drop(struct interop_js *j, const char *name)
{
    assert_status(js_DeleteStream(j->js, name, NULL, NULL), NATS_OK);
}

/* Publishes "m<seq>" and checks the PubAck gave it that sequence. */
static void
pub_seq(struct interop_js *j, const char *subject, uint64_t seq)
{
    char data[32];
    snprintf(data, sizeof data, "m%llu", (unsigned long long)seq);
    jsPubAck *pa = NULL;
    assert_status(js_Publish(&pa, j->js, subject, data, (int)strlen(data), NULL, NULL), NATS_OK);
    uint64_t got = pa->Sequence;
    jsPubAck_Destroy(pa);
    assert_int_equal(got, seq);
}

/* A stream on "<prefix>.>" holding messages 1..n, all on "<prefix>.x". */
static void
fixture(struct interop_js *j, const char *name, const char *prefix, jsRetentionPolicy retention,
        int n)
{
    char subject[64], all[64];
    snprintf(subject, sizeof subject, "%s.x", prefix);
    snprintf(all, sizeof all, "%s.>", prefix);
    stream_create(j, name, all, retention);
    for (int i = 1; i <= n; i++)
        pub_seq(j, subject, (uint64_t)i);
}

/* The metadata of a delivery; the payload must be "m<stream sequence>". */
static jsMsgMetaData
meta_of(natsMsg *m)
{
    jsMsgMetaData *md = NULL;
    assert_status(natsMsg_GetMetaData(&md, m), NATS_OK);
    jsMsgMetaData copy = *md;
    copy.Stream = copy.Consumer = copy.Domain = NULL;
    jsMsgMetaData_Destroy(md);
    char want[32];
    snprintf(want, sizeof want, "m%llu", (unsigned long long)copy.Sequence.Stream);
    char got[32];
    snprintf(got, sizeof got, "%.*s", natsMsg_GetDataLength(m), natsMsg_GetData(m));
    assert_string_equal(got, want);
    return copy;
}

/* The next push delivery must be stream sequence seq, delivered for the deliveries-th time. */
static natsMsg *
expect_push(natsSubscription *sub, uint64_t seq, uint64_t deliveries)
{
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, sub, 2000), NATS_OK);
    jsMsgMetaData md = meta_of(m);
    assert_int_equal(md.Sequence.Stream, seq);
    assert_int_equal(md.NumDelivered, deliveries);
    return m;
}

static void
expect_push_seqs(natsSubscription *sub, const uint64_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        natsMsg_Destroy(expect_push(sub, seqs[i], 1));
    interop_expect_none(sub, 150);
}

static void
sub_drop(natsSubscription *sub)
{
    assert_status(natsSubscription_Unsubscribe(sub), NATS_OK);
    natsSubscription_Destroy(sub);
}

/* A durable pull consumer on stream, configured by cfg (its Durable is set here). */
static natsSubscription *
pull_sub(struct interop_js *j, const char *stream, const char *durable, jsConsumerConfig *cfg)
{
    cfg->Durable = durable;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    assert_status(js_AddConsumer(&ci, j->js, stream, cfg, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, 0);
    jsConsumerInfo_Destroy(ci);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = durable;
    natsSubscription *sub = NULL;
    assert_status(js_PullSubscribe(&sub, j->js, NULL, durable, NULL, &so, NULL), NATS_OK);
    return sub;
}

static jsConsumerConfig
consumer_cfg(jsAckPolicy ack, int64_t ack_wait_ms)
{
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.AckPolicy = ack;
    cfg.AckWait = ack_wait_ms * MS;
    return cfg;
}

/* One fetch of up to batch; returns how many arrived, and their messages in out. */
static int
fetch(natsSubscription *sub, int batch, int64_t timeout_ms, natsMsgList *out)
{
    memset(out, 0, sizeof *out);
    natsStatus s = natsSubscription_Fetch(out, sub, batch, timeout_ms, NULL);
    if (s == NATS_TIMEOUT) return 0;
    assert_status(s, NATS_OK);
    return out->Count;
}

/* A fetch of one message that must be stream sequence seq, delivered the deliveries-th time. */
static natsMsg *
fetch_one(natsSubscription *sub, uint64_t seq, uint64_t deliveries, int64_t timeout_ms)
{
    natsMsgList l;
    assert_int_equal(fetch(sub, 1, timeout_ms, &l), 1);
    natsMsg *m = l.Msgs[0];
    l.Msgs[0] = NULL;
    natsMsgList_Destroy(&l);
    jsMsgMetaData md = meta_of(m);
    assert_int_equal(md.Sequence.Stream, seq);
    assert_int_equal(md.NumDelivered, deliveries);
    return m;
}

static void
expect_fetch_none(natsSubscription *sub, int64_t timeout_ms)
{
    natsMsgList l;
    assert_int_equal(fetch(sub, 1, timeout_ms, &l), 0);
    natsMsgList_Destroy(&l);
}

/* A fetch that must return exactly these stream sequences, in order. */
static void
expect_fetch(natsSubscription *sub, int batch, int64_t timeout_ms, const uint64_t *seqs, int n)
{
    natsMsgList l;
    assert_int_equal(fetch(sub, batch, timeout_ms, &l), n);
    for (int i = 0; i < n; i++) {
        jsMsgMetaData md = meta_of(l.Msgs[i]);
        assert_int_equal(md.Sequence.Stream, seqs[i]);
        assert_status(natsMsg_AckSync(l.Msgs[i], NULL, NULL), NATS_OK);
    }
    natsMsgList_Destroy(&l);
}

static jsConsumerInfo *
consumer_info(struct interop_js *j, const char *stream, const char *name)
{
    jsConsumerInfo *ci = NULL;
    assert_status(js_GetConsumerInfo(&ci, j->js, stream, name, NULL, NULL), NATS_OK);
    return ci;
}

static void
expect_ack_state(struct interop_js *j, const char *stream, const char *name, uint64_t floor,
                 int64_t pending)
{
    jsConsumerInfo *ci = consumer_info(j, stream, name);
    uint64_t got_floor = ci->AckFloor.Stream;
    int64_t got_pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    assert_int_equal(got_floor, floor);
    assert_int_equal(got_pending, pending);
}

/* An ephemeral push subscription on subject with this deliver policy and no acks. */
static natsSubscription *
push_policy(struct interop_js *j, const char *subject, jsDeliverPolicy policy, uint64_t seq,
            int64_t time)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.DeliverPolicy = policy;
    so.Config.OptStartSeq = seq;
    so.Config.OptStartTime = time;
    so.Config.AckPolicy = js_AckNone;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    assert_status(js_SubscribeSync(&sub, j->js, subject, NULL, &so, &jerr), NATS_OK);
    assert_int_equal(jerr, 0);
    return sub;
}

static void
expect_policy(struct interop_js *j, jsDeliverPolicy policy, uint64_t seq, int64_t time,
              const uint64_t *want, size_t n)
{
    natsSubscription *sub = push_policy(j, "dp.>", policy, seq, time);
    expect_push_seqs(sub, want, n);
    sub_drop(sub);
}

static void
test_deliver_policies(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    stream_create(&j, "DP", "dp.>", js_LimitsPolicy);
    const char *subjects[] = {"dp.a", "dp.b", "dp.a", "dp.b", "dp.a"};
    for (uint64_t i = 0; i < 5; i++) {
        /* libnats 3.4.1 writes opt_start_time's fraction without its leading zeros (.071 becomes
         * .71), so the start time used is a whole second, and a pause puts it between 2 and 3. */
        if (i == 2) usleep(1100 * 1000);
        pub_seq(&j, subjects[i], i + 1);
    }
    natsMsg *third = NULL;
    assert_status(js_GetMsg(&third, j.js, "DP", 3, NULL, NULL), NATS_OK);
    int64_t third_time = natsMsg_GetTime(third);
    natsMsg_Destroy(third);
    int64_t third_second = third_time - third_time % 1000000000;
    const uint64_t all[] = {1, 2, 3, 4, 5}, from3[] = {3, 4, 5}, per_subject[] = {4, 5};
    expect_policy(&j, js_DeliverAll, 0, 0, all, 5);
    expect_policy(&j, js_DeliverLast, 0, 0, all + 4, 1);
    expect_policy(&j, js_DeliverByStartSequence, 3, 0, from3, 3);
    expect_policy(&j, js_DeliverByStartTime, 0, third_second, from3, 3);
    expect_policy(&j, js_DeliverLastPerSubject, 0, 0, per_subject, 2);
    natsSubscription *sub = push_policy(&j, "dp.>", js_DeliverNew, 0, 0);
    interop_expect_none(sub, 150);
    pub_seq(&j, "dp.b", 6);
    natsMsg *m = expect_push(sub, 6, 1);
    jsMsgMetaData md = meta_of(m);
    natsMsg_Destroy(m);
    assert_int_equal(md.Sequence.Consumer, 1);
    assert_int_equal(md.NumPending, 0);
    assert_true(md.Timestamp > third_time);
    sub_drop(sub);
    stream_drop(&j, "DP");
    interop_js_close(&j);
}

static void
test_consumer_crud(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "CRUD", "crud", js_LimitsPolicy, 2);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 700);
    cfg.MaxDeliver = 4;
    cfg.FilterSubject = "crud.x";
    jsConsumerInfo *ci = NULL;
    const char *names[] = {"B", "A"};
    for (int i = 0; i < 2; i++) {
        cfg.Durable = names[i];
        assert_status(js_AddConsumer(&ci, j.js, "CRUD", &cfg, NULL, NULL), NATS_OK);
        jsConsumerInfo_Destroy(ci);
    }
    ci = consumer_info(&j, "CRUD", "A");
    int echoed = strcmp(ci->Name, "A") == 0 && strcmp(ci->Stream, "CRUD") == 0 &&
                 ci->Config->AckPolicy == js_AckExplicit && ci->Config->AckWait == 700 * MS &&
                 ci->Config->MaxDeliver == 4 && strcmp(ci->Config->FilterSubject, "crud.x") == 0 &&
                 ci->NumPending == 2 && ci->Delivered.Stream == 0;
    jsConsumerInfo_Destroy(ci);
    assert_true(echoed);
    jsConsumerNamesList *nl = NULL;
    assert_status(js_ConsumerNames(&nl, j.js, "CRUD", NULL, NULL), NATS_OK);
    assert_int_equal(nl->Count, 2);
    int has_both = (strcmp(nl->List[0], "A") == 0 && strcmp(nl->List[1], "B") == 0) ||
                   (strcmp(nl->List[0], "B") == 0 && strcmp(nl->List[1], "A") == 0);
    jsConsumerNamesList_Destroy(nl);
    assert_true(has_both);
    jsConsumerInfoList *il = NULL;
    assert_status(js_Consumers(&il, j.js, "CRUD", NULL, NULL), NATS_OK);
    int count = il->Count;
    jsConsumerInfoList_Destroy(il);
    assert_int_equal(count, 2);
    assert_status(js_DeleteConsumer(j.js, "CRUD", "B", NULL, NULL), NATS_OK);
    jsErrCode jerr = 0;
    assert_status(js_GetConsumerInfo(&ci, j.js, "CRUD", "B", NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSConsumerNotFoundErr);
    assert_status(js_DeleteConsumer(j.js, "CRUD", "B", NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSConsumerNotFoundErr);
    stream_drop(&j, "CRUD");
    interop_js_close(&j);
}

static void
test_ack_policies(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "ACKP", "ackp", js_LimitsPolicy, 5);
    jsConsumerConfig none = consumer_cfg(js_AckNone, 300);
    natsSubscription *sub = pull_sub(&j, "ACKP", "NONE", &none);
    natsMsgList l;
    assert_int_equal(fetch(sub, 3, 1000, &l), 3);
    natsMsgList_Destroy(&l);
    expect_ack_state(&j, "ACKP", "NONE", 3, 0);
    natsSubscription_Destroy(sub);
    jsConsumerConfig all = consumer_cfg(js_AckAll, 1000);
    sub = pull_sub(&j, "ACKP", "ALL", &all);
    assert_int_equal(fetch(sub, 5, 1000, &l), 5);
    assert_status(natsMsg_AckSync(l.Msgs[2], NULL, NULL), NATS_OK);
    expect_ack_state(&j, "ACKP", "ALL", 3, 2);
    natsMsgList_Destroy(&l);
    natsSubscription_Destroy(sub);
    jsConsumerConfig expl = consumer_cfg(js_AckExplicit, 1000);
    sub = pull_sub(&j, "ACKP", "EXPL", &expl);
    assert_int_equal(fetch(sub, 5, 1000, &l), 5);
    assert_status(natsMsg_AckSync(l.Msgs[1], NULL, NULL), NATS_OK);
    assert_status(natsMsg_AckSync(l.Msgs[3], NULL, NULL), NATS_OK);
    expect_ack_state(&j, "ACKP", "EXPL", 0, 3);
    assert_status(natsMsg_AckSync(l.Msgs[0], NULL, NULL), NATS_OK);
    expect_ack_state(&j, "ACKP", "EXPL", 2, 2);
    natsMsgList_Destroy(&l);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "ACKP");
    interop_js_close(&j);
}

static void
test_redelivery_after_ack_wait(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "REDEL", "redel", js_LimitsPolicy, 1);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 300);
    natsSubscription *sub = pull_sub(&j, "REDEL", "R", &cfg);
    int64_t start = interop_now_ms();
    natsMsg_Destroy(fetch_one(sub, 1, 1, 1000));
    natsMsg *m = fetch_one(sub, 1, 2, 2000);
    assert_true(interop_now_ms() - start >= 250);
    /* the reply subject carries the delivery count libnats parsed: ...ACK.REDEL.R.<delivered>. */
    assert_non_null(strstr(natsMsg_GetReply(m), ".REDEL.R.2."));
    jsMsgMetaData md = meta_of(m);
    assert_int_equal(md.Sequence.Consumer, 2);
    assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
    natsMsg_Destroy(m);
    expect_fetch_none(sub, 500);
    jsConsumerInfo *ci = consumer_info(&j, "REDEL", "R");
    int64_t redelivered = ci->NumRedelivered, pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    assert_int_equal(pending, 0);
    assert_int_equal(redelivered, 0);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "REDEL");
    interop_js_close(&j);
}

/* A pull consumer of stream NAK filtered to one subject that holds one message, seq. */
static natsSubscription *
nak_sub(struct interop_js *j, const char *name, const char *subject, int64_t ack_wait_ms)
{
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, ack_wait_ms);
    cfg.FilterSubject = subject;
    return pull_sub(j, "NAK", name, &cfg);
}

static void
test_nak_and_delay(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    stream_create(&j, "NAK", "nak.>", js_LimitsPolicy);
    pub_seq(&j, "nak.a", 1);
    pub_seq(&j, "nak.b", 2);
    natsSubscription *sub = nak_sub(&j, "A", "nak.a", 1000);
    natsMsg *m = fetch_one(sub, 1, 1, 1000);
    int64_t start = interop_now_ms();
    assert_status(natsMsg_Nak(m, NULL), NATS_OK);
    natsMsg_Destroy(m);
    m = fetch_one(sub, 1, 2, 1000);
    assert_true(interop_now_ms() - start < 700); /* at once, not after the 1 s ack wait */
    assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    sub = nak_sub(&j, "B", "nak.b", 1000);
    m = fetch_one(sub, 2, 1, 1000);
    start = interop_now_ms();
    assert_status(natsMsg_NakWithDelay(m, 500, NULL), NATS_OK);
    natsMsg_Destroy(m);
    expect_fetch_none(sub, 250);
    m = fetch_one(sub, 2, 2, 2000);
    assert_true(interop_now_ms() - start >= 450);
    assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "NAK");
    interop_js_close(&j);
}

static void
test_in_progress_and_term(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    stream_create(&j, "NAK", "nak.>", js_LimitsPolicy);
    pub_seq(&j, "nak.c", 1);
    pub_seq(&j, "nak.d", 2);
    natsSubscription *sub = nak_sub(&j, "C", "nak.c", 800);
    natsMsg *m = fetch_one(sub, 1, 1, 1000);
    int64_t start = interop_now_ms();
    /* Two InProgress 500 ms apart keep it from being redelivered at 800 ms; the last one moves
     * the deadline to about 1800 ms. */
    for (int i = 1; i <= 2; i++) {
        usleep(500 * 1000);
        assert_status(natsMsg_InProgress(m, NULL), NATS_OK);
    }
    assert_status(natsConnection_Flush(j.nc), NATS_OK);
    expect_fetch_none(sub, 500);
    assert_true(interop_now_ms() - start < 1750);
    natsMsg_Destroy(m);
    m = fetch_one(sub, 1, 2, 2000); /* without an ack it does come back */
    assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    sub = nak_sub(&j, "D", "nak.d", 300);
    m = fetch_one(sub, 2, 1, 1000);
    assert_status(natsMsg_Term(m, NULL), NATS_OK);
    natsMsg_Destroy(m);
    expect_fetch_none(sub, 900);
    expect_ack_state(&j, "NAK", "D", 2, 0);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "NAK");
    interop_js_close(&j);
}

static void
test_max_deliver(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "MAXD", "maxd", js_LimitsPolicy, 1);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 200);
    cfg.MaxDeliver = 2;
    natsSubscription *sub = pull_sub(&j, "MAXD", "M", &cfg);
    natsMsg_Destroy(fetch_one(sub, 1, 1, 1000));
    natsMsg_Destroy(fetch_one(sub, 1, 2, 2000));
    expect_fetch_none(sub, 800);
    jsConsumerInfo *ci = consumer_info(&j, "MAXD", "M");
    uint64_t delivered = ci->Delivered.Consumer;
    jsConsumerInfo_Destroy(ci);
    assert_int_equal(delivered, 2);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "MAXD");
    interop_js_close(&j);
}

static void
test_max_ack_pending(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "MAP", "map", js_LimitsPolicy, 5);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 1000);
    cfg.MaxAckPending = 2;
    natsSubscription *sub = pull_sub(&j, "MAP", "P", &cfg);
    natsMsgList l;
    assert_int_equal(fetch(sub, 5, 500, &l), 2);
    expect_fetch_none(sub, 300);
    assert_status(natsMsg_AckSync(l.Msgs[0], NULL, NULL), NATS_OK);
    natsMsg *m = fetch_one(sub, 3, 1, 1000);
    natsMsg_Destroy(m);
    expect_ack_state(&j, "MAP", "P", 1, 2);
    natsMsgList_Destroy(&l);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "MAP");
    interop_js_close(&j);
}

static void
test_pull_batches(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "BATCH", "batch", js_LimitsPolicy, 7);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 1000);
    natsSubscription *sub = pull_sub(&j, "BATCH", "B", &cfg);
    const uint64_t seqs[] = {1, 2, 3, 4, 5, 6, 7};
    expect_fetch(sub, 3, 1000, seqs, 3);
    expect_fetch(sub, 3, 1000, seqs + 3, 3);
    expect_fetch(sub, 3, 400, seqs + 6, 1); /* a partial batch, not a timeout */
    natsMsgList l;
    assert_status(natsSubscription_Fetch(&l, sub, 3, 300, NULL), NATS_TIMEOUT);
    assert_int_equal(l.Count, 0);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "BATCH");
    interop_js_close(&j);
}

/*
 * The next raw pull reply must be a status: "<code> <description> <Nats-Pending-Messages>", the
 * last "-" when the header is absent.
 */
static void
expect_status(natsSubscription *inbox, const char *want)
{
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, inbox, 2000), NATS_OK);
    const char *code = NULL, *desc = NULL, *pending = NULL;
    natsMsgHeader_Get(m, "Status", &code);
    natsMsgHeader_Get(m, "Description", &desc);
    natsMsgHeader_Get(m, "Nats-Pending-Messages", &pending);
    char got[128];
    snprintf(got, sizeof got, "%s %s %s", code ? code : "-", desc ? desc : "-",
             pending ? pending : "-");
    int len = natsMsg_GetDataLength(m);
    natsMsg_Destroy(m);
    assert_string_equal(got, want);
    assert_int_equal(len, 0);
}

static void
pull_request(struct interop_js *j, const char *body)
{
    assert_status(natsConnection_PublishRequestString(j->nc, "$JS.API.CONSUMER.MSG.NEXT.STATUS.S",
                                                      "inbox.status", body),
                  NATS_OK);
}

static void
test_pull_status_messages(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "STATUS", "status", js_LimitsPolicy, 1);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 1000);
    cfg.Durable = "S";
    jsConsumerInfo *ci = NULL;
    assert_status(js_AddConsumer(&ci, j.js, "STATUS", &cfg, NULL, NULL), NATS_OK);
    jsConsumerInfo_Destroy(ci);
    natsSubscription *inbox = interop_subscribe(j.nc, "inbox.status");
    pull_request(&j, "{\"batch\":2,\"no_wait\":true}");
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, inbox, 2000), NATS_OK);
    assert_int_equal(meta_of(m).Sequence.Stream, 1);
    natsMsg_Destroy(m);
    /* a no_wait request ended short: nats-server 2.9.10 says 408 with what is left of the batch
     * (2.11 says 404; the spec allows both, this follows the reference) */
    expect_status(inbox, "408 Request Timeout 1");
    pull_request(&j, "{\"batch\":2,\"no_wait\":true}");
    expect_status(inbox, "404 No Messages -");
    int64_t start = interop_now_ms();
    pull_request(&j, "{\"batch\":2,\"expires\":300000000}");
    expect_status(inbox, "408 Request Timeout 2");
    assert_true(interop_now_ms() - start >= 250);
    interop_expect_none(inbox, 100);
    natsSubscription_Destroy(inbox);
    stream_drop(&j, "STATUS");
    interop_js_close(&j);
}

/* The sequence of the one message a pull request got on inbox. */
static uint64_t
pulled_seq(natsSubscription *inbox)
{
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, inbox, 2000), NATS_OK);
    uint64_t seq = meta_of(m).Sequence.Stream;
    natsMsg_Destroy(m);
    return seq;
}

/*
 * Waiting pull requests are served in the order they came; one past max_waiting is refused with
 * 409; an ephemeral consumer goes away after its inactive_threshold.
 */
static void
test_pull_waiting(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "WAIT", "wait", js_LimitsPolicy, 0);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 1000);
    cfg.Durable = "W";
    cfg.MaxWaiting = 2;
    jsConsumerInfo *ci = NULL;
    assert_status(js_AddConsumer(&ci, j.js, "WAIT", &cfg, NULL, NULL), NATS_OK);
    jsConsumerInfo_Destroy(ci);
    natsSubscription *in[3];
    char inbox[32];
    for (int i = 0; i < 3; i++) {
        snprintf(inbox, sizeof inbox, "inbox.wait.%d", i);
        in[i] = interop_subscribe(j.nc, inbox);
        assert_status(natsConnection_PublishRequestString(j.nc, "$JS.API.CONSUMER.MSG.NEXT.WAIT.W",
                                                          inbox,
                                                          "{\"batch\":1,\"expires\":3000000000}"),
                      NATS_OK);
        assert_status(natsConnection_Flush(j.nc), NATS_OK);
    }
    expect_status(in[2], "409 Exceeded MaxWaiting -");
    pub_seq(&j, "wait.x", 1);
    pub_seq(&j, "wait.x", 2);
    assert_int_equal(pulled_seq(in[0]), 1);
    assert_int_equal(pulled_seq(in[1]), 2);
    for (int i = 0; i < 3; i++)
        natsSubscription_Destroy(in[i]);

    jsConsumerConfig eph = consumer_cfg(js_AckExplicit, 1000);
    eph.InactiveThreshold = 300 * MS;
    assert_status(js_AddConsumer(&ci, j.js, "WAIT", &eph, NULL, NULL), NATS_OK);
    char name[64];
    snprintf(name, sizeof name, "%s", ci->Name);
    jsConsumerInfo_Destroy(ci);
    natsStatus s = NATS_OK;
    for (int tries = 0; tries < 40 && s == NATS_OK; tries++) {
        nats_Sleep(100);
        s = js_GetConsumerInfo(&ci, j.js, "WAIT", name, NULL, NULL);
        if (s == NATS_OK) jsConsumerInfo_Destroy(ci);
    }
    assert_status(s, NATS_NOT_FOUND);
    stream_drop(&j, "WAIT");
    interop_js_close(&j);
}

/*
 * A durable push consumer delivering to deliver (outside the stream's subjects, which would be a
 * cycle), bound to by later subscriptions.
 */
static void
add_push_durable(struct interop_js *j, const char *stream, const char *name, const char *deliver,
                 const char *group)
{
    /* Long enough that a member waiting its turn under load never sees a redelivery. */
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 30000);
    cfg.Durable = name;
    cfg.DeliverSubject = deliver;
    cfg.DeliverGroup = group;
    jsConsumerInfo *ci = NULL;
    assert_status(js_AddConsumer(&ci, j->js, stream, &cfg, NULL, NULL), NATS_OK);
    jsConsumerInfo_Destroy(ci);
}

static natsSubscription *
bind_push(struct interop_js *j, const char *stream, const char *name, const char *queue)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = name;
    so.Queue = queue;
    so.ManualAck = true;
    natsSubscription *sub = NULL;
    assert_status(js_SubscribeSync(&sub, j->js, NULL, NULL, &so, NULL), NATS_OK);
    return sub;
}

static void
ack_push(natsSubscription *sub, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to; seq++) {
        natsMsg *m = expect_push(sub, seq, 1);
        assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
        natsMsg_Destroy(m);
    }
}

static void
test_durable_push_resume(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "RESUME", "resume", js_LimitsPolicy, 3);
    add_push_durable(&j, "RESUME", "D", "deliver.resume", NULL);
    natsSubscription *sub = bind_push(&j, "RESUME", "D", NULL);
    ack_push(sub, 1, 3);
    sub_drop(sub);
    pub_seq(&j, "resume.x", 4);
    pub_seq(&j, "resume.x", 5);
    sub = bind_push(&j, "RESUME", "D", NULL);
    ack_push(sub, 4, 5);
    interop_expect_none(sub, 200);
    sub_drop(sub);
    expect_ack_state(&j, "RESUME", "D", 5, 0);
    stream_drop(&j, "RESUME");
    interop_js_close(&j);
}

/* Reads from either member until a short quiet spell; counts each stream sequence per member. */
static void
drain_queue(natsSubscription **members, int *got, int *per_member, int n)
{
    for (int idle = 0; idle < 2;) {
        int any = 0;
        for (int k = 0; k < 2; k++) {
            natsMsg *m = NULL;
            if (natsSubscription_NextMsg(&m, members[k], 100) != NATS_OK) continue;
            jsMsgMetaData md = meta_of(m);
            assert_true(md.Sequence.Stream >= 1 && md.Sequence.Stream <= (uint64_t)n);
            got[md.Sequence.Stream]++;
            per_member[k]++;
            assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
            natsMsg_Destroy(m);
            any = 1;
        }
        idle = any ? 0 : idle + 1;
    }
}

static void
test_queue_push(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    enum { N = 20 };
    stream_create(&j, "QUEUE", "queue.>", js_LimitsPolicy);
    add_push_durable(&j, "QUEUE", "Q", "deliver.queue", "workers");
    natsSubscription *members[2] = {bind_push(&j, "QUEUE", "Q", "workers"),
                                    bind_push(&j, "QUEUE", "Q", "workers")};
    assert_status(natsConnection_Flush(j.nc), NATS_OK);
    for (int i = 1; i <= N; i++)
        pub_seq(&j, "queue.x", (uint64_t)i);
    int got[N + 1] = {0}, per_member[2] = {0};
    drain_queue(members, got, per_member, N);
    for (int i = 1; i <= N; i++)
        assert_int_equal(got[i], 1);
    assert_true(per_member[0] > 0 && per_member[1] > 0);
    jsConsumerInfo *ci = consumer_info(&j, "QUEUE", "Q");
    int grouped = strcmp(ci->Config->DeliverGroup, "workers") == 0;
    jsConsumerInfo_Destroy(ci);
    assert_true(grouped);
    for (int k = 0; k < 2; k++)
        sub_drop(members[k]);
    stream_drop(&j, "QUEUE");
    interop_js_close(&j);
}

/* Polls the stream until it holds msgs messages from first on, for up to 2 s. */
static void
await_msgs(struct interop_js *j, const char *stream, uint64_t msgs, uint64_t first)
{
    uint64_t got = 0, got_first = 0;
    for (int64_t end = interop_now_ms() + 2000; interop_now_ms() < end; usleep(20 * 1000)) {
        jsStreamInfo *si = NULL;
        assert_status(js_GetStreamInfo(&si, j->js, stream, NULL, NULL), NATS_OK);
        got = si->State.Msgs;
        got_first = si->State.FirstSeq;
        jsStreamInfo_Destroy(si);
        if (got == msgs && (msgs == 0 || got_first == first)) return;
    }
    fail_msg("stream %s holds %llu from %llu, want %llu from %llu", stream, (unsigned long long)got,
             (unsigned long long)got_first, (unsigned long long)msgs, (unsigned long long)first);
}

static void
test_workqueue(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "WQ", "wq", js_WorkQueuePolicy, 3);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 1000);
    natsSubscription *sub = pull_sub(&j, "WQ", "W", &cfg);
    natsMsgList l;
    assert_int_equal(fetch(sub, 3, 1000, &l), 3);
    assert_status(natsMsg_AckSync(l.Msgs[0], NULL, NULL), NATS_OK);
    assert_status(natsMsg_AckSync(l.Msgs[1], NULL, NULL), NATS_OK);
    await_msgs(&j, "WQ", 1, 3);
    natsMsgList_Destroy(&l);
    jsConsumerConfig second = consumer_cfg(js_AckExplicit, 1000);
    second.Durable = "W2";
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    assert_status(js_AddConsumer(&ci, j.js, "WQ", &second, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSConsumerWQMultipleUnfilteredErr);
    assert_null(ci);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "WQ");
    interop_js_close(&j);
}

static void
test_interest(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "INT", "int", js_InterestPolicy, 2);
    await_msgs(&j, "INT", 0, 0); /* nobody is interested: not kept */
    jsConsumerConfig a = consumer_cfg(js_AckExplicit, 1000), b = a;
    natsSubscription *sa = pull_sub(&j, "INT", "A", &a);
    natsSubscription *sb = pull_sub(&j, "INT", "B", &b);
    pub_seq(&j, "int.x", 3);
    pub_seq(&j, "int.x", 4);
    await_msgs(&j, "INT", 2, 3);
    const uint64_t seqs[] = {3, 4};
    expect_fetch(sa, 2, 1000, seqs, 2); /* acked by A only: B still wants both */
    await_msgs(&j, "INT", 2, 3);
    natsMsg *m = fetch_one(sb, 3, 1, 1000);
    assert_status(natsMsg_AckSync(m, NULL, NULL), NATS_OK);
    natsMsg_Destroy(m);
    await_msgs(&j, "INT", 1, 4);
    natsSubscription_Destroy(sb);
    assert_status(js_DeleteConsumer(j.js, "INT", "B", NULL, NULL), NATS_OK);
    await_msgs(&j, "INT", 0, 0); /* the last one still interested is gone */
    natsSubscription_Destroy(sa);
    stream_drop(&j, "INT");
    interop_js_close(&j);
}

static natsSubscription *
ordered_sub(struct interop_js *j, const char *subject, jsDeliverPolicy policy, uint64_t seq)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Config.DeliverPolicy = policy;
    so.Config.OptStartSeq = seq;
    natsSubscription *sub = NULL;
    assert_status(js_SubscribeSync(&sub, j->js, subject, NULL, &so, NULL), NATS_OK);
    return sub;
}

/* Ordered deliveries: these stream sequences, with consumer sequences counting up from 1. */
static void
expect_ordered(natsSubscription *sub, const uint64_t *seqs, size_t n, uint64_t *cseq)
{
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = expect_push(sub, seqs[i], 1);
        jsMsgMetaData md = meta_of(m);
        natsMsg_Destroy(m);
        assert_int_equal(md.Sequence.Consumer, ++*cseq);
    }
    interop_expect_none(sub, 150);
}

static void
test_ordered_deleted(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    fixture(&j, "ORD", "ord", js_LimitsPolicy, 8);
    assert_status(js_DeleteMsg(j.js, "ORD", 1, NULL, NULL), NATS_OK);
    assert_status(js_DeleteMsg(j.js, "ORD", 4, NULL, NULL), NATS_OK);
    natsSubscription *sub = ordered_sub(&j, "ord.>", js_DeliverAll, 0);
    const uint64_t first[] = {2, 3, 5, 6, 7, 8}, later[] = {9, 11};
    uint64_t cseq = 0;
    expect_ordered(sub, first, 6, &cseq);
    /* deleting what it already read, and a new one before it is read, changes nothing for it */
    assert_status(js_DeleteMsg(j.js, "ORD", 6, NULL, NULL), NATS_OK);
    pub_seq(&j, "ord.x", 9);
    expect_ordered(sub, later, 1, &cseq);
    sub_drop(sub);
    pub_seq(&j, "ord.x", 10);
    pub_seq(&j, "ord.x", 11);
    assert_status(js_DeleteMsg(j.js, "ORD", 10, NULL, NULL), NATS_OK);
    sub = ordered_sub(&j, "ord.>", js_DeliverByStartSequence, 10); /* starts on a deleted one */
    cseq = 0;
    expect_ordered(sub, later + 1, 1, &cseq);
    sub_drop(sub);
    stream_drop(&j, "ORD");
    interop_js_close(&j);
}

/* Receives the next message on sub within 2 s and returns when it arrived. */
static int64_t
arrival_of(natsSubscription *sub, uint64_t seq)
{
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, sub, 2000), NATS_OK);
    int64_t at = interop_now_ms();
    assert_int_equal(meta_of(m).Sequence.Stream, seq);
    natsMsg_Destroy(m);
    return at;
}

/* An ephemeral push subscription with no acks and this replay policy, from the first message. */
static natsSubscription *
push_replay(struct interop_js *j, const char *subject, jsReplayPolicy replay)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.AckPolicy = js_AckNone;
    so.Config.ReplayPolicy = replay;
    natsSubscription *sub = NULL;
    assert_status(js_SubscribeSync(&sub, j->js, subject, NULL, &so, NULL), NATS_OK);
    return sub;
}

/*
 * replay_policy original keeps the stored gaps (about 300 ms here) between deliveries, push and
 * pull, until the consumer has caught up with the stream; instant delivers everything at once.
 * Lower bounds only, with room for a slow machine.
 */
static void
test_replay_original(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    stream_create(&j, "REPLAY", "replay.>", js_LimitsPolicy);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        if (seq > 1) usleep(300 * 1000);
        pub_seq(&j, "replay.x", seq);
    }
    natsSubscription *sub = push_replay(&j, "replay.>", js_ReplayInstant);
    int64_t t1 = arrival_of(sub, 1), t2 = arrival_of(sub, 2), t3 = arrival_of(sub, 3);
    assert_true(t3 - t1 < 200);
    sub_drop(sub);
    sub = push_replay(&j, "replay.>", js_ReplayOriginal);
    t1 = arrival_of(sub, 1);
    t2 = arrival_of(sub, 2);
    t3 = arrival_of(sub, 3);
    assert_true(t2 - t1 >= 200 && t3 - t2 >= 200);
    /* caught up: a message published 600 ms later arrives at once, not 600 ms after it */
    usleep(600 * 1000);
    int64_t start = interop_now_ms();
    pub_seq(&j, "replay.x", 4);
    assert_true(arrival_of(sub, 4) - start < 300);
    sub_drop(sub);
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 5000);
    cfg.ReplayPolicy = js_ReplayOriginal;
    cfg.FilterSubject = "replay.x";
    sub = pull_sub(&j, "REPLAY", "P", &cfg);
    start = interop_now_ms();
    natsMsgList l;
    assert_int_equal(fetch(sub, 3, 3000, &l), 3);
    natsMsgList_Destroy(&l);
    assert_true(interop_now_ms() - start >= 400);
    natsSubscription_Destroy(sub);
    stream_drop(&j, "REPLAY");
    interop_js_close(&j);
}

/*
 * The next advisory on sub must be {"type":"io.nats.jetstream.advisory.v1.<kind>","id":...,
 * "timestamp":...,<rest>, byte for byte as nats-server 2.9 marshals it (no domain when none).
 */
static void
expect_advisory(natsSubscription *sub, const char *kind, const char *rest)
{
    natsMsg *m = NULL;
    assert_status(natsSubscription_NextMsg(&m, sub, 3000), NATS_OK);
    char body[512], head[128];
    snprintf(body, sizeof body, "%.*s", natsMsg_GetDataLength(m), natsMsg_GetData(m));
    natsMsg_Destroy(m);
    snprintf(head, sizeof head, "{\"type\":\"io.nats.jetstream.advisory.v1.%s\",\"id\":\"", kind);
    assert_true(strncmp(body, head, strlen(head)) == 0);
    const char *ts = strstr(body, "\",\"timestamp\":\"");
    assert_non_null(ts);
    const char *after = strchr(ts + strlen("\",\"timestamp\":\""), '"');
    assert_non_null(after);
    assert_string_equal(after + 1, rest);
}

/* Dead-letter handling listens for these: max_deliver reached, and +TERM. */
static void
test_advisories(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    stream_create(&j, "ADV", "adv.>", js_LimitsPolicy);
    pub_seq(&j, "adv.a", 1);
    pub_seq(&j, "adv.b", 2);
    natsSubscription *maxd =
        interop_subscribe(j.nc, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.M");
    natsSubscription *term =
        interop_subscribe(j.nc, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.T");
    jsConsumerConfig cfg = consumer_cfg(js_AckExplicit, 200);
    cfg.MaxDeliver = 2;
    cfg.FilterSubject = "adv.a";
    natsSubscription *sub = pull_sub(&j, "ADV", "M", &cfg);
    natsMsg_Destroy(fetch_one(sub, 1, 1, 1000));
    natsMsg_Destroy(fetch_one(sub, 1, 2, 2000));
    /* nats-server notices the limit when it would deliver again: a waiting fetch */
    expect_fetch_none(sub, 600);
    expect_advisory(maxd, "max_deliver",
                    ",\"stream\":\"ADV\",\"consumer\":\"M\",\"stream_seq\":1,\"deliveries\":2}");
    interop_expect_none(maxd, 100);
    natsSubscription_Destroy(sub);
    cfg = consumer_cfg(js_AckExplicit, 1000);
    cfg.FilterSubject = "adv.b";
    sub = pull_sub(&j, "ADV", "T", &cfg);
    natsMsg *m = fetch_one(sub, 2, 1, 1000);
    assert_status(natsMsg_Term(m, NULL), NATS_OK);
    natsMsg_Destroy(m);
    expect_advisory(term, "terminated",
                    ",\"stream\":\"ADV\",\"consumer\":\"T\",\"consumer_seq\":1,\"stream_seq\":2,"
                    "\"deliveries\":1}");
    interop_expect_none(term, 100);
    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(maxd);
    natsSubscription_Destroy(term);
    stream_drop(&j, "ADV");
    interop_js_close(&j);
}

static kvStore *
kv_bucket(struct interop_js *j, const char *name, int64_t history)
{
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = name;
    kc.History = history;
    kvStore *kv = NULL;
    assert_status(js_CreateKeyValue(&kv, j->js, &kc), NATS_OK);
    return kv;
}

/* The watcher's next entry; key NULL means the end-of-initial-values marker. */
static void
expect_entry(kvWatcher *w, const char *key, kvOperation op, const char *value)
{
    kvEntry *e = NULL;
    assert_status(kvWatcher_Next(&e, w, 2000), NATS_OK);
    if (key == NULL) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    char got[96];
    snprintf(got, sizeof got, "%s %d %.*s", kvEntry_Key(e), (int)kvEntry_Operation(e),
             kvEntry_ValueLen(e), (const char *)kvEntry_Value(e));
    kvEntry_Destroy(e);
    char want[96];
    snprintf(want, sizeof want, "%s %d %s", key, (int)op, value);
    assert_string_equal(got, want);
}

static void
expect_no_entry(kvWatcher *w)
{
    kvEntry *e = NULL;
    assert_status(kvWatcher_Next(&e, w, 200), NATS_TIMEOUT);
    assert_null(e);
}

static void
test_kv_watch(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    kvStore *kv = kv_bucket(&j, "watch", 5);
    assert_status(kvStore_PutString(NULL, kv, "a", "1"), NATS_OK);
    assert_status(kvStore_PutString(NULL, kv, "b", "1"), NATS_OK);
    kvWatcher *wa = NULL, *all = NULL;
    assert_status(kvStore_Watch(&wa, kv, "a", NULL), NATS_OK);
    expect_entry(wa, "a", kvOp_Put, "1");
    expect_entry(wa, NULL, kvOp_Put, NULL);
    assert_status(kvStore_PutString(NULL, kv, "a", "2"), NATS_OK);
    expect_entry(wa, "a", kvOp_Put, "2");
    assert_status(kvStore_Delete(kv, "a"), NATS_OK);
    expect_entry(wa, "a", kvOp_Delete, "");
    assert_status(kvStore_PutString(NULL, kv, "b", "2"), NATS_OK);
    expect_no_entry(wa);
    assert_status(kvStore_WatchAll(&all, kv, NULL), NATS_OK);
    expect_entry(all, "a", kvOp_Delete, "");
    expect_entry(all, "b", kvOp_Put, "2");
    expect_entry(all, NULL, kvOp_Put, NULL);
    assert_status(kvStore_Purge(kv, "b", NULL), NATS_OK);
    expect_entry(all, "b", kvOp_Purge, "");
    expect_no_entry(wa);
    assert_status(kvWatcher_Stop(wa), NATS_OK);
    assert_status(kvWatcher_Stop(all), NATS_OK);
    kvWatcher_Destroy(wa);
    kvWatcher_Destroy(all);
    kvStore_Destroy(kv);
    assert_status(js_DeleteKeyValue(j.js, "watch"), NATS_OK);
    interop_js_close(&j);
}

static void
test_kv_history(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    kvStore *kv = kv_bucket(&j, "hist", 3);
    const char *values[] = {"v1", "v2", "v3", "v4"};
    for (int i = 0; i < 4; i++) {
        assert_status(kvStore_PutString(NULL, kv, "k", values[i]), NATS_OK);
        assert_status(kvStore_PutString(NULL, kv, "other", values[i]), NATS_OK);
    }
    assert_status(kvStore_Delete(kv, "k"), NATS_OK);
    kvEntryList l;
    assert_status(kvStore_History(&l, kv, "k", NULL), NATS_OK);
    char got[128] = "";
    for (int i = 0; i < l.Count; i++) {
        kvEntry *e = l.Entries[i];
        size_t len = strlen(got);
        snprintf(got + len, sizeof got - len, "%llu:%d:%s ",
                 (unsigned long long)kvEntry_Revision(e), (int)kvEntry_Operation(e),
                 kvEntry_ValueString(e));
    }
    kvEntryList_Destroy(&l);
    /* history 3 keeps the newest three revisions of k: v3 (5), v4 (7) and the delete (9) */
    assert_string_equal(got, "5:1:v3 7:1:v4 9:2: ");
    assert_status(kvStore_History(&l, kv, "none", NULL), NATS_NOT_FOUND);
    kvStore_Destroy(kv);
    assert_status(js_DeleteKeyValue(j.js, "hist"), NATS_OK);
    interop_js_close(&j);
}

int
interop_run_jsc(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliver_policies), cmocka_unit_test(test_consumer_crud),
        cmocka_unit_test(test_ack_policies),     cmocka_unit_test(test_redelivery_after_ack_wait),
        cmocka_unit_test(test_nak_and_delay),    cmocka_unit_test(test_in_progress_and_term),
        cmocka_unit_test(test_max_deliver),      cmocka_unit_test(test_max_ack_pending),
        cmocka_unit_test(test_pull_batches),     cmocka_unit_test(test_pull_status_messages),
        cmocka_unit_test(test_pull_waiting),     cmocka_unit_test(test_durable_push_resume),
        cmocka_unit_test(test_queue_push),       cmocka_unit_test(test_workqueue),
        cmocka_unit_test(test_interest),         cmocka_unit_test(test_ordered_deleted),
        cmocka_unit_test(test_replay_original),  cmocka_unit_test(test_advisories),
        cmocka_unit_test(test_kv_watch),         cmocka_unit_test(test_kv_history),
    };
    return cmocka_run_group_tests_name("jsc", tests, NULL, NULL);
}
