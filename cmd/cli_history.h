/*
 * The shell's history file: where it lives, which lines never go into it, loading and appending.
 *
 * The file is plain text, one command per line, mode 0600 in a 0700 directory. A line is appended
 * as soon as it is run, so a crash loses nothing; loading keeps the newest `max` lines and rewrites
 * the file when it had more.
 */
#ifndef CLI_HISTORY_H
#define CLI_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True for a line that may carry a secret: a password, pass, token, creds, nkey or seed word
 * (any case), --user NAME:PASS, a URL with userinfo (nats://user:pass@host), or an nkey seed's
 * text (SU... and the other key types). Such lines stay
 * in the session's memory but are never written.
 */
bool cli_history_sensitive(const char *line);
/*
 * The history file's path into out: $NATSCTL_HISTFILE, else $XDG_STATE_HOME/natsctl/history, else
 * ~/.local/state/natsctl/history. Returns false when there is none: NATSCTL_HISTFILE=/dev/null
 * (or empty), no HOME, or a path too long.
 */
bool cli_history_path(char *out, size_t cap);
/* Calls add(ud, line) for each of the newest max lines of path. Missing file: nothing. */
void cli_history_load(const char *path, size_t max, void (*add)(void *ud, const char *line),
                      void *ud);
/*
 * Appends line to path unless it is sensitive, creating the directories (0700) and the file
 * (0600) as needed. Returns 0 or a negative errno.
 */
int cli_history_append(const char *path, const char *line);

#endif
