/*
 * Line editing for the shell: libedit driven from a libuv loop, so messages can be printed while
 * the user types.
 *
 * libedit reads one key per el_gets() call in EL_UNBUFFERED mode (the mechanism under its
 * readline-compatible rl_callback_read_char()); a uv_poll_t on stdin calls it whenever a key is
 * waiting, and the loop stays free for the connection in between. Output from the loop goes
 * between cli_line_hide() and cli_line_show(): the prompt and the half-typed line are erased,
 * the output printed, and libedit redraws them below it.
 */
#ifndef CLI_LINE_H
#define CLI_LINE_H

#include <histedit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

/* Completion candidates, filled by the completer. */
struct cli_cands {
    char **v;
    size_t n, cap;
};
void cli_cands_add(struct cli_cands *c, const char *s);

struct cli_line {
    /* Called with each line entered (without its newline), or NULL for Ctrl-D on an empty line. */
    void (*on_line)(void *ud, const char *line);
    /* Adds the candidates for the word at line[word..] (line ends at the cursor). */
    void (*complete)(void *ud, const char *line, size_t word, struct cli_cands *c);
    void *ud;

    /* private */
    EditLine *el;
    History *hist;
    uv_poll_t poll;
    char prompt[512];
    void (*on_any_key)(void *ud);
    bool editing, hidden, started, paused;
};

/* Starts editing on the terminal on stdin/stdout. Returns 0 or -1 (no terminal, no memory). */
int cli_line_start(struct cli_line *l, uv_loop_t *loop, const char *prompt);
/* Changes the prompt, redrawing it at once when it shows. */
void cli_line_set_prompt(struct cli_line *l, const char *prompt);
/* Erases the prompt and the line being typed, all of its rows when it wraps, so output can be
 * printed in their place. */
void cli_line_hide(struct cli_line *l);
/* The terminal changed size (SIGWINCH): libedit wraps lines at the new width. */
void cli_line_resize(struct cli_line *l);
/* Redraws the prompt and the line after output. */
void cli_line_show(struct cli_line *l);
/* Ctrl-C: shows ^C, drops the line being typed and starts an empty one. */
void cli_line_cancel(struct cli_line *l);
/* Gives the terminal back (cooked mode, stdin not read), for a command in the foreground. */
void cli_line_pause(struct cli_line *l);
/* Takes the terminal again and shows a fresh prompt. */
void cli_line_resume(struct cli_line *l);
/* Stops editing until a key is pressed, then calls on_key(ud) (the key is discarded); the caller
 * resumes with cli_line_resume(). */
void cli_line_await_key(struct cli_line *l, void (*on_key)(void *ud));
/* Adds a line to the in-memory history (what the up arrow and :history show). */
void cli_line_remember(struct cli_line *l, const char *line);
/* Prints the in-memory history, oldest first, numbered. */
void cli_line_print_history(struct cli_line *l, FILE *f);
/* Restores the terminal and closes the poll handle. */
void cli_line_stop(struct cli_line *l);

#endif
