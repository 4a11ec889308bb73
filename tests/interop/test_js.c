/*
 * JetStream through libnats' own API (js_*, kvStore_*), against a server started with -js and a
 * store directory. Every test owns its stream (a name no other test uses) and deletes it at the
 * end, so the tests do not see each other's messages or subjects. Refusals are checked by their
 * jsErrCode, the stable identifier clients key on, and where clients also read the text, by the
 * description libnats saved as the last error. Waits for time-based limits poll the stream's state
 * under a deadline instead of sleeping a fixed time.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds, the unit of the API's durations */

/* A config of one subject; the caller may change it before js_create. */
static jsStreamConfig
stream_cfg(const char *name, const char **subject)
{
    jsStreamConfig cfg;
    assert_status(jsStreamConfig_Init(&cfg), NATS_OK);
    cfg.Name = name;
    cfg.Subjects = subject;
    cfg.SubjectsLen = 1;
    return cfg;
}

static void
js_create(struct interop_js *j, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_status(js_AddStream(&si, j->js, cfg, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, 0);
    assert_string_equal(si->Config->Name, cfg->Name);
    jsStreamInfo_Destroy(si);
}

static void
js_drop(struct interop_js *j, const char *name)
{
    assert_status(js_DeleteStream(j->js, name, NULL, NULL), NATS_OK);
}

/* The stream's state as the server reports it now. */
static jsStreamState
js_state(struct interop_js *j, const char *name)
{
    jsStreamInfo *si = NULL;
    assert_status(js_GetStreamInfo(&si, j->js, name, NULL, NULL), NATS_OK);
    jsStreamState st = si->State;
    st.Subjects = NULL;
    st.Deleted = NULL;
    st.Lost = NULL;
    jsStreamInfo_Destroy(si);
    return st;
}

static void
expect_state(struct interop_js *j, const char *name, uint64_t msgs, uint64_t first, uint64_t last)
{
    jsStreamState st = js_state(j, name);
    assert_int_equal(st.Msgs, msgs);
    assert_int_equal(st.FirstSeq, first);
    assert_int_equal(st.LastSeq, last);
}

/* Publishes with a PubAck and returns its sequence; the ack must name the stream. */
static uint64_t
js_pub(struct interop_js *j, const char *subject, const char *data, jsPubOptions *po,
       const char *stream)
{
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    assert_status(js_Publish(&pa, j->js, subject, data, (int)strlen(data), po, &jerr), NATS_OK);
    assert_string_equal(pa->Stream, stream);
    assert_false(pa->Duplicate);
    uint64_t seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    return seq;
}

/* Fails unless libnats' last error text contains want. */
static void
expect_last_error(const char *want)
{
    natsStatus s = NATS_OK;
    const char *text = nats_GetLastError(&s);
    if (text == NULL || strstr(text, want) == NULL)
        fail_msg("last error '%s' lacks '%s'", text != NULL ? text : "none", want);
}

/* A refused publish: no PubAck, this error code and, if want_text is set, that description. */
static void
expect_pub_refused(struct interop_js *j, const char *subject, const char *data, jsPubOptions *po,
                   jsErrCode want, const char *want_text)
{
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Publish(&pa, j->js, subject, data, (int)strlen(data), po, &jerr);
    assert_null(pa);
    assert_int_equal(jerr, want);
    assert_status(s, NATS_ERR);
    if (want_text != NULL) expect_last_error(want_text);
}

/* Fails unless the stored message at seq has this subject and payload. */
static void
expect_stored(struct interop_js *j, const char *stream, uint64_t seq, const char *subject,
              const char *data)
{
    natsMsg *m = NULL;
    assert_status(js_GetMsg(&m, j->js, stream, seq, NULL, NULL), NATS_OK);
    char got[256];
    snprintf(got, sizeof(got), "%s %.*s", natsMsg_GetSubject(m), natsMsg_GetDataLength(m),
             natsMsg_GetData(m));
    uint64_t got_seq = natsMsg_GetSequence(m);
    int64_t ts = natsMsg_GetTime(m);
    natsMsg_Destroy(m);
    char want[256];
    snprintf(want, sizeof(want), "%s %s", subject, data);
    assert_string_equal(got, want);
    assert_int_equal(got_seq, seq);
    assert_true(ts > 0);
}

static void
expect_gone(struct interop_js *j, const char *stream, uint64_t seq)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    assert_status(js_GetMsg(&m, j->js, stream, seq, NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    assert_null(m);
}

static void
test_create_info_delete(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"cid.>"};
    const char *other[] = {"cid.*"};
    jsStreamConfig cfg = stream_cfg("CID", subj);
    js_create(&j, &cfg);
    js_create(&j, &cfg); /* the same config again is not an error */
    jsStreamConfig changed = stream_cfg("CID", other);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_status(js_AddStream(&si, j.js, &changed, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSStreamNameExistErr);
    assert_status(js_GetStreamInfo(&si, j.js, "CID", NULL, NULL), NATS_OK);
    jsStreamConfig *c = si->Config;
    int defaults =
        c->MaxMsgs == -1 && c->MaxBytes == -1 && c->MaxAge == 0 && c->MaxMsgsPerSubject == -1 &&
        c->MaxMsgSize == -1 && c->Storage == js_FileStorage && c->Discard == js_DiscardOld &&
        c->Duplicates == 120000 * MS && c->SubjectsLen == 1 && strcmp(c->Subjects[0], "cid.>") == 0;
    uint64_t msgs = si->State.Msgs, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    assert_true(defaults);
    assert_int_equal(msgs, 0);
    assert_int_equal(last, 0);
    js_drop(&j, "CID");
    jerr = 0;
    assert_status(js_GetStreamInfo(&si, j.js, "CID", NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    assert_status(js_DeleteStream(j.js, "CID", NULL, &jerr), NATS_NOT_FOUND);
    interop_js_close(&j);
}

static void
test_update(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"upd.a"};
    const char *two[] = {"upd.a", "upd.b"};
    jsStreamConfig cfg = stream_cfg("UPD", subj);
    js_create(&j, &cfg);
    for (int i = 0; i < 5; i++)
        js_pub(&j, "upd.a", "x", NULL, "UPD");
    cfg.Subjects = two;
    cfg.SubjectsLen = 2;
    cfg.MaxMsgs = 3; /* a tighter limit applies at once */
    jsStreamInfo *si = NULL;
    assert_status(js_UpdateStream(&si, j.js, &cfg, NULL, NULL), NATS_OK);
    assert_int_equal(si->Config->MaxMsgs, 3);
    assert_int_equal(si->Config->SubjectsLen, 2);
    jsStreamInfo_Destroy(si);
    expect_state(&j, "UPD", 3, 3, 5);
    assert_int_equal(js_pub(&j, "upd.b", "y", NULL, "UPD"), 6);
    cfg.Storage = js_MemoryStorage;
    jsErrCode jerr = 0;
    assert_status(js_UpdateStream(&si, j.js, &cfg, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSStreamInvalidConfig);
    expect_last_error("can not change storage type");
    jsStreamConfig missing = stream_cfg("UPD_NONE", subj);
    assert_status(js_UpdateStream(&si, j.js, &missing, NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    js_drop(&j, "UPD");
    interop_js_close(&j);
}

static int
names_has(const jsStreamNamesList *l, const char *name)
{
    for (int i = 0; i < l->Count; i++)
        if (strcmp(l->List[i], name) == 0) return 1;
    return 0;
}

static void
test_names_and_list(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *a[] = {"names.a.>"};
    const char *b[] = {"names.b.*"};
    jsStreamConfig ca = stream_cfg("NAMES_A", a);
    jsStreamConfig cb = stream_cfg("NAMES_B", b);
    js_create(&j, &ca);
    js_create(&j, &cb);
    jsStreamNamesList *names = NULL;
    assert_status(js_StreamNames(&names, j.js, NULL, NULL), NATS_OK);
    int both = names_has(names, "NAMES_A") && names_has(names, "NAMES_B");
    jsStreamNamesList_Destroy(names);
    assert_true(both);
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = "names.b.x";
    assert_status(js_StreamNames(&names, j.js, &o, NULL), NATS_OK);
    int only_b = names->Count == 1 && strcmp(names->List[0], "NAMES_B") == 0;
    jsStreamNamesList_Destroy(names);
    assert_true(only_b);
    jsStreamInfoList *list = NULL;
    o.Stream.Info.SubjectsFilter = "names.a.x.y";
    assert_status(js_Streams(&list, j.js, &o, NULL), NATS_OK);
    int only_a = list->Count == 1 && strcmp(list->List[0]->Config->Name, "NAMES_A") == 0;
    jsStreamInfoList_Destroy(list);
    assert_true(only_a);
    js_drop(&j, "NAMES_A");
    js_drop(&j, "NAMES_B");
    interop_js_close(&j);
}

/* Publishes with acks into a stream of the given storage and reads every message back. */
static void
publish_and_read(jsStorageType storage, const char *name)
{
    struct interop_js j = interop_js_open();
    const char *subj[] = {"pub.>"};
    jsStreamConfig cfg = stream_cfg(name, subj);
    cfg.Storage = storage;
    js_create(&j, &cfg);
    char data[32], subject[32];
    for (uint64_t i = 1; i <= 20; i++) {
        snprintf(subject, sizeof(subject), "pub.%llu", (unsigned long long)(i % 3));
        snprintf(data, sizeof(data), "payload-%llu", (unsigned long long)i);
        assert_int_equal(js_pub(&j, subject, data, NULL, name), i);
    }
    for (uint64_t i = 1; i <= 20; i++) {
        snprintf(subject, sizeof(subject), "pub.%llu", (unsigned long long)(i % 3));
        snprintf(data, sizeof(data), "payload-%llu", (unsigned long long)i);
        expect_stored(&j, name, i, subject, data);
    }
    jsStreamState st = js_state(&j, name);
    assert_int_equal(st.Msgs, 20);
    assert_int_equal(st.NumSubjects, 3);
    assert_true(st.Bytes > 20 * strlen("payload-10"));
    js_drop(&j, name);
    interop_js_close(&j);
}

static void
test_publish_file(void **state)
{
    (void)state;
    publish_and_read(js_FileStorage, "PUB_FILE");
}

static void
test_publish_memory(void **state)
{
    (void)state;
    publish_and_read(js_MemoryStorage, "PUB_MEM");
}

static void
test_publish_async(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"async.x"};
    jsStreamConfig cfg = stream_cfg("ASYNC", subj);
    js_create(&j, &cfg);
    char data[32];
    for (int i = 0; i < 500; i++) {
        snprintf(data, sizeof(data), "a%d", i);
        assert_status(js_PublishAsync(j.js, "async.x", data, (int)strlen(data), NULL), NATS_OK);
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 5000;
    assert_status(js_PublishAsyncComplete(j.js, &po), NATS_OK);
    expect_state(&j, "ASYNC", 500, 1, 500);
    expect_stored(&j, "ASYNC", 1, "async.x", "a0");
    expect_stored(&j, "ASYNC", 500, "async.x", "a499");
    js_drop(&j, "ASYNC");
    interop_js_close(&j);
}

static void
test_msg_id_duplicates(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"dup.x"};
    jsStreamConfig cfg = stream_cfg("DUP", subj);
    js_create(&j, &cfg);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = "id-1";
    assert_int_equal(js_pub(&j, "dup.x", "first", &po, "DUP"), 1);
    po.MsgId = "id-2";
    assert_int_equal(js_pub(&j, "dup.x", "second", &po, "DUP"), 2);
    po.MsgId = "id-1";
    jsPubAck *pa = NULL;
    assert_status(js_Publish(&pa, j.js, "dup.x", "again", 5, &po, NULL), NATS_OK);
    int dup = pa->Duplicate;
    uint64_t seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    assert_true(dup);
    assert_int_equal(seq, 1);
    expect_state(&j, "DUP", 2, 1, 2);
    expect_stored(&j, "DUP", 1, "dup.x", "first");
    js_drop(&j, "DUP");
    interop_js_close(&j);
}

static void
test_duplicate_window(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"dupw.x"};
    jsStreamConfig cfg = stream_cfg("DUPW", subj);
    cfg.Duplicates = 200 * MS;
    js_create(&j, &cfg);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = "once";
    assert_int_equal(js_pub(&j, "dupw.x", "1", &po, "DUPW"), 1);
    jsPubAck *pa = NULL;
    assert_status(js_Publish(&pa, j.js, "dupw.x", "2", 1, &po, NULL), NATS_OK);
    int dup = pa->Duplicate;
    jsPubAck_Destroy(pa);
    assert_true(dup);
    usleep(700 * 1000); /* the window, and the server's sweep of it, have passed */
    assert_int_equal(js_pub(&j, "dupw.x", "3", &po, "DUPW"), 2);
    js_drop(&j, "DUPW");
    interop_js_close(&j);
}

static void
test_expected_headers(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"exp.>"};
    jsStreamConfig cfg = stream_cfg("EXP", subj);
    js_create(&j, &cfg);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = "m1";
    js_pub(&j, "exp.a", "1", &po, "EXP");
    po.MsgId = "m2";
    js_pub(&j, "exp.b", "2", &po, "EXP");
    jsPubOptions_Init(&po);
    po.ExpectStream = "OTHER";
    expect_pub_refused(&j, "exp.a", "x", &po, JSStreamNotMatchErr,
                       "expected stream does not match");
    jsPubOptions_Init(&po);
    po.ExpectLastSeq = 1;
    expect_pub_refused(&j, "exp.a", "x", &po, JSStreamWrongLastSequenceErr,
                       "wrong last sequence: 2");
    jsPubOptions_Init(&po);
    po.ExpectLastSubjectSeq = 2;
    expect_pub_refused(&j, "exp.a", "x", &po, JSStreamWrongLastSequenceErr,
                       "wrong last sequence: 1");
    jsPubOptions_Init(&po);
    po.ExpectLastMsgId = "m1";
    expect_pub_refused(&j, "exp.a", "x", &po, JSStreamWrongLastMsgIDErr, "wrong last msg ID: m2");
    expect_state(&j, "EXP", 2, 1, 2);
    jsPubOptions_Init(&po);
    po.ExpectStream = "EXP";
    po.ExpectLastSeq = 2;
    po.ExpectLastMsgId = "m2";
    assert_int_equal(js_pub(&j, "exp.a", "3", &po, "EXP"), 3);
    jsPubOptions_Init(&po);
    po.ExpectLastSubjectSeq = 3;
    assert_int_equal(js_pub(&j, "exp.a", "4", &po, "EXP"), 4);
    js_drop(&j, "EXP");
    interop_js_close(&j);
}

static void
test_limit_max_msgs_and_bytes(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"lim.n"};
    jsStreamConfig cfg = stream_cfg("LIM_N", subj);
    cfg.MaxMsgs = 5;
    js_create(&j, &cfg);
    for (int i = 1; i <= 12; i++)
        js_pub(&j, "lim.n", "0123456789", NULL, "LIM_N");
    expect_state(&j, "LIM_N", 5, 8, 12);
    js_drop(&j, "LIM_N");
    const char *bsubj[] = {"lim.b"};
    jsStreamConfig bcfg = stream_cfg("LIM_B", bsubj);
    bcfg.MaxBytes = 1000;
    js_create(&j, &bcfg);
    char data[101];
    memset(data, 'b', 100);
    data[100] = '\0';
    for (int i = 1; i <= 30; i++)
        js_pub(&j, "lim.b", data, NULL, "LIM_B");
    jsStreamState st = js_state(&j, "LIM_B");
    assert_true(st.Bytes <= 1000);
    assert_in_range(st.Msgs, 1, 9);
    assert_int_equal(st.LastSeq, 30);
    assert_int_equal(st.FirstSeq, 30 - st.Msgs + 1);
    js_drop(&j, "LIM_B");
    interop_js_close(&j);
}

static void
test_limit_max_age(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"age.x"};
    jsStreamConfig cfg = stream_cfg("AGE", subj);
    cfg.MaxAge = 300 * MS;
    js_create(&j, &cfg);
    for (int i = 0; i < 3; i++)
        js_pub(&j, "age.x", "old", NULL, "AGE");
    assert_int_equal(js_state(&j, "AGE").Msgs, 3);
    int64_t deadline = interop_now_ms() + 3000;
    uint64_t left = 3;
    while (left > 0 && interop_now_ms() < deadline) {
        usleep(50 * 1000);
        left = js_state(&j, "AGE").Msgs;
    }
    assert_int_equal(left, 0);
    expect_state(&j, "AGE", 0, 4, 3);
    assert_int_equal(js_pub(&j, "age.x", "new", NULL, "AGE"), 4);
    js_drop(&j, "AGE");
    interop_js_close(&j);
}

static void
test_limit_max_msg_size(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"size.x"};
    jsStreamConfig cfg = stream_cfg("SIZE", subj);
    cfg.MaxMsgSize = 16;
    js_create(&j, &cfg);
    assert_int_equal(js_pub(&j, "size.x", "0123456789abcdef", NULL, "SIZE"), 1);
    expect_pub_refused(&j, "size.x", "0123456789abcdefg", NULL, JSStreamMessageExceedsMaximumErr,
                       "message size exceeds maximum allowed");
    expect_state(&j, "SIZE", 1, 1, 1);
    js_drop(&j, "SIZE");
    interop_js_close(&j);
}

static void
test_limit_per_subject(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"per.*"};
    jsStreamConfig cfg = stream_cfg("PER", subj);
    cfg.MaxMsgsPerSubject = 2;
    js_create(&j, &cfg);
    const char *order[] = {"per.a", "per.a", "per.b", "per.a", "per.b", "per.b", "per.a"};
    for (int i = 0; i < 7; i++)
        js_pub(&j, order[i], order[i], NULL, "PER");
    /* kept: the newest two of each subject, per.a at 4 and 7, per.b at 5 and 6 */
    jsStreamState st = js_state(&j, "PER");
    assert_int_equal(st.Msgs, 4);
    assert_int_equal(st.FirstSeq, 4);
    expect_gone(&j, "PER", 1);
    expect_gone(&j, "PER", 3);
    expect_stored(&j, "PER", 4, "per.a", "per.a");
    expect_stored(&j, "PER", 5, "per.b", "per.b");
    expect_stored(&j, "PER", 7, "per.a", "per.a");
    js_drop(&j, "PER");
    interop_js_close(&j);
}

static void
test_discard_new(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    const char *subj[] = {"dnew.x"};
    jsStreamConfig cfg = stream_cfg("DNEW", subj);
    cfg.MaxMsgs = 3;
    cfg.Discard = js_DiscardNew;
    js_create(&j, &cfg);
    for (int i = 0; i < 3; i++)
        js_pub(&j, "dnew.x", "keep", NULL, "DNEW");
    expect_pub_refused(&j, "dnew.x", "drop", NULL, JSStreamStoreFailedErr,
                       "maximum messages exceeded");
    expect_state(&j, "DNEW", 3, 1, 3);
    expect_stored(&j, "DNEW", 3, "dnew.x", "keep");
    cfg.MaxMsgs = -1;
    cfg.MaxBytes = 200;
    jsStreamInfo *si = NULL;
    assert_status(js_UpdateStream(&si, j.js, &cfg, NULL, NULL), NATS_OK);
    jsStreamInfo_Destroy(si);
    char data[101];
    memset(data, 'n', 100);
    data[100] = '\0';
    expect_pub_refused(&j, "dnew.x", data, NULL, JSStreamStoreFailedErr, "maximum bytes exceeded");
    expect_state(&j, "DNEW", 3, 1, 3);
    js_drop(&j, "DNEW");
    interop_js_close(&j);
}

/* Stream PURGE_<tag> holds purge.<tag>.a at 1, 3, 5 and purge.<tag>.b at 2, 4, 6. */
static struct interop_js
purge_fixture(const char *stream, const char **subj)
{
    struct interop_js j = interop_js_open();
    jsStreamConfig cfg = stream_cfg(stream, subj);
    js_create(&j, &cfg);
    char subject[64];
    for (int i = 1; i <= 6; i++) {
        snprintf(subject, sizeof(subject), "%.*s%s", (int)strlen(subj[0]) - 1, subj[0],
                 i % 2 ? "a" : "b");
        js_pub(&j, subject, subject, NULL, stream);
    }
    return j;
}

static void
purge_with(struct interop_js *j, const char *stream, const char *subject, uint64_t seq,
           uint64_t keep)
{
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = subject;
    o.Stream.Purge.Sequence = seq;
    o.Stream.Purge.Keep = keep;
    assert_status(js_PurgeStream(j->js, stream, &o, NULL), NATS_OK);
}

static void
test_purge_all(void **state)
{
    (void)state;
    const char *subj[] = {"purge.all.>"};
    struct interop_js j = purge_fixture("PURGE_ALL", subj);
    assert_status(js_PurgeStream(j.js, "PURGE_ALL", NULL, NULL), NATS_OK);
    expect_state(&j, "PURGE_ALL", 0, 7, 6);
    assert_int_equal(js_pub(&j, "purge.all.a", "after", NULL, "PURGE_ALL"), 7);
    js_drop(&j, "PURGE_ALL");
    interop_js_close(&j);
}

static void
test_purge_subject(void **state)
{
    (void)state;
    const char *subj[] = {"purge.subj.>"};
    struct interop_js j = purge_fixture("PURGE_SUBJ", subj);
    purge_with(&j, "PURGE_SUBJ", "purge.subj.a", 0, 0);
    expect_state(&j, "PURGE_SUBJ", 3, 2, 6);
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    assert_status(js_GetLastMsg(&m, j.js, "PURGE_SUBJ", "purge.subj.a", NULL, &jerr),
                  NATS_NOT_FOUND);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    expect_stored(&j, "PURGE_SUBJ", 4, "purge.subj.b", "purge.subj.b");
    js_drop(&j, "PURGE_SUBJ");
    interop_js_close(&j);
}

static void
test_purge_seq_and_keep(void **state)
{
    (void)state;
    const char *subj[] = {"purge.seq.>"};
    struct interop_js j = purge_fixture("PURGE_SEQ", subj);
    purge_with(&j, "PURGE_SEQ", NULL, 3, 0); /* below 3, not 3 itself */
    expect_state(&j, "PURGE_SEQ", 4, 3, 6);
    purge_with(&j, "PURGE_SEQ", "purge.seq.b", 0, 1); /* b keeps only its newest, 6 */
    expect_state(&j, "PURGE_SEQ", 3, 3, 6);
    expect_gone(&j, "PURGE_SEQ", 4);
    purge_with(&j, "PURGE_SEQ", NULL, 0, 1);
    expect_state(&j, "PURGE_SEQ", 1, 6, 6);
    expect_stored(&j, "PURGE_SEQ", 6, "purge.seq.b", "purge.seq.b");
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Sequence = 2;
    o.Stream.Purge.Keep = 1;
    assert_true(js_PurgeStream(j.js, "PURGE_SEQ", &o, NULL) != NATS_OK);
    expect_state(&j, "PURGE_SEQ", 1, 6, 6);
    js_drop(&j, "PURGE_SEQ");
    interop_js_close(&j);
}

static void
test_get_msg(void **state)
{
    (void)state;
    const char *subj[] = {"get.>"};
    struct interop_js j = purge_fixture("GET", subj);
    expect_stored(&j, "GET", 2, "get.b", "get.b");
    natsMsg *m = NULL;
    assert_status(js_GetLastMsg(&m, j.js, "GET", "get.a", NULL, NULL), NATS_OK);
    uint64_t seq = natsMsg_GetSequence(m);
    natsMsg_Destroy(m);
    assert_int_equal(seq, 5);
    expect_gone(&j, "GET", 99);
    jsErrCode jerr = 0;
    assert_status(js_GetLastMsg(&m, j.js, "GET", "get.none", NULL, &jerr), NATS_NOT_FOUND);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    assert_status(js_GetMsg(&m, j.js, "GET_NONE", 1, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    js_drop(&j, "GET");
    interop_js_close(&j);
}

static void
test_delete_and_erase(void **state)
{
    (void)state;
    const char *subj[] = {"del.>"};
    struct interop_js j = purge_fixture("DEL", subj);
    assert_status(js_DeleteMsg(j.js, "DEL", 2, NULL, NULL), NATS_OK);
    assert_status(js_EraseMsg(j.js, "DEL", 4, NULL, NULL), NATS_OK);
    expect_gone(&j, "DEL", 2);
    expect_gone(&j, "DEL", 4);
    jsStreamState st = js_state(&j, "DEL");
    assert_int_equal(st.Msgs, 4);
    assert_int_equal(st.NumDeleted, 2);
    expect_stored(&j, "DEL", 3, "del.a", "del.a");
    jsErrCode jerr = 0;
    /* a sequence already gone: nats-server 2.9.10 says 10043, not the generic 10057 */
    assert_status(js_DeleteMsg(j.js, "DEL", 2, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSSequenceNotFoundErr);
    expect_last_error("sequence 2 not found");
    js_drop(&j, "DEL");
    const char *dsubj[] = {"deny.x"};
    jsStreamConfig cfg = stream_cfg("DENY", dsubj);
    cfg.DenyDelete = true;
    js_create(&j, &cfg);
    js_pub(&j, "deny.x", "stays", NULL, "DENY");
    assert_status(js_DeleteMsg(j.js, "DENY", 1, NULL, &jerr), NATS_ERR);
    assert_int_equal(jerr, JSStreamMsgDeleteFailed);
    expect_last_error("message delete not permitted");
    expect_stored(&j, "DENY", 1, "deny.x", "stays");
    js_drop(&j, "DENY");
    interop_js_close(&j);
}

static void
expect_kv(kvStore *kv, const char *key, const char *value, uint64_t revision)
{
    kvEntry *e = NULL;
    assert_status(kvStore_Get(&e, kv, key), NATS_OK);
    char got[64];
    snprintf(got, sizeof(got), "%s", kvEntry_ValueString(e));
    uint64_t rev = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    assert_string_equal(got, value);
    assert_int_equal(rev, revision);
}

static void
expect_kv_missing(kvStore *kv, const char *key)
{
    kvEntry *e = NULL;
    assert_status(kvStore_Get(&e, kv, key), NATS_NOT_FOUND);
    assert_null(e);
}

static void
test_kv(void **state)
{
    (void)state;
    struct interop_js j = interop_js_open();
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = "interop";
    kc.History = 3;
    kvStore *kv = NULL;
    assert_status(js_CreateKeyValue(&kv, j.js, &kc), NATS_OK);
    uint64_t rev = 0;
    assert_status(kvStore_PutString(&rev, kv, "k1", "v1"), NATS_OK);
    assert_int_equal(rev, 1);
    assert_status(kvStore_PutString(&rev, kv, "k2", "other"), NATS_OK);
    assert_status(kvStore_PutString(&rev, kv, "k1", "v2"), NATS_OK);
    assert_int_equal(rev, 3);
    expect_kv(kv, "k1", "v2", 3);
    assert_true(kvStore_CreateString(&rev, kv, "k1", "no") != NATS_OK);
    assert_status(kvStore_CreateString(&rev, kv, "k3", "new"), NATS_OK);
    assert_int_equal(rev, 4);
    assert_true(kvStore_UpdateString(&rev, kv, "k1", "stale", 1) != NATS_OK);
    assert_status(kvStore_UpdateString(&rev, kv, "k1", "v3", 3), NATS_OK);
    assert_int_equal(rev, 5);
    kvStore *again = NULL;
    assert_status(js_KeyValue(&again, j.js, "interop"), NATS_OK);
    expect_kv(again, "k1", "v3", 5);
    expect_kv(again, "k2", "other", 2);
    kvStore_Destroy(again);
    assert_status(kvStore_Delete(kv, "k2"), NATS_OK);
    expect_kv_missing(kv, "k2");
    assert_status(kvStore_CreateString(&rev, kv, "k2", "reborn"), NATS_OK);
    expect_kv(kv, "k2", "reborn", rev);
    assert_status(kvStore_Purge(kv, "k1", NULL), NATS_OK);
    expect_kv_missing(kv, "k1");
    expect_gone(&j, "KV_interop", 5); /* the purge marker rolled up every older k1 revision */
    expect_kv_missing(kv, "never");
    kvStore_Destroy(kv);
    assert_status(js_DeleteKeyValue(j.js, "interop"), NATS_OK);
    interop_js_close(&j);
}

int
interop_run_js(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_info_delete), cmocka_unit_test(test_update),
        cmocka_unit_test(test_names_and_list),     cmocka_unit_test(test_publish_file),
        cmocka_unit_test(test_publish_memory),     cmocka_unit_test(test_publish_async),
        cmocka_unit_test(test_msg_id_duplicates),  cmocka_unit_test(test_duplicate_window),
        cmocka_unit_test(test_expected_headers),   cmocka_unit_test(test_limit_max_msgs_and_bytes),
        cmocka_unit_test(test_limit_max_age),      cmocka_unit_test(test_limit_max_msg_size),
        cmocka_unit_test(test_limit_per_subject),  cmocka_unit_test(test_discard_new),
        cmocka_unit_test(test_purge_all),          cmocka_unit_test(test_purge_subject),
        cmocka_unit_test(test_purge_seq_and_keep), cmocka_unit_test(test_get_msg),
        cmocka_unit_test(test_delete_and_erase),   cmocka_unit_test(test_kv),
    };
    return cmocka_run_group_tests_name("js", tests, NULL, NULL);
}
