/*
 * The configuration file parser: nats-server's syntax read by recursive descent straight into a
 * cJSON tree, with a metadata entry per node (see nb_conf.h for the tree and the hidden field).
 *
 * Invariants. Positions only move forward while a file is read, so line numbers come from a cache
 * that scans each byte once; only an error may look back. Every node is created through
 * add_meta(), which enforces NB_CONF_MAX_NODES; containers are only opened below
 * NB_CONF_MAX_DEPTH and variable copies are checked against the same bound before they are made,
 * so every recursive walk of the tree is bounded. A value is attached to its parent only when it
 * is complete, so a variable reference can never see (or copy) a half-built map. Referenced
 * variable definitions are only marked while parsing and removed at the very end, because a
 * definition may be referenced again further down.
 *
 * Deliberate differences from nats-server 2.9.10, chosen to be predictable rather than to copy
 * lexer accidents: unquoted strings are raw (a backslash is just a backslash); a digit-led word
 * that is not a number ("2m30s", "1.5s", "1kx") is a string instead of a lexer error, and a
 * number ends at ']' too; `#` or `//` right after a separator starts a comment, so the value is
 * missing; `)` may be indented on the line that ends a block; a key left without a value, an
 * unknown size suffix, an out-of-range integer and an environment variable that refers to itself
 * are errors instead of a dropped key, a wrong value or endless recursion.
 */
#include "nb_conf.h"
#include "np.h"
#include "np_units.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENV_DEPTH 8 /* environment values that reference environment values */

/* The files being read, innermost first, so an include loop is caught before it recurses. */
struct chain {
    const struct chain *up;
    dev_t dev;
    ino_t ino;
};

struct parser {
    struct nb_conf *doc;
    const char *src;
    size_t len, pos;
    unsigned file;   /* doc->files index of src */
    const char *dir; /* where relative includes are looked up; NULL refuses includes */
    const struct chain *chain;
    int includes;                         /* include directives that led to this file */
    int env_depth;                        /* environment values being parsed around this one */
    cJSON *scopes[NB_CONF_MAX_DEPTH + 1]; /* maps being filled, outermost first */
    int nscopes;
    size_t lc_off, lc_line_start; /* line cache: the line of lc_off starts at lc_line_start */
    int lc_line;
    struct nb_conf_error *err;
    char *buf; /* unescaped string being built */
    size_t buf_len, buf_cap;
};

static void
parser_init(struct parser *ps, struct nb_conf *doc, const char *src, size_t len, unsigned file,
            struct nb_conf_error *err)
{
    memset(ps, 0, sizeof *ps);
    ps->doc = doc;
    ps->src = src;
    ps->len = len;
    ps->file = file;
    ps->lc_line = 1;
    ps->err = err;
}

/* ---- positions and errors ---------------------------------------------------------------------- */

static void
where(struct parser *ps, size_t off, int *line, int *col)
{
    if (off > ps->len) off = ps->len;
    if (off < ps->lc_off) {
        ps->lc_off = 0;
        ps->lc_line = 1;
        ps->lc_line_start = 0;
    }
    const char *p = ps->src + ps->lc_off, *end = ps->src + off;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        ps->lc_line++;
        ps->lc_line_start = (size_t)(++p - ps->src);
    }
    ps->lc_off = off;
    *line = ps->lc_line;
    *col = (int)(off - ps->lc_line_start) + 1;
}

static int fail(struct parser *ps, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a syntax error at byte off of the current source; returns NB_ECONF_SYNTAX. */
static int
fail(struct parser *ps, size_t off, const char *fmt, ...)
{
    struct nb_conf_error *err = ps->err;
    snprintf(err->file, sizeof err->file, "%s", ps->doc->files[ps->file]);
    where(ps, off, &err->line, &err->column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return NB_ECONF_SYNTAX;
}

static int
nomem(struct parser *ps)
{
    snprintf(ps->err->msg, sizeof ps->err->msg, "out of memory");
    return NB_ENOMEM;
}

/* A character for an error message: itself when printable, else an escape. */
static const char *
show(int c, char out[8])
{
    if (c < 0) return "end of file";
    if (c == '\n') return "new line";
    if (isprint(c)) {
        snprintf(out, 8, "'%c'", c);
    } else {
        snprintf(out, 8, "'\\x%02x'", (unsigned char)c);
    }
    return out;
}

/* ---- metadata ---------------------------------------------------------------------------------- */

static struct nb_conf_meta *
meta_at(struct nb_conf *doc, const cJSON *node)
{
    return (struct nb_conf_meta *)nb__conf_meta(doc, node);
}

/* Gives node a new metadata entry copied from tmpl, at line:col of the current file. */
static int
add_meta(struct parser *ps, cJSON *node, const struct nb_conf_meta *tmpl, int line, int col)
{
    struct nb_conf *doc = ps->doc;
    if (doc->nmeta >= NB_CONF_MAX_NODES) {
        return fail(ps, ps->pos, "too many values (the limit is %d)", NB_CONF_MAX_NODES);
    }
    if (doc->nmeta == doc->meta_cap) {
        size_t cap = doc->meta_cap ? doc->meta_cap * 2 : 64;
        struct nb_conf_meta *m = realloc(doc->meta, cap * sizeof *m);
        if (!m) return nomem(ps);
        doc->meta = m;
        doc->meta_cap = cap;
    }
    struct nb_conf_meta *m = &doc->meta[doc->nmeta++];
    *m = *tmpl;
    m->line = line;
    m->column = col;
    m->file = ps->file;
    node->valueint = (int)doc->nmeta;
    return 0;
}

/* Creates the metadata of a freshly made node (deleting it on failure). */
static int
new_node(struct parser *ps, cJSON *node, unsigned flags, int64_t ival, int line, int col,
         cJSON **out)
{
    if (!node) return nomem(ps);
    struct nb_conf_meta m = {.ival = ival, .flags = flags, .height = 1, .nodes = 1};
    int rc = add_meta(ps, node, &m, line, col);
    if (rc) {
        cJSON_Delete(node);
        return rc;
    }
    *out = node;
    return 0;
}

/* Sums up a finished container's children into its height and node count. */
static void
seal(struct nb_conf *doc, const cJSON *node)
{
    struct nb_conf_meta *m = meta_at(doc, node);
    int height = 0, nodes = 1;
    for (const cJSON *c = node->child; c; c = c->next) {
        const struct nb_conf_meta *cm = meta_at(doc, c);
        if (!cm) continue;
        if (cm->height > height) height = cm->height;
        nodes += cm->nodes;
    }
    m->height = height + 1;
    m->nodes = nodes;
}

static unsigned
add_file(struct parser *ps, const char *name, int *rc)
{
    struct nb_conf *doc = ps->doc;
    for (size_t i = 0; i < doc->nfiles; i++) {
        if (strcmp(doc->files[i], name) == 0) return (unsigned)i;
    }
    if (doc->nfiles == doc->files_cap) {
        size_t cap = doc->files_cap ? doc->files_cap * 2 : 4;
        char **f = realloc(doc->files, cap * sizeof *f);
        if (!f) {
            *rc = nomem(ps);
            return 0;
        }
        doc->files = f;
        doc->files_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        *rc = nomem(ps);
        return 0;
    }
    doc->files[doc->nfiles] = copy;
    return (unsigned)doc->nfiles++;
}

/* ---- characters -------------------------------------------------------------------------------- */

static int
peek(const struct parser *ps)
{
    return ps->pos < ps->len ? (unsigned char)ps->src[ps->pos] : -1;
}

static int
peek_at(const struct parser *ps, size_t off)
{
    return off < ps->len ? (unsigned char)ps->src[off] : -1;
}

static bool
is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static bool
is_nl(int c)
{
    return c == '\n' || c == '\r';
}

static bool
is_space(int c)
{
    return is_blank(c) || is_nl(c) || c == '\v' || c == '\f';
}

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* What ends an unquoted value (a blank, a new line, a value separator or a closing bracket). */
static bool
ends_word(int c)
{
    return c < 0 || is_blank(c) || is_nl(c) || c == ',' || c == ';' || c == ']' || c == '}';
}

static bool
at_comment(const struct parser *ps)
{
    int c = peek(ps);
    return c == '#' || (c == '/' && peek_at(ps, ps->pos + 1) == '/');
}

static void
skip_blank(struct parser *ps)
{
    while (is_blank(peek(ps)))
        ps->pos++;
}

/* Skips blanks, new lines and comments. */
static void
skip_space(struct parser *ps)
{
    for (;;) {
        if (is_space(peek(ps))) {
            ps->pos++;
        } else if (at_comment(ps)) {
            while (ps->pos < ps->len && !is_nl(peek(ps)))
                ps->pos++;
        } else {
            return;
        }
    }
}

/* Skips blanks and a trailing comment, stopping before the new line. */
static void
skip_to_eol(struct parser *ps)
{
    skip_blank(ps);
    if (at_comment(ps)) {
        while (ps->pos < ps->len && !is_nl(peek(ps)))
            ps->pos++;
    }
}

static int
buf_add(struct parser *ps, const char *p, size_t n)
{
    if (ps->buf_cap - ps->buf_len <= n) {
        size_t cap = ps->buf_cap ? ps->buf_cap : 64;
        while (cap - ps->buf_len <= n)
            cap *= 2;
        char *b = realloc(ps->buf, cap);
        if (!b) return nomem(ps);
        ps->buf = b;
        ps->buf_cap = cap;
    }
    memcpy(ps->buf + ps->buf_len, p, n);
    ps->buf_len += n;
    ps->buf[ps->buf_len] = '\0';
    return 0;
}

/* Makes a string node from n bytes at p. */
static int
make_string(struct parser *ps, const char *p, size_t n, unsigned flags, int line, int col,
            cJSON **out)
{
    ps->buf_len = 0;
    int rc = buf_add(ps, p, n);
    if (rc) return rc;
    return new_node(ps, cJSON_CreateString(ps->buf), flags, 0, line, col, out);
}

/* ---- numbers ----------------------------------------------------------------------------------- */

static bool
is_suffix_letter(int c)
{
    return c > 0 && strchr("kKmMgGtTpPeE", c) != NULL;
}

/* Makes an integer node from the digits [s,d) (with an optional '-') and a suffix [d,e). */
static int
make_int(struct parser *ps, size_t s, size_t d, size_t e, int line, int col, cJSON **out)
{
    const char *p = ps->src;
    int64_t v;
    int rc = np_size_parse(p + s, e - s, &v);
    if (rc == NP_ERANGE) return fail(ps, s, "integer out of range");
    if (rc) return fail(ps, d, "unknown size suffix '%.*s'", (int)(e - d), p + d);
    unsigned flags = NB_CONF_INT | (d < e ? NB_CONF_SUFFIX : 0);
    return new_node(ps, cJSON_CreateNumber((double)v), flags, v, line, col, out);
}

/* Checks [s,e) against YYYY-MM-DDTHH:MM:SSZ, field ranges included. */
static bool
is_datetime(const char *p, size_t n)
{
    static const char shape[] = "0000-00-00T00:00:00Z";
    if (n != sizeof shape - 1) return false;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == '0' ? !is_digit(p[i]) : p[i] != shape[i]) return false;
    }
    int month = (p[5] - '0') * 10 + p[6] - '0', day = (p[8] - '0') * 10 + p[9] - '0';
    int hour = (p[11] - '0') * 10 + p[12] - '0', min = (p[14] - '0') * 10 + p[15] - '0';
    int sec = (p[17] - '0') * 10 + p[18] - '0';
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && min < 60 && sec < 60;
}

/* [s,d) are digits after an optional sign and d < e is a '.'. */
static int
make_dotted(struct parser *ps, size_t s, size_t d, size_t e, int line, int col, cJSON **out)
{
    const char *p = ps->src;
    if (d + 1 >= e || !is_digit(p[d + 1])) {
        return fail(ps, d + 1, "a '.' in a number must be followed by a digit");
    }
    size_t f = d + 1;
    while (f < e && is_digit(p[f]))
        f++;
    if (f < e) return make_string(ps, p + s, e - s, 0, line, col, out); /* an address, "1.5s" */
    ps->buf_len = 0;
    int rc = buf_add(ps, p + s, e - s);
    if (rc) return rc;
    return new_node(ps, cJSON_CreateNumber(strtod(ps->buf, NULL)), NB_CONF_FLOAT, 0, line, col,
                    out);
}

/* An unquoted word [s,e) that starts with a digit or '-'. */
static int
parse_number(struct parser *ps, size_t s, size_t e, int line, int col, cJSON **out)
{
    const char *p = ps->src;
    size_t i = s + (p[s] == '-');
    if (i == e || !is_digit(p[i])) return fail(ps, i, "expected a digit after '-'");
    size_t d = i;
    while (d < e && is_digit(p[d]))
        d++;
    if (d == e) return make_int(ps, s, d, d, line, col, out);
    if (p[d] == '-' && d - s == 4) {
        if (!is_datetime(p + s, e - s)) {
            return fail(ps, s, "invalid datetime '%.*s' (expected YYYY-MM-DDTHH:MM:SSZ)",
                        (int)(e - s > 40 ? 40 : e - s), p + s);
        }
        return make_string(ps, p + s, e - s, NB_CONF_DATETIME, line, col, out);
    }
    if (p[d] == '.') return make_dotted(ps, s, d, e, line, col, out);
    if (is_suffix_letter((unsigned char)p[d])) {
        size_t k = d + 1;
        while (k < e && (p[k] == 'b' || p[k] == 'B' || p[k] == 'i' || p[k] == 'I'))
            k++;
        if (k == e) return make_int(ps, s, d, e, line, col, out);
    }
    return make_string(ps, p + s, e - s, 0, line, col, out); /* "10s", "1h30m" */
}

/* ---- variables --------------------------------------------------------------------------------- */

static int parse_value(struct parser *ps, int level, int line, int col, cJSON **out);

/*
 * Gives every node of a fresh copy its own metadata, cloned from the node it was copied from. The
 * children keep their USED marks: a map's members can only be referenced while the map is being
 * built, so a copied definition is as much a definition as the original.
 */
static int
reindex(struct parser *ps, cJSON *node, int line, int col)
{
    struct nb_conf_meta m = *meta_at(ps->doc, node);
    unsigned file = m.file;
    int rc = add_meta(ps, node, &m, line, col);
    if (rc) return rc;
    meta_at(ps->doc, node)->file = file;
    for (cJSON *c = node->child; c; c = c->next) {
        const struct nb_conf_meta *cm = meta_at(ps->doc, c);
        rc = reindex(ps, c, cm->line, cm->column);
        if (rc) return rc;
    }
    return 0;
}

/* Copies the value of a variable definition to where it is referenced (level, line:col). */
static int
copy_value(struct parser *ps, cJSON *def, size_t off, int level, int line, int col, cJSON **out)
{
    struct nb_conf_meta *dm = meta_at(ps->doc, def);
    if (level + dm->height - 1 > NB_CONF_MAX_DEPTH) {
        return fail(ps, off, "variable value nested more than %d deep", NB_CONF_MAX_DEPTH);
    }
    if (ps->doc->nmeta + (size_t)dm->nodes > NB_CONF_MAX_NODES) {
        return fail(ps, off, "too many values (the limit is %d)", NB_CONF_MAX_NODES);
    }
    dm->flags |= NB_CONF_USED;
    cJSON *copy = cJSON_Duplicate(def, 1);
    if (!copy) return nomem(ps);
    cJSON_free(copy->string);
    copy->string = NULL;
    int rc = reindex(ps, copy, line, col);
    if (rc) {
        cJSON_Delete(copy);
        return rc;
    }
    struct nb_conf_meta *cm = meta_at(ps->doc, copy);
    cm->file = ps->file;
    cm->flags &= ~(unsigned)NB_CONF_USED;
    *out = copy;
    return 0;
}

/* Parses the value of environment variable name (value) as a configuration value. */
static int
env_value(struct parser *ps, const char *name, const char *value, size_t off, int level, int line,
          int col, cJSON **out)
{
    if (ps->env_depth >= MAX_ENV_DEPTH) {
        return fail(ps, off, "environment variables refer to each other more than %d deep",
                    MAX_ENV_DEPTH);
    }
    char label[80];
    snprintf(label, sizeof label, "$%s", name);
    int rc = 0;
    unsigned file = add_file(ps, label, &rc);
    if (rc) return rc;
    struct parser sub;
    parser_init(&sub, ps->doc, value, strlen(value), file, ps->err);
    sub.env_depth = ps->env_depth + 1;
    skip_blank(&sub);
    if (sub.pos == sub.len) {
        rc = make_string(&sub, "", 0, 0, line, col, out);
    } else {
        rc = parse_value(&sub, level, line, col, out);
        skip_space(&sub);
        if (!rc && sub.pos < sub.len) {
            char c[8];
            cJSON_Delete(*out);
            rc = fail(&sub, sub.pos, "unexpected %s after the value", show(peek(&sub), c));
        }
    }
    free(sub.buf);
    if (!rc) meta_at(ps->doc, *out)->file = ps->file;
    return rc;
}

/* Resolves $name (written at off): enclosing maps innermost first, then the environment. */
static int
resolve(struct parser *ps, const char *name, size_t off, int level, int line, int col, cJSON **out)
{
    for (int i = ps->nscopes - 1; i >= 0; i--) {
        cJSON *def = cJSON_GetObjectItemCaseSensitive(ps->scopes[i], name);
        if (def) return copy_value(ps, def, off, level, line, col, out);
    }
    const char *env = getenv(name);
    if (!env) return fail(ps, off, "variable '$%.60s' is not defined", name);
    return env_value(ps, name, env, off, level, line, col, out);
}

static int
parse_variable(struct parser *ps, size_t s, size_t e, int level, int line, int col, cJSON **out)
{
    const char *name = ps->src + s + 1;
    size_t n = e - s - 1;
    if (n >= 3 && memcmp(name, "2a$", 3) == 0) { /* a bcrypt hash, not a reference */
        return make_string(ps, ps->src + s, e - s, 0, line, col, out);
    }
    char *copy = strndup(name, n);
    if (!copy) return nomem(ps);
    int rc = resolve(ps, copy, s, level, line, col, out);
    free(copy);
    return rc;
}

/* ---- scalars ----------------------------------------------------------------------------------- */

static bool
word_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* An unquoted word: number, datetime, boolean, variable reference or string. */
static int
parse_word(struct parser *ps, int level, int line, int col, cJSON **out)
{
    size_t s = ps->pos;
    while (!ends_word(peek(ps)))
        ps->pos++;
    size_t e = ps->pos, n = e - s;
    const char *p = ps->src + s;
    if (is_digit(p[0]) || p[0] == '-') return parse_number(ps, s, e, line, col, out);
    if (p[0] == '$') return parse_variable(ps, s, e, level, line, col, out);
    if (p[0] == '.' && n > 1 && is_digit(p[1])) {
        return fail(ps, s, "a number must start with a digit");
    }
    if (word_is(p, n, "true") || word_is(p, n, "yes") || word_is(p, n, "on")) {
        return new_node(ps, cJSON_CreateTrue(), 0, 0, line, col, out);
    }
    if (word_is(p, n, "false") || word_is(p, n, "no") || word_is(p, n, "off")) {
        return new_node(ps, cJSON_CreateFalse(), 0, 0, line, col, out);
    }
    return make_string(ps, p, n, 0, line, col, out);
}

/* The escape at ps->pos (a backslash) inside a double-quoted string. */
static int
parse_escape(struct parser *ps, size_t open)
{
    size_t at = ps->pos;
    int c = peek_at(ps, at + 1);
    static const char from[] = "tnr\"\\", to[] = "\t\n\r\"\\";
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    if (c < 0) return fail(ps, open, "string is never closed with '\"'");
    if (hit && *hit) {
        ps->pos += 2;
        return buf_add(ps, &to[hit - from], 1);
    }
    if (c != 'x') {
        return fail(ps, at, "invalid escape '\\%c' (use \\t \\n \\r \\\" \\\\ or \\xHH)",
                    isprint(c) ? c : '?');
    }
    int hi = peek_at(ps, at + 2), lo = peek_at(ps, at + 3);
    if (hi < 0 || lo < 0 || !isxdigit(hi) || !isxdigit(lo)) {
        return fail(ps, at, "'\\x' must be followed by two hexadecimal digits");
    }
    char byte = (char)((isdigit(hi) ? hi - '0' : tolower(hi) - 'a' + 10) * 16 +
                       (isdigit(lo) ? lo - '0' : tolower(lo) - 'a' + 10));
    if (byte == 0) return fail(ps, at, "'\\x00' is not allowed in a string");
    ps->pos += 4;
    return buf_add(ps, &byte, 1);
}

static int
parse_dquoted(struct parser *ps, int line, int col, cJSON **out)
{
    size_t open = ps->pos++;
    ps->buf_len = 0;
    int rc = buf_add(ps, "", 0);
    while (!rc) {
        size_t run = ps->pos;
        while (ps->pos < ps->len && ps->src[ps->pos] != '"' && ps->src[ps->pos] != '\\')
            ps->pos++;
        rc = buf_add(ps, ps->src + run, ps->pos - run);
        if (rc) break;
        if (ps->pos == ps->len) return fail(ps, open, "string is never closed with '\"'");
        if (ps->src[ps->pos] == '"') {
            ps->pos++;
            return new_node(ps, cJSON_CreateString(ps->buf), NB_CONF_QUOTED, 0, line, col, out);
        }
        rc = parse_escape(ps, open);
    }
    return rc;
}

static int
parse_squoted(struct parser *ps, int line, int col, cJSON **out)
{
    size_t open = ps->pos++;
    const char *end = memchr(ps->src + ps->pos, '\'', ps->len - ps->pos);
    if (!end) return fail(ps, open, "string is never closed with \"'\"");
    size_t s = ps->pos;
    ps->pos = (size_t)(end - ps->src) + 1;
    return make_string(ps, ps->src + s, (size_t)(end - ps->src) - s, NB_CONF_QUOTED, line, col,
                       out);
}

/* If the line starting at off holds only ')' (and blanks), returns the offset of the ')'. */
static size_t
block_end_at(const struct parser *ps, size_t off)
{
    size_t i = off;
    while (is_blank(peek_at(ps, i)))
        i++;
    if (peek_at(ps, i) != ')') return SIZE_MAX;
    size_t close = i++;
    while (is_blank(peek_at(ps, i)) || peek_at(ps, i) == '\r')
        i++;
    return i == ps->len || ps->src[i] == '\n' ? close : SIZE_MAX;
}

/* A ( ... ) block: raw text up to a line holding only ')', the last new line included. */
static int
parse_block(struct parser *ps, int line, int col, cJSON **out)
{
    size_t open = ps->pos++;
    size_t from = ps->pos;
    for (;;) {
        const char *nl = memchr(ps->src + from, '\n', ps->len - from);
        if (!nl) return fail(ps, open, "block is never closed by a line holding only ')'");
        from = (size_t)(nl - ps->src) + 1;
        size_t close = block_end_at(ps, from);
        if (close != SIZE_MAX) {
            size_t s = open + 1;
            ps->pos = close + 1;
            return make_string(ps, ps->src + s, from - s, NB_CONF_QUOTED, line, col, out);
        }
    }
}

/* ---- containers -------------------------------------------------------------------------------- */

static int parse_members(struct parser *ps, cJSON *obj, int level, size_t open);

/* Adds key = val to obj; a key written again keeps its place and takes the new value. */
static int
put(struct parser *ps, cJSON *obj, const char *key, cJSON *val)
{
    bool ok = cJSON_GetObjectItemCaseSensitive(obj, key)
                  ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val)
                  : cJSON_AddItemToObject(obj, key, val);
    if (ok) return 0;
    cJSON_Delete(val);
    return nomem(ps);
}

static int
parse_map(struct parser *ps, int level, int line, int col, cJSON **out)
{
    if (level > NB_CONF_MAX_DEPTH) {
        return fail(ps, ps->pos, "maps and arrays nested more than %d deep", NB_CONF_MAX_DEPTH);
    }
    size_t open = ps->pos++;
    int rc = new_node(ps, cJSON_CreateObject(), 0, 0, line, col, out);
    if (rc) return rc;
    ps->scopes[ps->nscopes++] = *out;
    rc = parse_members(ps, *out, level + 1, open);
    ps->nscopes--;
    if (rc) {
        cJSON_Delete(*out);
        return rc;
    }
    seal(ps->doc, *out);
    return 0;
}

/* After an array element: a ',' or new line continues, ']' ends (left for the caller). */
static int
array_sep(struct parser *ps, size_t open)
{
    skip_to_eol(ps);
    int c = peek(ps);
    if (c == ',') {
        ps->pos++;
        return 0;
    }
    if (is_nl(c) || c == ']') return 0;
    if (c < 0) return fail(ps, open, "array is never closed with ']'");
    char s[8];
    return fail(ps, ps->pos, "expected ',' or ']' after an array element, got %s", show(c, s));
}

static int
parse_elements(struct parser *ps, cJSON *arr, int level, size_t open)
{
    for (;;) {
        skip_space(ps);
        int c = peek(ps), line, col;
        if (c < 0) return fail(ps, open, "array is never closed with ']'");
        if (c == ']') {
            ps->pos++;
            return 0;
        }
        if (c == ',') return fail(ps, ps->pos, "unexpected ',' in array");
        where(ps, ps->pos, &line, &col);
        cJSON *v;
        int rc = parse_value(ps, level, line, col, &v);
        if (rc) return rc;
        if (!cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            return nomem(ps);
        }
        rc = array_sep(ps, open);
        if (rc) return rc;
    }
}

static int
parse_array(struct parser *ps, int level, int line, int col, cJSON **out)
{
    if (level > NB_CONF_MAX_DEPTH) {
        return fail(ps, ps->pos, "maps and arrays nested more than %d deep", NB_CONF_MAX_DEPTH);
    }
    size_t open = ps->pos++;
    int rc = new_node(ps, cJSON_CreateArray(), 0, 0, line, col, out);
    if (rc) return rc;
    rc = parse_elements(ps, *out, level + 1, open);
    if (rc) {
        cJSON_Delete(*out);
        return rc;
    }
    seal(ps->doc, *out);
    return 0;
}

/* A value at nesting level `level`, recorded as written at line:col. */
static int
parse_value(struct parser *ps, int level, int line, int col, cJSON **out)
{
    skip_blank(ps);
    int c = peek(ps);
    char s[8];
    switch (c) {
    case '[':
        return parse_array(ps, level, line, col, out);
    case '{':
        return parse_map(ps, level, line, col, out);
    case '"':
        return parse_dquoted(ps, line, col, out);
    case '\'':
        return parse_squoted(ps, line, col, out);
    case '(':
        return parse_block(ps, line, col, out);
    case ',':
    case ';':
    case ']':
    case '}':
        return fail(ps, ps->pos, "expected a value, got %s", show(c, s));
    default:
        break;
    }
    if (ends_word(c) || at_comment(ps)) return fail(ps, ps->pos, "expected a value");
    return parse_word(ps, level, line, col, out);
}

/* ---- files and includes ------------------------------------------------------------------------ */

/* Reads a whole file (at most NB_CONF_MAX_FILE bytes). Returns 0 or a negative errno. */
static int
read_file(const char *path, char **data, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fstat(fd, st) ? -errno : S_ISDIR(st->st_mode) ? -EISDIR : 0;
    size_t n = 0, cap = 0;
    char *buf = NULL;
    while (!rc) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *b = cap > (size_t)NB_CONF_MAX_FILE + 1 ? NULL : realloc(buf, cap);
            if (!b) {
                rc = cap > (size_t)NB_CONF_MAX_FILE + 1 ? -EFBIG : -ENOMEM;
                break;
            }
            buf = b;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno != EINTR) rc = -errno;
        if (r == 0) break;
        if (r > 0) n += (size_t)r;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* The directory part of path ("." when it has none), malloc'd. */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int parse_top(struct parser *ps, cJSON *obj, int level);

/* Parses the included file (already read) into obj, with its own variable scope. */
static int
parse_included(struct parser *ps, cJSON *obj, int level, const char *path, const char *data,
               size_t len, const struct chain *link)
{
    int rc = 0;
    unsigned file = add_file(ps, path, &rc);
    if (rc) return rc;
    char *dir = dir_of(path);
    cJSON *inc = cJSON_CreateObject();
    if (!dir || !inc) {
        free(dir);
        cJSON_Delete(inc);
        return nomem(ps);
    }
    struct parser sub;
    parser_init(&sub, ps->doc, data, len, file, ps->err);
    sub.dir = dir;
    sub.chain = link;
    sub.includes = ps->includes + 1;
    sub.env_depth = ps->env_depth;
    sub.scopes[sub.nscopes++] = inc;
    rc = parse_top(&sub, inc, level);
    while (!rc && inc->child) {
        cJSON *c = cJSON_DetachItemViaPointer(inc, inc->child);
        char *key = c->string;
        c->string = NULL;
        rc = put(ps, obj, key, c);
        cJSON_free(key);
    }
    cJSON_Delete(inc);
    free(sub.buf);
    free(dir);
    return rc;
}

static int
include_file(struct parser *ps, cJSON *obj, int level, const char *name, size_t off)
{
    if (!ps->dir) return fail(ps, off, "include is not allowed here");
    if (ps->includes >= NB_CONF_MAX_INCLUDES) {
        return fail(ps, off, "includes nested more than %d deep", NB_CONF_MAX_INCLUDES);
    }
    size_t cap = strlen(ps->dir) + strlen(name) + 2;
    char *path = malloc(cap);
    if (!path) return nomem(ps);
    if (name[0] == '/' || strcmp(ps->dir, ".") == 0) {
        snprintf(path, cap, "%s", name);
    } else {
        snprintf(path, cap, "%s/%s", ps->dir, name);
    }
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    int rc = read_file(path, &data, &len, &st);
    if (rc) {
        rc = fail(ps, off, "cannot include '%.200s': %s", name, strerror(-rc));
    } else {
        for (const struct chain *c = ps->chain; c && !rc; c = c->up) {
            if (c->dev == st.st_dev && c->ino == st.st_ino) {
                rc = fail(ps, off, "include loop: '%.200s' is already being read", name);
            }
        }
        struct chain link = {.up = ps->chain, .dev = st.st_dev, .ino = st.st_ino};
        if (!rc) rc = parse_included(ps, obj, level, path, data, len, &link);
    }
    free(data);
    free(path);
    return rc;
}

/* `include <path>` with the keyword already read; the path may be quoted. */
static int
parse_include(struct parser *ps, cJSON *obj, int level)
{
    skip_blank(ps);
    size_t off = ps->pos, s = off;
    int q = peek(ps);
    if (q == '"' || q == '\'') {
        const char *end = memchr(ps->src + off + 1, q, ps->len - off - 1);
        if (!end) return fail(ps, off, "include file name is never closed with %c", q);
        s = off + 1;
        ps->pos = (size_t)(end - ps->src) + 1;
    } else {
        while (!ends_word(peek(ps)))
            ps->pos++;
    }
    size_t e = q == '"' || q == '\'' ? ps->pos - 1 : ps->pos;
    if (e == s) return fail(ps, off, "include needs a file name");
    char *name = strndup(ps->src + s, e - s);
    if (!name) return nomem(ps);
    int rc = include_file(ps, obj, level, name, off);
    free(name);
    return rc;
}

/* ---- keys and maps ----------------------------------------------------------------------------- */

static bool
ends_key(int c)
{
    return c < 0 || is_space(c) || c == '=' || c == ':' || c == '{' || c == '[' || c == '}' ||
           c == ']' || c == ',' || c == ';';
}

/* Reads a key into a malloc'd *key; *include is set for the include keyword. */
static int
parse_key(struct parser *ps, char **key, bool *include)
{
    size_t off = ps->pos, s, e;
    int c = peek(ps);
    char shown[8];
    *include = false;
    if (c == '"' || c == '\'') {
        const char *end = memchr(ps->src + off + 1, c, ps->len - off - 1);
        if (!end) return fail(ps, off, "quoted key is never closed with %c", c);
        s = off + 1;
        e = (size_t)(end - ps->src);
        ps->pos = e + 1;
    } else {
        if (ends_key(c)) return fail(ps, off, "expected a key, got %s", show(c, shown));
        while (!ends_key(peek(ps)))
            ps->pos++;
        s = off;
        e = ps->pos;
        if (word_is(ps->src + s, e - s, "include") && is_blank(peek(ps))) {
            skip_blank(ps);
            *include = peek(ps) != '=' && peek(ps) != ':';
        }
    }
    *key = strndup(ps->src + s, e - s);
    return *key ? 0 : nomem(ps);
}

/* One `key [=:] value` (or an include) into obj, at nesting level `level`. */
static int
parse_member(struct parser *ps, cJSON *obj, int level)
{
    int line, col;
    where(ps, ps->pos, &line, &col);
    char *key = NULL;
    bool include;
    int rc = parse_key(ps, &key, &include);
    if (rc) return rc;
    if (include) {
        free(key);
        return parse_include(ps, obj, level);
    }
    skip_space(ps);
    if (peek(ps) == '=' || peek(ps) == ':') {
        ps->pos++;
        skip_blank(ps);
    }
    cJSON *val = NULL;
    int c = peek(ps);
    if (c < 0 || is_nl(c) || at_comment(ps)) {
        rc = fail(ps, ps->pos, "missing value for '%.60s'", key);
    } else {
        rc = parse_value(ps, level, line, col, &val);
    }
    if (!rc) rc = put(ps, obj, key, val);
    free(key);
    return rc;
}

/* After a member: a new line, ',' or ';' continues; '}' or the end is left for the caller. */
static int
member_sep(struct parser *ps)
{
    skip_to_eol(ps);
    int c = peek(ps);
    if (c == ',' || c == ';') {
        ps->pos++;
        return 0;
    }
    if (c < 0 || is_nl(c) || c == '}') return 0;
    char s[8];
    return fail(ps, ps->pos, "expected a new line, ',' or ';' after a value, got %s", show(c, s));
}

/* Members until the '}' matching the one at open, or until the end when open is SIZE_MAX. */
static int
parse_members(struct parser *ps, cJSON *obj, int level, size_t open)
{
    for (;;) {
        skip_space(ps);
        int c = peek(ps);
        if (c < 0) {
            if (open == SIZE_MAX) return 0;
            return fail(ps, open, "map is never closed with '}'");
        }
        if (c == '}') {
            if (open == SIZE_MAX) return fail(ps, ps->pos, "unexpected '}'");
            ps->pos++;
            return 0;
        }
        int rc = parse_member(ps, obj, level);
        if (!rc) rc = member_sep(ps);
        if (rc) return rc;
    }
}

/* A whole file: members, optionally wrapped in one pair of braces as in JSON. */
static int
parse_top(struct parser *ps, cJSON *obj, int level)
{
    skip_space(ps);
    if (peek(ps) != '{') return parse_members(ps, obj, level, SIZE_MAX);
    int rc = parse_members(ps, obj, level, ps->pos++);
    if (rc) return rc;
    skip_space(ps);
    if (ps->pos < ps->len) return fail(ps, ps->pos, "unexpected text after the closing '}'");
    return 0;
}

/* ---- documents --------------------------------------------------------------------------------- */

/* Removes the referenced variable definitions from every map. */
static void
drop_used(struct nb_conf *doc, cJSON *node)
{
    cJSON *c = node->child;
    while (c) {
        cJSON *next = c->next;
        const struct nb_conf_meta *m = nb__conf_meta(doc, c);
        if (cJSON_IsObject(node) && m && (m->flags & NB_CONF_USED)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(node, c));
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            drop_used(doc, c);
        }
        c = next;
    }
}

static int
parse_doc(struct nb_conf *doc, const char *name, const char *data, size_t len, const char *dir,
          const struct chain *link, struct nb_conf_error *err)
{
    struct parser ps;
    parser_init(&ps, doc, data, len, 0, err);
    ps.dir = dir;
    ps.chain = link;
    int rc = 0;
    add_file(&ps, name, &rc);
    if (!rc) rc = new_node(&ps, cJSON_CreateObject(), 0, 0, 1, 1, &doc->root);
    if (!rc) {
        ps.scopes[ps.nscopes++] = doc->root;
        rc = parse_top(&ps, doc->root, 1);
    }
    if (!rc) {
        drop_used(doc, doc->root);
        seal(doc, doc->root);
    }
    free(ps.buf);
    if (rc) nb__conf_release(doc);
    return rc;
}

int
nb__conf_parse_mem(struct nb_conf *doc, const char *name, const char *data, size_t len,
                   unsigned flags, struct nb_conf_error *err)
{
    struct nb_conf_error scratch;
    if (!err) err = &scratch;
    memset(err, 0, sizeof *err);
    memset(doc, 0, sizeof *doc);
    char *dir = flags & NB_CONF_NO_INCLUDE ? NULL : dir_of(name);
    if (!(flags & NB_CONF_NO_INCLUDE) && !dir) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NB_ENOMEM;
    }
    int rc = parse_doc(doc, name, data, len, dir, NULL, err);
    free(dir);
    return rc;
}

int
nb__conf_parse_file(struct nb_conf *doc, const char *path, struct nb_conf_error *err)
{
    struct nb_conf_error scratch;
    if (!err) err = &scratch;
    memset(err, 0, sizeof *err);
    memset(doc, 0, sizeof *doc);
    char *data = NULL, *dir = dir_of(path);
    size_t len = 0;
    struct stat st;
    int rc = dir ? read_file(path, &data, &len, &st) : -ENOMEM;
    if (rc) {
        snprintf(err->file, sizeof err->file, "%s", path);
        snprintf(err->msg, sizeof err->msg, "cannot read the file: %s", strerror(-rc));
        free(dir);
        return rc == -ENOMEM ? NB_ENOMEM : NB_ECONFIG;
    }
    struct chain link = {.up = NULL, .dev = st.st_dev, .ino = st.st_ino};
    rc = parse_doc(doc, path, data, len, dir, &link, err);
    free(data);
    free(dir);
    return rc;
}

void
nb__conf_release(struct nb_conf *doc)
{
    cJSON_Delete(doc->root);
    free(doc->meta);
    for (size_t i = 0; i < doc->nfiles; i++)
        free(doc->files[i]);
    free(doc->files);
    memset(doc, 0, sizeof *doc);
}

const struct nb_conf_meta *
nb__conf_meta(const struct nb_conf *doc, const cJSON *node)
{
    if (!node || node->valueint <= 0 || (size_t)node->valueint > doc->nmeta) return NULL;
    return &doc->meta[node->valueint - 1];
}

const char *
nb__conf_file(const struct nb_conf *doc, const struct nb_conf_meta *m)
{
    return m && m->file < doc->nfiles ? doc->files[m->file] : "?";
}
