/*
 * libFuzzer target for permissions: their parsing from a configuration and the checks a
 * connection makes with them. The input is lines; the first character of each says what it is:
 *
 *   p / P   a publish allow / deny entry      s / S   a subscribe allow / deny entry
 *   r       allow_responses (the rest of the line is its max, if any)
 *   c       a subject to publish to, subscribe to and receive on
 *   q       "subject queue": a queue subscription to check
 *   m       a reply subject received, which allow_responses may let the connection answer
 *
 * The entries become an authorization { users } block that goes through the configuration parser
 * and mapper (nb_users.c validates them there); a configuration they make invalid must be refused
 * with a position. Then the user's compiled permissions answer every check, and each answer is
 * held against the entries themselves: a matching deny entry always wins, an allow list admits
 * only what an entry matches, and the per-connection caches never change an answer. The subject
 * matchers are cross-checked on every pair of patterns and subjects too.
 */
#include "nb.h"
#include "nb_conf.h"
#include "nb_perm.h"
#include "np.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64
#define MAX_LINE  128

struct line {
    char kind;
    char text[MAX_LINE + 1];
};

struct input {
    struct line v[MAX_LINES];
    size_t n;
    bool responses;
    long responses_max;
};

/* Characters a quoted configuration string cannot hold as they are, or that end a line. */
static bool
quotable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

static void
split(const uint8_t *data, size_t size, struct input *in)
{
    memset(in, 0, sizeof *in);
    const char *p = (const char *)data, *end = p + size;
    while (p < end && in->n < MAX_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len >= 1 && len - 1 <= MAX_LINE && quotable(p + 1, len - 1)) {
            struct line *l = &in->v[in->n];
            l->kind = p[0];
            memcpy(l->text, p + 1, len - 1);
            l->text[len - 1] = '\0';
            if (p[0] == 'r') {
                in->responses = true;
                in->responses_max = strtol(l->text, NULL, 10) % 4;
            } else if (p[0] && strchr("pPsScqm", p[0])) {
                in->n++;
            }
        }
        p = nl ? nl + 1 : end;
    }
}

/* The entries of one kind as a configuration array. */
static void
put_list(FILE *f, const struct input *in, char kind, const char *key)
{
    bool any = false;
    for (size_t i = 0; i < in->n; i++) {
        if (in->v[i].kind != kind) continue;
        fprintf(f, "%s\"%s\"", any ? ", " : key, in->v[i].text);
        any = true;
    }
    if (any) fputs(" ], ", f);
}

static char *
config_text(const struct input *in, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f) return NULL;
    fputs("authorization { users = [ { user: u, password: p, permissions: {\n publish: { ", f);
    put_list(f, in, 'p', "allow: [ ");
    put_list(f, in, 'P', "deny: [ ");
    fputs("}\n subscribe: { ", f);
    put_list(f, in, 's', "allow: [ ");
    put_list(f, in, 'S', "deny: [ ");
    fputs("}\n", f);
    if (in->responses) fprintf(f, " allow_responses: { max: %ld }\n", in->responses_max);
    fputs("} } ] }\n", f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void
ignore_warning(void *ud, const char *msg)
{
    (void)ud;
    (void)msg;
}

static bool
matches(char *const *list, size_t n, const char *subject)
{
    for (size_t i = 0; i < n; i++)
        if (np_subject_match(list[i], strlen(list[i]), subject, strlen(subject))) return true;
    return false;
}

/* A subscribe entry without a queue group that covers subject (literal or not). */
static bool
plain_covers(char *const *list, size_t n, const char *subject)
{
    for (size_t i = 0; i < n; i++)
        if (np_subject_valid(list[i], strlen(list[i])) &&
            np_subject_subset(subject, strlen(subject), list[i], strlen(list[i])))
            return true;
    return false;
}

static bool
received(const struct input *in, const char *subject)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->v[i].kind == 'm' && strcmp(in->v[i].text, subject) == 0) return true;
    return false;
}

/* A literal subject's publish answer: deny wins; then an allow list must match it. */
static void
check_publish(struct nb_perm_state *st, const struct nb_permissions *perm, const struct input *in,
              const char *s)
{
    size_t len = strlen(s);
    const struct nb_subject_perms *pub = &perm->publish;
    bool limited = pub->nallow > 0 || perm->allow_responses;
    bool expect =
        (!limited || matches(pub->allow, pub->nallow, s)) && !matches(pub->deny, pub->ndeny, s);
    bool got = nb__perm_may_publish(st, s, len, 1000);
    if (expect) {
        if (!got || !nb__perm_may_publish(st, s, len, 1000)) abort();
        return;
    }
    /* only a reply subject received, with allow_responses, turns a refusal into a yes */
    if (got && !(perm->allow_responses && received(in, s))) abort();
}

static void
check_subject(struct nb_perm_state *st, const struct nb_permissions *perm, const struct input *in,
              const char *s)
{
    size_t len = strlen(s);
    const struct nb_subject_perms *sub = &perm->subscribe;
    struct np_str subj = {s, len}, none = {"", 0};
    bool may_sub = nb__perm_may_subscribe(st->set, subj, none);
    /* deny beats allow: a subscription a plain deny entry covers is refused */
    if (may_sub && plain_covers(sub->deny, sub->ndeny, s)) abort();
    if (may_sub && sub->nallow && !plain_covers(sub->allow, sub->nallow, s)) abort();
    if (!np_subject_valid_literal(s, len)) {
        nb__perm_filters(st->set, subj);
        nb__perm_may_publish(st, s, len, 1000);
        return;
    }
    check_publish(st, perm, in, s);
    bool deliver = !matches(sub->deny, sub->ndeny, s);
    if (nb__perm_may_deliver(st, s, len) != deliver) abort();
    if (nb__perm_may_deliver(st, s, len) != deliver) abort();
}

static void
check_queue(const struct nb_perm_state *st, const struct nb_permissions *perm, const char *line)
{
    const char *sp = strchr(line, ' ');
    if (!sp || sp == line || !sp[1]) return;
    struct np_str subj = {line, (size_t)(sp - line)}, queue = {sp + 1, strlen(sp + 1)};
    char s[MAX_LINE + 1];
    memcpy(s, subj.ptr, subj.len);
    s[subj.len] = '\0';
    bool ok = nb__perm_may_subscribe(st->set, subj, queue);
    if (ok && plain_covers(perm->subscribe.deny, perm->subscribe.ndeny, s)) abort();
    if (ok && queue.len == 5 && memcmp(queue.ptr, "_sys_", 5) == 0) abort();
}

/* The matchers agree with each other on a pattern p and a subject s. */
static void
check_matchers(const char *p, const char *s)
{
    size_t pl = strlen(p), sl = strlen(s);
    if (!np_subject_valid(p, pl) || !np_subject_valid(s, sl)) return;
    bool lit = np_subject_valid_literal(s, sl);
    if (np_subject_intersect(p, pl, s, sl) != np_subject_intersect(s, sl, p, pl)) abort();
    if (lit && np_subject_match(p, pl, s, sl) != np_subject_subset(s, sl, p, pl)) abort();
    if (lit && np_subject_match(p, pl, s, sl) && !np_subject_intersect(p, pl, s, sl)) abort();
    if (np_subject_subset(s, sl, p, pl) && !np_subject_intersect(p, pl, s, sl)) abort();
    if (!np_subject_subset(s, sl, s, sl)) abort();
}

static void
run_checks(const struct nb_permissions *perm, const struct input *in)
{
    struct nb_perm_set *set;
    if (nb__perm_set_new(perm, &set) != 0) return;
    struct nb_perm_state st;
    nb__perm_state_init(&st, set);
    for (size_t i = 0; i < in->n; i++) {
        const struct line *l = &in->v[i];
        if (l->kind == 'm') nb__perm_reply_received(&st, l->text, strlen(l->text), 1000);
    }
    for (size_t i = 0; i < in->n; i++) {
        const struct line *l = &in->v[i];
        if (l->kind == 'c') check_subject(&st, perm, in, l->text);
        if (l->kind == 'q') check_queue(&st, perm, l->text);
        for (size_t j = 0; j < in->n && l->kind != 'c' && l->kind != 'q'; j++)
            if (in->v[j].kind == 'c') check_matchers(l->text, in->v[j].text);
    }
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct input in;
    split(data, size, &in);
    size_t len;
    char *text = config_text(&in, &len);
    if (!text) return 0;
    struct nb_conf doc;
    struct nb_conf_error err;
    int rc = nb__conf_parse_mem(&doc, "fuzz.conf", text, len, NB_CONF_NO_INCLUDE, &err);
    if (rc != 0) {
        /* entries are quoted strings: whatever they hold, the document is well formed */
        if (rc != NB_ENOMEM) abort();
        free(text);
        return 0;
    }
    struct nb_config cfg;
    nb_config_init(&cfg);
    rc = nb__config_apply(&cfg, &doc, ignore_warning, NULL, &err);
    if (rc == NB_ECONFIG && (err.msg[0] == '\0' || err.line < 1 || err.column < 1)) abort();
    if (rc != 0 && rc != NB_ECONFIG && rc != NB_ENOMEM) abort();
    if (rc == 0) {
        if (cfg.nusers != 1 || !cfg.users[0].perms) abort();
        run_checks(cfg.users[0].perms, &in);
    }
    nb_config_release(&cfg);
    nb__conf_release(&doc);
    free(text);
    return 0;
}
