/*
 * Stream configurations (libbroker/nb_streamcfg.c): defaults and echo as nats-server 2.9.10 sends
 * them (checked against the Debian binary), every refusal with its code and text, comparison and
 * the update rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb_streamcfg.h"

#define DEFAULTS_TAIL                                                                              \
    "\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_bytes\":-1,"              \
    "\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","           \
    "\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":120000000000,"                   \
    "\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,"       \
    "\"deny_purge\":false,\"allow_rollup_hdrs\":false,\"compression\":\"none\"}"

static void
parse_ok(struct nb_stream_config *cfg, const char *json)
{
    struct nb_jserr err = {0};
    int rc = nb_streamcfg_parse(cfg, json, strlen(json), &err);
    if (rc != 0) fail_msg("%s: %d %d %s", json, err.code, err.err_code, err.description);
}

/* The echo of json, compact. */
static char *
echo(const char *json)
{
    struct nb_stream_config cfg;
    parse_ok(&cfg, json);
    cJSON *obj = nb_streamcfg_to_json(&cfg);
    assert_non_null(obj);
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    nb_streamcfg_release(&cfg);
    return text;
}

static void
assert_echo(const char *json, const char *want)
{
    char *got = echo(json);
    assert_string_equal(got, want);
    free(got);
}

static void
assert_refused(const char *json, int code, int err_code, const char *text)
{
    struct nb_stream_config cfg;
    struct nb_jserr err = {0};
    assert_int_equal(nb_streamcfg_parse(&cfg, json, strlen(json), &err), -1);
    if (err.err_code != err_code || (text && strcmp(err.description, text) != 0))
        fail_msg("%s: got %d %s", json, err.err_code, err.description);
    assert_int_equal(err.code, code);
}

static void
test_defaults_echo(void **state)
{
    (void)state;
    assert_echo("{\"name\":\"A\"}", "{\"name\":\"A\",\"subjects\":[\"A\"]," DEFAULTS_TAIL);
    assert_echo("{\"name\":\"ORDERS\",\"subjects\":[\"orders.>\"],\"description\":\"\"}",
                "{\"name\":\"ORDERS\",\"subjects\":[\"orders.>\"]," DEFAULTS_TAIL);
    assert_echo("{\"name\":\"A\",\"subjects\":[],\"sources\":[],\"placement\":{\"cluster\":\"\"},"
                "\"unknown\":{\"x\":1},\"max_msgs\":null,\"compression\":\"\"}",
                "{\"name\":\"A\",\"subjects\":[\"A\"]," DEFAULTS_TAIL);
}

static void
test_normalisation(void **state)
{
    (void)state;
    struct nb_stream_config cfg;
    parse_ok(&cfg, "{\"name\":\"J\",\"max_msgs\":0,\"max_bytes\":-7,\"max_consumers\":0,"
                   "\"max_msg_size\":0,\"max_msgs_per_subject\":-3,\"num_replicas\":0}");
    assert_int_equal(cfg.max_msgs, -1);
    assert_int_equal(cfg.max_bytes, -1);
    assert_int_equal(cfg.max_consumers, -1);
    assert_int_equal(cfg.max_msg_size, -1);
    assert_int_equal(cfg.max_msgs_per_subject, -1);
    assert_int_equal(cfg.num_replicas, 1);
    assert_int_equal(cfg.storage, NB_STORE_FILE);
    nb_streamcfg_release(&cfg);

    parse_ok(&cfg, "{\"name\":\"X\",\"max_age\":1000000000}");
    assert_int_equal(cfg.duplicate_window, 1000000000);
    nb_streamcfg_release(&cfg);
    parse_ok(&cfg, "{\"name\":\"X\",\"max_age\":3600000000000}");
    assert_int_equal(cfg.duplicate_window, 120000000000LL);
    nb_streamcfg_release(&cfg);
}

static void
test_full_echo(void **state)
{
    (void)state;
    assert_echo("{\"name\":\"KV_b\",\"description\":\"d\",\"subjects\":[\"$KV.b.>\"],"
                "\"retention\":\"workqueue\",\"storage\":\"memory\",\"discard\":\"new\","
                "\"max_msgs_per_subject\":5,\"allow_rollup_hdrs\":true,\"deny_delete\":true,"
                "\"allow_direct\":true,\"no_ack\":true,\"discard_new_per_subject\":true,"
                "\"max_age\":315360000000000000,\"max_bytes\":9007199254740992,\"first_seq\":7,"
                "\"metadata\":{\"a\":\"b\"},\"consumer_limits\":{\"inactive_threshold\":5000000000,"
                "\"max_ack_pending\":10},\"num_replicas\":1,\"compression\":\"none\"}",
                "{\"name\":\"KV_b\",\"description\":\"d\",\"subjects\":[\"$KV.b.>\"],"
                "\"retention\":\"workqueue\",\"max_consumers\":-1,\"max_msgs\":-1,"
                "\"max_bytes\":9007199254740992,\"max_age\":315360000000000000,"
                "\"max_msgs_per_subject\":5,\"max_msg_size\":-1,\"discard\":\"new\","
                "\"storage\":\"memory\",\"num_replicas\":1,\"no_ack\":true,"
                "\"duplicate_window\":120000000000,\"allow_direct\":true,\"mirror_direct\":false,"
                "\"discard_new_per_subject\":true,\"sealed\":false,\"deny_delete\":true,"
                "\"deny_purge\":false,\"allow_rollup_hdrs\":true,\"compression\":\"none\","
                "\"first_seq\":7,\"metadata\":{\"a\":\"b\"},"
                "\"consumer_limits\":{\"inactive_threshold\":5000000000,\"max_ack_pending\":10}}");
}

static void
test_exact_int64_output(void **state)
{
    (void)state;
    struct nb_stream_config cfg;
    parse_ok(&cfg, "{\"name\":\"A\"}");
    cfg.max_bytes = 9007199254740993LL; /* 2^53 + 1: no double holds it */
    cfg.max_msgs = INT64_MAX;
    cfg.first_seq = UINT64_MAX;
    cJSON *obj = nb_streamcfg_to_json(&cfg);
    char *text = cJSON_PrintUnformatted(obj);
    assert_non_null(strstr(text, "\"max_bytes\":9007199254740993,"));
    assert_non_null(strstr(text, "\"max_msgs\":9223372036854775807,"));
    assert_non_null(strstr(text, "\"first_seq\":18446744073709551615"));
    free(text);
    cJSON_Delete(obj);
    nb_streamcfg_release(&cfg);
}

static void
test_invalid_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{bad",
        "[1,2]",
        "\"name\"",
        "{\"name\":5}",
        "{\"name\":\"B\",\"retention\":\"bogus\"}",
        "{\"name\":\"B\",\"retention\":\"Limits\"}",
        "{\"name\":\"B\",\"retention\":null}",
        "{\"name\":\"C\",\"storage\":\"disk\"}",
        "{\"name\":\"D\",\"discard\":\"x\"}",
        "{\"name\":\"K\",\"max_msgs\":1.5}",
        "{\"name\":\"K\",\"max_msgs\":\"5\"}",
        "{\"name\":\"K\",\"max_msgs\":-1e30}",
        "{\"name\":\"K\",\"max_age\":99999999999999999999}",
        "{\"name\":\"K\",\"max_msg_size\":4294967296}",
        "{\"name\":\"K\",\"no_ack\":1}",
        "{\"name\":\"K\",\"subjects\":\"k\"}",
        "{\"name\":\"K\",\"subjects\":[1]}",
        "{\"name\":\"K\",\"first_seq\":-1}",
        "{\"name\":\"K\",\"metadata\":{\"a\":1}}",
        "{\"name\":\"K\",\"metadata\":[]}",
        "{\"name\":\"K\",\"consumer_limits\":{\"max_ack_pending\":0.5}}",
        "{\"name\":\"K\",\"compression\":\"zstd\"}",
        "{\"name\":\"K\",\"compression\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i], 400, 10025, NULL);
    assert_refused("{\"name\":\"B\",\"retention\":\"bogus\"}", 400, 10025,
                   "invalid JSON: retention has an unknown value");
    struct nb_stream_config cfg;
    struct nb_jserr err;
    assert_int_equal(nb_streamcfg_parse(&cfg, NULL, 0, &err), -1);
    assert_int_equal(err.err_code, 10025);
    assert_int_equal(nb_streamcfg_from_json(&cfg, NULL, &err), -1);
    assert_int_equal(err.err_code, 10025);
}

static void
test_invalid_config(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text;
    } bad[] = {
        {"{}", "stream name is required"},
        {"{\"name\":\"\"}", "stream name is required"},
        {"{\"name\":\"a/b\"}", "stream name can not contain path separators"},
        {"{\"name\":\"a\\\\b\"}", "stream name can not contain path separators"},
        {"{\"name\":\"a.b\"}", "stream name can not contain whitespace, '.', '*' or '>'"},
        {"{\"name\":\"a b\"}", "stream name can not contain whitespace, '.', '*' or '>'"},
        {"{\"name\":\"a*\"}", "stream name can not contain whitespace, '.', '*' or '>'"},
        {"{\"name\":\"E\",\"max_age\":5}", "max age needs to be >= 100ms"},
        {"{\"name\":\"E\",\"max_age\":-5}", "max age needs to be >= 100ms"},
        {"{\"name\":\"E\",\"max_age\":1000000000,\"duplicate_window\":2000000000}",
         "duplicates window can not be larger then max age"},
        {"{\"name\":\"K\",\"duplicate_window\":-1}", "duplicates window can not be negative"},
        {"{\"name\":\"K\",\"duplicate_window\":5}", "duplicates window needs to be >= 100ms"},
        {"{\"name\":\"G\",\"subjects\":[\"g\",\"g\"]}", "duplicate subjects detected"},
        {"{\"name\":\"G\",\"subjects\":[\"g.*\",\"g.a\"]}",
         "subject \"g.*\" overlaps with \"g.a\""},
        {"{\"name\":\"G\",\"subjects\":[\"a.b\",\"x.>\",\"*.b\"]}",
         "subject \"a.b\" overlaps with \"*.b\""},
        {"{\"name\":\"G\",\"subjects\":[\"g..a\"]}", "invalid subject"},
        {"{\"name\":\"G\",\"subjects\":[\"\"]}", "invalid subject"},
        {"{\"name\":\"G\",\"subjects\":[\"v >\"]}", "invalid subject"},
        {"{\"name\":\"G\",\"subjects\":[\"v.>.a\"]}", "invalid subject"},
        {"{\"name\":\"H\",\"subjects\":[\"$JS.API.>\"]}", "subjects overlap with jetstream api"},
        {"{\"name\":\"H\",\"subjects\":[\">\"]}", "subjects overlap with jetstream api"},
        {"{\"name\":\"H\",\"subjects\":[\"*.*.*\"]}", "subjects overlap with jetstream api"},
        {"{\"name\":\"H\",\"subjects\":[\"$JS\"]}",
         "subjects overlap with reserved jetstream subjects"},
        {"{\"name\":\"H\",\"subjects\":[\"$JS.ACK.>\"]}",
         "subjects overlap with reserved jetstream subjects"},
        {"{\"name\":\"I\",\"deny_purge\":true,\"allow_rollup_hdrs\":true}",
         "roll-ups require the purge permission"},
        {"{\"name\":\"W\",\"mirror_direct\":true}",
         "stream has no mirror but does have mirror direct"},
        {"{\"name\":\"V\",\"discard_new_per_subject\":true}",
         "discard new per subject requires discard new policy to be set"},
        {"{\"name\":\"V\",\"discard\":\"new\",\"discard_new_per_subject\":true}",
         "discard new per subject requires max msgs per subject > 0"},
        {"{\"name\":\"K\",\"compression\":\"s2\"}", "s2 compression is not supported by natsctl"},
        {"{\"name\":\"N\",\"mirror\":{\"name\":\"A\"}}", "mirror is not supported by natsctl"},
        {"{\"name\":\"N\",\"sources\":[{\"name\":\"A\"}]}", "sources is not supported by natsctl"},
        {"{\"name\":\"N\",\"placement\":{\"tags\":[\"x\"]}}",
         "placement is not supported by natsctl"},
        {"{\"name\":\"N\",\"republish\":{\"src\":\">\",\"dest\":\"x\"}}",
         "republish is not supported by natsctl"},
        {"{\"name\":\"N\",\"allow_msg_ttl\":true}", "allow_msg_ttl is not supported by natsctl"},
        {"{\"name\":\"N\",\"subject_delete_marker_ttl\":1000000000}",
         "subject_delete_marker_ttl is not supported by natsctl"},
        {"{\"name\":\"N\",\"num_replicas\":-1}", "replicas count cannot be negative"},
        {"{\"name\":\"N\",\"consumer_limits\":{\"inactive_threshold\":-1}}",
         "consumer limits inactive threshold can not be negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i].json, 500, 10052, bad[i].text);

    char json[400];
    snprintf(json, sizeof json, "{\"name\":\"%0256d\"}", 0);
    assert_refused(json, 500, 10052, "stream name is too long, maximum allowed is 255");
    snprintf(json, sizeof json, "{\"name\":\"%0255d\"}", 0);
    struct nb_stream_config cfg;
    parse_ok(&cfg, json);
    nb_streamcfg_release(&cfg);
}

static void
test_replicas(void **state)
{
    (void)state;
    const char *text = "replicas > 1 not supported in non-clustered mode";
    assert_refused("{\"name\":\"F\",\"num_replicas\":3}", 500, 10074, text);
    assert_refused("{\"name\":\"F\",\"num_replicas\":1e18}", 500, 10074, text);
}

static void
test_name_valid(void **state)
{
    (void)state;
    assert_true(nb_js_name_valid("ORDERS"));
    assert_true(nb_js_name_valid("KV_b-1$"));
    static const char *const bad[] = {"",     "a.b",  "a*",   "a>",  "a b", "a\tb",
                                      "a\rb", "a\nb", "a\fb", "a/b", "a\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(nb_js_name_valid(bad[i]));
    assert_false(nb_js_name_valid(NULL));
    char long_name[257];
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    assert_false(nb_js_name_valid(long_name));
    long_name[255] = '\0';
    assert_true(nb_js_name_valid(long_name));
}

static void
test_equal_and_copy(void **state)
{
    (void)state;
    const char *json = "{\"name\":\"S\",\"subjects\":[\"a\",\"b.*\"],\"metadata\":{\"k\":\"v\"},"
                       "\"description\":\"x\",\"max_msgs\":10,\"consumer_limits\":"
                       "{\"max_ack_pending\":3}}";
    struct nb_stream_config a, b, c;
    parse_ok(&a, json);
    parse_ok(&b, json);
    assert_true(nb_streamcfg_equal(&a, &b));
    assert_int_equal(nb_streamcfg_copy(&c, &a), 0);
    assert_true(nb_streamcfg_equal(&a, &c));
    assert_ptr_not_equal(a.subjects, c.subjects);
    nb_streamcfg_release(&c);

    b.max_msgs = 11;
    assert_false(nb_streamcfg_equal(&a, &b));
    nb_streamcfg_release(&b);
    parse_ok(&b, "{\"name\":\"S\",\"subjects\":[\"a\",\"b.*\"],\"metadata\":{\"k\":\"w\"},"
                 "\"description\":\"x\",\"max_msgs\":10,\"consumer_limits\":"
                 "{\"max_ack_pending\":3}}");
    assert_false(nb_streamcfg_equal(&a, &b));
    nb_streamcfg_release(&b);
    parse_ok(&b, "{\"name\":\"S\",\"subjects\":[\"a\",\"b.*\"],\"metadata\":{\"k\":\"v\"},"
                 "\"max_msgs\":10,\"consumer_limits\":{\"max_ack_pending\":3}}");
    assert_false(nb_streamcfg_equal(&a, &b));
    nb_streamcfg_release(&b);
    parse_ok(&b, "{\"name\":\"S\",\"subjects\":[\"b.*\",\"a\"],\"metadata\":{\"k\":\"v\"},"
                 "\"description\":\"x\",\"max_msgs\":10,\"consumer_limits\":"
                 "{\"max_ack_pending\":3}}");
    assert_false(nb_streamcfg_equal(&a, &b));
    nb_streamcfg_release(&b);
    /* Defaults spelled out are the same configuration as defaults left out. */
    parse_ok(&b, "{\"name\":\"S\",\"subjects\":[\"a\",\"b.*\"],\"metadata\":{\"k\":\"v\"},"
                 "\"description\":\"x\",\"max_msgs\":10,\"consumer_limits\":"
                 "{\"max_ack_pending\":3},\"retention\":\"limits\",\"max_bytes\":0,"
                 "\"num_replicas\":1,\"duplicate_window\":120000000000}");
    assert_true(nb_streamcfg_equal(&a, &b));
    nb_streamcfg_release(&b);
    nb_streamcfg_release(&a);
}

static void
check_update(const char *old_json, const char *new_json, int err_code, const char *text)
{
    struct nb_stream_config o, n;
    struct nb_jserr err = {0};
    parse_ok(&o, old_json);
    parse_ok(&n, new_json);
    int rc = nb_streamcfg_check_update(&o, &n, &err);
    if (err_code == 0) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(err.err_code, err_code);
        assert_string_equal(err.description, text);
    }
    nb_streamcfg_release(&o);
    nb_streamcfg_release(&n);
}

/* A metadata key given twice keeps its last value, so a copy compares equal (found by fuzzing). */
static void
test_metadata_duplicate_keys(void **state)
{
    (void)state;
    struct nb_stream_config cfg, copy;
    parse_ok(&cfg, "{\"name\":\"M\",\"metadata\":{\"a\":\"1\",\"\":\"x\",\"a\":\"2\",\"\":\"\"}}");
    assert_int_equal(cJSON_GetArraySize(cfg.metadata), 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cfg.metadata, "a")->valuestring, "2");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cfg.metadata, "")->valuestring, "");
    assert_int_equal(nb_streamcfg_copy(&copy, &cfg), 0);
    assert_true(nb_streamcfg_equal(&cfg, &copy));
    nb_streamcfg_release(&copy);
    nb_streamcfg_release(&cfg);
}

static void
test_update_rules(void **state)
{
    (void)state;
    const char *base = "{\"name\":\"S\",\"subjects\":[\"s.>\"]}";
    check_update(base,
                 "{\"name\":\"S\",\"subjects\":[\"s.>\",\"t\"],\"max_msgs\":5,"
                 "\"sealed\":true,\"deny_delete\":true,\"deny_purge\":true,"
                 "\"description\":\"d\",\"allow_direct\":true}",
                 0, NULL);
    check_update(base, "{\"name\":\"T\"}", 10052, "stream configuration name must match original");
    check_update(base, "{\"name\":\"S\",\"storage\":\"memory\"}", 10052,
                 "stream configuration update can not change storage type");
    check_update(base, "{\"name\":\"S\",\"retention\":\"workqueue\"}", 10052,
                 "stream configuration update can not change retention policy to/from workqueue");
    check_update("{\"name\":\"S\",\"retention\":\"workqueue\"}",
                 "{\"name\":\"S\",\"retention\":\"interest\"}", 10052,
                 "stream configuration update can not change retention policy to/from workqueue");
    check_update(base, "{\"name\":\"S\",\"retention\":\"interest\"}", 0, NULL);
    check_update("{\"name\":\"S\",\"sealed\":true}", base, 10052,
                 "stream configuration update can not unseal a sealed stream");
    check_update("{\"name\":\"S\",\"deny_delete\":true}", base, 10052,
                 "stream configuration update can not cancel deny message deletes");
    check_update("{\"name\":\"S\",\"deny_purge\":true}", base, 10052,
                 "stream configuration update can not cancel deny purge");

    struct nb_stream_config o, n;
    struct nb_jserr err;
    parse_ok(&o, base);
    parse_ok(&n, base);
    n.num_replicas = 3;
    assert_int_equal(nb_streamcfg_check_update(&o, &n, &err), -1);
    assert_int_equal(err.err_code, 10074);
    nb_streamcfg_release(&o);
    nb_streamcfg_release(&n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_echo),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_full_echo),
        cmocka_unit_test(test_exact_int64_output),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_invalid_config),
        cmocka_unit_test(test_replicas),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_equal_and_copy),
        cmocka_unit_test(test_update_rules),
        cmocka_unit_test(test_metadata_duplicate_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
