/*
 * Unit tests for cmd/cli_ctx.c (natscli context files) and the natscli duration formats of
 * cmd/cli_env.c: natscli's name rule, type checks on known keys, natscli's output layout with
 * unknown keys kept in place, the settings natsctl must refuse, listing, selecting and removing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_ctx.h"
#include "cli_env.h"

static char home[64];

static int
fresh_home(void **state)
{
    (void)state;
    snprintf(home, sizeof home, "/tmp/natsctl-test-ctx.XXXXXX");
    assert_non_null(mkdtemp(home));
    setenv("XDG_CONFIG_HOME", home, 1);
    return 0;
}

static int
remove_home(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void
test_names(void **state)
{
    (void)state;
    assert_true(cli_ctx_name_valid("prod"));
    assert_true(cli_ctx_name_valid("ngs.js"));
    assert_false(cli_ctx_name_valid(""));
    assert_false(cli_ctx_name_valid("a/b"));
    assert_false(cli_ctx_name_valid("..x"));
    assert_true(cli_ctx_ref_is_file("/home/u/prod.json"));
    assert_true(cli_ctx_ref_is_file("prod.json"));
    assert_true(cli_ctx_ref_is_file("./prod"));
    assert_false(cli_ctx_ref_is_file("prod"));
}

static void
test_parse_and_types(void **state)
{
    (void)state;
    struct cli_ctx c = {0};
    char err[CLI_CTX_ERRLEN];
    assert_int_equal(cli_ctx_parse(&c, "{\"url\": \"nats://a\", \"user\": \"\", \"x\": 1}", err),
                     0);
    assert_string_equal(cli_ctx_get(&c, "url"), "nats://a");
    assert_null(cli_ctx_get(&c, "user")); /* empty is unset, as natscli treats it */
    assert_null(cli_ctx_get(&c, "x"));
    assert_null(cli_ctx_unsupported(&c));
    cli_ctx_release(&c);
    assert_int_equal(cli_ctx_parse(&c, "[1]", err), -1);
    assert_string_equal(err, "not a JSON object");
    assert_int_equal(cli_ctx_parse(&c, "{\"token\": true}", err), -1);
    assert_string_equal(err, "\"token\" must be a string");
    assert_int_equal(cli_ctx_parse(&c, "{\"tls_first\": \"yes\"}", err), -1);
    assert_int_equal(cli_ctx_parse(&c, "{\"url\": null}", err), 0);
    cli_ctx_release(&c);
}

static void
test_unsupported(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{\"nsc\": \"nsc://op/acc/user\"}", "nsc"},
        {"{\"user_jwt\": \"eyJ\"}", "user_jwt"},
        {"{\"socks_proxy\": \"127.0.0.1:1080\"}", "socks_proxy"},
        {"{\"tls_first\": true}", "tls_first"},
        {"{\"windows_ca_certs_match\": [\"x\"]}", "windows_ca_certs_match"},
    };
    char err[CLI_CTX_ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cli_ctx c = {0};
        assert_int_equal(cli_ctx_parse(&c, cases[i][0], err), 0);
        assert_string_equal(cli_ctx_unsupported(&c), cases[i][1]);
        cli_ctx_release(&c);
    }
    struct cli_ctx c = {0};
    assert_int_equal(cli_ctx_parse(&c,
                                   "{\"tls_first\": false, \"creds\": \"/a.creds\", "
                                   "\"nkey\": \"/a.nk\", \"cert\": \"/c.pem\", "
                                   "\"key\": \"/k.pem\", \"ca\": \"/ca.pem\", "
                                   "\"jetstream_domain\": \"hub\", \"inbox_prefix\": \"_I\"}",
                                   err),
                     0);
    assert_null(cli_ctx_unsupported(&c));
    cli_ctx_release(&c);
}

static void
test_format_keeps_order_and_unknown_keys(void **state)
{
    (void)state;
    struct cli_ctx c = {0};
    char err[CLI_CTX_ERRLEN];
    assert_int_equal(cli_ctx_parse(&c,
                                   "{\"url\":\"nats://a\",\"zz\":{\"n\":[1,\"t\"]},"
                                   "\"description\":\"say \\\"hi\\\"\"}",
                                   err),
                     0);
    assert_int_equal(cli_ctx_set(&c, "url", "nats://b"), 0);
    assert_int_equal(cli_ctx_set(&c, "token", "t"), 0);
    char *text = cli_ctx_format(&c);
    assert_string_equal(text, "{\n  \"url\": \"nats://b\",\n  \"zz\": {\"n\":[1,\"t\"]},\n"
                              "  \"description\": \"say \\\"hi\\\"\",\n  \"token\": \"t\"\n}");
    free(text);
    cli_ctx_release(&c);
    assert_int_equal(cli_ctx_parse(&c, "{}", err), 0);
    text = cli_ctx_format(&c);
    assert_string_equal(text, "{}");
    free(text);
    cli_ctx_release(&c);
}

static void
test_new_save_load(void **state)
{
    (void)state;
    struct cli_ctx c, back;
    char err[CLI_CTX_ERRLEN], path[CLI_CTX_PATHLEN];
    assert_int_equal(cli_ctx_init_new(&c, "lab", err), 0);
    assert_int_equal(cli_ctx_set(&c, "url", "nats://lab:4222"), 0);
    assert_int_equal(cli_ctx_save(&c, err), 0);
    snprintf(path, sizeof path, "%s/nats/context/lab.json", home);
    assert_string_equal(c.path, path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cli_ctx_load(&back, "lab", err), 0);
    assert_string_equal(cli_ctx_get(&back, "url"), "nats://lab:4222");
    assert_string_equal(back.name, "lab");
    cli_ctx_release(&back);
    assert_int_equal(cli_ctx_load(&back, path, err), 0);
    assert_string_equal(back.name, "lab");
    cli_ctx_release(&back);
    cli_ctx_release(&c);
    assert_int_equal(cli_ctx_load(&back, "nope", err), -1);
    assert_string_equal(err, "unknown context 'nope' (see 'natsctl context ls')");
    assert_int_equal(cli_ctx_load(&back, "a/../b", err), -1);
}

static void
test_list_select_remove(void **state)
{
    (void)state;
    struct cli_ctx c;
    char err[CLI_CTX_ERRLEN], sel[CLI_CTX_NAMELEN], **names;
    assert_int_equal(cli_ctx_list(&names, err), 0); /* no directory yet: no contexts */
    assert_null(names[0]);
    cli_ctx_free_list(names);
    const char *order[] = {"b", "a", "c"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(cli_ctx_init_new(&c, order[i], err), 0);
        assert_int_equal(cli_ctx_save(&c, err), 0);
        cli_ctx_release(&c);
    }
    assert_int_equal(cli_ctx_list(&names, err), 0);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "b");
    assert_string_equal(names[2], "c");
    assert_null(names[3]);
    cli_ctx_free_list(names);

    assert_int_equal(cli_ctx_selected(sel, err), 0);
    assert_string_equal(sel, "");
    assert_int_equal(cli_ctx_select("a", err), 0);
    assert_int_equal(cli_ctx_select("b", err), 0);
    assert_int_equal(cli_ctx_selected(sel, err), 0);
    assert_string_equal(sel, "b");
    assert_int_equal(cli_ctx_select(NULL, err), 0);
    assert_int_equal(cli_ctx_selected(sel, err), 0);
    assert_string_equal(sel, "");

    assert_int_equal(cli_ctx_remove("b", err), 0);
    assert_int_equal(cli_ctx_remove("b", err), -1);
    assert_string_equal(err, "unknown context 'b'");
}

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        uint64_t ns;
        const char *go, *brief;
    } cases[] = {
        {0, "0s", "0s"},
        {999, "999ns", "1\xc2\xb5s"},
        {123456, "123.456\xc2\xb5s", "123\xc2\xb5s"},
        {1234567, "1.234567ms", "1ms"},
        {999999, "999.999\xc2\xb5s", "1ms"},
        {1500000000, "1.5s", "1.50s"},
        {90000000000ULL, "1m30s", "90.00s"},
        {7200000000000ULL, "2h0m0s", "7200.00s"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_format_duration(cases[i].ns, out, sizeof out);
        assert_string_equal(out, cases[i].go);
        cli_format_duration_short(cases[i].ns, out, sizeof out);
        assert_string_equal(out, cases[i].brief);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse_and_types),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_format_keeps_order_and_unknown_keys),
        cmocka_unit_test_setup_teardown(test_new_save_load, fresh_home, remove_home),
        cmocka_unit_test_setup_teardown(test_list_select_remove, fresh_home, remove_home),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
