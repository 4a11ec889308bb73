/*
 * The reload diff (nb_reload.c): which changes are applied, which refuse the reload with
 * nats-server's text, the no_auth_user rule, the first refusal in nats-server's option order, and
 * Go's duration format in those texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb_reload.h"

#include <stdlib.h>
#include <string.h>

struct pair {
    struct nb_config old, new;
};

static int
setup(void **state)
{
    struct pair *p = calloc(1, sizeof *p);
    if (!p) return -1;
    nb_config_init(&p->old);
    nb_config_init(&p->new);
    *state = p;
    return 0;
}

static int
teardown(void **state)
{
    struct pair *p = *state;
    nb_config_release(&p->old);
    nb_config_release(&p->new);
    free(p);
    return 0;
}

/* Runs the diff and returns its message ("" when it applies). */
static const char *
diff(struct pair *p, struct nb_reload_diff *d)
{
    static char msg[512];
    msg[0] = '\0';
    int rc = nb__reload_diff(&p->old, &p->new, d, msg, sizeof msg);
    assert_true(rc == 0 ? msg[0] == '\0' : rc == NB_ECONFIG && msg[0] != '\0');
    return msg;
}

/* Adds a user called name to cfg's users list. */
static void
add_user(struct nb_config *cfg, const char *name)
{
    struct nb_user *u = realloc(cfg->users, (cfg->nusers + 1) * sizeof *u);
    assert_non_null(u);
    cfg->users = u;
    u[cfg->nusers] = (struct nb_user){.name = strdup(name), .password = strdup("pw")};
    cfg->nusers++;
}

static void
test_nothing_changed(void **state)
{
    struct nb_reload_diff d;
    assert_string_equal(diff(*state, &d), "");
    assert_false(d.debug || d.trace || d.token || d.username || d.password || d.tls);
}

static void
test_reloadable(void **state)
{
    struct pair *p = *state;
    struct nb_reload_diff d;
    p->new.debug = p->new.trace = true;
    assert_int_equal(nb_config_set_str(&p->new.auth_token, "t"), 0);
    assert_int_equal(nb_config_set_str(&p->old.auth_user, "u"), 0);
    p->new.auth_timeout_ms = 3000;
    p->new.tls.timeout_ms = 5000;
    add_user(&p->new, "alice");
    assert_string_equal(diff(p, &d), "");
    assert_true(d.debug && d.trace && d.token && d.username && d.auth_timeout && d.tls_timeout);
    assert_false(d.password || d.tls);
    assert_false(d.logtime || d.log_file);
    p->new.logtime = false;
    assert_int_equal(nb_config_set_str(&p->new.log_file, "n.log"), 0);
    assert_string_equal(diff(p, &d), "");
    assert_true(d.logtime && d.log_file);
    assert_int_equal(nb_config_set_str(&p->new.tls.cert_file, "other.pem"), 0);
    assert_string_equal(diff(p, &d), "");
    assert_true(d.tls);
}

static void
test_refused(void **state)
{
    struct pair *p = *state;
    struct nb_reload_diff d;
    p->new.max_payload = 100;
    assert_string_equal(diff(p, &d),
                        "config reload not supported for MaxPayload: old=1048576, new=100");
    /* The first in nats-server's order wins: HTTPPort comes before MaxPayload. */
    p->new.http_port = 8222;
    assert_string_equal(diff(p, &d), "config reload not supported for HTTPPort: old=0, new=8222");
    p->new.http_port = 0;
    p->new.max_payload = p->old.max_payload;
    p->new.ping_interval_ms = 90 * 1000;
    assert_string_equal(diff(p, &d),
                        "config reload not supported for PingInterval: old=2m0s, new=1m30s");
    p->new.ping_interval_ms = p->old.ping_interval_ms;
    assert_int_equal(nb_config_set_str(&p->new.store_dir, "/x"), 0);
    assert_string_equal(diff(p, &d), "config reload not supported for jetstream storage directory");
    assert_int_equal(nb_config_set_str(&p->new.store_dir, NULL), 0);
    assert_int_equal(nb_config_add_route(&p->new, "nats-route://127.0.0.1:6222"), 0);
    assert_string_equal(diff(p, &d), "config reload not supported for Routes: old=, new=");
}

static void
test_port(void **state)
{
    struct pair *p = *state;
    struct nb_reload_diff d;
    p->old.port = 4222;
    p->new.port = 0; /* a random port is the running one */
    assert_string_equal(diff(p, &d), "");
    p->new.port = 4223;
    assert_string_equal(diff(p, &d), "config reload not supported for Port: old=4222, new=4223");
}

static void
test_no_auth_user(void **state)
{
    struct pair *p = *state;
    struct nb_reload_diff d;
    add_user(&p->old, "guest");
    add_user(&p->new, "guest");
    assert_int_equal(nb_config_set_str(&p->new.no_auth_user, "guest"), 0);
    assert_string_equal(diff(p, &d), "config reload not supported for NoAuthUser: old=, new=guest");
    assert_int_equal(nb_config_set_str(&p->old.no_auth_user, "guest"), 0);
    assert_string_equal(diff(p, &d), "");
    /* Dropped while its user stays: refused; dropped with its user: allowed. */
    assert_int_equal(nb_config_set_str(&p->new.no_auth_user, NULL), 0);
    assert_string_equal(diff(p, &d), "config reload not supported for NoAuthUser: old=guest, new=");
    nb_config_release(&p->new);
    nb_config_init(&p->new);
    add_user(&p->new, "admin");
    assert_string_equal(diff(p, &d), "");
}

static void
test_go_duration(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {{0, "0s"},       {500, "500ms"},   {1000, "1s"},        {1500, "1.5s"},
                 {1250, "1.25s"}, {120000, "2m0s"}, {3600000, "1h0m0s"}, {3723004, "1h2m3.004s"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        nb__go_duration(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reloadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_auth_user, setup, teardown),
        cmocka_unit_test(test_go_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
