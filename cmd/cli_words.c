/*
 * The shell's tokenizer. Each word is built in an np_buf and then copied out, so a word's length
 * is bounded only by memory and the input is never modified.
 */
#include "cli_words.h"

#include "np_buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void
cli_words_free(struct cli_words *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    *w = (struct cli_words){0};
}

static int
push_word(struct cli_words *w, struct np_buf *b)
{
    if (w->n + 2 > w->cap) {
        int cap = w->cap ? w->cap * 2 : 8;
        char **v = realloc(w->v, (size_t)cap * sizeof *v);
        if (!v) return CLI_WORDS_NOMEM;
        w->v = v;
        w->cap = cap;
    }
    char *s = malloc(b->len + 1);
    if (!s) return CLI_WORDS_NOMEM;
    memcpy(s, b->ptr, b->len);
    s[b->len] = '\0';
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
    b->len = 0;
    return 0;
}

/* In double quotes a backslash only escapes these; before anything else it is kept. */
static bool
dquote_escapable(char c)
{
    return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n';
}

/* Appends the quoted text after an opening quote at *p; returns false when it is not closed. */
static bool
quoted(const char **p, char quote, struct np_buf *b, bool *nomem)
{
    const char *s = *p;
    for (; *s && *s != quote; s++) {
        if (quote == '"' && *s == '\\' && dquote_escapable(s[1])) {
            s++;
            if (*s == '\n') continue; /* a line continuation vanishes */
        }
        if (np_buf_add(b, s, 1) != 0) *nomem = true;
    }
    *p = s;
    return *s == quote;
}

static int
finish(struct cli_words *w, struct np_buf *b, int rc)
{
    np_buf_release(b);
    if (rc < 0) cli_words_free(w);
    return rc;
}

int
cli_words_next(const char **text, struct cli_words *w)
{
    struct np_buf b = {0};
    const char *p = *text;
    bool in_word = false, nomem = false;
    cli_words_free(w);
    if (!*p) return CLI_WORDS_END;
    for (;; p++) {
        char c = *p;
        bool ends = c == '\0' || c == ';' || c == '\n';
        if ((ends || c == ' ' || c == '\t') && in_word) {
            if (push_word(w, &b) != 0) return finish(w, &b, CLI_WORDS_NOMEM);
            in_word = false;
        }
        if (ends) {
            *text = c ? p + 1 : p;
            return finish(w, &b, nomem ? CLI_WORDS_NOMEM : CLI_WORDS_CMD);
        }
        if (c == ' ' || c == '\t') continue;
        if (c == '#' && !in_word) {
            p += strcspn(p, "\n") - 1; /* the newline still ends the command */
            continue;
        }
        in_word = true;
        if (c == '\'' || c == '"') {
            p++;
            if (!quoted(&p, c, &b, &nomem)) return finish(w, &b, CLI_WORDS_UNTERMINATED);
        } else if (c == '\\') {
            if (!*++p) return finish(w, &b, CLI_WORDS_UNTERMINATED);
            if (*p == '\n') {
                in_word = b.len > 0;
                continue;
            }
            if (np_buf_add(&b, p, 1) != 0) nomem = true;
        } else if (np_buf_add(&b, p, 1) != 0) {
            nomem = true;
        }
    }
}
