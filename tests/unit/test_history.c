/*
 * The shell's history filter (cmd/cli_history.c): lines that may carry a secret are never written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli_history.h"

static void
test_secrets_are_sensitive(void **state)
{
    (void)state;
    assert_true(cli_history_sensitive("pub --password hunter2 x y"));
    assert_true(cli_history_sensitive("pub --PASS x y"));
    assert_true(cli_history_sensitive("req --token abc svc"));
    assert_true(cli_history_sensitive("pub --creds f x"));
    assert_true(cli_history_sensitive("pub --nkey f x"));
    assert_true(cli_history_sensitive(":connect nats://u:p@host:4222"));
    assert_true(cli_history_sensitive(":connect nats://s3cr3t@host"));
    assert_true(cli_history_sensitive("pub --user bob:pw x y"));
    assert_true(cli_history_sensitive("pub --user=bob:pw x y"));
    /* a seed pasted anywhere in a line */
    assert_true(
        cli_history_sensitive("pub x SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"));
    assert_false(cli_history_sensitive("pub x SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFY"));
}

static void
test_plain_lines_are_kept(void **state)
{
    (void)state;
    assert_false(cli_history_sensitive("pub orders.new hi"));
    assert_false(cli_history_sensitive(":connect nats://host:4222"));
    assert_false(cli_history_sensitive("pub --user bob x y"));
    assert_false(cli_history_sensitive("sub 'a.>' --queue q"));
    assert_false(cli_history_sensitive("pub mail x@y"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_are_sensitive),
        cmocka_unit_test(test_plain_lines_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
