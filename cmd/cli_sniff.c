/*
 * The subject tree. Children are kept in a sorted singly linked list: a subject level rarely has
 * more than a few dozen tokens, and sorted order is what :subjects prints.
 */
#include "cli_sniff.h"

#include "np.h"

#include <stdlib.h>
#include <string.h>

void
cli_sniff_init(struct cli_sniff *s, size_t max_nodes)
{
    *s = (struct cli_sniff){.max_nodes = max_nodes};
}

static void
free_kids(struct cli_sniff_node *n)
{
    while (n) {
        struct cli_sniff_node *next = n->next;
        free_kids(n->kids);
        free(n->token);
        free(n);
        n = next;
    }
}

void
cli_sniff_release(struct cli_sniff *s)
{
    free_kids(s->root.kids);
    cli_sniff_init(s, s->max_nodes);
}

/* The child called tok[0..len) of parent, created when create is set and the cap allows. */
static struct cli_sniff_node *
child(struct cli_sniff *s, struct cli_sniff_node *parent, const char *tok, size_t len, bool create)
{
    struct cli_sniff_node **at = &parent->kids;
    for (; *at; at = &(*at)->next) {
        int c = strncmp((*at)->token, tok, len);
        if (c == 0 && (*at)->token[len] == '\0') return *at;
        if (c > 0) break;
    }
    if (!create || s->nodes >= s->max_nodes) return NULL;
    struct cli_sniff_node *n = calloc(1, sizeof *n);
    if (!n || !(n->token = strndup(tok, len))) {
        free(n);
        return NULL;
    }
    n->next = *at;
    *at = n;
    s->nodes++;
    return n;
}

static struct cli_sniff_node *
find(struct cli_sniff *s, const char *subject, size_t len, bool create)
{
    struct cli_sniff_node *n = &s->root;
    const char *end = subject + len;
    for (const char *p = subject; n && p <= end;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t tl = dot ? (size_t)(dot - p) : (size_t)(end - p);
        n = child(s, n, p, tl, create);
        p += tl + 1;
    }
    return n;
}

void
cli_sniff_add(struct cli_sniff *s, const char *subject, size_t len, uint64_t size)
{
    struct cli_sniff_node *n = find(s, subject, len, true);
    if (!n) {
        s->untracked++;
        return;
    }
    n->subject = true;
    n->msgs++;
    n->last_size = size;
}

void
cli_sniff_note(struct cli_sniff *s, const char *subject)
{
    struct cli_sniff_node *n = find(s, subject, strlen(subject), true);
    if (n) n->subject = true;
}

static void
tick(struct cli_sniff_node *n, uint64_t dt_ms)
{
    for (; n; n = n->next) {
        n->rate = (double)(n->msgs - n->prev_msgs) * 1000.0 / (double)dt_ms;
        n->prev_msgs = n->msgs;
        tick(n->kids, dt_ms);
    }
}

void
cli_sniff_tick(struct cli_sniff *s, uint64_t now_ms)
{
    if (s->last_tick_ms && now_ms > s->last_tick_ms) tick(s->root.kids, now_ms - s->last_tick_ms);
    s->last_tick_ms = now_ms;
}

/* ---------------------------------------------------------------------------------------------- */
/* Walking the subjects that match a filter                                                       */
/* ---------------------------------------------------------------------------------------------- */

struct walk {
    const char *filter;
    char path[1024]; /* the subject of the node being visited */
};

static bool
matches(const struct walk *w, const struct cli_sniff_node *n)
{
    if (!n->msgs) return false; /* only noted for completion */
    if (!w->filter || !*w->filter) return true;
    return np_subject_match(w->filter, strlen(w->filter), w->path, strlen(w->path));
}

/* Appends n's token to w->path; returns the length to restore, or SIZE_MAX when it does not fit. */
static size_t
enter(struct walk *w, const struct cli_sniff_node *n)
{
    size_t len = strlen(w->path), tl = strlen(n->token);
    if (len + 1 + tl >= sizeof w->path) return SIZE_MAX;
    if (len) w->path[len] = '.';
    memcpy(w->path + len + (len > 0), n->token, tl + 1);
    return len;
}

struct sums {
    uint64_t msgs;
    double rate;
};

/* The messages and rate of the matching subjects in n's subtree, n included. */
static struct sums
sum(struct walk *w, const struct cli_sniff_node *n)
{
    struct sums t = {0};
    size_t back = enter(w, n);
    if (back == SIZE_MAX) return t;
    if (matches(w, n)) t = (struct sums){n->msgs, n->rate};
    for (const struct cli_sniff_node *k = n->kids; k; k = k->next) {
        struct sums ks = sum(w, k);
        t.msgs += ks.msgs;
        t.rate += ks.rate;
    }
    w->path[back] = '\0';
    return t;
}

static bool
any_match(struct walk *w, const struct cli_sniff_node *n)
{
    size_t back = enter(w, n);
    bool any = back != SIZE_MAX && matches(w, n);
    for (const struct cli_sniff_node *k = n->kids; k && !any && back != SIZE_MAX; k = k->next)
        any = any_match(w, k);
    if (back != SIZE_MAX) w->path[back] = '\0';
    return any;
}

static int
print_level(struct walk *w, const struct cli_sniff_node *n, int depth, FILE *f)
{
    int lines = 0;
    for (; n; n = n->next) {
        if (!any_match(w, n)) continue;
        struct sums t = sum(w, n);
        int pad = 32 - 2 * depth - (int)strlen(n->token);
        fprintf(f, "%*s%s%*s %10llu %9.1f/s", 2 * depth, "", n->token, pad > 0 ? pad : 0, "",
                (unsigned long long)t.msgs, t.rate);
        if (n->subject) fprintf(f, " %8llu B", (unsigned long long)n->last_size);
        fputc('\n', f);
        lines++;
        size_t back = enter(w, n);
        lines += print_level(w, n->kids, depth + 1, f);
        w->path[back] = '\0';
    }
    return lines;
}

int
cli_sniff_print(const struct cli_sniff *s, const char *filter, FILE *f)
{
    struct walk w = {.filter = filter};
    fprintf(f, "%-32s %10s %11s %10s\n", "SUBJECT", "MSGS", "RATE", "LAST");
    int lines = 1 + print_level(&w, s->root.kids, 0, f);
    if (s->untracked) {
        fprintf(f, "(%llu messages on subjects past the limit of %zu)\n",
                (unsigned long long)s->untracked, s->max_nodes);
        lines++;
    }
    return lines;
}

/* ---------------------------------------------------------------------------------------------- */
/* :top                                                                                           */
/* ---------------------------------------------------------------------------------------------- */

struct top_row {
    char subject[1024];
    const struct cli_sniff_node *n;
};

struct top {
    struct top_row *rows;
    size_t n, cap;
};

static bool
busier(const struct cli_sniff_node *a, const struct cli_sniff_node *b)
{
    return a->rate > b->rate || (a->rate == b->rate && a->msgs > b->msgs);
}

/* Keeps the cap busiest subjects, sorted, by insertion: cap is small (a screenful). */
static void
offer(struct top *t, const char *subject, const struct cli_sniff_node *n)
{
    size_t i = t->n;
    while (i > 0 && busier(n, t->rows[i - 1].n))
        i--;
    if (i >= t->cap) return;
    size_t last = t->n < t->cap ? t->n++ : t->cap - 1;
    memmove(&t->rows[i + 1], &t->rows[i], (last - i) * sizeof t->rows[0]);
    snprintf(t->rows[i].subject, sizeof t->rows[i].subject, "%s", subject);
    t->rows[i].n = n;
}

static void
collect(struct walk *w, const struct cli_sniff_node *n, struct top *t)
{
    for (; n; n = n->next) {
        size_t back = enter(w, n);
        if (back == SIZE_MAX) continue;
        if (n->subject && n->msgs) offer(t, w->path, n);
        collect(w, n->kids, t);
        w->path[back] = '\0';
    }
}

void
cli_sniff_top(const struct cli_sniff *s, size_t n, FILE *f)
{
    struct top t = {.rows = calloc(n, sizeof *t.rows), .cap = n};
    struct walk w = {0};
    if (!t.rows) return;
    collect(&w, s->root.kids, &t);
    fprintf(f, "%-40s %10s %11s %10s\n", "SUBJECT", "MSGS", "RATE", "LAST");
    for (size_t i = 0; i < t.n; i++)
        fprintf(f, "%-40s %10llu %9.1f/s %8llu B\n", t.rows[i].subject,
                (unsigned long long)t.rows[i].n->msgs, t.rows[i].n->rate,
                (unsigned long long)t.rows[i].n->last_size);
    free(t.rows);
}

/* ---------------------------------------------------------------------------------------------- */
/* Completion                                                                                     */
/* ---------------------------------------------------------------------------------------------- */

void
cli_sniff_complete(const struct cli_sniff *s, const char *word,
                   void (*add)(void *ud, const char *candidate), void *ud)
{
    const char *last = strrchr(word, '.');
    size_t head = last ? (size_t)(last - word) + 1 : 0;
    const struct cli_sniff_node *n = &s->root;
    if (head) n = find((struct cli_sniff *)s, word, head - 1, false);
    if (!n) return;
    const char *part = word + head;
    for (const struct cli_sniff_node *k = n->kids; k; k = k->next) {
        if (strncmp(k->token, part, strlen(part)) != 0) continue;
        char cand[1100];
        snprintf(cand, sizeof cand, "%.*s%s%s", (int)head, word, k->token, k->kids ? "." : "");
        add(ud, cand);
        if (k->kids && k->subject) {
            snprintf(cand, sizeof cand, "%.*s%s", (int)head, word, k->token);
            add(ud, cand);
        }
    }
}
