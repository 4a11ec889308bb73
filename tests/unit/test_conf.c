/*
 * Tests for the configuration parser (nb_conf.c) and the option mapper (nb_config.c).
 *
 * Every test writes its configuration files under one mkdtemp directory made by the group setup
 * and removed by its teardown, so the include tests see real relative paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb.h"
#include "nb_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];
static char *made[128]; /* files and directories created, removed in reverse order */
static int nmade;

/* Writes text to tmpdir/rel and returns the full path (owned by the test fixture). */
static const char *
put_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    for (int i = 0; i < nmade; i++) {
        if (strcmp(made[i], path) == 0) return made[i];
    }
    assert_true(nmade < 128);
    made[nmade] = strdup(path);
    return made[nmade++];
}

static void
put_dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    assert_int_equal(mkdir(path, 0700), 0);
    made[nmade++] = strdup(path);
}

static int
setup_dir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_conf.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
    (void)state;
    while (nmade > 0) {
        char *p = made[--nmade];
        if (unlink(p) != 0) rmdir(p);
        free(p);
    }
    return rmdir(tmpdir);
}

/* The path of the file most tests write their configuration to. */
static const char *
tpath(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/t.conf", tmpdir);
    return path;
}

/* Parses text written to t.conf; returns the parser's result. */
static int
parse_text(const char *text, struct nb_conf *doc, struct nb_conf_error *err)
{
    return nb__conf_parse_file(doc, put_file("t.conf", text), err);
}

/* The member at a dotted path of the root ("a.b"), or NULL. */
static const cJSON *
at(const struct nb_conf *doc, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *node = doc->root;
    for (char *save, *part = strtok_r(buf, ".", &save); part && node;
         part = strtok_r(NULL, ".", &save)) {
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    }
    return node;
}

static int64_t
ival(const struct nb_conf *doc, const char *path)
{
    const cJSON *n = at(doc, path);
    assert_non_null(n);
    assert_true(cJSON_IsNumber(n));
    const struct nb_conf_meta *m = nb__conf_meta(doc, n);
    assert_non_null(m);
    assert_true(m->flags & NB_CONF_INT);
    return m->ival;
}

static const char *
sval(const struct nb_conf *doc, const char *path)
{
    const cJSON *n = at(doc, path);
    assert_non_null(n);
    assert_true(cJSON_IsString(n));
    return n->valuestring;
}

static unsigned
flags(const struct nb_conf *doc, const char *path)
{
    const struct nb_conf_meta *m = nb__conf_meta(doc, at(doc, path));
    assert_non_null(m);
    return m->flags;
}

static int
count(const cJSON *node)
{
    return cJSON_GetArraySize(node);
}

/* ---- syntax ------------------------------------------------------------------------------------ */

static void
test_separators(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("a = 1\nb: 2\nc 3\nd=4\ne:5\n", &doc, NULL), 0);
    assert_int_equal(count(doc.root), 5);
    assert_int_equal(ival(&doc, "a"), 1);
    assert_int_equal(ival(&doc, "b"), 2);
    assert_int_equal(ival(&doc, "c"), 3);
    assert_int_equal(ival(&doc, "d"), 4);
    assert_int_equal(ival(&doc, "e"), 5);
    nb__conf_release(&doc);
}

static void
test_value_terminators(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("a: 1, b: x; c: \"y\"\nd: z\n", &doc, NULL), 0);
    assert_int_equal(count(doc.root), 4);
    assert_int_equal(ival(&doc, "a"), 1);
    assert_string_equal(sval(&doc, "b"), "x");
    assert_string_equal(sval(&doc, "c"), "y");
    assert_string_equal(sval(&doc, "d"), "z");
    nb__conf_release(&doc);
}

static void
test_comments(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "# hash comment\n"
                       "// slash comment\n"
                       "a: 1 # trailing hash\n"
                       "b: two // trailing slashes\n"
                       "   # indented\n"
                       "m {\n  # inside a map\n  c: 3 // after\n}\n"
                       "l: [ # after bracket\n  4 // after element\n]\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_int_equal(count(doc.root), 4);
    assert_int_equal(ival(&doc, "a"), 1);
    assert_string_equal(sval(&doc, "b"), "two");
    assert_int_equal(count(at(&doc, "m")), 1);
    assert_int_equal(ival(&doc, "m.c"), 3);
    assert_int_equal(count(at(&doc, "l")), 1);
    nb__conf_release(&doc);
}

static void
test_nested_maps(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "m { a: 1 }\n"
                       "n = { b: { c: 2, d: [3] } }\n"
                       "o: {}\n"
                       "p\n{\n  q: 4\n}\n"
                       "r{ s: 5 }\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_int_equal(ival(&doc, "m.a"), 1);
    assert_int_equal(ival(&doc, "n.b.c"), 2);
    assert_true(cJSON_IsArray(at(&doc, "n.b.d")));
    assert_true(cJSON_IsObject(at(&doc, "o")));
    assert_int_equal(count(at(&doc, "o")), 0);
    assert_int_equal(ival(&doc, "p.q"), 4);
    assert_int_equal(ival(&doc, "r.s"), 5);
    const struct nb_conf_meta *m = nb__conf_meta(&doc, at(&doc, "n.b.c"));
    assert_int_equal(m->line, 2);
    assert_int_equal(m->column, 12);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "n"))->height, 4);
    nb__conf_release(&doc);
}

static void
test_json_style_file(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("{\n  \"a\": 1,\n  \"b\": {\"c\": [true, \"x\"]}\n}\n", &doc, NULL),
                     0);
    assert_int_equal(ival(&doc, "a"), 1);
    const cJSON *c = at(&doc, "b.c");
    assert_int_equal(count(c), 2);
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(c, 0)));
    assert_string_equal(cJSON_GetArrayItem(c, 1)->valuestring, "x");
    nb__conf_release(&doc);
}

static void
test_arrays(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "a: [1, 2, 3]\n"
                       "b: [\n  1\n  \"two\"\n  three,\n]\n"
                       "c: []\n"
                       "d: [[1], {k: v}]\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    const cJSON *a = at(&doc, "a");
    assert_int_equal(count(a), 3);
    assert_int_equal(nb__conf_meta(&doc, cJSON_GetArrayItem(a, 2))->ival, 3);
    const cJSON *b = at(&doc, "b");
    assert_int_equal(count(b), 3);
    assert_string_equal(cJSON_GetArrayItem(b, 1)->valuestring, "two");
    assert_string_equal(cJSON_GetArrayItem(b, 2)->valuestring, "three");
    const struct nb_conf_meta *m = nb__conf_meta(&doc, cJSON_GetArrayItem(b, 2));
    assert_int_equal(m->line, 5);
    assert_int_equal(m->column, 3);
    assert_int_equal(count(at(&doc, "c")), 0);
    const cJSON *d = at(&doc, "d");
    assert_true(cJSON_IsArray(cJSON_GetArrayItem(d, 0)));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 1), "k")->valuestring, "v");
    nb__conf_release(&doc);
}

static void
test_strings(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "dq: \"tab\\tnl\\ncr\\rq\\\"bs\\\\hex\\x41\\x7a\"\n"
                       "sq: 'raw \\t $VAR \"x\"'\n"
                       "uq: plain-word/with.dots\n"
                       "qt: \"true\"\n"
                       "qn: \"42\"\n"
                       "multi: \"line1\nline2\"\n"
                       "empty: \"\"\n"
                       "url: nats://127.0.0.1:4222\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_string_equal(sval(&doc, "dq"), "tab\tnl\ncr\rq\"bs\\hexAz");
    assert_int_equal(flags(&doc, "dq"), NB_CONF_QUOTED);
    assert_string_equal(sval(&doc, "sq"), "raw \\t $VAR \"x\"");
    assert_int_equal(flags(&doc, "sq"), NB_CONF_QUOTED);
    assert_string_equal(sval(&doc, "uq"), "plain-word/with.dots");
    assert_int_equal(flags(&doc, "uq"), 0);
    assert_string_equal(sval(&doc, "qt"), "true");
    assert_string_equal(sval(&doc, "qn"), "42");
    assert_string_equal(sval(&doc, "multi"), "line1\nline2");
    assert_string_equal(sval(&doc, "empty"), "");
    assert_string_equal(sval(&doc, "url"), "nats://127.0.0.1:4222");
    nb__conf_release(&doc);
}

static void
test_block_strings(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "b: (\n  line one\n  (not the end)\n  )x\n)\n"
                       "c: (first\nsecond\n   )  \n"
                       "after: 1\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_string_equal(sval(&doc, "b"), "\n  line one\n  (not the end)\n  )x\n");
    assert_int_equal(flags(&doc, "b"), NB_CONF_QUOTED);
    assert_string_equal(sval(&doc, "c"), "first\nsecond\n");
    assert_int_equal(ival(&doc, "after"), 1);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "after"))->line, 9);
    nb__conf_release(&doc);
}

static void
test_size_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t value;
    } cases[] = {
        {"1k", 1000},
        {"2k", 2000},
        {"1K", 1000},
        {"1kb", 1024},
        {"1KB", 1024},
        {"1ki", 1024},
        {"1kib", 1024},
        {"1KiB", 1024},
        {"1m", 1000000},
        {"1M", 1000000},
        {"1mb", 1048576},
        {"1MB", 1048576},
        {"2MB", 2097152},
        {"1mi", 1048576},
        {"1mib", 1048576},
        {"1g", 1000000000},
        {"1gb", 1073741824},
        {"1G", 1000000000},
        {"1GB", 1073741824},
        {"1t", 1000000000000},
        {"1tb", 1099511627776},
        {"1p", 1000000000000000},
        {"1pb", 1125899906842624},
        {"1e", 1000000000000000000},
        {"1eb", 1152921504606846976},
        {"1EB", 1152921504606846976},
        {"7eb", 8070450532247928832},
        {"-3k", -3000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "v: %s\n", cases[i].text);
        struct nb_conf doc;
        assert_int_equal(parse_text(text, &doc, NULL), 0);
        if (ival(&doc, "v") != cases[i].value) fail_msg("%s", cases[i].text);
        assert_int_equal(flags(&doc, "v"), NB_CONF_INT | NB_CONF_SUFFIX);
        nb__conf_release(&doc);
    }
}

static void
test_numbers(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "i: 42\nneg: -17\nbig: 9223372036854775807\nsmall: -9223372036854775808\n"
                       "f: 1.5\nnf: -0.25\nip: 127.0.0.1\naddr: 10.0.0.1:4222\n"
                       "s1: 10s\ns2: 2m30s\ns3: 1h30m\ns4: 1.5s\ns5: 1kx\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_int_equal(ival(&doc, "i"), 42);
    assert_int_equal(flags(&doc, "i"), NB_CONF_INT);
    assert_int_equal(ival(&doc, "neg"), -17);
    assert_true(ival(&doc, "big") == INT64_MAX);
    assert_true(ival(&doc, "small") == INT64_MIN);
    assert_true(cJSON_IsNumber(at(&doc, "f")));
    assert_true(at(&doc, "f")->valuedouble == 1.5);
    assert_int_equal(flags(&doc, "f"), NB_CONF_FLOAT);
    assert_true(at(&doc, "nf")->valuedouble == -0.25);
    assert_string_equal(sval(&doc, "ip"), "127.0.0.1");
    assert_string_equal(sval(&doc, "addr"), "10.0.0.1:4222");
    assert_string_equal(sval(&doc, "s1"), "10s");
    assert_string_equal(sval(&doc, "s2"), "2m30s");
    assert_string_equal(sval(&doc, "s3"), "1h30m");
    assert_string_equal(sval(&doc, "s4"), "1.5s");
    assert_string_equal(sval(&doc, "s5"), "1kx");
    assert_int_equal(flags(&doc, "s1"), 0);
    nb__conf_release(&doc);
}

static void
test_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        bool value;
    } cases[] = {{"true", true}, {"TRUE", true}, {"True", true},   {"yes", true},    {"YES", true},
                 {"on", true},   {"On", true},   {"false", false}, {"FALSE", false}, {"no", false},
                 {"No", false},  {"off", false}, {"OFF", false},   {"oFf", false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "v: %s\n", cases[i].word);
        struct nb_conf doc;
        assert_int_equal(parse_text(text, &doc, NULL), 0);
        assert_true(cJSON_IsBool(at(&doc, "v")));
        if (cJSON_IsTrue(at(&doc, "v")) != cases[i].value) fail_msg("%s", cases[i].word);
        nb__conf_release(&doc);
    }
    struct nb_conf doc;
    assert_int_equal(parse_text("a: 'yes'\nb: \"off\"\nc: truely\n", &doc, NULL), 0);
    assert_string_equal(sval(&doc, "a"), "yes");
    assert_string_equal(sval(&doc, "b"), "off");
    assert_string_equal(sval(&doc, "c"), "truely");
    nb__conf_release(&doc);
}

static void
test_datetime(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("when: 2023-01-02T15:04:05Z\n", &doc, NULL), 0);
    assert_string_equal(sval(&doc, "when"), "2023-01-02T15:04:05Z");
    assert_int_equal(flags(&doc, "when"), NB_CONF_DATETIME);
    nb__conf_release(&doc);
}

static void
test_duplicate_keys(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("a: 1\nb: 2\na: 3\n", &doc, NULL), 0);
    assert_int_equal(count(doc.root), 2);
    assert_string_equal(doc.root->child->string, "a");
    assert_int_equal(ival(&doc, "a"), 3);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "a"))->line, 3);
    nb__conf_release(&doc);
}

static void
test_key_positions(void **state)
{
    (void)state;
    struct nb_conf doc;
    assert_int_equal(parse_text("\n  first: 1\n\"quoted key\" = 2\n'single': 3\n", &doc, NULL), 0);
    const struct nb_conf_meta *m = nb__conf_meta(&doc, at(&doc, "first"));
    assert_int_equal(m->line, 2);
    assert_int_equal(m->column, 3);
    assert_int_equal(m->file, 0);
    assert_int_equal(ival(&doc, "quoted key"), 2);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "quoted key"))->line, 3);
    assert_int_equal(ival(&doc, "single"), 3);
    assert_string_equal(nb__conf_file(&doc, m), tpath());
    nb__conf_release(&doc);
}

/* ---- variables --------------------------------------------------------------------------------- */

static void
test_variables_scope(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "NAME = outer\n"
                       "SIZE = 2k\n"
                       "UNUSED = 9\n"
                       "top: $NAME\n"
                       "m {\n"
                       "  NAME = inner\n"
                       "  x: $NAME\n"
                       "  n { y: $NAME, z: $SIZE }\n"
                       "}\n"
                       "again: $NAME\n"
                       "list: [$NAME, $SIZE]\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_string_equal(sval(&doc, "top"), "outer");
    assert_string_equal(sval(&doc, "m.x"), "inner");
    assert_string_equal(sval(&doc, "m.n.y"), "inner");
    assert_int_equal(ival(&doc, "m.n.z"), 2000);
    assert_int_equal(flags(&doc, "m.n.z"), NB_CONF_INT | NB_CONF_SUFFIX);
    assert_string_equal(sval(&doc, "again"), "outer");
    assert_int_equal(count(at(&doc, "list")), 2);
    /* referenced definitions are gone, the unreferenced one stays */
    assert_null(at(&doc, "NAME"));
    assert_null(at(&doc, "SIZE"));
    assert_null(at(&doc, "m.NAME"));
    assert_int_equal(ival(&doc, "UNUSED"), 9);
    assert_int_equal(count(doc.root), 5);
    const struct nb_conf_meta *m = nb__conf_meta(&doc, at(&doc, "top"));
    assert_int_equal(m->line, 4);
    assert_int_equal(m->column, 1);
    nb__conf_release(&doc);
}

static void
test_variable_map_copy(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *text = "AUTH = { user: a, X = 1, pass: $X }\n"
                       "one: $AUTH\n"
                       "two: $AUTH\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_string_equal(sval(&doc, "one.user"), "a");
    assert_int_equal(ival(&doc, "one.pass"), 1);
    assert_int_equal(ival(&doc, "two.pass"), 1);
    assert_null(at(&doc, "AUTH"));
    assert_null(at(&doc, "one.X"));
    assert_null(at(&doc, "two.X"));
    assert_int_equal(count(at(&doc, "one")), 2);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "two"))->line, 3);
    nb__conf_release(&doc);
}

static void
test_variables_env(void **state)
{
    (void)state;
    setenv("NB_TEST_ENV_INT", "42", 1);
    setenv("NB_TEST_ENV_SIZE", "2MB", 1);
    setenv("NB_TEST_ENV_STR", "\"quoted value\"", 1);
    setenv("NB_TEST_ENV_MAP", "{ a: 1, b: [x, y] }", 1);
    setenv("NB_TEST_ENV_SHADOW", "from-env", 1);
    setenv("NB_TEST_ENV_EMPTY", "", 1);
    struct nb_conf doc;
    const char *text = "NB_TEST_ENV_SHADOW = from-file\n"
                       "i: $NB_TEST_ENV_INT\n"
                       "s: $NB_TEST_ENV_SIZE\n"
                       "q: $NB_TEST_ENV_STR\n"
                       "m: $NB_TEST_ENV_MAP\n"
                       "sh: $NB_TEST_ENV_SHADOW\n"
                       "e: $NB_TEST_ENV_EMPTY\n";
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_int_equal(ival(&doc, "i"), 42);
    assert_int_equal(ival(&doc, "s"), 2097152);
    assert_string_equal(sval(&doc, "q"), "quoted value");
    assert_int_equal(ival(&doc, "m.a"), 1);
    assert_int_equal(count(at(&doc, "m.b")), 2);
    assert_string_equal(sval(&doc, "sh"), "from-file");
    assert_string_equal(sval(&doc, "e"), "");
    const struct nb_conf_meta *m = nb__conf_meta(&doc, at(&doc, "i"));
    assert_int_equal(m->line, 2);
    assert_int_equal(m->file, 0);
    nb__conf_release(&doc);
}

static void
test_env_errors(void **state)
{
    (void)state;
    struct nb_conf doc;
    struct nb_conf_error err;
    setenv("NB_TEST_ENV_SELF", "$NB_TEST_ENV_SELF", 1);
    assert_int_equal(parse_text("a: 1\nb: $NB_TEST_ENV_SELF\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_non_null(strstr(err.msg, "refer to each other more than 8 deep"));
    setenv("NB_TEST_ENV_BAD", "two words", 1);
    assert_int_equal(parse_text("b: $NB_TEST_ENV_BAD\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_string_equal(err.file, "$NB_TEST_ENV_BAD");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 5);
}

static void
test_undefined_variable(void **state)
{
    (void)state;
    struct nb_conf doc;
    struct nb_conf_error err;
    unsetenv("NB_TEST_UNDEFINED");
    assert_int_equal(parse_text("a: 1\nm {\n  b:   $NB_TEST_UNDEFINED\n}\n", &doc, &err),
                     NB_ECONF_SYNTAX);
    assert_string_equal(err.file, tpath());
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);
    assert_string_equal(err.msg, "variable '$NB_TEST_UNDEFINED' is not defined");
    assert_null(doc.root);
    /* a variable defined later, or inside a sibling map, is not in scope */
    assert_int_equal(parse_text("a: $LATER\nLATER = 1\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_int_equal(parse_text("m { V = 1 }\nx: $V\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_int_equal(err.line, 2);
}

static void
test_bcrypt_literal(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char *hash = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG";
    char text[160];
    snprintf(text, sizeof text, "password: %s\n", hash);
    assert_int_equal(parse_text(text, &doc, NULL), 0);
    assert_string_equal(sval(&doc, "password"), hash);
    nb__conf_release(&doc);
}

/* ---- includes ---------------------------------------------------------------------------------- */

static void
test_include_relative(void **state)
{
    (void)state;
    put_dir("inc");
    put_dir("inc/deeper");
    const char *inc =
        put_file("inc/a.conf", "FROM_A = 7\nhost: from-a\ninclude \"deeper/b.conf\"\n");
    const char *b = put_file("inc/deeper/b.conf", "server_name: from-b\nport: 2\n");
    const char *main_conf = put_file("main.conf", "port: 1\n"
                                                  "include inc/a.conf\n"
                                                  "x: $FROM_A\n"
                                                  "m {\n  include 'inc/deeper/b.conf'\n}\n");
    struct nb_conf doc;
    assert_int_equal(nb__conf_parse_file(&doc, main_conf, NULL), 0);
    assert_int_equal(ival(&doc, "port"), 2);
    assert_string_equal(doc.root->child->string, "port");
    assert_string_equal(sval(&doc, "host"), "from-a");
    assert_string_equal(sval(&doc, "server_name"), "from-b");
    assert_int_equal(ival(&doc, "x"), 7);
    assert_null(at(&doc, "FROM_A"));
    assert_int_equal(ival(&doc, "m.port"), 2);
    const struct nb_conf_meta *m = nb__conf_meta(&doc, at(&doc, "host"));
    assert_string_equal(nb__conf_file(&doc, m), inc);
    assert_int_equal(m->line, 2);
    m = nb__conf_meta(&doc, at(&doc, "server_name"));
    assert_string_equal(nb__conf_file(&doc, m), b);
    assert_int_equal(m->line, 1);
    nb__conf_release(&doc);
}

static void
test_include_loop(void **state)
{
    (void)state;
    put_file("loop_a.conf", "a: 1\ninclude loop_b.conf\n");
    const char *b = put_file("loop_b.conf", "b: 2\n  include loop_a.conf\n");
    struct nb_conf doc;
    struct nb_conf_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/loop_a.conf", tmpdir);
    assert_int_equal(nb__conf_parse_file(&doc, path, &err), NB_ECONF_SYNTAX);
    assert_string_equal(err.file, b);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 11);
    assert_string_equal(err.msg, "include loop: 'loop_a.conf' is already being read");
    assert_null(doc.root);
}

static void
test_include_depth(void **state)
{
    (void)state;
    char name[32], text[64];
    for (int i = 0; i <= NB_CONF_MAX_INCLUDES + 1; i++) {
        snprintf(name, sizeof name, "depth%d.conf", i);
        snprintf(text, sizeof text, "k%d: %d\ninclude depth%d.conf\n", i, i, i + 1);
        put_file(name, text);
    }
    put_file("depth12.conf", "last: 1\n");
    struct nb_conf doc;
    struct nb_conf_error err;
    char path[512], want[512];
    snprintf(path, sizeof path, "%s/depth0.conf", tmpdir);
    assert_int_equal(nb__conf_parse_file(&doc, path, &err), NB_ECONF_SYNTAX);
    snprintf(want, sizeof want, "%s/depth10.conf", tmpdir);
    assert_string_equal(err.file, want);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 9);
    assert_string_equal(err.msg, "includes nested more than 10 deep");
    /* ten levels are fine */
    snprintf(path, sizeof path, "%s/depth2.conf", tmpdir);
    assert_int_equal(nb__conf_parse_file(&doc, path, &err), 0);
    assert_int_equal(ival(&doc, "last"), 1);
    assert_int_equal(ival(&doc, "k11"), 11);
    nb__conf_release(&doc);
}

static void
test_include_errors(void **state)
{
    (void)state;
    struct nb_conf doc;
    struct nb_conf_error err;
    assert_int_equal(parse_text("a: 1\ninclude missing.conf\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 9);
    assert_string_equal(err.msg, "cannot include 'missing.conf': No such file or directory");
    const char *bad = put_file("bad_inc.conf", "ok: 1\nbroken: [\n");
    assert_int_equal(parse_text("include bad_inc.conf\n", &doc, &err), NB_ECONF_SYNTAX);
    assert_string_equal(err.file, bad);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 9);
    /* include as an ordinary key when followed by a separator */
    assert_int_equal(parse_text("include = 5\n", &doc, &err), 0);
    assert_int_equal(ival(&doc, "include"), 5);
    nb__conf_release(&doc);
}

static void
test_parse_mem(void **state)
{
    (void)state;
    struct nb_conf doc;
    struct nb_conf_error err;
    const char text[] = "a: 1\nb: [x]";
    assert_int_equal(
        nb__conf_parse_mem(&doc, "mem", text, sizeof text - 1, NB_CONF_NO_INCLUDE, &err), 0);
    assert_int_equal(ival(&doc, "a"), 1);
    nb__conf_release(&doc);
    /* not NUL-terminated: only len bytes count */
    assert_int_equal(nb__conf_parse_mem(&doc, "mem", "a: 12345", 5, 0, &err), 0);
    assert_int_equal(ival(&doc, "a"), 12);
    nb__conf_release(&doc);
    const char inc[] = "x: 1\ninclude other.conf\n";
    assert_int_equal(nb__conf_parse_mem(&doc, "mem", inc, sizeof inc - 1, NB_CONF_NO_INCLUDE, &err),
                     NB_ECONF_SYNTAX);
    assert_string_equal(err.file, "mem");
    assert_int_equal(err.line, 2);
    assert_string_equal(err.msg, "include is not allowed here");
    assert_int_equal(nb__conf_parse_mem(&doc, "mem", "", 0, 0, &err), 0);
    assert_int_equal(count(doc.root), 0);
    nb__conf_release(&doc);
}

static void
test_missing_file(void **state)
{
    (void)state;
    struct nb_conf doc;
    struct nb_conf_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/does-not-exist.conf", tmpdir);
    assert_int_equal(nb__conf_parse_file(&doc, path, &err), NB_ECONFIG);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.msg, "cannot read the file: No such file or directory");
    assert_int_equal(nb__conf_parse_file(&doc, tmpdir, &err), NB_ECONFIG);
    assert_string_equal(err.msg, "cannot read the file: Is a directory");
}

/* ---- syntax errors ----------------------------------------------------------------------------- */

static void
test_syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line, column;
        const char *msg;
    } cases[] = {
        {"port: 4222\nauthorization {\n  token: \"abc\n}\n", 3, 10,
         "string is never closed with '\"'"},
        {"a: 'abc\n", 1, 4, "string is never closed with \"'\""},
        {"a: [1, 2\n", 1, 4, "array is never closed with ']'"},
        {"a: 1\n\n  b: [\n", 3, 6, "array is never closed with ']'"},
        {"a {\n b: 1\n", 1, 3, "map is never closed with '}'"},
        {"a = \n", 1, 5, "missing value for 'a'"},
        {"a = # comment\n", 1, 5, "missing value for 'a'"},
        {"foo\n", 2, 1, "missing value for 'foo'"},
        {"a: \"x\\qy\"\n", 1, 6, "invalid escape '\\q' (use \\t \\n \\r \\\" \\\\ or \\xHH)"},
        {"a: \"\\x4\"\n", 1, 5, "'\\x' must be followed by two hexadecimal digits"},
        {"a: \"\\x00\"\n", 1, 5, "'\\x00' is not allowed in a string"},
        {"a: 1 2\n", 1, 6, "expected a new line, ',' or ';' after a value, got '2'"},
        {"a: \"x\"y\n", 1, 7, "expected a new line, ',' or ';' after a value, got 'y'"},
        {"a: 99999999999999999999\n", 1, 4, "integer out of range"},
        {"a: 8eb\n", 1, 4, "integer out of range"},
        {"a: 1kbb\n", 1, 5, "unknown size suffix 'kbb'"},
        {"a: 2023-13-01T00:00:00Z\n", 1, 4,
         "invalid datetime '2023-13-01T00:00:00Z' (expected YYYY-MM-DDTHH:MM:SSZ)"},
        {"a: 2023-01-02\n", 1, 4, "invalid datetime '2023-01-02' (expected YYYY-MM-DDTHH:MM:SSZ)"},
        {"a: 1.\n", 1, 6, "a '.' in a number must be followed by a digit"},
        {"a: .5\n", 1, 4, "a number must start with a digit"},
        {"a: -\n", 1, 5, "expected a digit after '-'"},
        {"}\n", 1, 1, "unexpected '}'"},
        {"= 1\n", 1, 1, "expected a key, got '='"},
        {"a: [1,,2]\n", 1, 7, "unexpected ',' in array"},
        {"a: [1 2]\n", 1, 7, "expected ',' or ']' after an array element, got '2'"},
        {"x: 1\na: (\nfoo\n", 2, 4, "block is never closed by a line holding only ')'"},
        {"{ a: 1 } x\n", 1, 10, "unexpected text after the closing '}'"},
        {"a: ,\n", 1, 4, "expected a value, got ','"},
        {"\"open key: 1\n", 1, 1, "quoted key is never closed with \""},
        {"include \n", 1, 9, "include needs a file name"},
        {"a: $\n", 1, 4, "variable '$' is not defined"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nb_conf doc;
        struct nb_conf_error err;
        int rc = parse_text(cases[i].text, &doc, &err);
        if (rc != NB_ECONF_SYNTAX || err.line != cases[i].line || err.column != cases[i].column ||
            strcmp(err.msg, cases[i].msg) != 0) {
            fail_msg("case %zu: rc %d at %d:%d \"%s\"", i, rc, err.line, err.column, err.msg);
        }
        assert_string_equal(err.file, tpath());
        assert_null(doc.root);
    }
}

static void
test_depth_limit(void **state)
{
    (void)state;
    char text[512];
    struct nb_conf doc;
    struct nb_conf_error err;
    int n = NB_CONF_MAX_DEPTH;
    size_t len = (size_t)snprintf(text, sizeof text, "a: ");
    for (int i = 0; i < n; i++)
        text[len++] = '[';
    for (int i = 0; i < n; i++)
        text[len++] = ']';
    text[len] = '\0';
    assert_int_equal(parse_text(text, &doc, &err), 0);
    assert_int_equal(nb__conf_meta(&doc, at(&doc, "a"))->height, n);
    nb__conf_release(&doc);
    len = (size_t)snprintf(text, sizeof text, "a: ");
    for (int i = 0; i <= n; i++)
        text[len++] = '[';
    text[len] = '\0';
    assert_int_equal(parse_text(text, &doc, &err), NB_ECONF_SYNTAX);
    assert_int_equal(err.column, 4 + n);
    assert_string_equal(err.msg, "maps and arrays nested more than 64 deep");
    /* a variable copy cannot be used to go deeper */
    len = (size_t)snprintf(text, sizeof text, "V = ");
    for (int i = 0; i < n; i++)
        text[len++] = '[';
    for (int i = 0; i < n; i++)
        text[len++] = ']';
    len += (size_t)snprintf(text + len, sizeof text - len, "\nm { x: $V }\n");
    assert_int_equal(parse_text(text, &doc, &err), NB_ECONF_SYNTAX);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 8);
    assert_string_equal(err.msg, "variable value nested more than 64 deep");
}

static void
test_node_limit(void **state)
{
    (void)state;
    /* each line multiplies the size by ten: without a limit this would need 10^8 nodes */
    const char *text = "A = [1,1,1,1,1,1,1,1,1,1]\n"
                       "B = [$A,$A,$A,$A,$A,$A,$A,$A,$A,$A]\n"
                       "C = [$B,$B,$B,$B,$B,$B,$B,$B,$B,$B]\n"
                       "D = [$C,$C,$C,$C,$C,$C,$C,$C,$C,$C]\n"
                       "E = [$D,$D,$D,$D,$D,$D,$D,$D,$D,$D]\n"
                       "F = [$E,$E,$E,$E,$E,$E,$E,$E,$E,$E]\n"
                       "G = [$F,$F,$F,$F,$F,$F,$F,$F,$F,$F]\n"
                       "H = [$G,$G,$G,$G,$G,$G,$G,$G,$G,$G]\n";
    struct nb_conf doc;
    struct nb_conf_error err;
    assert_int_equal(parse_text(text, &doc, &err), NB_ECONF_SYNTAX);
    assert_string_equal(err.msg, "too many values (the limit is 1048576)");
    assert_int_equal(err.line, 6);
    assert_int_equal(err.column, 30); /* the ninth copy of E would pass the limit */
}

/* ---- the option mapper ------------------------------------------------------------------------- */

struct warns {
    int n;
    char msg[8][600];
};

static void
collect(void *ud, const char *msg)
{
    struct warns *w = ud;
    if (w->n < 8) snprintf(w->msg[w->n], sizeof w->msg[0], "%s", msg);
    w->n++;
}

/* Loads text (written to t.conf) over a default configuration. */
static int
load(const char *text, struct nb_config *cfg, struct warns *w, struct nb_conf_error *err)
{
    nb_config_init(cfg);
    memset(w, 0, sizeof *w);
    return nb_config_load(cfg, put_file("t.conf", text), collect, w, err);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 4222);
    assert_null(cfg.server_name);
    assert_int_equal(cfg.max_payload, 1048576);
    assert_int_equal(cfg.max_pending, 67108864);
    assert_int_equal(cfg.max_connections, 65536);
    assert_int_equal(cfg.max_subscriptions, 0);
    assert_int_equal(cfg.max_control_line, 4096);
    assert_int_equal(cfg.ping_interval_ms, 120000);
    assert_int_equal(cfg.ping_max, 2);
    assert_int_equal(cfg.write_deadline_ms, 10000);
    assert_int_equal(cfg.auth_timeout_ms, 2000);
    assert_int_equal(cfg.http_port, 0);
    assert_false(cfg.debug);
    assert_false(cfg.trace);
    assert_null(cfg.auth_token);
    assert_null(cfg.auth_user);
    assert_null(cfg.auth_pass);
    assert_null(cfg.log);
    char msg[128];
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    nb_config_release(&cfg);
    assert_null(cfg.host);
}

static void
test_set_str(void **state)
{
    (void)state;
    char *field = NULL;
    assert_int_equal(nb_config_set_str(&field, "abc"), 0);
    assert_string_equal(field, "abc");
    assert_int_equal(nb_config_set_str(&field, "xyz"), 0);
    assert_string_equal(field, "xyz");
    assert_int_equal(nb_config_set_str(&field, NULL), 0);
    assert_null(field);
}

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(nb_strerror(NB_ECONFIG), "invalid configuration");
    assert_string_equal(nb_strerror(NB_ECONF_SYNTAX), "configuration syntax error");
    assert_string_equal(nb_strerror(NB_ENOMEM), "out of memory");
    assert_string_equal(nb_strerror(NB_ESTATE), "operation not allowed in this state");
    assert_string_equal(nb_strerror(-ENOENT), "No such file or directory");
    assert_string_equal(nb_strerror(-EADDRINUSE), "Address already in use");
    /* A name that does not resolve: a libuv code outside errno's range. */
    assert_string_equal(nb_strerror(UV_EAI_NONAME), uv_strerror(UV_EAI_NONAME));
    assert_string_equal(nb_strerror(5), "unknown error");
}

static void
test_validate(void **state)
{
    (void)state;
    static const struct {
        int field;
        int64_t value;
        const char *msg;
    } cases[] = {
        {0, -2, "port -2 is out of range (-1 to 65535)"},
        {0, 65536, "port 65536 is out of range (-1 to 65535)"},
        {1, 70000, "http_port 70000 is out of range (-1 to 65535)"},
        {2, 0, "max_payload must be positive"},
        {2, 2147483648, "max_payload 2147483648 is too large (the limit is 2147483647)"},
        {2, 67108865, "max_payload (67108865) must not exceed max_pending (67108864)"},
        {3, 0, "ping_max must be at least 1"},
        {4, 0, "ping_interval must be positive"},
        {5, -1, "write_deadline must be positive"},
        {6, 0, "authorization timeout must be positive"},
        {7, 0, "max_control_line must be between 1 and 2147483647"},
        {8, -1, "max_connections must not be negative"},
        {9, -1, "max_subscriptions must not be negative"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nb_config cfg;
        nb_config_init(&cfg);
        int64_t v = cases[i].value;
        switch (cases[i].field) {
        case 0:
            cfg.port = (int)v;
            break;
        case 1:
            cfg.http_port = (int)v;
            break;
        case 2:
            cfg.max_payload = v;
            break;
        case 3:
            cfg.ping_max = v;
            break;
        case 4:
            cfg.ping_interval_ms = v;
            break;
        case 5:
            cfg.write_deadline_ms = v;
            break;
        case 6:
            cfg.auth_timeout_ms = v;
            break;
        case 7:
            cfg.max_control_line = v;
            break;
        case 8:
            cfg.max_connections = v;
            break;
        default:
            cfg.max_subscriptions = v;
            break;
        }
        char msg[128] = "";
        assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
        assert_string_equal(msg, cases[i].msg);
        assert_int_equal(nb_config_validate(&cfg, NULL, 0), NB_ECONFIG);
        nb_config_release(&cfg);
    }
    struct nb_config cfg;
    nb_config_init(&cfg);
    cfg.port = -1;
    cfg.max_payload = cfg.max_pending;
    assert_int_equal(nb_config_validate(&cfg, NULL, 0), 0);
    nb_config_release(&cfg);
}

/* no_auth_user must name a user of the users list, with nats-server's texts. */
static void
test_validate_no_auth_user(void **state)
{
    (void)state;
    struct nb_config cfg;
    char msg[160];
    nb_config_init(&cfg);
    nb_config_set_str(&cfg.no_auth_user, "guest");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "no_auth_user: \"guest\" present, but users are not defined");
    cfg.users = calloc(1, sizeof *cfg.users);
    cfg.nusers = 1;
    cfg.users[0].name = strdup("alice");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "no_auth_user: \"guest\" not present as user in authorization block "
                             "or account configuration");
    /* an nkey user cannot be the default user, and alone is no users list */
    nb_config_set_str(&cfg.no_auth_user,
                      "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4");
    cfg.users[0].nkey = cfg.users[0].name;
    cfg.users[0].name = NULL;
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(
        msg, "no_auth_user: \"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\" "
             "present, but users are not defined");
    cfg.users[0].name = cfg.users[0].nkey;
    cfg.users[0].nkey = NULL;
    nb_config_set_str(&cfg.no_auth_user, "alice");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    /* The server keeps a copy: it owns its own strings (a shared one was freed twice). */
    struct nb_config copy;
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    assert_ptr_not_equal(copy.no_auth_user, cfg.no_auth_user);
    assert_string_equal(copy.no_auth_user, "alice");
    assert_string_equal(copy.users[0].name, "alice");
    nb_config_release(&copy);
    /* a bcrypt hash is a password like any other now */
    nb_config_set_str(&cfg.auth_token,
                      "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
    assert_int_equal(nb_config_validate(&cfg, NULL, 0), 0);
    nb_config_release(&cfg);
}

static void
test_load_every_option(void **state)
{
    (void)state;
    const char *text = "listen: \"127.0.0.2:5000\"\n"
                       "server_name: srv1\n"
                       "max_payload: 2MB\n"
                       "max_pending: 128MB\n"
                       "max_connections: 100\n"
                       "max_subscriptions: 10\n"
                       "max_control_line: 2k\n"
                       "ping_interval: \"30s\"\n"
                       "ping_max: 5\n"
                       "write_deadline: \"2s\"\n"
                       "http: 8222\n"
                       "debug: true\n"
                       "trace: on\n"
                       "authorization {\n"
                       "  user: alice\n"
                       "  password: \"s3cret\"\n"
                       "  timeout: 1.5\n"
                       "}\n";
    struct nb_config cfg;
    struct warns w;
    struct nb_conf_error err;
    assert_int_equal(load(text, &cfg, &w, &err), 0);
    assert_int_equal(w.n, 0);
    assert_string_equal(cfg.host, "127.0.0.2");
    assert_int_equal(cfg.port, 5000);
    assert_string_equal(cfg.server_name, "srv1");
    assert_int_equal(cfg.max_payload, 2097152);
    assert_int_equal(cfg.max_pending, 134217728);
    assert_int_equal(cfg.max_connections, 100);
    assert_int_equal(cfg.max_subscriptions, 10);
    assert_int_equal(cfg.max_control_line, 2000);
    assert_int_equal(cfg.ping_interval_ms, 30000);
    assert_int_equal(cfg.ping_max, 5);
    assert_int_equal(cfg.write_deadline_ms, 2000);
    assert_int_equal(cfg.http_port, 8222);
    assert_true(cfg.debug);
    assert_true(cfg.trace);
    assert_string_equal(cfg.auth_user, "alice");
    assert_string_equal(cfg.auth_pass, "s3cret");
    assert_null(cfg.auth_token);
    assert_int_equal(cfg.auth_timeout_ms, 1500);
    nb_config_release(&cfg);
}

static void
test_load_aliases(void **state)
{
    (void)state;
    const char *text = "net: 10.0.0.1\n"
                       "port: 4333\n"
                       "max_conn: 7\n"
                       "max_subs: 3\n"
                       "monitor_port: 8333\n"
                       "authorization { username: bob, pass: pw, timeout: 2 }\n";
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load(text, &cfg, &w, NULL), 0);
    assert_int_equal(w.n, 0);
    assert_string_equal(cfg.host, "10.0.0.1");
    assert_int_equal(cfg.port, 4333);
    assert_int_equal(cfg.max_connections, 7);
    assert_int_equal(cfg.max_subscriptions, 3);
    assert_int_equal(cfg.http_port, 8333);
    assert_string_equal(cfg.auth_user, "bob");
    assert_string_equal(cfg.auth_pass, "pw");
    assert_int_equal(cfg.auth_timeout_ms, 2000);
    nb_config_release(&cfg);
    assert_int_equal(load("host: 0.0.0.0\nhttp_port: 8444\ndebug: no\ntrace: FALSE\n"
                          "authorization { token: \"t0k\", timeout: \"500ms\" }\n",
                          &cfg, &w, NULL),
                     0);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.http_port, 8444);
    assert_false(cfg.debug);
    assert_false(cfg.trace);
    assert_string_equal(cfg.auth_token, "t0k");
    assert_null(cfg.auth_user);
    assert_int_equal(cfg.auth_timeout_ms, 500);
    nb_config_release(&cfg);
}

static void
test_keys_case_insensitive(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(
        load("PORT: 4000\nMax_Payload: 2KB\nAUTHORIZATION { TOKEN: x }\n", &cfg, &w, NULL), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(cfg.port, 4000);
    assert_int_equal(cfg.max_payload, 2048);
    assert_string_equal(cfg.auth_token, "x");
    nb_config_release(&cfg);
}

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int64_t ms;
    } cases[] = {
        {"\"2m\"", 120000}, {"\"10s\"", 10000},   {"\"1h30m\"", 5400000}, {"\"500ms\"", 500},
        {"\"1.5s\"", 1500}, {"\".5s\"", 500},     {"\"1h\"", 3600000},    {"\"2m30s\"", 150000},
        {"\"1500us\"", 1},  {"\"3000000ns\"", 3}, {"10s", 10000},         {"1h30m", 5400000},
        {"\"0.1s\"", 100},  {"\"+5s\"", 5000},    {"'4s'", 4000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "ping_interval: %s\nwrite_deadline: %s\n", cases[i].value,
                 cases[i].value);
        struct nb_config cfg;
        struct warns w;
        struct nb_conf_error err;
        if (load(text, &cfg, &w, &err) != 0) fail_msg("%s: %s", cases[i].value, err.msg);
        if (cfg.ping_interval_ms != cases[i].ms || cfg.write_deadline_ms != cases[i].ms) {
            fail_msg("%s: got %lld", cases[i].value, (long long)cfg.ping_interval_ms);
        }
        assert_int_equal(w.n, 0);
        nb_config_release(&cfg);
    }
}

static void
test_duration_bare_seconds(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load("port: 1\nping_interval: 10\nwrite_deadline: 3\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.ping_interval_ms, 10000);
    assert_int_equal(cfg.write_deadline_ms, 3000);
    assert_int_equal(w.n, 2);
    char want[600];
    snprintf(want, sizeof want, "%s:2:1: ping_interval should be converted to a duration", tpath());
    assert_string_equal(w.msg[0], want);
    snprintf(want, sizeof want, "%s:3:1: write_deadline should be converted to a duration",
             tpath());
    assert_string_equal(w.msg[1], want);
    nb_config_release(&cfg);
}

static void expect_error(const char *text, int line, int column, const char *msg);

/* Lame duck mode's two durations, with nats-server's defaults, limits and messages. */
static void
test_lame_duck(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    char msg[256];
    nb_config_init(&cfg);
    assert_int_equal(cfg.lame_duck_duration_ms, 120000);
    assert_int_equal(cfg.lame_duck_grace_ms, 10000);
    nb_config_release(&cfg);
    assert_int_equal(
        load("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1.5s\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.lame_duck_duration_ms, 30000);
    assert_int_equal(cfg.lame_duck_grace_ms, 1500);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    nb_config_release(&cfg);
    assert_int_equal(load("lame_duck_grace_period: \"0s\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.lame_duck_grace_ms, 10000);
    nb_config_release(&cfg);
    assert_int_equal(
        load("lame_duck_duration: \"40s\"\nlame_duck_grace_period: \"2m\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "lame duck grace period (2m0s) should be strictly lower than lame "
                             "duck duration (40s)");
    nb_config_release(&cfg);
    expect_error("lame_duck_duration: \"10s\"\n", 1, 1,
                 "invalid lame_duck_duration of 10s, minimum is 30 seconds");
    expect_error("port: 1\nlame_duck_grace_period: \"-1s\"\n", 2, 1,
                 "invalid lame_duck_grace_period, needs to be positive");
    expect_error("lame_duck_duration: \"soon\"\n", 1, 1,
                 "invalid 'lame_duck_duration': \"soon\" is not a duration such as \"2m\" or "
                 "\"1.5s\"");
}

static void
test_listen_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *host;
        int port;
    } cases[] = {
        {"listen: \"127.0.0.2:4333\"\n", "127.0.0.2", 4333},
        {"listen: 127.0.0.3:4334\n", "127.0.0.3", 4334},
        {"listen: \":4335\"\n", "127.0.0.1", 4335},
        {"listen: 4336\n", "127.0.0.1", 4336},
        {"listen: \"4337\"\n", "127.0.0.1", 4337},
        {"listen: \"[::1]:4338\"\n", "::1", 4338},
        {"listen: \"0.0.0.0:-1\"\n", "0.0.0.0", 0},
        {"listen: localhost:4339\n", "localhost", 4339},
        {"port: -1\n", "127.0.0.1", 0},
        {"port: 0\n", "127.0.0.1", 4222},
        {"listen: 127.0.0.2:1\nport: 2\n", "127.0.0.2", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nb_config cfg;
        struct warns w;
        struct nb_conf_error err;
        if (load(cases[i].text, &cfg, &w, &err) != 0) fail_msg("%s: %s", cases[i].text, err.msg);
        assert_string_equal(cfg.host, cases[i].host);
        assert_int_equal(cfg.port, cases[i].port);
        nb_config_release(&cfg);
    }
}

static void
test_http_forms(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load("http: \"127.0.0.1:8223\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.http_port, 8223);
    assert_string_equal(cfg.host, "127.0.0.1");
    nb_config_release(&cfg);
    assert_int_equal(load("listen: 127.0.0.5:4000\nhttp: 127.0.0.5:8224\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.http_port, 8224);
    assert_string_equal(cfg.host, "127.0.0.5");
    nb_config_release(&cfg);
    assert_int_equal(load("http: \":8225\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.http_port, 8225);
    nb_config_release(&cfg);
    /* monitoring on another address than the clients' cannot be honoured: refused */
    expect_error("listen: 0.0.0.0:4222\nhttp: 127.0.0.1:8222\n", 2, 1,
                 "field \"http\" (monitoring on 127.0.0.1, not on the client address 0.0.0.0) is "
                 "not supported by natsctl (refusing to start without it)");
    expect_error("http: \"127.0.0.5:8224\"\n", 1, 1,
                 "field \"http\" (monitoring on 127.0.0.5, not on the client address 127.0.0.1) "
                 "is not supported by natsctl (refusing to start without it)");
    assert_int_equal(load("http: -1\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.http_port, -1);
    nb_config_release(&cfg);
}

static void
test_authorization_block(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load("authorization {\n  token: abc\n  timeout: 0.5\n}\n", &cfg, &w, NULL), 0);
    assert_string_equal(cfg.auth_token, "abc");
    assert_int_equal(cfg.auth_timeout_ms, 500);
    assert_int_equal(w.n, 0);
    nb_config_release(&cfg);
    /* a later block replaces the credentials of an earlier one */
    assert_int_equal(
        load("authorization { user: a, pass: b }\nauthorization { token: t }\n", &cfg, &w, NULL),
        0);
    assert_string_equal(cfg.auth_token, "t");
    assert_null(cfg.auth_user);
    assert_null(cfg.auth_pass);
    nb_config_release(&cfg);
}

static void
assert_strs(char **v, size_t n, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        assert_true(i < n);
        assert_string_equal(v[i], want[i]);
    }
    assert_int_equal(n, i);
}

static void
test_users_list(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    const char *text =
        "authorization {\n"
        "  users = [\n"
        "    {user: alice, password: secret, permissions: {publish: \"a.>\",\n"
        "      subscribe: {allow: [\"foo.>\", \"q.*  workers\"], deny: \"foo.no\"}}}\n"
        "    {user: bob, password: $2a$10$LoRPzN3GtF2pNX5QgCBBHeUr6/zVN./RVGOu5U8SpHyg2sfzvfXji,\n"
        "     permissions: {}}\n"
        "    {user: carol}\n"
        "    {USERNAME: dave, PASS: x, Permissions: {pub: [x, y], SUB: z,\n"
        "      allow_responses: {max: 3, expires: \"5s\"}}}\n"
        "    {user: eve, authorization: {publish_allow_responses: true, import: {deny: [n]}}}\n"
        "    {user: fred, allowed_connection_types: [\"websocket\", MQTT]}\n"
        "    {user: gina, clients: [standard]}\n"
        "  ]\n"
        "  default_permissions: { publish: \"def.>\", export: { allow: [] } }\n"
        "  timeout: 3\n"
        "}\n"
        "no_auth_user: carol\n";
    assert_int_equal(load(text, &cfg, &w, NULL), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(cfg.nusers, 7);
    assert_string_equal(cfg.no_auth_user, "carol");
    assert_int_equal(cfg.auth_timeout_ms, 3000);
    struct nb_user *u = cfg.users;
    assert_string_equal(u[0].name, "alice");
    assert_string_equal(u[0].password, "secret");
    assert_strs(u[0].perms->publish.allow, u[0].perms->publish.nallow,
                (const char *const[]){"a.>", NULL});
    assert_strs(u[0].perms->subscribe.allow, u[0].perms->subscribe.nallow,
                (const char *const[]){"foo.>", "q.*  workers", NULL});
    assert_strs(u[0].perms->subscribe.deny, u[0].perms->subscribe.ndeny,
                (const char *const[]){"foo.no", NULL});
    assert_false(u[0].perms->allow_responses);
    /* an unquoted bcrypt hash is a string; empty permissions are permissions (no defaults) */
    assert_string_equal(u[1].password,
                        "$2a$10$LoRPzN3GtF2pNX5QgCBBHeUr6/zVN./RVGOu5U8SpHyg2sfzvfXji");
    assert_int_equal(u[1].perms->publish.nallow + u[1].perms->subscribe.nallow, 0);
    /* no permissions: the defaults */
    assert_null(u[2].password);
    assert_strs(u[2].perms->publish.allow, u[2].perms->publish.nallow,
                (const char *const[]){"def.>", NULL});
    assert_int_equal(u[2].perms->subscribe.nallow, 0);
    assert_string_equal(u[3].name, "dave");
    assert_strs(u[3].perms->publish.allow, u[3].perms->publish.nallow,
                (const char *const[]){"x", "y", NULL});
    assert_strs(u[3].perms->subscribe.allow, u[3].perms->subscribe.nallow,
                (const char *const[]){"z", NULL});
    assert_true(u[3].perms->allow_responses);
    assert_int_equal(u[3].perms->responses_max, 3);
    assert_int_equal(u[3].perms->responses_ttl_ms, 5000);
    /* allow_responses: true takes nats-server's defaults, one reply within two minutes */
    assert_true(u[4].perms->allow_responses);
    assert_int_equal(u[4].perms->responses_max, 1);
    assert_int_equal(u[4].perms->responses_ttl_ms, 120000);
    assert_strs(u[4].perms->publish.deny, u[4].perms->publish.ndeny,
                (const char *const[]){"n", NULL});
    assert_true(u[5].standard_refused);
    assert_false(u[6].standard_refused);
    assert_false(u[0].standard_refused);
    nb_config_release(&cfg);
}

static void
test_users_details(void **state)
{
    (void)state;
    struct nb_config cfg, copy;
    struct warns w;
    /* zero keeps the defaults, negative numbers lift the limits */
    assert_int_equal(load("authorization { users = [ {user: a, permissions: {\n"
                          "  allow_responses: {max: 0, ttl: \"0s\"}}}\n"
                          "  {user: b, permissions: {allow_responses: {max_msgs: -1, "
                          "expiration: \"-1s\"}}}\n"
                          "  {user: c, permissions: {allow_responses: {max_responses: 2, "
                          "expires: \"100us\"}}}\n"
                          "  {user: d, permissions: {allow_responses: false}} ] }\n",
                          &cfg, &w, NULL),
                     0);
    assert_int_equal(cfg.users[0].perms->responses_max, 1);
    assert_int_equal(cfg.users[0].perms->responses_ttl_ms, 120000);
    assert_int_equal(cfg.users[1].perms->responses_max, -1);
    assert_int_equal(cfg.users[1].perms->responses_ttl_ms, -1);
    assert_int_equal(cfg.users[2].perms->responses_max, 2);
    assert_int_equal(cfg.users[2].perms->responses_ttl_ms, 1); /* less than 1 ms is still a limit */
    assert_false(cfg.users[3].perms->allow_responses);
    /* the copy is deep: it outlives the original */
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    nb_config_release(&cfg);
    assert_int_equal(copy.nusers, 4);
    assert_string_equal(copy.users[2].name, "c");
    assert_int_equal(copy.users[2].perms->responses_max, 2);
    nb_config_release(&copy);
    /* an nkey user: its key and permissions, no name; default permissions reach it too */
    assert_int_equal(load("authorization {\n  default_permissions: {publish: d}\n  users = [\n"
                          "  {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4,\n"
                          "   permissions: {publish: a}}\n"
                          "  {NKEY: UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3}\n"
                          "  {user: e, nkey: \"\"} ] }\n",
                          &cfg, &w, NULL),
                     0);
    assert_int_equal(cfg.nusers, 3);
    assert_null(cfg.users[0].name);
    assert_string_equal(cfg.users[0].nkey,
                        "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4");
    assert_string_equal(cfg.users[0].perms->publish.allow[0], "a");
    assert_string_equal(cfg.users[1].perms->publish.allow[0], "d");
    assert_string_equal(cfg.users[2].name, "e"); /* an empty nkey is none */
    assert_null(cfg.users[2].nkey);
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    nb_config_release(&cfg);
    assert_string_equal(copy.users[1].nkey,
                        "UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3");
    assert_null(copy.users[1].name);
    nb_config_release(&copy);
    /* an empty users array is no users list, but still one for the mixing rules */
    assert_int_equal(load("authorization { users = [] }\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.nusers, 0);
    nb_config_release(&cfg);
    /* default permissions without users apply to nobody, and say so */
    assert_int_equal(
        load("authorization {\n  token: t\n  permissions: {publish: a}\n}\n", &cfg, &w, NULL), 0);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.msg[0], "t.conf:1:1: default_permissions only apply to the users of a "
                                     "users list and are ignored"));
    nb_config_release(&cfg);
    /* a later authorization block replaces the users of an earlier one */
    assert_int_equal(load("authorization { users = [ {user: a} ] }\n"
                          "authorization { token: t }\n",
                          &cfg, &w, NULL),
                     0);
    assert_int_equal(cfg.nusers, 0);
    assert_string_equal(cfg.auth_token, "t");
    nb_config_release(&cfg);
}

static void
test_users_errors(void **state)
{
    (void)state;
    expect_error("authorization {\n  users: {user: x}\n}\n", 2, 3,
                 "Expected users field to be an array, got a map");
    expect_error("authorization {\n  users: [ \"x\" ]\n}\n", 2, 12,
                 "Expected user entry to be a map/struct, got a string");
    expect_error("authorization {\n  users: [{password: y}]\n}\n", 2, 11,
                 "User entry requires a user");
    expect_error("authorization {\n  users: [{user: x, password: y}, {user: x, password: z}]\n}\n",
                 2, 35, "Duplicate user \"x\" detected");
    /* nkey users, with nats-server's texts (and its position: the entry's first key) */
    expect_error("authorization {\n  users: [\n    {nkey: "
                 "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF5}\n  ]\n}\n",
                 3, 6, "Not a valid public nkey for a user");
    expect_error("authorization {\n  users: [\n    {nkey: "
                 "ADRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS}\n  ]\n}\n",
                 3, 6, "Not a valid public nkey for a user");
    expect_error("authorization {\n  users: [\n    {nkey: "
                 "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, user: bob}\n  ]\n}\n",
                 3, 6, "Nkey users do not take usernames or passwords");
    expect_error("authorization {\n  users: [{nkey: "
                 "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}, {nkey: "
                 "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}]\n}\n",
                 2, 77,
                 "Duplicate nkey \"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\" "
                 "detected");
    expect_error("authorization {\n  users: [{user: x, bogus: 1}]\n}\n", 2, 21,
                 "unknown field \"bogus\"");
    expect_error("authorization {\n  users: [{user: 5}]\n}\n", 2, 12,
                 "invalid 'user': expected a string");
    expect_error("authorization {\n  users: [{user: x, permissions: \"foo\"}]\n}\n", 2, 21,
                 "Expected permissions to be a map/struct, got a string");
    expect_error("authorization {\n  users: [{user: x, permissions: {bogus: 1}}]\n}\n", 2, 35,
                 "Unknown field \"bogus\" parsing permissions");
    expect_error("authorization {\n  users: [{user: x, permissions: {publish: \"foo..bar\"}}]\n}\n",
                 2, 35, "subject \"foo..bar\" is not a valid subject");
    expect_error(
        "authorization {\n  users: [{user: x, permissions: {sub: {allow: \"a b c\"}}}]\n}\n", 2, 41,
        "subject \"a b c\" is not a valid subject");
    expect_error(
        "authorization {\n  users: [{user: x, permissions: {sub: {allow: \"a..b q\"}}}]\n}\n", 2,
        41, "subject \"a..b\" is not a valid subject");
    expect_error("authorization {\n  users: [{user: x, permissions: {sub: [a, 1]}}]\n}\n", 2, 44,
                 "Subject in permissions array cannot be cast to string");
    expect_error("authorization {\n  users: [{user: x, permissions: {sub: 1}}]\n}\n", 2, 35,
                 "Expected subject permissions to be a subject, or array of subjects, got a "
                 "number");
    expect_error(
        "authorization {\n  users: [{user: x, permissions: {pub: {allow: a, nope: b}}}]\n}\n", 2,
        51,
        "Unknown field name \"nope\" parsing subject permissions, only 'allow' or 'deny' "
        "are permitted");
    expect_error("authorization {\n  users: [{user: x, permissions: {allow_responses: yes2}}]\n}\n",
                 2, 35, "error parsing response permissions, expected a boolean or a map");
    expect_error("authorization {\n  users: [{user: x, permissions: {allow_responses: {expires: "
                 "5}}}]\n}\n",
                 2, 53, "error parsing expires, not a duration string");
    expect_error("authorization {\n  users: [{user: x, permissions: {allow_responses: {expires: "
                 "\"soon\"}}}]\n}\n",
                 2, 53, "error parsing expires: invalid duration \"soon\"");
    expect_error("authorization {\n  users: [{user: x, permissions: {allow_responses: {max: a}}}]"
                 "\n}\n",
                 2, 53, "error parsing max, expected an integer");
    expect_error("authorization {\n  users: [{user: x, permissions: {allow_responses: {x: 1}}}]"
                 "\n}\n",
                 2, 53, "Unknown field \"x\" parsing permissions");
    expect_error("authorization {\n  users: [{user: x, allowed_connection_types: [bogus]}]\n}\n", 2,
                 48, "invalid connection types [\"bogus\"]");
    expect_error("authorization {\n  default_permissions: {publish: [\"a b c\"]}\n}\n", 2, 35,
                 "subject \"a b c\" is not a valid subject");
}

/* Accounts' users join the users list with their account; authorization's stay in $G. */
static void
test_accounts(void **state)
{
    (void)state;
    struct nb_config cfg, copy;
    struct warns w;
    const char *text = "accounts {\n"
                       "  A: { users: [ {user: a, password: pa} ],\n"
                       "       default_permissions: { publish: \"a.>\" } }\n"
                       "  SYS { users = [ {user: s, password: ps, permissions: {}} ] }\n"
                       "  EMPTY {}\n"
                       "}\n"
                       "authorization { users = [ {user: g, password: pg} ] }\n"
                       "system_account: SYS\n"
                       "no_auth_user: a\n";
    assert_int_equal(load(text, &cfg, &w, NULL), 0);
    assert_int_equal(cfg.naccounts, 3);
    assert_string_equal(cfg.accounts[0], "A");
    assert_string_equal(cfg.accounts[1], "SYS");
    assert_string_equal(cfg.accounts[2], "EMPTY");
    assert_string_equal(cfg.system_account, "SYS");
    assert_int_equal(cfg.nusers, 3);
    assert_string_equal(cfg.users[0].name, "g");
    assert_null(cfg.users[0].account);
    assert_string_equal(cfg.users[1].name, "a");
    assert_string_equal(cfg.users[1].account, "A");
    assert_non_null(cfg.users[1].perms); /* the account's default permissions */
    assert_int_equal(cfg.users[1].perms->publish.nallow, 1);
    assert_string_equal(cfg.users[2].account, "SYS");
    assert_int_equal(cfg.users[2].perms->publish.nallow, 0);
    char msg[256];
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    assert_int_equal(copy.naccounts, 3);
    assert_string_equal(copy.accounts[2], "EMPTY");
    assert_string_equal(copy.users[1].account, "A");
    nb_config_release(&copy);
    nb_config_release(&cfg);
    assert_int_equal(load("accounts [X, Y]\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.naccounts, 2);
    assert_int_equal(cfg.nusers, 0);
    nb_config_release(&cfg);
}

static void
test_accounts_errors(void **state)
{
    (void)state;
    expect_error("accounts { $G: {} }\n", 1, 12, "\"$G\" is a Reserved Account");
    expect_error("accounts [ a, \"$G\" ]\n", 1, 15, "\"$G\" is a Reserved Account");
    expect_error("accounts [ a, b, a ]\n", 1, 18, "Duplicate Account Entry: a");
    expect_error("accounts { A: 1 }\n", 1, 12, "Expected map entries for accounts");
    expect_error("accounts { A { bogus: 1 } }\n", 1, 16, "unknown field \"bogus\"");
    expect_error("accounts {\n  A { users = [ {user: x} ] }\n  B { users = [ {user: x} ] }\n}\n", 3,
                 7, "Duplicate user \"x\" detected");
    expect_error("accounts { A { users = [ {user: x} ] } }\n"
                 "authorization { users = [ {user: x} ] }\n",
                 1, 16, "Duplicate user \"x\" detected");
    expect_error("accounts = 3\n", 1, 1,
                 "invalid 'accounts': expected a map { ... } or an array of account names");
}

/* system_account and no_auth_user are checked at the start, in nats-server's words. */
static void
test_accounts_validate(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    char msg[256];
    assert_int_equal(load("accounts { A {} }\nsystem_account: B\n", &cfg, &w, NULL), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "error resolving system account: account missing");
    nb_config_release(&cfg);
    assert_int_equal(load("system_account: \"$SYS\"\n", &cfg, &w, NULL), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    nb_config_release(&cfg);
    assert_int_equal(
        load("accounts { A { users = [{user: a}] } }\nno_auth_user: b\n", &cfg, &w, NULL), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "no_auth_user: \"b\" not present as user in authorization block or "
                             "account configuration");
    nb_config_release(&cfg);
}

/* Loads text, which must fail with NB_ECONFIG at line:column of t.conf with exactly msg. */
static void
expect_error(const char *text, int line, int column, const char *msg)
{
    struct nb_config cfg;
    struct warns w;
    struct nb_conf_error err;
    int rc = load(text, &cfg, &w, &err);
    if (rc != NB_ECONFIG || err.line != line || err.column != column || strcmp(err.msg, msg) != 0 ||
        strcmp(err.file, tpath()) != 0) {
        fail_msg("%s: rc %d at %d:%d \"%s\"", text, rc, err.line, err.column, err.msg);
    }
    assert_int_equal(cfg.port, 4222); /* nothing was applied */
    nb_config_release(&cfg);
}

static void
test_unknown_fields(void **state)
{
    (void)state;
    expect_error("port: 4333\nmax_paylod: 5\n", 2, 1, "unknown field \"max_paylod\"");
    expect_error("port: 4333\n  Frobnicate { a: 1 }\n", 2, 3, "unknown field \"Frobnicate\"");
    /* nats-server counts a variable that nothing references as a field too */
    expect_error("port: 4333\nUNUSED_VAR = 1\n", 2, 1, "unknown field \"UNUSED_VAR\"");
    expect_error("authorization {\n  token: t\n  tokn: u\n}\n", 3, 3, "unknown field \"tokn\"");
    /* without a callback, an unknown field is still an error */
    struct nb_config cfg;
    struct nb_conf_error err;
    nb_config_init(&cfg);
    assert_int_equal(nb_config_load(&cfg, put_file("t.conf", "nope: 1\n"), NULL, NULL, &err),
                     NB_ECONFIG);
    assert_string_equal(err.msg, "unknown field \"nope\"");
    nb_config_release(&cfg);
}

static void
test_refused_fields(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line, column;
        const char *field, *what;
    } cases[] = {
        {"allow_non_tls: true\n", 1, 1, "allow_non_tls", "plaintext clients beside TLS ones"},
        {"tls {\n  cert_file: c\n  connection_rate_limit: 10\n}\n", 3, 3,
         "tls.connection_rate_limit", "a limit on TLS handshakes per second"},
        {"cluster {\n  name: c\n  tls { verify_and_map: true }\n}\n", 3, 9,
         "cluster.tls.verify_and_map", "mapping route certificates to the cluster user"},
        {"ocsp { mode: always }\n", 1, 1, "ocsp", "OCSP stapling"},
        {"accounts { A { exports: [] } }\n", 1, 16, "accounts.A.exports", "account exports"},
        {"accounts { A { jetstream: enabled } }\n", 1, 16, "accounts.A.jetstream",
         "JetStream in an account other than $G"},
        {"operator: /etc/op.jwt\n", 1, 1, "operator", "JWT operator mode"},
        {"resolver: MEMORY\n", 1, 1, "resolver", "an account resolver"},
        {"trusted_keys: [ OABC ]\n", 1, 1, "trusted_keys", "trusted operator keys"},
        {"accounts: { B: { nkey: x } }\n", 1, 18, "accounts.B.nkey", "account nkeys"},
        {"mappings { a: b }\n", 1, 1, "mappings", "subject mappings"},
        {"authorization { auth_callout { issuer: x } }\n", 1, 17, "authorization.auth_callout",
         "auth callout"},
        {"cluster {\n  pool_size: 3\n}\n", 2, 3, "cluster.pool_size",
         "route pooling (nats-server 2.10's pool_size)"},
        {"cluster {\n  permissions { import: a }\n}\n", 2, 3, "cluster.permissions",
         "route permissions"},
        {"cluster { authorization { token: t } }\n", 1, 27, "cluster.authorization.token",
         "tokens (nats-server refuses them for routes too)"},
        {"cluster { authorization { users: [ {user: a, password: b} ] } }\n", 1, 27,
         "cluster.authorization.users", "multiple users (nats-server refuses them for routes too)"},
        {"leafnodes { tls { cert_file: x } }\n", 1, 13, "leafnodes.tls", "TLS"},
        {"websocket { port: 8080, no_auth_user: guest }\n", 1, 25, "websocket.no_auth_user",
         "a default user for clients without credentials"},
        {"mqtt {\n  authorization { token: t }\n}\n", 2, 3, "mqtt.authorization", "authorization"},
        {"gateway { name: g, tls { cert_file: x } }\n", 1, 20, "gateway.tls", "TLS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "field \"%s\" (%s) is not supported by natsctl (refusing to start without it)",
                 cases[i].field, cases[i].what);
        expect_error(cases[i].text, cases[i].line, cases[i].column, msg);
    }
}

static void
test_ignored_fields(void **state)
{
    (void)state;
    const char *text = "cluster {\n"
                       "  name: c1\n"
                       "  routes: [ nats-route://127.0.0.1:6222 ]\n"
                       "}\n"
                       "gateway: {}\n"
                       "port: 4333\n"
                       "Prof_Port: 6060\n"
                       "trace_verbose: true\n";
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load(text, &cfg, &w, NULL), 0);
    assert_int_equal(cfg.port, 4333);
    assert_true(cfg.trace);
    assert_int_equal(w.n, 2);
    static const char *keys[] = {"5:1: field \"gateway\" (gateways)",
                                 "7:1: field \"Prof_Port\" (profiling)"};
    for (int i = 0; i < 2; i++) {
        char want[1024];
        snprintf(want, sizeof want, "%s:%s is not supported by natsctl and is ignored", tpath(),
                 keys[i]);
        assert_string_equal(w.msg[i], want);
    }
    nb_config_release(&cfg);
    /* no callback: still loads */
    nb_config_init(&cfg);
    assert_int_equal(nb_config_load(&cfg, tpath(), NULL, NULL, NULL), 0);
    assert_int_equal(cfg.port, 4333);
    nb_config_release(&cfg);
}

/* The cluster block as nats-server reads it, and --cluster's URL. */
static void
test_cluster_block(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    const char *text = "cluster {\n"
                       "  name: c1\n"
                       "  listen: 10.0.0.1:6333\n"
                       "  routes: [ nats-route://a:6222, \"nats://u:p@b:6223\" ]\n"
                       "  authorization { user: ruser, password: T0p, timeout: 0.5 }\n"
                       "  cluster_advertise: \"pub:7000\"\n"
                       "  no_advertise: true\n"
                       "  connect_retries: 3\n"
                       "  compression: s2_auto\n"
                       "}\n"
                       "client_advertise: \"clients.example:4000\"\n";
    assert_int_equal(load(text, &cfg, &w, NULL), 0);
    assert_string_equal(cfg.cluster_name, "c1");
    assert_string_equal(cfg.cluster_host, "10.0.0.1");
    assert_int_equal(cfg.cluster_port, 6333);
    assert_int_equal(cfg.nroutes, 2);
    assert_string_equal(cfg.routes[1], "nats://u:p@b:6223");
    assert_string_equal(cfg.cluster_user, "ruser");
    assert_string_equal(cfg.cluster_pass, "T0p");
    assert_int_equal(cfg.cluster_auth_timeout_ms, 500);
    assert_string_equal(cfg.cluster_advertise, "pub:7000");
    assert_true(cfg.cluster_no_advertise);
    assert_int_equal(cfg.connect_retries, 3);
    assert_string_equal(cfg.client_advertise, "clients.example:4000");
    assert_int_equal(w.n, 1); /* compression */
    char msg[256];
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    struct nb_config copy;
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    assert_string_equal(copy.routes[0], "nats-route://a:6222");
    nb_config_release(&copy);
    nb_config_release(&cfg);
    assert_int_equal(load("cluster { port: -1 }\n", &cfg, &w, NULL), 0);
    assert_int_equal(cfg.cluster_port, -1);
    nb_config_release(&cfg);
    expect_error("cluster {\n  routes: [ nats://a:6222, \"nats://b\" ]\n}\n", 2, 28,
                 "invalid 'routes': a route URL needs a port");
    expect_error("cluster { routes: nats://a:1 }\n", 1, 11,
                 "invalid 'routes': expected an array of route URLs");
}

static void
test_cluster_validate(void **state)
{
    (void)state;
    struct nb_config cfg;
    char msg[256];
    nb_config_init(&cfg);
    assert_int_equal(nb_config_add_route(&cfg, "nats://a:6222"), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "solicited routes require cluster capabilities, e.g. --cluster");
    assert_int_equal(nb_config_cluster_url(&cfg, "nats://ru:rp@127.0.0.1:-1", msg, sizeof msg), 0);
    assert_int_equal(cfg.cluster_port, -1);
    assert_string_equal(cfg.cluster_host, "127.0.0.1");
    assert_string_equal(cfg.cluster_user, "ru");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    /* --cluster without userinfo clears the file's credentials, as nats-server's flag does */
    assert_int_equal(nb_config_cluster_url(&cfg, "nats://127.0.0.1:6222", msg, sizeof msg), 0);
    assert_null(cfg.cluster_user);
    assert_int_equal(cfg.cluster_port, 6222);
    assert_int_equal(nb_config_cluster_url(&cfg, "nats://tok@h:1", msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "expected cluster password to be set");
    nb_config_set_str(&cfg.cluster_pass, "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sS");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_non_null(strstr(msg, "the cluster password is a bcrypt hash"));
    nb_config_set_str(&cfg.cluster_pass, NULL);
    nb_config_set_str(&cfg.cluster_advertise, ":7");
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    nb_config_set_str(&cfg.cluster_advertise, "h:7");
    nb_config_clear_routes(&cfg);
    assert_int_equal(nb_config_add_route(&cfg, "nats://a"), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "invalid route URL 'nats://a': a route URL needs a port");
    nb_config_release(&cfg);
}

static void
test_jetstream_block(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load("jetstream {\n  store_dir: \"/tmp/js\"\n  max_memory_store: 1GB\n"
                          "  max_file_store: 10GB\n  sync_interval: always\n}\n",
                          &cfg, &w, NULL),
                     0);
    assert_true(cfg.jetstream);
    assert_string_equal(cfg.store_dir, "/tmp/js");
    assert_int_equal(cfg.js_max_memory, 1LL << 30);
    assert_int_equal(cfg.js_max_file, 10LL << 30);
    assert_int_equal(cfg.js_sync_interval_ms, 0);
    nb_config_release(&cfg);
    assert_int_equal(
        load("jetstream: enabled\njetstream { sync_interval: \"30s\" }\n", &cfg, &w, NULL), 0);
    assert_true(cfg.jetstream);
    assert_int_equal(cfg.js_sync_interval_ms, 30000);
    nb_config_release(&cfg);
    assert_int_equal(load("jetstream { enabled: false }\n", &cfg, &w, NULL), 0);
    assert_false(cfg.jetstream);
    nb_config_release(&cfg);
    /* Encryption at rest cannot be honoured, so it is refused rather than ignored. */
    expect_error("jetstream {\n  key: \"s3cret\"\n}\n", 2, 3,
                 "field \"jetstream.key\" (encryption at rest) is not supported by natsctl "
                 "(refusing to start without it)");
    expect_error("jetstream { sync_interval: \"soon\" }\n", 1, 13,
                 "invalid 'sync_interval': \"soon\" is not a duration such as \"2m\" or \"1.5s\"");
}

static void
test_variables_in_options(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    setenv("NB_TEST_PAYLOAD", "4KB", 1);
    assert_int_equal(load("PORT = 4555\nport: $PORT\nmax_payload: $NB_TEST_PAYLOAD\n"
                          "authorization { T = secret, token: $T }\n",
                          &cfg, &w, NULL),
                     0);
    assert_int_equal(w.n, 0);
    assert_int_equal(cfg.port, 4555);
    assert_int_equal(cfg.max_payload, 4096);
    assert_string_equal(cfg.auth_token, "secret");
    nb_config_release(&cfg);
}

static void
test_include_warning_names_file(void **state)
{
    (void)state;
    const char *inc = put_file("warn_inc.conf", "\n\n  gateway: {}\n");
    struct nb_config cfg;
    struct warns w;
    assert_int_equal(load("port: 1\ninclude warn_inc.conf\n", &cfg, &w, NULL), 0);
    assert_int_equal(w.n, 1);
    char want[600];
    snprintf(want, sizeof want,
             "%s:3:3: field \"gateway\" (gateways) is not supported by natsctl and is ignored",
             inc);
    assert_string_equal(w.msg[0], want);
    nb_config_release(&cfg);
    const char *bad = put_file("bad_val.conf", "\nport: nope\n");
    struct nb_conf_error err;
    assert_int_equal(load("include bad_val.conf\n", &cfg, &w, &err), NB_ECONFIG);
    assert_string_equal(err.file, bad);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
    assert_string_equal(err.msg, "invalid 'port': expected an integer");
    nb_config_release(&cfg);
}

static void
test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *msg;
    } cases[] = {
        {"port: abc\n", 1, "invalid 'port': expected an integer"},
        {"port: 1\nPORT: 70000\n", 2, "invalid 'PORT': port must be from -1 to 65535"},
        {"max_payload: \"1MB\"\n", 1, "invalid 'max_payload': expected an integer"},
        {"max_pending: -1\n", 1, "invalid 'max_pending': must not be negative"},
        {"max_connections: 1.5\n", 1, "invalid 'max_connections': expected an integer"},
        {"debug: 1\n", 1, "invalid 'debug': expected true or false"},
        {"trace: \"true\"\n", 1, "invalid 'trace': expected true or false"},
        {"server_name: 5\n", 1, "invalid 'server_name': expected a string"},
        {"host: [a]\n", 1, "invalid 'host': expected a string"},
        {"ping_interval: 2m\n", 1,
         "invalid 'ping_interval': a size suffix makes this 2000000 seconds; quote "
         "durations (\"2m\")"},
        {"write_deadline: \"soon\"\n", 1,
         "invalid 'write_deadline': \"soon\" is not a duration such as \"2m\" or "
         "\"1.5s\""},
        {"ping_interval: \"5\"\n", 1,
         "invalid 'ping_interval': \"5\" is not a duration such as \"2m\" or \"1.5s\""},
        {"ping_interval: true\n", 1,
         "invalid 'ping_interval': expected a duration such as \"2m\", or a number of "
         "seconds"},
        {"listen: \"a:b:c\"\n", 1,
         "invalid 'listen': expected \"host:port\", \":port\" or a port number"},
        {"listen: \"host\"\n", 1,
         "invalid 'listen': expected \"host:port\", \":port\" or a port number"},
        {"listen: \"h:99999\"\n", 1, "invalid 'listen': port must be from -1 to 65535"},
        {"http: \"host:\"\n", 1, "invalid 'http': expected \"host:port\" or a port number"},
        {"http_port: 65536\n", 1, "invalid 'http_port': port must be from -1 to 65535"},
        {"authorization: 5\n", 1, "invalid 'authorization': expected a map { ... }"},
        {"authorization { token: t, user: u }\n", 1, "Cannot have a user/pass and token"},
        {"authorization {\n  user: u\n  users: []\n}\n", 1,
         "Can not have a single user/pass and a users array"},
        {"authorization {\n  users: [ {user: a} ]\n  token: t\n}\n", 1,
         "Can not have a token and a users array"},
        {"authorization {\n  timeout: \"x\"\n}\n", 2,
         "invalid 'timeout': \"x\" is not a duration such as \"2m\" or \"1.5s\""},
        {"authorization {\n\n  timeout: 1k\n}\n", 3,
         "invalid 'timeout': expected a number of seconds"},
        {"authorization {\n  password: 1234\n}\n", 2, "invalid 'password': expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nb_config cfg;
        struct warns w;
        struct nb_conf_error err;
        int rc = load(cases[i].text, &cfg, &w, &err);
        if (rc != NB_ECONFIG || err.line != cases[i].line || strcmp(err.msg, cases[i].msg) != 0) {
            fail_msg("case %zu: rc %d line %d \"%s\"", i, rc, err.line, err.msg);
        }
        assert_string_equal(err.file, tpath());
        nb_config_release(&cfg);
    }
}

static void
test_load_is_atomic(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct warns w;
    struct nb_conf_error err;
    nb_config_init(&cfg);
    nb_config_set_str(&cfg.server_name, "before");
    const char *path = put_file("t.conf", "server_name: after\nport: 1\nmax_payload: \"big\"\n");
    assert_int_equal(nb_config_load(&cfg, path, collect, &w, &err), NB_ECONFIG);
    assert_int_equal(err.line, 3);
    assert_string_equal(cfg.server_name, "before");
    assert_int_equal(cfg.port, 4222);
    /* a syntax error leaves it alone too */
    path = put_file("t.conf", "server_name: after\nport: [\n");
    assert_int_equal(nb_config_load(&cfg, path, collect, &w, &err), NB_ECONF_SYNTAX);
    assert_string_equal(cfg.server_name, "before");
    nb_config_release(&cfg);
}

static void
test_apply_from_memory(void **state)
{
    (void)state;
    struct nb_conf doc;
    const char text[] = "port: 4777\nserver_name: mem\n";
    assert_int_equal(
        nb__conf_parse_mem(&doc, "memory", text, sizeof text - 1, NB_CONF_NO_INCLUDE, NULL), 0);
    struct nb_config cfg;
    nb_config_init(&cfg);
    assert_int_equal(nb__config_apply(&cfg, &doc, NULL, NULL, NULL), 0);
    assert_int_equal(cfg.port, 4777);
    assert_string_equal(cfg.server_name, "mem");
    nb_config_release(&cfg);
    nb__conf_release(&doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_value_terminators),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_nested_maps),
        cmocka_unit_test(test_json_style_file),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_block_strings),
        cmocka_unit_test(test_size_suffixes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_key_positions),
        cmocka_unit_test(test_variables_scope),
        cmocka_unit_test(test_variable_map_copy),
        cmocka_unit_test(test_variables_env),
        cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_undefined_variable),
        cmocka_unit_test(test_bcrypt_literal),
        cmocka_unit_test(test_include_relative),
        cmocka_unit_test(test_include_loop),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_include_errors),
        cmocka_unit_test(test_parse_mem),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_str),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_no_auth_user),
        cmocka_unit_test(test_load_every_option),
        cmocka_unit_test(test_load_aliases),
        cmocka_unit_test(test_keys_case_insensitive),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_bare_seconds),
        cmocka_unit_test(test_lame_duck),
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_http_forms),
        cmocka_unit_test(test_authorization_block),
        cmocka_unit_test(test_users_list),
        cmocka_unit_test(test_users_details),
        cmocka_unit_test(test_users_errors),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_refused_fields),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_accounts_errors),
        cmocka_unit_test(test_accounts_validate),
        cmocka_unit_test(test_ignored_fields),
        cmocka_unit_test(test_cluster_block),
        cmocka_unit_test(test_cluster_validate),
        cmocka_unit_test(test_jetstream_block),
        cmocka_unit_test(test_variables_in_options),
        cmocka_unit_test(test_include_warning_names_file),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_load_is_atomic),
        cmocka_unit_test(test_apply_from_memory),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
