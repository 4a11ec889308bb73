/*
 * Unit tests for cmd/cli_report.c: role aggregates against a brute-force computation over random
 * client sets, the exact human report of a fixed run, the JSON parsed back, and the CSV columns.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_report.h"

static const struct cli_report_param params[] = {{.key = "size", .number = true, .num = 128},
                                                 {.key = "msgs", .number = true, .num = 1000},
                                                 {.key = "subject", .value = "b.x"},
                                                 {.key = "senders", .number = true, .num = 1},
                                                 {.key = "receivers", .number = true, .num = 2}};

/* One publisher, two subscribers, made-up but consistent numbers. */
static const struct cli_report_client fixed_clients[] = {
    {CLI_ROLE_PUB, 1, 1000, 128000, 141000, 0.5, NULL},
    {CLI_ROLE_SUB, 1, 1000, 128000, 150000, 0.5, NULL},
    {CLI_ROLE_SUB, 2, 1000, 128000, 150000, 0.25, NULL},
};

static struct cli_report
fixed_report(void)
{
    return (struct cli_report){.mode = "pubsub",
                               .params = params,
                               .nparams = 5,
                               .clients = fixed_clients,
                               .nclients = 3,
                               .broker = "natsctl 2.9.10",
                               .embedded = true};
}

/* Runs fn on a memory stream and returns what it wrote (caller frees). */
static char *
capture(int (*fn)(const struct cli_report *, FILE *), const struct cli_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(r, f), 0);
    fclose(f);
    return buf;
}

static void
test_role_against_brute_force(void **state)
{
    (void)state;
    srand(7);
    for (int round = 0; round < 200; round++) {
        struct cli_report_client cs[16];
        size_t n = (size_t)(rand() % 16) + 1;
        for (size_t i = 0; i < n; i++)
            cs[i] = (struct cli_report_client){(enum cli_role)(rand() % 2),
                                               (int)i + 1,
                                               (uint64_t)(rand() % 100000),
                                               (uint64_t)rand(),
                                               (uint64_t)rand(),
                                               (double)(rand() % 1000) / 100.0,
                                               NULL};
        struct cli_report r = {.clients = cs, .nclients = n};
        struct cli_report_role a;
        cli_report_role_of(&r, CLI_ROLE_SUB, &a);
        size_t k = 0;
        uint64_t msgs = 0;
        double secs = 0, sum = 0, sq = 0, mn = INFINITY, mx = 0, rates[16];
        for (size_t i = 0; i < n; i++) {
            if (cs[i].role != CLI_ROLE_SUB) continue;
            rates[k] = cs[i].secs > 0 ? (double)cs[i].msgs / cs[i].secs : 0;
            sum += rates[k];
            mn = fmin(mn, rates[k]);
            mx = fmax(mx, rates[k]);
            msgs += cs[i].msgs;
            secs = fmax(secs, cs[i].secs);
            k++;
        }
        assert_int_equal(a.clients, k);
        assert_int_equal(a.msgs, msgs);
        if (k == 0) continue;
        double avg = sum / (double)k;
        for (size_t i = 0; i < k; i++)
            sq += (rates[i] - avg) * (rates[i] - avg);
        assert_true(fabs(a.avg - avg) <= 1e-6 * fmax(1, avg));
        assert_true(fabs(a.min - mn) <= 1e-9 * fmax(1, mn));
        assert_true(fabs(a.max - mx) <= 1e-9 * fmax(1, mx));
        assert_true(fabs(a.stddev - sqrt(sq / (double)k)) <= 1e-6 * fmax(1, a.stddev));
        assert_true(fabs(a.msgs_per_sec - (secs > 0 ? (double)msgs / secs : 0)) <=
                    1e-6 * fmax(1, a.msgs_per_sec));
    }
}

static void
test_text_is_exact(void **state)
{
    (void)state;
    struct cli_report r = fixed_report();
    r.lost = 3;
    char *text = capture(cli_report_text, &r);
    const char *want =
        "bench pubsub msgs=1000 receivers=2 senders=1 size=128 subject=b.x broker=\"natsctl "
        "2.9.10\" embedded=yes\n"
        "Pub stats: 2,000 msgs/s  250.00 KiB/s payload  275.39 KiB/s wire\n"
        " [1] 2,000 msgs/s  250.00 KiB/s  (1,000 msgs in 0.500s)\n"
        "Sub stats: 4,000 msgs/s  500.00 KiB/s payload  585.94 KiB/s wire\n"
        " [1] 2,000 msgs/s  250.00 KiB/s  (1,000 msgs in 0.500s)\n"
        " [2] 4,000 msgs/s  500.00 KiB/s  (1,000 msgs in 0.250s)\n"
        " min 2,000 | avg 3,000 | max 4,000 | stddev 1,000 msgs/s\n"
        "WARNING: 3 messages lost\n";
    assert_string_equal(text, want);
    free(text);
}

static void
test_partial_is_marked(void **state)
{
    (void)state;
    struct cli_report r = fixed_report();
    r.partial = true;
    char *text = capture(cli_report_text, &r);
    assert_int_equal(strncmp(text, "PARTIAL bench pubsub ", 21), 0);
    free(text);
    assert_false(cli_report_unreliable(&r));
    r.slow_consumers = 1;
    assert_true(cli_report_unreliable(&r));
}

static double
num(const cJSON *o, const char *path)
{
    char copy[128], *save = NULL;
    snprintf(copy, sizeof copy, "%s", path);
    for (char *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_non_null(o);
    return cJSON_GetNumberValue(o);
}

static void
test_json_parses_back(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, 1000000000, 3), 0);
    for (uint64_t v = 1000; v <= 100000; v += 1000)
        cli_hist_record(&h, v);
    struct cli_report r = fixed_report();
    r.latency = &h;
    r.duplicates = 2;
    char *text = capture(cli_report_json, &r);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal((int)num(doc, "aggregate.pub.msgs"), 1000);
    assert_int_equal((int)num(doc, "aggregate.sub.msgs"), 2000);
    assert_int_equal((int)num(doc, "aggregate.sub.clients"), 2);
    assert_true(fabs(num(doc, "aggregate.sub.msgs_per_sec") - 4000) < 1e-6);
    assert_int_equal((int)num(doc, "latency_us.samples"), 100);
    assert_true(fabs(num(doc, "latency_us.p50") - 50) < 0.1);
    assert_true(fabs(num(doc, "latency_us.max") - 100) < 0.1);
    assert_int_equal((int)num(doc, "duplicates"), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "clients")), 3);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "params"), "subject")),
        "b.x");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "embedded")));
    /* numeric parameters are JSON numbers, not strings */
    cJSON *msgs = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "params"), "msgs");
    assert_true(cJSON_IsNumber(msgs));
    assert_int_equal((int)cJSON_GetNumberValue(msgs), 1000);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "params"), "size")));
    cJSON_Delete(doc);
    free(text);
    cli_hist_release(&h);
}

static void
test_csv_columns(void **state)
{
    (void)state;
    struct cli_report r = fixed_report();
    char *text = capture(cli_report_csv, &r);
    char *line = strtok(text, "\n");
    assert_string_equal(
        line, "#RunID, ClientID, MsgCount, MsgBytes, MsgsPerSec, BytesPerSec, DurationSecs");
    const char *rows[] = {", P1, 1000, 128000, 2000, 256000, 0.500000",
                          ", S1, 1000, 128000, 2000, 256000, 0.500000",
                          ", S2, 1000, 128000, 4000, 512000, 0.250000"};
    for (size_t i = 0; i < 3; i++) {
        line = strtok(NULL, "\n");
        assert_non_null(line);
        assert_string_equal(strchr(line, ','), rows[i]);
    }
    assert_null(strtok(NULL, "\n"));
    free(text);
}

/* With latency measured, a client that measures none (the publisher) leaves those columns empty. */
static void
test_csv_latency_columns(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, 1000000000, 3), 0);
    cli_hist_record(&h, 2000);
    struct cli_report_client cs[2] = {fixed_clients[0], fixed_clients[1]};
    cs[1].latency = &h;
    struct cli_report r = fixed_report();
    r.clients = cs;
    r.nclients = 2;
    r.latency = &h;
    char *text = capture(cli_report_csv, &r);
    char *line = strtok(text, "\n");
    assert_non_null(strstr(line, ", MaxLatencyMicroSecs"));
    line = strtok(NULL, "\n");
    assert_string_equal(strchr(line, ','), ", P1, 1000, 128000, 2000, 256000, 0.500000,,,,,");
    line = strtok(NULL, "\n");
    assert_non_null(strstr(line, ", S1, 1000, 128000, 2000, 256000, 0.500000, 2.000, "));
    free(text);
    cli_hist_release(&h);
}

/* PubAck counts appear only for stream publishing, and a refused message makes the run unreliable. */
static void
test_js_counts(void **state)
{
    (void)state;
    struct cli_report r = fixed_report();
    char *text = capture(cli_report_json, &r);
    cJSON *doc = cJSON_Parse(text);
    assert_null(cJSON_GetObjectItem(doc, "acked"));
    cJSON_Delete(doc);
    free(text);
    r.js = true;
    r.acked = 998;
    r.refused = 2;
    assert_true(cli_report_unreliable(&r));
    text = capture(cli_report_json, &r);
    doc = cJSON_Parse(text);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "acked")), 998);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "refused")), 2);
    cJSON_Delete(doc);
    free(text);
    text = capture(cli_report_text, &r);
    assert_non_null(strstr(text, "\nPubAcks: 998 acked, 2 refused\n"));
    assert_non_null(strstr(text, "\nWARNING: 2 messages refused by the stream (error PubAcks)\n"));
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_against_brute_force),
        cmocka_unit_test(test_text_is_exact),
        cmocka_unit_test(test_partial_is_marked),
        cmocka_unit_test(test_json_parses_back),
        cmocka_unit_test(test_csv_columns),
        cmocka_unit_test(test_csv_latency_columns),
        cmocka_unit_test(test_js_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
