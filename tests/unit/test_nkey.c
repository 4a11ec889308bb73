#include "np.h"
#include "np_nkey.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* RFC 8032 section 7.1, test 1 (empty message), written as an nkeys user seed and public key. */
#define RFC_SEED "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"
#define RFC_PUB  "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"
#define RFC_SIG                                                                                    \
    "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc-bRr0lv18FlbviRlUUFDjnoQCw"
#define RFC_SIG_STD                                                                                \
    "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc+bRr0lv18FlbviRlUUFDjnoQCw=="

/* Seed/public pairs from nats-server's tests (server/config_check_test.go). */
static const char *const pairs[][2] = {
    {"SUAEL6RU3BSDAFKOHNTEOK5Q6FTM5FTAMWVIKBET6FHPO4JRII3CYELVNM",
     "UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3"},
    {"SUADZTYQAKTY5NQM7XRB5XR3C24M6ROGZLBZ6P5HJJSSOFUGC5YXOOECOM",
     "UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI"},
};

static void
test_known_vectors(void **state)
{
    (void)state;
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    assert_int_equal(np_nkey_sign(RFC_SEED, strlen(RFC_SEED), "", 0, pub, sig), 0);
    assert_string_equal(pub, RFC_PUB);
    assert_string_equal(sig, RFC_SIG);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        assert_int_equal(np_nkey_sign(pairs[i][0], strlen(pairs[i][0]), "n", 1, pub, sig), 0);
        assert_string_equal(pub, pairs[i][1]);
        assert_true(np_nkey_is_user(pairs[i][1]));
    }
}

static void
test_verify(void **state)
{
    (void)state;
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, RFC_SIG), NP_NKEY_VERIFIED);
    /* nats-server falls back to padded standard base64. */
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, RFC_SIG_STD), NP_NKEY_VERIFIED);
    assert_int_equal(np_nkey_verify(RFC_PUB, "x", 1, RFC_SIG), NP_NKEY_NOT_VERIFIED);
    assert_int_equal(np_nkey_verify(pairs[0][1], "", 0, RFC_SIG), NP_NKEY_NOT_VERIFIED);
    char bad[] = RFC_SIG;
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, bad), NP_NKEY_NOT_VERIFIED);
    /* Too short, or too long, is a failed verification; a foreign character is not base64. */
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, "AAAA"), NP_NKEY_NOT_VERIFIED);
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, RFC_SIG "AAAA"), NP_NKEY_NOT_VERIFIED);
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, "not base64!"), NP_NKEY_NOT_BASE64);
    assert_int_equal(np_nkey_verify(RFC_PUB, "", 0, "A"), NP_NKEY_NOT_BASE64);
    /* A signature made here verifies there. */
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    assert_int_equal(np_nkey_sign(pairs[1][0], strlen(pairs[1][0]), "nonce", 5, pub, sig), 0);
    assert_int_equal(np_nkey_verify(pub, "nonce", 5, sig), NP_NKEY_VERIFIED);
    assert_int_equal(np_nkey_verify(pub, "nonc3", 5, sig), NP_NKEY_NOT_VERIFIED);
}

static void
test_bad_keys(void **state)
{
    (void)state;
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    char k[] = RFC_PUB;
    assert_true(np_nkey_is_user(k));
    k[20] = k[20] == 'A' ? 'B' : 'A'; /* the CRC no longer matches */
    assert_false(np_nkey_is_user(k));
    assert_false(np_nkey_is_user("UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVA"));
    assert_false(np_nkey_is_user(""));
    assert_false(np_nkey_is_user(NULL));
    assert_false(np_nkey_is_user("udlvvgabqkyqvn6vjp7nhslea45a5yls6pnkmizfv4bbu2hxa5iruval"));
    /* An account key is a valid key but not a user's. */
    assert_false(np_nkey_is_user("AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL"));
    /* A public key is no seed; a seed with a bad CRC or cut short is none either. */
    assert_int_equal(np_nkey_sign(RFC_PUB, strlen(RFC_PUB), "", 0, pub, sig), NP_EINVAL);
    char s[] = RFC_SEED;
    s[30] = s[30] == 'A' ? 'B' : 'A';
    assert_int_equal(np_nkey_sign(s, strlen(s), "", 0, pub, sig), NP_EINVAL);
    assert_int_equal(np_nkey_sign(RFC_SEED, strlen(RFC_SEED) - 1, "", 0, pub, sig), NP_EINVAL);
    assert_int_equal(np_nkey_sign("", 0, "", 0, pub, sig), NP_EINVAL);
}

static void
test_find_seed(void **state)
{
    (void)state;
    struct np_str s;
    const char *plain = "# my key\n  " RFC_SEED "  \r\n";
    assert_int_equal(np_nkey_find_seed(plain, strlen(plain), &s), 0);
    assert_int_equal(s.len, strlen(RFC_SEED));
    assert_memory_equal(s.ptr, RFC_SEED, s.len);
    const char *none = "nothing here\nUDLVV\n";
    assert_int_equal(np_nkey_find_seed(none, strlen(none), &s), NP_EINVAL);
    assert_int_equal(np_nkey_find_seed("", 0, &s), NP_EINVAL);
}

static const char creds[] = "-----BEGIN NATS USER JWT-----\n"
                            "eyJ0eXAi.eyJqdGki.sig-_x\n"
                            "------END NATS USER JWT------\n"
                            "\n"
                            "************************* IMPORTANT *************************\n"
                            "NKEY Seed printed below can be used to sign and prove identity.\n"
                            "\n"
                            "-----BEGIN USER NKEY SEED-----\n" RFC_SEED "\n"
                            "------END USER NKEY SEED------\n"
                            "\n"
                            "*************************************************************\n";

static void
test_creds(void **state)
{
    (void)state;
    struct np_str jwt, seed;
    assert_int_equal(np_nkey_find_jwt(creds, strlen(creds), &jwt), 0);
    assert_int_equal(jwt.len, strlen("eyJ0eXAi.eyJqdGki.sig-_x"));
    assert_memory_equal(jwt.ptr, "eyJ0eXAi.eyJqdGki.sig-_x", jwt.len);
    assert_int_equal(np_nkey_find_seed(creds, strlen(creds), &seed), 0);
    assert_int_equal(seed.len, strlen(RFC_SEED));
    assert_memory_equal(seed.ptr, RFC_SEED, seed.len);
    /* CRLF line ends too. */
    const char *crlf =
        "-----A-----\r\nJWT\r\n-----B-----\r\n-----C-----\r\nSEED\r\n-----D-----\r\n";
    assert_int_equal(np_nkey_find_seed(crlf, strlen(crlf), &seed), 0);
    assert_int_equal(seed.len, 4);
    assert_memory_equal(seed.ptr, "SEED", 4);
    /* A bare JWT is the whole file; an empty one is none. */
    assert_int_equal(np_nkey_find_jwt(" abc.def.ghi\n", 13, &jwt), 0);
    assert_int_equal(jwt.len, 11);
    assert_int_equal(np_nkey_find_jwt(" \n", 2, &jwt), NP_EINVAL);
    /* One block only: the seed is looked for line by line, and there is none. */
    const char *one = "-----BEGIN NATS USER JWT-----\nabc\n------END NATS USER JWT------\n";
    assert_int_equal(np_nkey_find_seed(one, strlen(one), &seed), NP_EINVAL);
}

static void
test_nonce(void **state)
{
    (void)state;
    char a[NP_NKEY_NONCE_LEN + 1], b[NP_NKEY_NONCE_LEN + 1];
    assert_int_equal(np_nkey_nonce(a), 0);
    assert_int_equal(np_nkey_nonce(b), 0);
    assert_int_equal(strlen(a), 15);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     15);
    assert_string_not_equal(a, b);
}

static void
test_wipe(void **state)
{
    (void)state;
    char buf[8] = "SUSECRET";
    np_nkey_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors), cmocka_unit_test(test_verify),
        cmocka_unit_test(test_bad_keys),      cmocka_unit_test(test_find_seed),
        cmocka_unit_test(test_creds),         cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
