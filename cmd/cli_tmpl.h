/*
 * Placeholder templates for pub, request and reply bodies, headers and subjects, a growing byte
 * buffer they write into, and shell-like command splitting for `reply --command`.
 *
 * Recognised placeholders (whitespace inside the braces is allowed, `{{ Count }}`):
 *   {{Count}} {{.Count}} {{Cnt}}  the 1-based message counter
 *   {{TimeStamp}}                 RFC 3339 local time with offset ("2006-01-02T15:04:05+01:00")
 *   {{Unix}} {{UnixNano}}         seconds / nanoseconds since the epoch
 *   {{Time}}                      Go's kitchen format ("3:04PM")
 *   {{ID}}                        22 random base62 characters
 *   {{Random MIN MAX}}            MIN..MAX random characters from [a-zA-Z0-9] (MAX <= 1 MiB)
 *   {{Request}} {{N}}             reply only: the request body, the N-th subject token (1-based)
 * The no-argument names also accept a leading dot (`{{.Request}}`). Anything else between braces,
 * braces that never close, and {{N}} past the last subject token are copied verbatim, so JSON and
 * mustache bodies survive expansion.
 */
#ifndef CLI_TMPL_H
#define CLI_TMPL_H

#include "np.h"
#include "np_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Appends everything fd gives until end of file. Returns 0, -ENOMEM or a read's negative errno. */
int cli_read_fd(struct np_buf *b, int fd);
/* Appends what one read of fd gives. Returns 1, 0 at end of file, -ENOMEM or a negative errno. */
int cli_read_some(struct np_buf *b, int fd);

/* Fills ts with the current wall-clock time. */
typedef void (*cli_clock_fn)(struct timespec *ts, void *ud);
/* Fills buf with len random bytes. Returns 0 or a negative errno. */
typedef int (*cli_random_fn)(void *buf, size_t len, void *ud);

/* What a template can refer to. Zero-initialise, then set what applies. */
struct cli_tmpl_ctx {
    uint64_t count;        /* {{Count}} */
    bool reply;            /* enables {{Request}} and {{N}}; otherwise they stay verbatim */
    struct np_str request; /* {{Request}}: the request body */
    struct np_str subject; /* {{N}}: the request subject */
    cli_clock_fn clock;    /* NULL = clock_gettime(CLOCK_REALTIME) */
    cli_random_fn random;  /* NULL = uv_random() (the kernel's generator) */
    void *ud;              /* passed to clock and random */
};

/* Returns true when s[0..len) could hold a placeholder (contains "{{"): a cheap pre-check. */
bool cli_tmpl_maybe(const char *s, size_t len);
/*
 * Expands tmpl[0..len) into out, replacing out's previous contents. The clock is read at most
 * once per call, so every time placeholder in one expansion shows the same instant. Returns 0,
 * -ENOMEM, or the random source's error.
 */
int cli_tmpl_expand(const struct cli_tmpl_ctx *ctx, const char *tmpl, size_t len,
                    struct np_buf *out);
/*
 * Expands every element of argv[0..argc) on its own, so a placeholder's value always stays inside
 * one argument. On success *out is a malloc'd NULL-terminated vector (free with cli_argv_free).
 * Returns 0, -ENOMEM or the random source's error.
 */
int cli_tmpl_expand_argv(const struct cli_tmpl_ctx *ctx, char *const *argv, int argc, char ***out);

/*
 * Splits a command line into words the way sh does, without any expansion: blanks (space, TAB,
 * newline) separate words; '...' is literal; inside "..." a backslash escapes only " \ $ ` and
 * newline; elsewhere a backslash escapes any character and backslash-newline is dropped. "" and ''
 * make empty words. $, globs and backticks are ordinary characters. On success *argv is a malloc'd
 * NULL-terminated vector (free with cli_argv_free) and *argc its length (0 for a blank line).
 * Returns 0, -EINVAL for an unterminated quote or a trailing backslash, or -ENOMEM.
 */
int cli_split_command(const char *line, char ***argv, int *argc);
/* Frees a vector from cli_split_command or cli_tmpl_expand_argv; NULL is fine. */
void cli_argv_free(char **argv);

#endif
