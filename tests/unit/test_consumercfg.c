/*
 * Consumer configurations (libbroker/nb_consumercfg.c): echoes as nats-server 2.9.10 sends them
 * (captured from the Debian binary), every refusal with its code and text, the enums, the update
 * rules, comparison, copies and filter matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb_consumercfg.h"

static struct nb_stream_config plain, workqueue, limited;

static void
stream(struct nb_stream_config *cfg, const char *json)
{
    struct nb_jserr err;
    if (nb_streamcfg_parse(cfg, json, strlen(json), &err) != 0) fail_msg("%s", err.description);
}

static int
setup(void **state)
{
    (void)state;
    stream(&plain, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
    stream(&workqueue, "{\"name\":\"WQ\",\"subjects\":[\"wq.>\"],\"retention\":\"workqueue\"}");
    stream(&limited, "{\"name\":\"CL\",\"subjects\":[\"cl.>\"],\"consumer_limits\":"
                     "{\"inactive_threshold\":90000000000,\"max_ack_pending\":77}}");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    nb_streamcfg_release(&plain);
    nb_streamcfg_release(&workqueue);
    nb_streamcfg_release(&limited);
    return 0;
}

static int
parse(struct nb_consumer_config *cfg, const char *json, const struct nb_stream_config *s,
      struct nb_jserr *err)
{
    cJSON *obj = cJSON_Parse(json);
    if (!obj) fail_msg("test JSON does not parse: %s", json);
    int rc = nb_consumercfg_from_json(cfg, obj, s, err);
    cJSON_Delete(obj);
    return rc;
}

static void
parse_ok(struct nb_consumer_config *cfg, const char *json, const struct nb_stream_config *s)
{
    struct nb_jserr err = {0};
    if (parse(cfg, json, s, &err) != 0)
        fail_msg("%s: %d %d %s", json, err.code, err.err_code, err.description);
}

static void
assert_echo_on(const struct nb_stream_config *s, const char *json, const char *want)
{
    struct nb_consumer_config cfg;
    parse_ok(&cfg, json, s);
    cJSON *obj = nb_consumercfg_to_json(&cfg);
    assert_non_null(obj);
    char *got = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    nb_consumercfg_release(&cfg);
    if (strcmp(got, want) != 0) fail_msg("%s\n got  %s\n want %s", json, got, want);
    free(got);
}

static void
assert_echo(const char *json, const char *want)
{
    assert_echo_on(&plain, json, want);
}

static void
assert_refused_on(const struct nb_stream_config *s, const char *json, int code, int err_code,
                  const char *text)
{
    struct nb_consumer_config cfg;
    struct nb_jserr err = {0};
    assert_int_equal(parse(&cfg, json, s, &err), -1);
    if (err.err_code != err_code || (text && strcmp(err.description, text) != 0))
        fail_msg("%s: got %d %s", json, err.err_code, err.description);
    assert_int_equal(err.code, code);
}

static void
assert_refused(const char *json, int err_code, const char *text)
{
    assert_refused_on(&plain, json, 400, err_code, text);
}

/* The three shapes clients send most, byte for byte as 2.9.10 echoed them. */
static void
test_default_echoes(void **state)
{
    (void)state;
    /* nats.c js_PullSubscribe durable. */
    assert_echo("{\"durable_name\":\"pd\",\"ack_policy\":\"explicit\",\"deliver_policy\":\"all\","
                "\"replay_policy\":\"instant\"}",
                "{\"durable_name\":\"pd\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\","
                "\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\","
                "\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}");
    /* Push ephemeral. */
    assert_echo("{\"deliver_subject\":\"push.1\",\"ack_policy\":\"explicit\"}",
                "{\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":30000000000,"
                "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_ack_pending\":1000,"
                "\"deliver_subject\":\"push.1\",\"inactive_threshold\":5000000000,"
                "\"num_replicas\":0}");
    /* nats.c ordered push consumer (spec 5.5). */
    assert_echo(
        "{\"deliver_subject\":\"push.2\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
        "\"max_deliver\":1,\"ack_wait\":86400000000000,\"idle_heartbeat\":5000000000,"
        "\"flow_control\":true,\"mem_storage\":true,\"num_replicas\":1,"
        "\"replay_policy\":\"instant\"}",
        "{\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"ack_wait\":86400000000000,"
        "\"max_deliver\":1,\"replay_policy\":\"instant\",\"idle_heartbeat\":5000000000,"
        "\"flow_control\":true,\"deliver_subject\":\"push.2\","
        "\"inactive_threshold\":5000000000,\"num_replicas\":1,\"mem_storage\":true}");
    assert_echo("{}", "{\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
                      "\"replay_policy\":\"instant\",\"max_waiting\":512,"
                      "\"inactive_threshold\":5000000000,\"num_replicas\":0}");
    assert_echo("{\"durable_name\":\"pn\"}",
                "{\"durable_name\":\"pn\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
                "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,"
                "\"num_replicas\":0}");
    assert_echo("{\"durable_name\":\"pa\",\"ack_policy\":\"all\"}",
                "{\"durable_name\":\"pa\",\"deliver_policy\":\"all\",\"ack_policy\":\"all\","
                "\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\","
                "\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}");
}

/* Every field set, in the order 2.9.10 writes them; 2.10's keys come last. */
static void
test_full_echoes(void **state)
{
    (void)state;
    assert_echo(
        "{\"name\":\"full\",\"durable_name\":\"full\",\"description\":\"d\","
        "\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2023-01-02T02:04:05."
        "123456789Z\","
        "\"ack_policy\":\"explicit\",\"ack_wait\":1000,\"max_deliver\":5,"
        "\"backoff\":[1000000000,2000000000],\"filter_subject\":\"s.a\","
        "\"replay_policy\":\"original\",\"sample_freq\":\"50%\",\"max_waiting\":10,"
        "\"max_ack_pending\":5,\"headers_only\":true,\"max_batch\":3,\"max_expires\":4000000000,"
        "\"max_bytes\":1000,\"inactive_threshold\":9000000000,\"num_replicas\":1,"
        "\"mem_storage\":true}",
        "{\"durable_name\":\"full\",\"name\":\"full\",\"description\":\"d\","
        "\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2023-01-02T02:04:05."
        "123456789Z\","
        "\"ack_policy\":\"explicit\",\"ack_wait\":1000000000,\"max_deliver\":5,"
        "\"backoff\":[1000000000,2000000000],\"filter_subject\":\"s.a\","
        "\"replay_policy\":\"original\",\"sample_freq\":\"50%\",\"max_waiting\":10,"
        "\"max_ack_pending\":5,\"headers_only\":true,\"max_batch\":3,\"max_expires\":4000000000,"
        "\"max_bytes\":1000,\"inactive_threshold\":9000000000,\"num_replicas\":1,"
        "\"mem_storage\":true}");
    assert_echo(
        "{\"durable_name\":\"u2\",\"ack_policy\":\"explicit\",\"deliver_subject\":\"ds.u2b\","
        "\"idle_heartbeat\":1000000000,\"flow_control\":true,"
        "\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":5,"
        "\"deliver_group\":\"gg\",\"rate_limit_bps\":5}",
        "{\"durable_name\":\"u2\",\"deliver_policy\":\"by_start_sequence\","
        "\"opt_start_seq\":5,\"ack_policy\":\"explicit\",\"ack_wait\":30000000000,"
        "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"rate_limit_bps\":5,"
        "\"max_ack_pending\":1000,\"idle_heartbeat\":1000000000,\"flow_control\":true,"
        "\"deliver_subject\":\"ds.u2b\",\"deliver_group\":\"gg\",\"num_replicas\":0}");
    /* A KV watcher (nats.js): last per subject, headers only. */
    assert_echo(
        "{\"name\":\"w\",\"deliver_policy\":\"last_per_subject\",\"filter_subject\":\"s.>\","
        "\"ack_policy\":\"none\",\"headers_only\":true,\"deliver_subject\":\"_INBOX.w.1\","
        "\"flow_control\":true,\"idle_heartbeat\":5000000000,"
        "\"filter_subjects\":[],\"metadata\":{\"k\":\"v\"}}",
        "{\"name\":\"w\",\"deliver_policy\":\"last_per_subject\",\"ack_policy\":\"none\","
        "\"max_deliver\":-1,\"filter_subject\":\"s.>\",\"replay_policy\":\"instant\","
        "\"idle_heartbeat\":5000000000,\"flow_control\":true,\"headers_only\":true,"
        "\"deliver_subject\":\"_INBOX.w.1\",\"inactive_threshold\":5000000000,"
        "\"num_replicas\":0,\"metadata\":{\"k\":\"v\"}}");
    assert_echo("{\"durable_name\":\"m\",\"filter_subjects\":[\"s.a\",\"s.b.*\"]}",
                "{\"durable_name\":\"m\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
                "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,"
                "\"num_replicas\":0,\"filter_subjects\":[\"s.a\",\"s.b.*\"]}");
}

static void
test_normalisation(void **state)
{
    (void)state;
    /* 0 and below -1 mean unlimited; backoff sets ack_wait; "" is absent. */
    assert_echo("{\"durable_name\":\"d\",\"max_deliver\":-7,\"max_ack_pending\":-5,"
                "\"ack_policy\":\"all\",\"description\":\"\",\"deliver_subject\":\"\","
                "\"deliver_policy\":\"undefined\",\"inactive_threshold\":-3,\"backoff\":[]}",
                "{\"durable_name\":\"d\",\"deliver_policy\":\"all\",\"ack_policy\":\"all\","
                "\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\","
                "\"max_waiting\":512,\"max_ack_pending\":-1,\"num_replicas\":0}");
    assert_echo("{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"max_deliver\":2,"
                "\"backoff\":[5000000000]}",
                "{\"durable_name\":\"d\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\","
                "\"ack_wait\":5000000000,\"max_deliver\":2,\"backoff\":[5000000000],"
                "\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,"
                "\"num_replicas\":0}");
    /* ack_wait given with ack none is kept, as 2.9.10 echoes it. */
    assert_echo("{\"durable_name\":\"d\",\"ack_wait\":5,\"max_ack_pending\":10}",
                "{\"durable_name\":\"d\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
                "\"ack_wait\":5,\"max_deliver\":-1,\"replay_policy\":\"instant\","
                "\"max_waiting\":512,\"max_ack_pending\":10,\"num_replicas\":0}");
    /* Exact 64-bit values both ways. */
    assert_echo("{\"durable_name\":\"d\",\"deliver_policy\":\"by_start_sequence\","
                "\"opt_start_seq\":9007199254740993,\"max_deliver\":1}",
                "{\"durable_name\":\"d\",\"deliver_policy\":\"by_start_sequence\","
                "\"opt_start_seq\":9007199254740992,\"ack_policy\":\"none\",\"max_deliver\":1,"
                "\"replay_policy\":\"instant\",\"max_waiting\":512,\"num_replicas\":0}");
    /* Unknown keys and the 2.11 keys left blank are ignored. */
    assert_echo("{\"durable_name\":\"d\",\"whatever\":[1],\"priority_policy\":\"none\","
                "\"priority_groups\":[],\"pause_until\":null}",
                "{\"durable_name\":\"d\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
                "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,"
                "\"num_replicas\":0}");
}

static void
test_stream_consumer_limits(void **state)
{
    (void)state;
    assert_echo_on(&limited, "{\"ack_policy\":\"explicit\"}",
                   "{\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\","
                   "\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\","
                   "\"max_waiting\":512,\"max_ack_pending\":77,\"inactive_threshold\":90000000000,"
                   "\"num_replicas\":0}");
    assert_refused_on(&limited, "{\"ack_policy\":\"explicit\",\"max_ack_pending\":78}", 400, 10121,
                      "consumer max ack pending exceeds system limit of 77");
    assert_refused_on(&limited, "{\"inactive_threshold\":90000000001}", 400, 10153,
                      "consumer inactive threshold exceeds system limit of 1m30s");
}

static void
test_enums(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"deliver_policy\":\"sometimes\"}",
        "{\"ack_policy\":\"sometimes\"}",
        "{\"replay_policy\":\"sometimes\"}",
        "{\"ack_policy\":null}",
        "{\"deliver_policy\":1}",
        "{\"ack_wait\":\"5s\"}",
        "{\"opt_start_time\":\"garbage\"}",
        "{\"backoff\":[1.5]}",
        "{\"max_deliver\":1e300}",
        "{\"opt_start_seq\":-1}",
        "{\"filter_subjects\":\"s.a\"}",
        "{\"metadata\":{\"a\":1}}",
        "{\"flow_control\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i], 10025, NULL);
    struct nb_consumer_config cfg;
    parse_ok(&cfg,
             "{\"deliver_policy\":\"last_per_subject\",\"filter_subject\":\"s.a\","
             "\"ack_policy\":\"all\",\"replay_policy\":\"original\"}",
             &plain);
    assert_int_equal(cfg.deliver_policy, NB_DELIVER_LAST_PER_SUBJECT);
    assert_int_equal(cfg.ack_policy, NB_ACK_ALL);
    assert_int_equal(cfg.replay_policy, NB_REPLAY_ORIGINAL);
    nb_consumercfg_release(&cfg);
}

static void
test_policy_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"{\"deliver_policy\":\"by_start_sequence\"}",
         "consumer delivery policy is deliver by start sequence, but optional start sequence is "
         "not set"},
        {"{\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":0}",
         "consumer delivery policy is deliver by start sequence, but optional start sequence is "
         "not set"},
        {"{\"deliver_policy\":\"by_start_time\"}",
         "consumer delivery policy is deliver by start time, but optional start time is not set"},
        {"{\"deliver_policy\":\"all\",\"opt_start_seq\":3}",
         "consumer delivery policy is deliver all, but optional start sequence is also set"},
        {"{\"deliver_policy\":\"new\",\"opt_start_time\":\"2023-01-02T03:04:05Z\"}",
         "consumer delivery policy is deliver new, but optional start time is also set"},
        {"{\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":3,"
         "\"opt_start_time\":\"2023-01-02T03:04:05Z\"}",
         "consumer delivery policy is deliver by start sequence, but optional start time is also "
         "set"},
        {"{\"deliver_policy\":\"by_start_time\",\"opt_start_seq\":3,"
         "\"opt_start_time\":\"2023-01-02T03:04:05Z\"}",
         "consumer delivery policy is deliver by start time, but optional start start sequence is "
         "also set"},
        {"{\"deliver_policy\":\"last\",\"opt_start_seq\":3}",
         "consumer delivery policy is deliver last, but optional start sequence is also set"},
        {"{\"deliver_policy\":\"last_per_subject\",\"opt_start_time\":\"2023-01-02T03:04:05Z\"}",
         "consumer delivery policy is deliver last per subject, but optional start time is also "
         "set"},
        {"{\"deliver_policy\":\"last_per_subject\"}",
         "consumer delivery policy is deliver last per subject, but optional filter subject is "
         "not set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_refused(cases[i].json, 10094, cases[i].text);
}

static void
test_validation_errors(void **state)
{
    (void)state;
    assert_refused("{\"deliver_subject\":\"ds.*\"}", 10079,
                   "consumer deliver subject has wildcards");
    assert_refused("{\"deliver_subject\":\"ds..x\"}", 10112,
                   "invalid push consumer deliver subject");
    assert_refused("{\"deliver_subject\":\"s.x\"}", 10081,
                   "consumer deliver subject forms a cycle");
    assert_refused("{\"deliver_subject\":\"ds.z\",\"max_waiting\":5}", 10080,
                   "consumer in push mode can not set max waiting");
    assert_refused("{\"deliver_subject\":\"ds.z\",\"max_ack_pending\":10}", 10082,
                   "consumer requires ack policy for max ack pending");
    assert_refused("{\"deliver_subject\":\"ds.z\",\"idle_heartbeat\":50000000}", 10083,
                   "consumer idle heartbeat needs to be >= 100ms");
    assert_refused("{\"idle_heartbeat\":500000000}", 10088,
                   "consumer idle heartbeat requires a push based consumer");
    assert_refused("{\"flow_control\":true}", 10089,
                   "consumer flow control requires a push based consumer");
    assert_refused("{\"deliver_subject\":\"ds.z\",\"flow_control\":true}", 10108,
                   "consumer with flow control also needs heartbeats");
    assert_refused("{\"rate_limit_bps\":100}", 10086,
                   "consumer in pull mode can not have rate limit set");
    assert_refused("{\"max_waiting\":-3}", 10087, "consumer max waiting needs to be positive");
    assert_refused("{\"max_batch\":-1}", 10114, "consumer max request batch needs to be > 0");
    assert_refused("{\"max_expires\":5}", 10115, "consumer max request expires needs to be >= 1ms");
    assert_refused("{\"sample_freq\":\"abc\"}", 10095,
                   "failed to parse consumer sampling configuration: strconv.Atoi: parsing "
                   "\"abc\": invalid syntax");
    assert_refused("{\"ack_policy\":\"explicit\",\"max_deliver\":3,\"backoff\":[1,2,3]}", 10116,
                   "max deliver is required to be > length of backoff values");
    assert_refused("{\"num_replicas\":-1}", 10133, "replicas count cannot be negative");
    assert_refused_on(&plain, "{\"num_replicas\":3}", 500, 10074,
                      "replicas > 1 not supported in non-clustered mode");
    assert_refused("{\"filter_subject\":\"s.a\",\"filter_subjects\":[\"s.b\"]}", 10136,
                   "consumer cannot have both FilterSubject and FilterSubjects specified");
    assert_refused("{\"filter_subjects\":[\"s.*\",\"s.b\"]}", 10138,
                   "consumer subject filters cannot overlap");
    assert_refused("{\"filter_subjects\":[\"s.a\",\"\"]}", 10139,
                   "consumer filter in FilterSubjects cannot be empty");
    assert_refused("{\"filter_subject\":\"s..x\"}", 10093,
                   "consumer filter subject is not a valid subset of the interest subjects");
    assert_refused_on(&plain, "{\"priority_groups\":[\"a\"]}", 500, 10012,
                      "priority_groups is not supported by natsctl");
    assert_refused_on(&plain, "{\"pause_until\":\"2030-01-01T00:00:00Z\"}", 500, 10012,
                      "pause_until is not supported by natsctl");
}

static void
test_name_errors(void **state)
{
    (void)state;
    const char *bad[] = {"a.b", "a*b", "a>b", "a b", "a\tb"};
    char json[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "{\"durable_name\":\"%s\"}", bad[i]);
        assert_refused(json, 10103, "durable name can not contain '.', '*', '>'");
        snprintf(json, sizeof json, "{\"name\":\"%s\"}", bad[i]);
        assert_refused(json, 10103, NULL);
    }
    assert_refused("{\"durable_name\":\"a/b\"}", 10127,
                   "Consumer name can not contain path separators");
    assert_refused("{\"name\":\"a\\\\b\"}", 10127, NULL);
    assert_refused("{\"name\":\"a\",\"durable_name\":\"b\"}", 10132,
                   "Consumer Durable and Name have to be equal if both are provided");
    char long_name[300] = "{\"durable_name\":\"";
    memset(long_name + strlen(long_name), 'n', 256);
    strcat(long_name, "\"}");
    assert_refused(long_name, 10102, "consumer name is too long, maximum allowed is 255");
}

static void
test_workqueue(void **state)
{
    (void)state;
    assert_refused_on(&workqueue, "{\"ack_policy\":\"none\"}", 400, 10084,
                      "consumer in pull mode requires explicit ack policy on workqueue stream");
    assert_refused_on(&workqueue, "{\"ack_policy\":\"all\"}", 400, 10098,
                      "workqueue stream requires explicit ack");
    assert_refused_on(&workqueue, "{\"deliver_subject\":\"ds.w\"}", 400, 10098, NULL);
    assert_refused_on(&workqueue, "{\"ack_policy\":\"explicit\",\"deliver_policy\":\"new\"}", 400,
                      10101, "consumer must be deliver all on workqueue stream");
    struct nb_consumer_config cfg;
    parse_ok(&cfg, "{\"durable_name\":\"w\",\"ack_policy\":\"explicit\"}", &workqueue);
    nb_consumercfg_release(&cfg);
}

static void
assert_update(const char *old_json, const char *new_json, const char *text)
{
    struct nb_consumer_config old, new_cfg;
    struct nb_jserr err = {0};
    parse_ok(&old, old_json, &plain);
    parse_ok(&new_cfg, new_json, &plain);
    int rc = nb_consumercfg_check_update(&old, &new_cfg, &err);
    if (!text) {
        if (rc != 0) fail_msg("%s -> %s: %s", old_json, new_json, err.description);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, 500);
        assert_int_equal(err.err_code, 10012);
        assert_string_equal(err.description, text);
    }
    nb_consumercfg_release(&old);
    nb_consumercfg_release(&new_cfg);
}

#define PUSH "{\"durable_name\":\"u\",\"deliver_subject\":\"ds.u\",\"idle_heartbeat\":1000000000,"

static void
test_update_rules(void **state)
{
    (void)state;
    const char *base = "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\"}";
    assert_update(base, "{\"durable_name\":\"u\",\"ack_policy\":\"all\"}",
                  "ack policy can not be updated");
    assert_update(base,
                  "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"deliver_policy\":\"new\"}",
                  "deliver policy can not be updated");
    assert_update(
        base, "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"replay_policy\":\"original\"}",
        "replay policy can not be updated");
    assert_update(base, "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"mem_storage\":true}",
                  "storage type can not be updated");
    assert_update(base, "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"max_waiting\":7}",
                  "max waiting can not be updated");
    assert_update(
        base, "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"deliver_subject\":\"ds.u\"}",
        "max waiting can not be updated");
    assert_update(PUSH "\"flow_control\":true}", PUSH "\"flow_control\":false}",
                  "flow control can not be updated");
    assert_update(
        PUSH "\"flow_control\":true}",
        "{\"durable_name\":\"u\",\"deliver_subject\":\"ds.u\",\"idle_heartbeat\":2000000000}",
        "heart beats can not be updated");
    assert_update("{\"durable_name\":\"u\",\"deliver_subject\":\"ds.u\"}",
                  "{\"durable_name\":\"u\",\"max_waiting\":0}", "max waiting can not be updated");
    assert_update(PUSH "\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":5}",
                  PUSH "\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":6}",
                  "start sequence can not be updated");
    assert_update("{\"durable_name\":\"u\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
                  "\"2023-01-02T03:04:05Z\"}",
                  "{\"durable_name\":\"u\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
                  "\"2023-01-02T03:04:06Z\"}",
                  "start time can not be updated");
    /* The same start time spelled in another zone is no change. */
    assert_update("{\"durable_name\":\"u\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
                  "\"2023-01-02T03:04:05Z\"}",
                  "{\"durable_name\":\"u\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
                  "\"2023-01-02T04:04:05+01:00\"}",
                  NULL);
    assert_update(base,
                  "{\"durable_name\":\"u\",\"ack_policy\":\"explicit\",\"ack_wait\":7000000000,"
                  "\"max_deliver\":9,\"max_ack_pending\":9,\"description\":\"dd\","
                  "\"headers_only\":true,\"max_batch\":4,\"max_expires\":5000000000,"
                  "\"max_bytes\":9,\"filter_subject\":\"s.b\",\"sample_freq\":\"10\","
                  "\"inactive_threshold\":60000000000,\"backoff\":[1000000000],"
                  "\"metadata\":{\"a\":\"b\"}}",
                  NULL);
    /* The caller decides about interest on the old deliver subject. */
    assert_update(
        PUSH "\"flow_control\":true}",
        "{\"durable_name\":\"u\",\"deliver_subject\":\"ds.v\",\"idle_heartbeat\":1000000000,"
        "\"flow_control\":true}",
        NULL);
}

static void
test_equal_and_copy(void **state)
{
    (void)state;
    struct nb_consumer_config a, b, c;
    const char *json = "{\"durable_name\":\"e\",\"ack_policy\":\"explicit\",\"backoff\":[1,2],"
                       "\"max_deliver\":5,\"filter_subjects\":[\"s.a\",\"s.b\"],"
                       "\"metadata\":{\"x\":\"y\"},\"description\":\"d\","
                       "\"deliver_policy\":\"by_start_time\","
                       "\"opt_start_time\":\"2023-01-02T03:04:05Z\",\"sample_freq\":\"5%\"}";
    parse_ok(&a, json, &plain);
    assert_int_equal(nb_consumercfg_copy(&b, &a), 0);
    assert_true(nb_consumercfg_equal(&a, &b));
    parse_ok(&c, "{\"durable_name\":\"e\",\"ack_policy\":\"explicit\"}", &plain);
    assert_false(nb_consumercfg_equal(&a, &c));
    nb_consumercfg_release(&c);
    parse_ok(&c,
             "{\"durable_name\":\"e\",\"ack_policy\":\"explicit\",\"backoff\":[1,3],"
             "\"max_deliver\":5,\"filter_subjects\":[\"s.a\",\"s.b\"],"
             "\"metadata\":{\"x\":\"y\"},\"description\":\"d\","
             "\"deliver_policy\":\"by_start_time\","
             "\"opt_start_time\":\"2023-01-02T03:04:05Z\",\"sample_freq\":\"5%\"}",
             &plain);
    assert_false(nb_consumercfg_equal(&a, &c));
    nb_consumercfg_release(&c);
    /* Explicit defaults equal omitted ones (create of an existing consumer). */
    parse_ok(&c,
             "{\"durable_name\":\"e\",\"ack_policy\":\"explicit\",\"ack_wait\":30000000000,"
             "\"max_waiting\":512,\"max_ack_pending\":1000,\"max_deliver\":0}",
             &plain);
    struct nb_consumer_config d;
    parse_ok(&d, "{\"durable_name\":\"e\",\"ack_policy\":\"explicit\"}", &plain);
    assert_true(nb_consumercfg_equal(&c, &d));
    nb_consumercfg_release(&c);
    nb_consumercfg_release(&d);
    nb_consumercfg_release(&b);
    nb_consumercfg_release(&a);
}

static bool
matches(const struct nb_consumer_config *cfg, const char *subject)
{
    return nb_consumercfg_matches(cfg, subject, strlen(subject));
}

static void
test_matches(void **state)
{
    (void)state;
    struct nb_consumer_config cfg;
    parse_ok(&cfg, "{}", &plain);
    assert_true(matches(&cfg, "s.anything"));
    nb_consumercfg_release(&cfg);
    parse_ok(&cfg, "{\"filter_subject\":\">\"}", &plain);
    assert_true(matches(&cfg, "s.a.b"));
    nb_consumercfg_release(&cfg);
    parse_ok(&cfg, "{\"filter_subject\":\"s.*.x\"}", &plain);
    assert_true(matches(&cfg, "s.a.x"));
    assert_false(matches(&cfg, "s.a.y"));
    assert_false(matches(&cfg, "s.a"));
    nb_consumercfg_release(&cfg);
    parse_ok(&cfg, "{\"filter_subjects\":[\"s.a\",\"s.b.>\"]}", &plain);
    assert_true(matches(&cfg, "s.a"));
    assert_true(matches(&cfg, "s.b.c.d"));
    assert_false(matches(&cfg, "s.b"));
    assert_false(matches(&cfg, "s.c"));
    /* The length bounds the subject: no NUL is needed. */
    assert_true(nb_consumercfg_matches(&cfg, "s.a.zzz", 3));
    nb_consumercfg_release(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_echoes),
        cmocka_unit_test(test_full_echoes),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_stream_consumer_limits),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_name_errors),
        cmocka_unit_test(test_workqueue),
        cmocka_unit_test(test_update_rules),
        cmocka_unit_test(test_equal_and_copy),
        cmocka_unit_test(test_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
