/*
 * Client authentication (libbroker/nb_auth.c): the order of nats-server 2.9.10's checks, bcrypt
 * as Go's bcrypt compares, and the constant-time comparison of plain secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb_auth.h"
#include "np_nkey.h"

#include <stdlib.h>
#include <string.h>

/* "s3cret" at cost 4, written with each version nats-server accepts. */
#define HASH_2A "$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq"
#define HASH_2B "$2b$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq"
#define HASH_2Y "$2y$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq"
#define HASH_2X "$2x$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq"
/* "bar" at cost 10, the example of spec 4.2, made by nats-server's own tool. */
#define HASH_BAR "$2a$10$LoRPzN3GtF2pNX5QgCBBHeUr6/zVN./RVGOu5U8SpHyg2sfzvfXji"

static void
test_is_bcrypt(void **state)
{
    (void)state;
    assert_true(nb__auth_is_bcrypt(HASH_2A));
    assert_true(nb__auth_is_bcrypt("$2x$10$"));
    assert_true(nb__auth_is_bcrypt("$2y$99$anything"));
    assert_false(nb__auth_is_bcrypt("$2c$10$x"));
    assert_false(nb__auth_is_bcrypt("$2a$1x$x"));
    assert_false(nb__auth_is_bcrypt("$2a$10x"));
    assert_false(nb__auth_is_bcrypt("2a$10$x"));
    assert_false(nb__auth_is_bcrypt("$2a$"));
    assert_false(nb__auth_is_bcrypt(""));
    assert_false(nb__auth_is_bcrypt(NULL));
}

static void
test_bcrypt(void **state)
{
    (void)state;
    const char *versions[] = {HASH_2A, HASH_2B, HASH_2Y, HASH_2X};
    for (size_t i = 0; i < 4; i++) {
        assert_true(nb__auth_bcrypt(versions[i], "s3cret"));
        assert_false(nb__auth_bcrypt(versions[i], "s3cret "));
        assert_false(nb__auth_bcrypt(versions[i], ""));
        assert_false(nb__auth_bcrypt(versions[i], NULL));
    }
    assert_true(nb__auth_bcrypt(HASH_BAR, "bar"));
    assert_false(nb__auth_bcrypt(HASH_BAR, "baz"));
    /* a hash cut short or with more after it, or with a cost bcrypt refuses, matches nothing */
    assert_false(
        nb__auth_bcrypt("$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zT", "s3cret"));
    assert_false(nb__auth_bcrypt(HASH_2A "x", "s3cret"));
    assert_false(
        nb__auth_bcrypt("$2a$03$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq", "s3cret"));
    assert_false(nb__auth_bcrypt("plain", "plain"));
}

static void
test_equal(void **state)
{
    (void)state;
    assert_true(nb__auth_equal("abc", "abc"));
    assert_false(nb__auth_equal("abc", "abd"));
    assert_false(nb__auth_equal("abc", "ab"));
    assert_false(nb__auth_equal("ab", "abc"));
    assert_false(nb__auth_equal("abc", ""));
    assert_true(nb__auth_equal(NULL, ""));
    assert_true(nb__auth_equal("", NULL));
    assert_false(nb__auth_equal("a", NULL));
}

/* A configuration of users name:password (password NULL for none); no permissions. */
static void
add_users(struct nb_config *cfg, const char *const *pairs, size_t n)
{
    cfg->users = calloc(n, sizeof *cfg->users);
    cfg->nusers = n;
    for (size_t i = 0; i < n; i++) {
        cfg->users[i].name = strdup(pairs[2 * i]);
        cfg->users[i].password = pairs[2 * i + 1] ? strdup(pairs[2 * i + 1]) : NULL;
    }
}

static enum nb_auth_verdict
check(const struct nb_auth *a, const char *user, const char *pass, const char *token,
      struct nb_auth_result *res)
{
    struct np_connect cc = {0};
    cc.user = (char *)user;
    cc.pass = (char *)pass;
    cc.auth_token = (char *)token;
    return nb__auth_check(a, &cc, "", res);
}

static void
test_check_users(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    const char *users[] = {"alice", "secret", "bob", HASH_2A, "carol", NULL, "dan", "pw"};
    add_users(&cfg, users, 4);
    cfg.users[3].standard_refused = true;
    struct nb_auth *a;
    struct nb_auth_result res;
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_true(a->required);
    assert_int_equal(check(a, "alice", "secret", NULL, &res), NB_AUTH_OK);
    assert_string_equal(res.name, "alice");
    assert_ptr_equal(res.user, &a->users[0]);
    assert_int_equal(check(a, "alice", "nope", NULL, &res), NB_AUTH_FAIL);
    assert_string_equal(res.name, "alice");
    assert_int_equal(check(a, "nobody", "secret", NULL, &res), NB_AUTH_FAIL);
    assert_null(res.user);
    assert_int_equal(check(a, "bob", "s3cret", NULL, &res), NB_AUTH_BCRYPT);
    assert_string_equal(res.hash, HASH_2A);
    assert_string_equal(res.secret, "s3cret");
    assert_int_equal(check(a, "carol", NULL, NULL, &res), NB_AUTH_OK); /* no password: none */
    assert_int_equal(check(a, "carol", "x", NULL, &res), NB_AUTH_FAIL);
    assert_int_equal(check(a, "dan", "pw", NULL, &res), NB_AUTH_FAIL); /* not a plain client */
    /* no user name and no token: nothing to go by */
    assert_int_equal(check(a, NULL, "secret", NULL, &res), NB_AUTH_FAIL);
    assert_int_equal(check(a, "", NULL, NULL, &res), NB_AUTH_FAIL);
    assert_int_equal(nb__auth_check(a, NULL, "", &res), NB_AUTH_FAIL);
    nb__auth_free(a);
    /* a token from the command line works beside the users for a CONNECT without a user */
    nb_config_set_str(&cfg.auth_token, "tok");
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(check(a, NULL, NULL, "tok", &res), NB_AUTH_OK);
    assert_int_equal(check(a, "alice", NULL, "tok", &res), NB_AUTH_FAIL);
    nb__auth_free(a);
    nb_config_release(&cfg);
}

static void
test_check_no_auth_user(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    const char *users[] = {"guest", "pw", "bob", HASH_2A};
    add_users(&cfg, users, 2);
    nb_config_set_str(&cfg.no_auth_user, "guest");
    struct nb_auth *a;
    struct nb_auth_result res;
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(check(a, NULL, NULL, NULL, &res), NB_AUTH_OK);
    assert_string_equal(res.name, "guest");
    assert_int_equal(nb__auth_check(a, NULL, "", &res), NB_AUTH_OK);
    assert_ptr_equal(res.user, &a->users[0]);
    /* any credential means the client speaks for itself */
    assert_int_equal(check(a, NULL, "pw", NULL, &res), NB_AUTH_FAIL);
    assert_int_equal(check(a, "bob", "s3cret", NULL, &res), NB_AUTH_BCRYPT);
    assert_int_equal(check(a, "guest", "no", NULL, &res), NB_AUTH_FAIL);
    nb__auth_free(a);
    /* nats-server compares a bcrypt no_auth_user's hash with itself, which fails */
    nb_config_set_str(&cfg.no_auth_user, "bob");
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(check(a, NULL, NULL, NULL, &res), NB_AUTH_FAIL);
    assert_string_equal(res.name, "bob");
    assert_int_equal(nb__auth_check(a, NULL, "", &res),
                     NB_AUTH_OK); /* no CONNECT at all: admitted */
    nb__auth_free(a);
    nb_config_release(&cfg);
}

static void
test_check_token_and_user(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct nb_auth *a;
    struct nb_auth_result res;
    nb_config_init(&cfg);
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_false(a->required);
    assert_int_equal(check(a, "x", "y", "z", &res), NB_AUTH_OK);
    nb__auth_free(a);
    nb_config_set_str(&cfg.auth_token, HASH_2B);
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(check(a, NULL, NULL, "s3cret", &res), NB_AUTH_BCRYPT);
    assert_int_equal(check(a, NULL, NULL, NULL, &res), NB_AUTH_BCRYPT);
    assert_string_equal(res.secret, "");
    nb__auth_free(a);
    nb_config_set_str(&cfg.auth_token, NULL);
    nb_config_set_str(&cfg.auth_user, "u");
    nb_config_set_str(&cfg.auth_pass, "p");
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(check(a, "u", "p", NULL, &res), NB_AUTH_OK);
    assert_string_equal(res.name, "u");
    assert_int_equal(check(a, "u", "q", NULL, &res), NB_AUTH_FAIL);
    assert_int_equal(check(a, "v", "p", NULL, &res), NB_AUTH_FAIL);
    nb__auth_free(a);
    nb_config_release(&cfg);
}

static void
test_plaintext_warning(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    nb_config_set_str(&cfg.auth_token, "plain-token"); /* tokens are not warned about */
    assert_false(nb__auth_has_plaintext(&cfg));
    nb_config_set_str(&cfg.auth_pass, HASH_2A);
    assert_false(nb__auth_has_plaintext(&cfg));
    nb_config_set_str(&cfg.auth_pass, "plain");
    assert_true(nb__auth_has_plaintext(&cfg));
    nb_config_set_str(&cfg.auth_pass, NULL);
    const char *users[] = {"a", HASH_2A, "b", NULL};
    add_users(&cfg, users, 1);
    assert_false(nb__auth_has_plaintext(&cfg));
    nb_config_release(&cfg);
    nb_config_init(&cfg);
    add_users(&cfg, users, 2); /* no password at all counts as plain text, as in nats-server */
    assert_true(nb__auth_has_plaintext(&cfg));
    /* but an nkey user has no password to warn about */
    free(cfg.users[1].name);
    cfg.users[1].name = NULL;
    cfg.users[1].nkey = strdup("UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL");
    assert_false(nb__auth_has_plaintext(&cfg));
    nb_config_release(&cfg);
}

/* RFC 8032's first key as an nkey user (tests/unit/test_nkey.c), and another user key. */
#define SEED  "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"
#define NKEY  "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"
#define NKEY2 "UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3"

static enum nb_auth_verdict
check_nkey(const struct nb_auth *a, const char *nkey, const char *sig, const char *nonce,
           struct nb_auth_result *res)
{
    struct np_connect cc = {0};
    cc.nkey = (char *)nkey;
    cc.sig = (char *)sig;
    return nb__auth_check(a, &cc, nonce, res);
}

static void
test_check_nkeys(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    const char *users[] = {"alice", "secret", "x", NULL, "y", NULL};
    add_users(&cfg, users, 3);
    free(cfg.users[1].name);
    free(cfg.users[2].name);
    cfg.users[1].name = cfg.users[2].name = NULL;
    cfg.users[1].nkey = strdup(NKEY);
    cfg.users[2].nkey = strdup(NKEY2);
    cfg.users[2].standard_refused = true;
    struct nb_auth *a;
    struct nb_auth_result res;
    assert_int_equal(nb__auth_new(&cfg, &a), 0);
    assert_int_equal(a->nnkeys, 2);
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    assert_int_equal(np_nkey_sign(SEED, strlen(SEED), "abc", 3, pub, sig), 0);
    assert_int_equal(check_nkey(a, NKEY, sig, "abc", &res), NB_AUTH_OK);
    assert_ptr_equal(res.user, &a->users[1]);
    /* another nonce, a missing or mangled signature, an unknown or refused key */
    assert_int_equal(check_nkey(a, NKEY, sig, "abd", &res), NB_AUTH_FAIL);
    assert_string_equal(res.debug, "Signature not verified");
    assert_int_equal(check_nkey(a, NKEY, NULL, "abc", &res), NB_AUTH_FAIL);
    assert_string_equal(res.debug, "Signature missing");
    assert_int_equal(check_nkey(a, NKEY, "!!", "abc", &res), NB_AUTH_FAIL);
    assert_string_equal(res.debug, "Signature not valid base64");
    assert_int_equal(check_nkey(a, NKEY2, sig, "abc", &res), NB_AUTH_FAIL);
    assert_null(res.user);
    assert_int_equal(check_nkey(a, "UNKNOWN", sig, "abc", &res), NB_AUTH_FAIL);
    /* a named user still logs in by name; an nkey is no user name */
    assert_int_equal(check(a, "alice", "secret", NULL, &res), NB_AUTH_OK);
    assert_int_equal(check(a, NKEY, NULL, NULL, &res), NB_AUTH_FAIL);
    /* with an nkey in the CONNECT only the nkey counts, as in nats-server */
    struct np_connect cc = {0};
    cc.user = "alice";
    cc.pass = "secret";
    cc.nkey = NKEY;
    assert_int_equal(nb__auth_check(a, &cc, "abc", &res), NB_AUTH_FAIL);
    nb__auth_free(a);
    nb_config_release(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_bcrypt),
        cmocka_unit_test(test_bcrypt),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_check_users),
        cmocka_unit_test(test_check_no_auth_user),
        cmocka_unit_test(test_check_token_and_user),
        cmocka_unit_test(test_plaintext_warning),
        cmocka_unit_test(test_check_nkeys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
