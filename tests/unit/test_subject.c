/*
 * Subject validation, wildcard detection, matching and tokenising (libproto/np_subject.c), checked
 * against tables written from spec sections 2.1 and 2.2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np.h"

struct validity {
    const char *s;
    bool valid;   /* np_subject_valid */
    bool literal; /* np_subject_valid_literal */
    bool wild;    /* np_subject_has_wildcard (meaningful for valid subjects) */
};

static const struct validity validity_table[] = {
    {"foo", true, true, false},
    {"foo.bar", true, true, false},
    {"foo.bar.baz.qux", true, true, false},
    {"*", true, false, true},
    {">", true, false, true},
    {"foo.*", true, false, true},
    {"foo.>", true, false, true},
    {"*.bar", true, false, true},
    {"*.*.*", true, false, true},
    {"foo.*.>", true, false, true},
    {"*.>", true, false, true},
    {"foo*", true, true, false},
    {"*foo", true, true, false},
    {">foo", true, true, false},
    {"foo>", true, true, false},
    {"foo.b*r", true, true, false},
    {"foo.>bar", true, true, false},
    {"**", true, true, false},
    {">>", true, true, false},
    {"$SYS.REQ.SERVER.PING", true, true, false},
    {"_INBOX.abc123", true, true, false},
    {"a-b_c.d~e", true, true, false},
    {"\xc3\xa9t\xc3\xa9.\xe2\x82\xac", true, true, false},
    {"ctl\x01.x\x7f", true, true, false},
    {"a\vb", true, true, false},
    {"", false, false, false},
    {".", false, false, false},
    {"..", false, false, false},
    {".foo", false, false, false},
    {"foo.", false, false, false},
    {"foo..bar", false, false, false},
    {"foo.>.bar", false, false, true},
    {">.foo", false, false, true},
    {">.>", false, false, true},
    {"foo.>.", false, false, true},
    {"foo bar", false, false, false},
    {"foo\tbar", false, false, false},
    {"foo\rbar", false, false, false},
    {"foo\nbar", false, false, false},
    {"foo\fbar", false, false, false},
    {" foo", false, false, false},
    {"foo ", false, false, false},
    {"foo.* ", false, false, false},
};

static void
test_validity_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof validity_table / sizeof validity_table[0]; i++) {
        const struct validity *v = &validity_table[i];
        size_t len = strlen(v->s);
        if (np_subject_valid(v->s, len) != v->valid ||
            np_subject_valid_literal(v->s, len) != v->literal)
            fail_msg("validity of \"%s\": want valid=%d literal=%d", v->s, v->valid, v->literal);
        if (v->valid && np_subject_has_wildcard(v->s, len) != v->wild)
            fail_msg("has_wildcard(\"%s\") should be %d", v->s, v->wild);
    }
}

static void
test_validity_uses_length_not_nul(void **state)
{
    (void)state;
    /* The length bounds the view: bytes after it, even invalid ones, are not looked at. */
    assert_true(np_subject_valid("foo.bar..", 7));
    assert_true(np_subject_valid_literal("foo.bar *", 7));
    assert_false(np_subject_valid("foo.", 4));
    assert_true(np_subject_valid("foo.>", 5));
    assert_false(np_subject_valid("foo.>x", 4));
    assert_false(np_subject_valid(NULL, 0));
    assert_false(np_subject_valid_literal(NULL, 0));
    /* An embedded NUL is an ordinary byte. */
    assert_true(np_subject_valid("a\0b.c", 5));
}

static void
test_has_wildcard_positions(void **state)
{
    (void)state;
    assert_true(np_subject_has_wildcard("*", 1));
    assert_true(np_subject_has_wildcard("a.*.b", 5));
    assert_true(np_subject_has_wildcard("a.b.>", 5));
    assert_false(np_subject_has_wildcard("a.b*", 4));
    assert_false(np_subject_has_wildcard("a.*b", 4));
    assert_false(np_subject_has_wildcard("a>.b", 4));
    assert_false(np_subject_has_wildcard("", 0));
    /* Only the first 3 bytes are in the view, so the '*' is not a whole token there. */
    assert_false(np_subject_has_wildcard("a.b*", 3));
}

struct match {
    const char *pattern, *subject;
    bool want;
};

static const struct match match_table[] = {
    {"foo", "foo", true},
    {"foo", "bar", false},
    {"foo", "fo", false},
    {"fo", "foo", false},
    {"foo.bar", "foo.bar", true},
    {"foo.bar", "foo.baz", false},
    {"foo.bar", "foo", false},
    {"foo", "foo.bar", false},
    {"*", "foo", true},
    {"*", "foo.bar", false},
    {"foo.*", "foo.bar", true},
    {"foo.*", "foo", false},
    {"foo.*", "foo.bar.baz", false},
    {"*.bar", "foo.bar", true},
    {"*.bar", "foo.baz", false},
    {"*.*", "a.b", true},
    {"*.*", "a.b.c", false},
    {"foo.*.baz", "foo.bar.baz", true},
    {"foo.*.baz", "foo.bar.qux", false},
    {">", "foo", true},
    {">", "foo.bar.baz", true},
    {"foo.>", "foo.bar", true},
    {"foo.>", "foo.bar.baz", true},
    {"foo.>", "foo", false},
    {"foo.>", "bar.baz", false},
    {"foo.>", "foobar.baz", false},
    {"*.>", "a.b", true},
    {"*.>", "a", false},
    {"foo.*.>", "foo.bar.baz", true},
    {"foo.*.>", "foo.bar", false},
    {"foo*", "foo*", true},
    {"foo*", "foox", false},
    {">x", ">x", true},
    {"*x", "*x", true},
    {"*x", "ab", false},
    {"a.*x", "a.b", false},
    {">x", "a", false},
    {"foo.b*", "foo.bar", false},
    /* A wildcard in the subject is a literal token there: only a wildcard in the pattern matches it. */
    {"foo.*", "foo.*", true},
    {"foo.>", "foo.>", true},
    {"foo.bar", "foo.*", false},
    {"*", ">", true},
    /* Empty tokens on either side match nothing. */
    {"foo", "", false},
    {"", "foo", false},
    {"*", "", false},
    {">", "", false},
    {"*", ".", false},
    {"foo.*", "foo.", false},
    {"foo.>", "foo.", false},
    {"*.*", ".b", false},
    {"a.*.c", "a..c", false},
    {">", "a..b", false},
    {"foo.>", "foo.a..b", false},
    {"foo.>", "foo.a.b.", false},
    {"foo..bar", "foo..bar", false},
    /* Invalid patterns: '>' must be last. */
    {">.foo", "a.foo", false},
    {"a.>.c", "a.b.c", false},
};

static void
test_match_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof match_table / sizeof match_table[0]; i++) {
        const struct match *m = &match_table[i];
        bool got = np_subject_match(m->pattern, strlen(m->pattern), m->subject, strlen(m->subject));
        if (got != m->want)
            fail_msg("match(\"%s\", \"%s\") = %d, want %d", m->pattern, m->subject, got, m->want);
    }
}

static void
test_match_respects_lengths(void **state)
{
    (void)state;
    assert_true(np_subject_match("foo.bar", 3, "foo.baz", 3));
    assert_true(np_subject_match("foo.*", 5, "foo.bar.baz", 7));
    assert_false(np_subject_match("foo.>", 5, "foo.bar", 3));
    assert_true(np_subject_match(">", 1, "a.b", 3));
}

static void
test_intersect(void **state)
{
    (void)state;
    static const struct match table[] = {
        {"orders.*", "orders.new", true},
        {"orders.>", "orders.*", true},
        {"orders.*", "orders.a.b", false},
        {"a.*.c", "a.b.*", true},
        {"a.*.c", "a.b.d", false},
        {">", "x", true},
        {"a.b", "a.b.c", false},
        {"a.>", "a", false},
        {"*.b", "a.*", true},
        {"a.b.>", "a.*.c.d", true},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct match *m = &table[i];
        bool ab =
            np_subject_intersect(m->pattern, strlen(m->pattern), m->subject, strlen(m->subject));
        bool ba =
            np_subject_intersect(m->subject, strlen(m->subject), m->pattern, strlen(m->pattern));
        if (ab != m->want || ba != m->want)
            fail_msg("intersect(\"%s\", \"%s\") = %d/%d, want %d", m->pattern, m->subject, ab, ba,
                     m->want);
    }
}

static void
test_tokens(void **state)
{
    (void)state;
    struct np_str t[4];
    assert_int_equal(np_subject_tokens("foo.bar.baz", 11, t, 4), 3);
    assert_int_equal(t[0].len, 3);
    assert_memory_equal(t[0].ptr, "foo", 3);
    assert_int_equal(t[1].len, 3);
    assert_memory_equal(t[1].ptr, "bar", 3);
    assert_int_equal(t[2].len, 3);
    assert_memory_equal(t[2].ptr, "baz", 3);

    assert_int_equal(np_subject_tokens("x", 1, t, 4), 1);
    assert_int_equal(t[0].len, 1);
    assert_int_equal(np_subject_tokens("*.>", 3, t, 4), 2);
    assert_memory_equal(t[1].ptr, ">", 1);
    assert_int_equal(np_subject_tokens("a.b.c.d", 7, t, 4), 4);
    assert_memory_equal(t[3].ptr, "d", 1);
}

static void
test_tokens_errors(void **state)
{
    (void)state;
    struct np_str t[4];
    assert_int_equal(np_subject_tokens("a.b.c.d.e", 9, t, 4), NP_ENOSPACE);
    assert_int_equal(np_subject_tokens("a.b", 3, t, 1), NP_ENOSPACE);
    assert_int_equal(np_subject_tokens("a", 1, NULL, 0), NP_ENOSPACE);
    assert_int_equal(np_subject_tokens("", 0, t, 4), NP_ESUBJECT);
    assert_int_equal(np_subject_tokens(NULL, 0, t, 4), NP_ESUBJECT);
    assert_int_equal(np_subject_tokens(".a", 2, t, 4), NP_ESUBJECT);
    assert_int_equal(np_subject_tokens("a.", 2, t, 4), NP_ESUBJECT);
    assert_int_equal(np_subject_tokens("a..b", 4, t, 4), NP_ESUBJECT);
    /* An empty token beyond the capacity is still reported as a bad subject. */
    assert_int_equal(np_subject_tokens("a.b.c.d.e..f", 12, t, 2), NP_ESUBJECT);
}

static void
test_tokens_overflow_writes_nothing_past_max(void **state)
{
    (void)state;
    struct np_str t[3];
    struct np_str guard = {"guard", 5};
    t[2] = guard;
    assert_int_equal(np_subject_tokens("a.b.c", 5, t, 2), NP_ENOSPACE);
    assert_ptr_equal(t[2].ptr, guard.ptr);
    assert_int_equal(t[2].len, 5);
}

static void
test_long_subject(void **state)
{
    (void)state;
    /* 2000 one-byte tokens: the largest kind of subject a 4 KiB control line can carry. */
    static char s[4000];
    for (size_t i = 0; i < sizeof s; i += 2) {
        s[i] = 'a';
        s[i + 1] = '.';
    }
    size_t len = sizeof s - 1;
    assert_true(np_subject_valid_literal(s, len));
    assert_true(np_subject_match(s, len, s, len));
    s[len - 1] = '*';
    assert_true(np_subject_valid(s, len));
    assert_true(np_subject_has_wildcard(s, len));
    assert_true(np_subject_match(s, len, "a.a", 3) == false);
    static struct np_str t[2000];
    assert_int_equal(np_subject_tokens(s, len, t, 2000), 2000);
    assert_int_equal(np_subject_tokens(s, len, t, 1999), NP_ENOSPACE);
}

/* np_subject_subset(sub, pattern): whatever sub matches, pattern matches too. */
static void
test_subset(void **state)
{
    (void)state;
    static const struct {
        const char *sub, *pattern;
        bool subset;
    } cases[] = {
        {"foo", "foo", true},
        {"foo", "bar", false},
        {"foo", "*", true},
        {"foo", ">", true},
        {"foo.bar", "foo.*", true},
        {"foo.bar", "foo.>", true},
        {"foo.*", "foo.*", true},
        {"foo.*", "foo.>", true},
        {"foo.*", ">", true},
        {"foo.*", "foo.bar", false},
        {"foo.*", "*.bar", false},
        {"foo.*.baz", "foo.>", true},
        {"foo.*.baz", "*.*.baz", true},
        /* nats-server 2.9.10 admits SUB foo.> under allow foo.*; foo.> is not within foo.* */
        {"foo.>", "foo.*", false},
        {"foo.>", "foo.>", true},
        {"foo.>", "foo.*.>", false},
        {"foo.*.>", "foo.*.>", true},
        {">", "*", false},
        {">", ">", true},
        {"foo", "foo.>", false},
        {"foo.bar", "foo", false},
        {"foo", "foo.bar", false},
        {"*", "foo", false},
        {"foo..bar", ">", false},
        {"foo", "foo..bar", false},
        {"", ">", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = np_subject_subset(cases[i].sub, strlen(cases[i].sub), cases[i].pattern,
                                     strlen(cases[i].pattern));
        if (got != cases[i].subset)
            fail_msg("subset(%s, %s) = %d", cases[i].sub, cases[i].pattern, got);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validity_table),
        cmocka_unit_test(test_validity_uses_length_not_nul),
        cmocka_unit_test(test_has_wildcard_positions),
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_respects_lengths),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_tokens_errors),
        cmocka_unit_test(test_tokens_overflow_writes_nothing_past_max),
        cmocka_unit_test(test_long_subject),
        cmocka_unit_test(test_intersect),
        cmocka_unit_test(test_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
