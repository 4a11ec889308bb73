/*
 * libedit glue. The native API is used rather than the readline-compatible one because the
 * latter cannot empty the line being typed (rl_replace_line ignores "", rl_delete_text stops
 * short of the end), which Ctrl-C needs; the reading model is the same: EL_UNBUFFERED, one key per
 * el_gets(). Leaving unbuffered mode and entering it again is libedit's own way to end one line and
 * start the next (read_finish/read_prepare): cooked terminal, then raw with a fresh prompt.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "cli_line.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

/* From the terminal library (libtinfo); declared here to keep curses headers out of the build. */
int tgetent(char *bp, const char *name);

void
cli_cands_add(struct cli_cands *c, const char *s)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i], s) == 0) return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **v = realloc(c->v, cap * sizeof *v);
        if (!v) return;
        c->v = v;
        c->cap = cap;
    }
    if ((c->v[c->n] = strdup(s))) c->n++;
}

static void
cands_free(struct cli_cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
}

static char *
prompt_of(EditLine *el)
{
    struct cli_line *l;
    el_get(el, EL_CLIENTDATA, &l);
    return l->prompt;
}

/* ---------------------------------------------------------------------------------------------- */
/* Completion                                                                                     */
/* ---------------------------------------------------------------------------------------------- */

static size_t
common_prefix(const struct cli_cands *c)
{
    size_t n = strlen(c->v[0]);
    for (size_t i = 1; i < c->n; i++) {
        size_t k = 0;
        while (k < n && c->v[i][k] == c->v[0][k])
            k++;
        n = k;
    }
    return n;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the candidates under the line; the caller's CC_REDISPLAY draws the prompt again. */
static void
list(const struct cli_cands *c)
{
    qsort(c->v, c->n, sizeof c->v[0], by_name);
    fputc('\n', stdout);
    for (size_t i = 0; i < c->n; i++)
        printf("%s%s", c->v[i], i + 1 < c->n ? "  " : "\n");
    fflush(stdout);
}

/* A finished word gets a space; a subject prefix ("orders.") or an option awaiting "=" does not. */
static bool
finished(const char *cand)
{
    size_t n = strlen(cand);
    return n && cand[n - 1] != '.' && cand[n - 1] != '=';
}

static unsigned char
on_tab(EditLine *el, int ch)
{
    struct cli_line *l;
    (void)ch;
    el_get(el, EL_CLIENTDATA, &l);
    const LineInfo *li = el_line(el);
    size_t upto = (size_t)(li->cursor - li->buffer), word = upto;
    char *line = strndup(li->buffer, upto);
    if (!line || !l->complete) {
        free(line);
        return CC_ERROR;
    }
    while (word > 0 && line[word - 1] != ' ' && line[word - 1] != '\t')
        word--;
    struct cli_cands c = {0};
    l->complete(l->ud, line, word, &c);
    unsigned char rc = CC_ERROR;
    size_t have = upto - word, common = c.n ? common_prefix(&c) : 0;
    if (c.n && common > have) {
        char *add = strndup(c.v[0] + have, common - have);
        if (add && el_insertstr(el, add) == 0) rc = CC_REFRESH;
        if (add && c.n == 1 && finished(c.v[0])) el_insertstr(el, " ");
        free(add);
    } else if (c.n > 1) {
        list(&c);
        rc = CC_REDISPLAY;
    }
    cands_free(&c);
    free(line);
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Reading                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* Starts a new line: a fresh prompt, an empty buffer, raw mode. */
static void
begin(struct cli_line *l)
{
    l->editing = true;
    l->hidden = false;
    el_set(l->el, EL_UNBUFFERED, 1);
}

static void
end(struct cli_line *l)
{
    if (!l->editing) return;
    l->editing = false;
    el_set(l->el, EL_UNBUFFERED, 0);
}

/* el_gets() also returns -1 for an edit that leaves the line empty; only a hung-up or closed
 * terminal is the end of input. */
static bool
input_gone(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void
on_key(uv_poll_t *h, int status, int events)
{
    struct cli_line *l = h->data;
    int count = 0;
    (void)events;
    if (status < 0 || !l->editing) return;
    const char *buf = el_gets(l->el, &count);
    if ((count < 0 && input_gone()) || (count == 1 && buf && buf[0] == 4)) {
        end(l);
        l->on_line(l->ud, NULL);
        return;
    }
    if (!buf || count == 0 || buf[count - 1] != '\n') return;
    char *line = strndup(buf, (size_t)count - 1);
    end(l);
    if (line) l->on_line(l->ud, line);
    free(line);
    /* on_line may have paused the editor (a foreground command) or stopped it. */
    if (l->started && !l->editing && !l->paused) begin(l);
}

/* An unknown TERM would leave libedit on "dumb" settings with a warning: most terminals today
 * understand xterm's sequences, which the static build also carries compiled in. */
static void
check_term(void)
{
    static char buf[4096];
    const char *term = getenv("TERM");
    if (term && *term && tgetent(buf, term) <= 0) setenv("TERM", "xterm", 1);
}

/* uv_poll_init makes stdin non-blocking; libedit expects, and the parent shell needs, blocking. */
static void
make_blocking(void)
{
    int flags = fcntl(STDIN_FILENO, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) fcntl(STDIN_FILENO, F_SETFL, flags & ~O_NONBLOCK);
}

int
cli_line_start(struct cli_line *l, uv_loop_t *loop, const char *prompt)
{
    HistEvent ev;
    check_term();
    snprintf(l->prompt, sizeof l->prompt, "%s", prompt);
    l->el = el_init("natsctl", stdin, stdout, stderr);
    l->hist = history_init();
    if (!l->el || !l->hist) return -1;
    history(l->hist, &ev, H_SETSIZE, 1000);
    history(l->hist, &ev, H_SETUNIQUE, 1);
    el_set(l->el, EL_CLIENTDATA, l);
    el_set(l->el, EL_EDITOR, "emacs");
    el_set(l->el, EL_PROMPT, prompt_of);
    el_set(l->el, EL_HIST, history, l->hist);
    /* The wide call keeps these static names; the narrow el_set copies them and never frees. */
    el_wset(l->el, EL_ADDFN, L"natsctl-complete", L"complete a word", on_tab);
    el_set(l->el, EL_BIND, "^I", "natsctl-complete", NULL);
    el_source(l->el, NULL);
    if (uv_poll_init(loop, &l->poll, STDIN_FILENO) != 0) return -1;
    make_blocking();
    l->poll.data = l;
    l->started = true;
    uv_poll_start(&l->poll, UV_READABLE, on_key);
    begin(l);
    return 0;
}

void
cli_line_set_prompt(struct cli_line *l, const char *prompt)
{
    if (strcmp(l->prompt, prompt) == 0) return;
    snprintf(l->prompt, sizeof l->prompt, "%s", prompt);
    if (l->editing && !l->hidden) {
        cli_line_hide(l);
        cli_line_show(l);
    }
}

/* The columns libedit gives a character: ^X for a control, \U+XXXX for one it cannot print. */
static size_t
char_width(wchar_t c)
{
    if (c < 0x100 && iswcntrl((wint_t)c)) return 2;
    if (!iswprint((wint_t)c)) return c > 0xffff ? 8 : 7;
    int w = wcwidth(c);
    return w > 0 ? (size_t)w : 0;
}

/* The column after s[0..n) drawn from column col of a terminal cols wide (a tab goes to the
 * next multiple of 8 within its row, as libedit draws it). */
static size_t
advance(size_t col, size_t cols, const wchar_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        col += s[i] == '\t' ? 8 - col % cols % 8 : char_width(s[i]);
    return col;
}

/* How many rows the cursor is below the prompt's first row: a line longer than the terminal is
 * wide wraps, and all of its rows must go. */
static int
cursor_row(const struct cli_line *l)
{
    struct winsize ws;
    wchar_t prompt[sizeof l->prompt];
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
    size_t n = 0;
    for (const char *p = l->prompt; *p; p++)
        prompt[n++] = (unsigned char)*p;
    const LineInfoW *li = el_wline(l->el);
    size_t col = advance(0, ws.ws_col, prompt, n);
    col = advance(col, ws.ws_col, li->buffer, (size_t)(li->cursor - li->buffer));
    return (int)(col / ws.ws_col);
}

void
cli_line_hide(struct cli_line *l)
{
    if (!l->editing || l->hidden) return;
    l->hidden = true;
    int up = cursor_row(l);
    if (up > 0) printf("\033[%dA", up);
    fputs("\r\033[J", stdout);
    fflush(stdout);
}

void
cli_line_resize(struct cli_line *l)
{
    if (l->started) el_resize(l->el);
}

void
cli_line_show(struct cli_line *l)
{
    if (!l->editing || !l->hidden) return;
    l->hidden = false;
    fflush(stdout);
    fflush(stderr);
    el_set(l->el, EL_REFRESH);
}

void
cli_line_cancel(struct cli_line *l)
{
    if (!l->editing) return;
    fputs("^C\n", stdout);
    fflush(stdout);
    end(l);
    begin(l);
}

void
cli_line_pause(struct cli_line *l)
{
    if (!l->started) return;
    end(l);
    l->paused = true;
    uv_poll_stop(&l->poll);
}

static void
on_await(uv_poll_t *h, int status, int events)
{
    struct cli_line *l = h->data;
    char junk[64];
    (void)status;
    (void)events;
    if (read(STDIN_FILENO, junk, sizeof junk) < 0) return;
    uv_poll_stop(&l->poll);
    l->on_any_key(l->ud);
}

void
cli_line_await_key(struct cli_line *l, void (*cb)(void *ud))
{
    if (!l->started) return;
    end(l);
    l->paused = true;
    l->on_any_key = cb;
    uv_poll_start(&l->poll, UV_READABLE, on_await);
}

void
cli_line_resume(struct cli_line *l)
{
    if (!l->started || l->editing) return;
    l->paused = false;
    uv_poll_start(&l->poll, UV_READABLE, on_key);
    make_blocking();
    begin(l);
}

void
cli_line_remember(struct cli_line *l, const char *line)
{
    HistEvent ev;
    if (l->hist && *line) history(l->hist, &ev, H_ENTER, line);
}

void
cli_line_print_history(struct cli_line *l, FILE *f)
{
    HistEvent ev;
    int i = 1;
    if (!l->hist || history(l->hist, &ev, H_LAST) != 0) return;
    do {
        size_t n = strlen(ev.str);
        fprintf(f, "%5d  %.*s\n", i++, (int)(n && ev.str[n - 1] == '\n' ? n - 1 : n), ev.str);
    } while (history(l->hist, &ev, H_PREV) == 0);
}

void
cli_line_stop(struct cli_line *l)
{
    if (!l->started) return;
    l->started = false;
    end(l);
    uv_close((uv_handle_t *)&l->poll, NULL);
    make_blocking();
    el_end(l->el);
    history_end(l->hist);
}
