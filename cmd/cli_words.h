/*
 * Word splitting for the shell's scripts and `shell -c`, as POSIX sh splits words but without any
 * expansion: blanks separate words, 'single quotes' keep everything, "double quotes" keep all but
 * a backslash before $ ` " \ or newline, a backslash outside quotes keeps the next character, `;`
 * and newline end a command, and `#` at the start of a word begins a comment to the end of the line.
 * No $VAR, globbing, ~ or pipes: the words reach the command exactly as quoted.
 */
#ifndef CLI_WORDS_H
#define CLI_WORDS_H

#include <stddef.h>

/* The words of one command; v[n] is NULL, as in argv. */
struct cli_words {
    char **v;
    int n;
    int cap; /* private */
};

enum {
    CLI_WORDS_END = 0,           /* no command left */
    CLI_WORDS_CMD = 1,           /* one command (possibly without words: an empty line) */
    CLI_WORDS_UNTERMINATED = -1, /* a quote or a trailing backslash is not closed */
    CLI_WORDS_NOMEM = -2,
};

/*
 * Reads the next command from *text and advances *text past it and its separator. w is emptied
 * first and owns the words afterwards. Returns one of the codes above.
 */
int cli_words_next(const char **text, struct cli_words *w);
/* Frees the words; w may be reused. */
void cli_words_free(struct cli_words *w);

#endif
