/*
 * Unit tests for cmd/cli_env.c: flag > environment > default precedence for every setting (with
 * setenv/unsetenv), refused auth material and URL schemes, the option rows, durations, and the
 * redaction of user:pass@ and token@ forms in single URLs and lists; natscli contexts (--context,
 * NATS_CONTEXT, the selected one) below flags and environment, and the refusal of contexts whose
 * settings natsctl cannot honour. Every test runs with XDG_CONFIG_HOME at an empty directory of
 * its own, so the developer's real contexts never take part.
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

#include "cli_env.h"

static const char *const vars[] = {"NATS_URL",     "NATS_USER",  "NATS_PASSWORD", "NATS_TOKEN",
                                   "NATS_TIMEOUT", "NATS_CREDS", "NATS_NKEY",     "NATS_CONTEXT"};

static char config_home[64];

static int
clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    snprintf(config_home, sizeof config_home, "/tmp/natsctl-test-env.XXXXXX");
    assert_non_null(mkdtemp(config_home));
    setenv("XDG_CONFIG_HOME", config_home, 1);
    return 0;
}

static int
clear_env_and_files(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", config_home);
    assert_int_equal(system(cmd), 0);
    return clear_env(state);
}

/* Writes $XDG_CONFIG_HOME/nats/<rel> with text, creating the directories. */
static void
put_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/nats", config_home);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/nats/context", config_home);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/nats/%s", config_home, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A context as natscli writes it (natscontext's settings, json.MarshalIndent). */
static void
put_context(const char *name, const char *url, const char *user, const char *password,
            const char *token, const char *creds)
{
    char text[2048], rel[128];
    snprintf(text, sizeof text,
             "{\n  \"description\": \"\",\n  \"url\": \"%s\",\n  \"socks_proxy\": \"\",\n"
             "  \"token\": \"%s\",\n  \"user\": \"%s\",\n  \"password\": \"%s\",\n"
             "  \"creds\": \"%s\",\n  \"nkey\": \"\",\n  \"cert\": \"\",\n  \"key\": \"\",\n"
             "  \"ca\": \"\",\n  \"nsc\": \"\",\n  \"jetstream_domain\": \"\",\n"
             "  \"jetstream_api_prefix\": \"\",\n  \"jetstream_event_prefix\": \"\",\n"
             "  \"inbox_prefix\": \"\",\n  \"user_jwt\": \"\",\n  \"color_scheme\": \"\",\n"
             "  \"tls_first\": false\n}",
             url, token, user, password, creds);
    snprintf(rel, sizeof rel, "context/%s.json", name);
    put_file(rel, text);
}

static const struct cli_cmd pub_cmd = {.name = "pub"};

static void
test_defaults(void **state)
{
    (void)state;
    struct cli_env e;
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://127.0.0.1:4222");
    assert_null(e.user);
    assert_null(e.password);
    assert_null(e.token);
    assert_int_equal(e.timeout_ms, 5000);
    assert_string_equal(e.name, "natsctl pub");
    cli_env_init(&e, NULL);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.name, "natsctl");
}

static void
test_env_then_flags(void **state)
{
    (void)state;
    struct cli_env e;
    setenv("NATS_URL", "nats://env:4222", 1);
    setenv("NATS_USER", "eu", 1);
    setenv("NATS_PASSWORD", "ep", 1);
    setenv("NATS_TOKEN", "et", 1);
    setenv("NATS_TIMEOUT", "250ms", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://env:4222");
    assert_string_equal(e.user, "eu");
    assert_string_equal(e.password, "ep");
    assert_string_equal(e.token, "et");
    assert_int_equal(e.timeout_ms, 250);

    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_SERVER, "flag:1"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_USER, "fu"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_PASSWORD, "fp"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TOKEN, "ft"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "2s"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_NAME, "mine"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "flag:1");
    assert_string_equal(e.user, "fu");
    assert_string_equal(e.password, "fp");
    assert_string_equal(e.token, "ft");
    assert_int_equal(e.timeout_ms, 2000);
    assert_string_equal(e.name, "mine");

    /* The last flag wins, as with any repeated option. */
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "2s"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "3s"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_int_equal(e.timeout_ms, 3000);
}

static void
test_empty_env_is_unset(void **state)
{
    (void)state;
    struct cli_env e;
    for (size_t i = 0; i < 5; i++)
        setenv(vars[i], "", 1);
    setenv("NATS_CREDS", "", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://127.0.0.1:4222");
    assert_null(e.user);
    assert_null(e.password);
    assert_null(e.token);
    assert_int_equal(e.timeout_ms, 5000);
}

static void
test_bad_values(void **state)
{
    (void)state;
    struct cli_env e;
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "soon"), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "invalid value 'soon' for --timeout (e.g. 500ms, 2s, 1m)");
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "0s"), CLI_EXIT_USAGE);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_SERVER, ""), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "invalid value '' for --server");
    assert_int_equal(cli_env_opt(&e, CLI_OPT_CREDS, ""), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "invalid value '' for --creds");
    assert_int_equal(cli_env_opt(&e, CLI_OPT_NKEY, ""), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "invalid value '' for --nkey");
    assert_int_equal(cli_env_opt(&e, 1, "x"), CLI_EXIT_FAIL);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_GLOBAL_END, "x"), CLI_EXIT_FAIL);

    setenv("NATS_TIMEOUT", "5 s", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "invalid NATS_TIMEOUT '5 s' (e.g. 500ms, 2s, 1m)");
    /* A valid flag means the environment is never looked at. */
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TIMEOUT, "1"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_int_equal(e.timeout_ms, 1000);
    unsetenv("NATS_TIMEOUT");

    /* NATS_NKEY and NATS_CREDS name the files; a flag wins; both at once is refused. */
    setenv("NATS_NKEY", "/k", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.nkey, "/k");
    assert_null(e.creds);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_NKEY, "/flag.nk"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.nkey, "/flag.nk");
    setenv("NATS_CREDS", "/c", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "a creds file and an nkey file cannot both be used (/c and /k)");
    unsetenv("NATS_NKEY");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.creds, "/c");
    unsetenv("NATS_CREDS");
}

static int
resolve_server(struct cli_env *e, const char *servers)
{
    cli_env_init(e, &pub_cmd);
    assert_int_equal(cli_env_opt(e, CLI_OPT_SERVER, servers), 0);
    return cli_env_resolve(e);
}

static void
test_schemes(void **state)
{
    (void)state;
    struct cli_env e;
    assert_int_equal(resolve_server(&e, "nats://a:1,NATS://b, c:4222,d"), 0);
    assert_int_equal(resolve_server(&e, "[::1]:4222"), 0);
    assert_int_equal(resolve_server(&e, "tls://h:4222,TLS://h2"), 0);
    assert_int_equal(resolve_server(&e, "nats://a, ws://b"), CLI_EXIT_USAGE);
    assert_string_equal(e.err,
                        "unsupported URL scheme 'ws://': only nats:// and tls:// are supported");
    assert_int_equal(resolve_server(&e, "natss://a"), CLI_EXIT_USAGE);
    assert_int_equal(resolve_server(&e, "tlss://a"), CLI_EXIT_USAGE);
    assert_int_equal(resolve_server(&e, "://a"), CLI_EXIT_USAGE);
    setenv("NATS_URL", "wss://env", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
}

static void
test_opt_rows(void **state)
{
    (void)state;
    static const char *const longs[] = {"server",  "user",   "password", "token",   "timeout",
                                        "name",    "creds",  "nkey",     "context", "no-context",
                                        "tlscert", "tlskey", "tlsca"};
    size_t n = 0;
    for (; cli_global_opts[n].id; n++) {
        assert_int_equal(cli_global_opts[n].id, 1000 + (int)n);
        assert_true(cli_env_is_global(cli_global_opts[n].id));
        assert_string_equal(cli_global_opts[n].long_name, longs[n]);
        /* --no-context is the one flag without a value. */
        if (cli_global_opts[n].id == CLI_OPT_NO_CONTEXT)
            assert_null(cli_global_opts[n].arg_name);
        else
            assert_non_null(cli_global_opts[n].arg_name);
        assert_non_null(cli_global_opts[n].help);
    }
    assert_int_equal(n, 13);
    assert_int_equal(n, CLI_OPT_GLOBAL_END - CLI_OPT_SERVER);
    assert_string_equal(cli_global_opts[0].short_name, "s");
    for (size_t i = 1; i < n; i++)
        assert_null(cli_global_opts[i].short_name);
    assert_false(cli_env_is_global(999));
    assert_false(cli_env_is_global(CLI_OPT_GLOBAL_END));
    assert_false(cli_env_is_global(0));
}

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t ms;
    } good[] = {
        {"250ms", 250},
        {"2s", 2000},
        {"1m", 60000},
        {"1.5s", 1500},
        {"2", 2000},
        {"0.5", 500},
        {"1m30s", 90000},
        {"1h", 3600000},
        {"1h1m1s1ms", 3661001},
        {"500us", 1},
        {"1500\xc2\xb5s", 2},
        {"1ns", 1},
        {"0", 0},
        {"0s", 0},
        {".5s", 500},
        {"1.s", 1000},
        {"0.0001s", 1},
        {"1.0000001s", 1001},
        {"007s", 7000},
        {"2.25m", 135000},
    };
    static const char *const bad[] = {
        "",
        "s",
        "-1s",
        "+1s",
        "1x",
        "1 s",
        " 1s",
        "1s ",
        "1.2.3s",
        "1s2",
        "2 ",
        "ms",
        "1e3",
        "1S",
        "1sec",
        "1mss",
        ".",
        ".s",
        "18446744073709551616s",
        "99999999999h",
        "5124096h",
    };
    uint64_t ms = 12345;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!cli_parse_duration(good[i].in, &ms)) fail_msg("rejected '%s'", good[i].in);
        if (ms != good[i].ms) fail_msg("'%s' gave %llu", good[i].in, (unsigned long long)ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 12345;
        if (cli_parse_duration(bad[i], &ms)) fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(ms, 12345);
    }
}

static void
test_redact_url(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        {"nats://alice:s3cret@host:4222", "nats://alice:***@host:4222"},
        {"nats://tok3n@host:4222", "nats://***@host:4222"},
        {"alice:pw@host", "alice:***@host"},
        {"tok@host", "***@host"},
        {"nats://alice:@host", "nats://alice:***@host"},
        {"nats://:pw@host", "nats://:***@host"},
        {"nats://u:p@ss@host", "nats://u:***@host"},
        {"nats://u:p:q@[::1]:4222", "nats://u:***@[::1]:4222"},
        {"nats://host:4222", "nats://host:4222"},
        {"host", "host"},
        {"[::1]:4222", "[::1]:4222"},
        {"nats://host:4222/path@x", "nats://host:4222/path@x"},
        {"nats://u:p@host/x@y", "nats://u:***@host/x@y"},
        {"", ""},
    };
    char out[64];
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        size_t n = cli_redact_url(vec[i][0], out, sizeof out);
        assert_string_equal(out, vec[i][1]);
        assert_int_equal(n, strlen(vec[i][1]));
    }
    /* Truncation works like snprintf and never shows the secret. */
    size_t n = cli_redact_url("nats://alice:s3cret@host:4222", out, 14);
    assert_int_equal(n, 26);
    assert_string_equal(out, "nats://alice:");
    assert_int_equal(cli_redact_url("nats://a:b@h", NULL, 0), 14);
}

static void
test_redact_servers(void **state)
{
    (void)state;
    char *s = cli_redact_servers("nats://a:pw@h1:4222, tok@h2 ,h3:4223");
    assert_string_equal(s, "nats://a:***@h1:4222,***@h2,h3:4223");
    free(s);
    s = cli_redact_servers("nats://h");
    assert_string_equal(s, "nats://h");
    free(s);
    s = cli_redact_servers("");
    assert_string_equal(s, "");
    free(s);
    s = cli_redact_servers("a:b@x,,c@y,");
    assert_string_equal(s, "a:***@x,,***@y,");
    free(s);
}

static void
test_server_origin(void **state)
{
    (void)state;
    struct cli_env e;
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server_from, "default");
    setenv("NATS_URL", "nats://env:1", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server_from, "NATS_URL");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_SERVER, "nats://flag:1"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server_from, "-s");
}

static void
test_selected_context(void **state)
{
    (void)state;
    struct cli_env e;
    put_context("prod", "nats://ctx:4222", "cu", "cp", "", "");
    /* No selection, no context: the default. */
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://127.0.0.1:4222");
    assert_null(e.user);

    put_file("context.txt", "prod");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://ctx:4222");
    assert_string_equal(e.server_from, "context prod");
    assert_string_equal(e.user, "cu");
    assert_string_equal(e.password, "cp");
    assert_null(e.token);

    /* The environment wins over the context, a flag over both. */
    setenv("NATS_URL", "nats://env:1", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://env:1");
    assert_string_equal(e.server_from, "NATS_URL");
    assert_string_equal(e.user, "cu");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_SERVER, "nats://flag:1"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://flag:1");

    /* --no-context ignores it altogether. */
    unsetenv("NATS_URL");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_NO_CONTEXT, NULL), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://127.0.0.1:4222");
    assert_null(e.user);
}

static void
test_context_choice(void **state)
{
    (void)state;
    struct cli_env e;
    put_context("a", "nats://a:1", "", "", "", "");
    put_context("b", "nats://b:1", "", "", "tb", "");
    put_file("context.txt", "a\n");
    setenv("NATS_CONTEXT", "b", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://b:1");
    assert_string_equal(e.token, "tb");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_CONTEXT, "a"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://a:1");
    assert_string_equal(e.server_from, "context a");
    assert_null(e.token);

    /* A path to a .json file works as well, named after the file. */
    char path[256];
    snprintf(path, sizeof path, "%s/nats/context/b.json", config_home);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_CONTEXT, path), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.server, "nats://b:1");
    assert_string_equal(e.server_from, "context b");

    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_CONTEXT, "nope"), 0);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "unknown context 'nope' (see 'natsctl context ls')");
}

static void
test_context_credentials_as_a_set(void **state)
{
    (void)state;
    struct cli_env e;
    put_context("c", "nats://c:1", "cu", "cp", "ct", "");
    put_file("context.txt", "c");
    /* A token flag must not be shadowed by the context's user, which the client prefers. */
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_TOKEN, "ft"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.token, "ft");
    assert_null(e.user);
    assert_null(e.password);
    setenv("NATS_USER", "eu", 1);
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.user, "eu");
    assert_null(e.password);
    assert_null(e.token);
}

static void
test_context_fails_closed(void **state)
{
    (void)state;
    struct cli_env e;
    /* A context's creds file is used, as one of its credentials; a flag's user replaces it. */
    put_context("ngs", "nats://c:1", "", "", "", "/home/u/ngs.creds");
    put_file("context.txt", "ngs");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_string_equal(e.creds, "/home/u/ngs.creds");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_USER, "u"), 0);
    assert_int_equal(cli_env_resolve(&e), 0);
    assert_null(e.creds);
    put_file("context/jwt.json", "{\"url\": \"nats://c:1\", \"user_jwt\": \"eyJ\"}");
    put_file("context.txt", "jwt");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "context 'jwt' sets \"user_jwt\", which natsctl does not support: "
                               "refusing to connect without it (--no-context ignores the context)");
    /* Even with every connection setting given by flags, the context is still in effect. */
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_SERVER, "nats://x:1"), 0);
    assert_int_equal(cli_env_opt(&e, CLI_OPT_USER, "u"), 0);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    put_file("context/tls.json", "{\"url\": \"nats://t:1\", \"tls_first\": true}");
    put_file("context.txt", "tls");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_non_null(strstr(e.err, "\"tls_first\""));
    /* A selected context that does not exist is an error, not a silent fallback. */
    put_file("context.txt", "gone");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "unknown context 'gone' (see 'natsctl context ls') (the selected "
                               "context; --no-context ignores it)");
    put_file("context.txt", "/etc/hostname");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_string_equal(e.err, "the selected context '/etc/hostname' is not a valid context name "
                               "(--no-context ignores it)");
    put_file("context/bad.json", "{\"url\": 4222}");
    put_file("context.txt", "bad");
    cli_env_init(&e, &pub_cmd);
    assert_int_equal(cli_env_resolve(&e), CLI_EXIT_USAGE);
    assert_non_null(strstr(e.err, "\"url\" must be a string"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_env_then_flags, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_empty_env_is_unset, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_bad_values, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_schemes, clear_env, clear_env),
        cmocka_unit_test(test_opt_rows),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_redact_url),
        cmocka_unit_test(test_redact_servers),
        cmocka_unit_test_setup_teardown(test_server_origin, clear_env, clear_env_and_files),
        cmocka_unit_test_setup_teardown(test_selected_context, clear_env, clear_env_and_files),
        cmocka_unit_test_setup_teardown(test_context_choice, clear_env, clear_env_and_files),
        cmocka_unit_test_setup_teardown(test_context_credentials_as_a_set, clear_env,
                                        clear_env_and_files),
        cmocka_unit_test_setup_teardown(test_context_fails_closed, clear_env, clear_env_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
