/*
 * Printing received messages for sub, request and reply, and the terminal checks that choose how.
 *
 * Data goes to the FILE* the caller gives (stdout); every function reports a failed write as a
 * negative errno so a closed reader (-EPIPE, with SIGPIPE ignored) can end the command quietly.
 */
#ifndef CLI_OUT_H
#define CLI_OUT_H

#include "cli_tmpl.h"
#include "np.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* True when fd is a terminal. */
bool cli_fd_is_tty(int fd);
/*
 * True when fd is a pipe, FIFO or regular file: input someone deliberately gave us. A terminal,
 * /dev/null or a closed fd is not, so `pub` never hangs on, or silently sends, an inherited stdin.
 */
bool cli_fd_is_data(int fd);
bool cli_stdin_is_tty(void);
bool cli_stdout_is_tty(void);
bool cli_stderr_is_tty(void);
/* True when `pub` should read its body from stdin (cli.md 11.2): stdin is a pipe or a file. */
bool cli_stdin_has_data(void);

enum cli_out_mode {
    CLI_OUT_PRETTY,   /* banner, headers, blank line, body (natscli's layout) */
    CLI_OUT_RAW,      /* body + "\n" */
    CLI_OUT_JSON,     /* one compact JSON object per line */
    CLI_OUT_SUBJECTS, /* the subject per line */
};

/*
 * Checks that at most one output format was asked for (`--raw --json` is refused): names[i] spells
 * an option, set[i] says whether it was given. Returns true, or false with a one-line message
 * naming the two in msg.
 */
bool cli_out_one_format(size_t n, const char *const names[], const bool set[], char *msg,
                        size_t cap);

/* The mode for --json/--raw/--pretty (json wins, then raw, then pretty), else pretty on a TTY. */
enum cli_out_mode cli_out_pick(bool json, bool raw, bool pretty, int fd);

/* One message to print. The views need not be NUL-terminated. */
struct cli_out_msg {
    struct np_str subject;
    struct np_str reply;   /* len 0 when none */
    struct np_str headers; /* the raw NATS/1.0 block, len 0 when none */
    struct np_str data;
    uint64_t count;     /* pretty: the [#N] counter */
    struct timespec ts; /* json: "ts", the receive time */
    const char *stamp;  /* pretty: shown as " @ <stamp>" after the banner; NULL = none */
    const char *banner; /* pretty: replaces the "[#N] Received on ..." text; NULL = default */
    bool has_rtt;       /* json: add "rtt_us" (a request's round trip) */
    uint64_t rtt_ns;
    uint64_t stream_seq; /* a stream's message: its sequence (banner and json "seq"); 0 = none */
};

/*
 * A printer. The scratch buffer is reused across messages, so pretty, raw and subjects modes
 * allocate nothing once warm (json allocates through cJSON).
 */
struct cli_out {
    FILE *f;
    enum cli_out_mode mode;
    bool headers_only; /* pretty: leave the body out */
    /*
     * Show control bytes as escapes (cli_out_escape()) in the text that is not JSON, so a message
     * cannot drive the terminal (clear it, retitle it, fake output). On for pretty output and
     * whenever f is a terminal; raw output to a pipe or a file stays byte for byte.
     */
    bool escape;
    struct np_buf scratch, body; /* private */
};

/* Sets up a printer writing to f (not owned: the caller closes it); sets escape as above. */
void cli_out_init(struct cli_out *o, FILE *f, enum cli_out_mode mode);
/* Frees the scratch buffer; o may be initialised again. */
void cli_out_release(struct cli_out *o);
/*
 * Prints one message and flushes, so output streams as it arrives. Returns 0, -ENOMEM, the write
 * error as a negative errno (-EPIPE when the reader went away), or -EIO when the stream has an
 * error without errno. A malformed header block is printed as nothing (pretty) or left out (json).
 *
 * pretty: `[#N] Received on "subj" with reply "r" @ stamp`, then "Status: code" and
 *   "Description: text" for a status line, then "Key: value" per header field in wire order and a
 *   blank line when there were any, then the body and "\n", plus one more "\n" when the body does
 *   not end with one (natscli's separation between messages).
 * json: {"subject","reply"?,"seq"?,"status"?,"description"?,"headers"?:{key:[values]},
 *   "data"|"data_b64","size","ts","rtt_us"?}. A stream's message shows "seq N" in the banner. data is used when the body is valid UTF-8 without NUL bytes, data_b64 otherwise;
 *   size is the body length; ts is RFC 3339 UTC with nanoseconds, trailing zeros trimmed.
 */
int cli_out_msg(struct cli_out *o, const struct cli_out_msg *m);

/*
 * Appends s[0..len) made safe for a terminal: newline and tab stay, other C0 controls, DEL and
 * bytes that are not well-formed UTF-8 become \xNN (CR becomes \r), and the C1 controls
 * U+0080..U+009F (which some terminals obey like ESC sequences) become \u0080..\u009f. Printable
 * text, UTF-8 included, is copied. Returns 0 or -ENOMEM.
 */
int cli_out_escape(struct np_buf *b, const char *s, size_t len);
/* True when cli_out_escape() would change s[0..len). */
bool cli_out_needs_escape(const char *s, size_t len);

/* Returns true when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool cli_utf8_valid(const char *s, size_t len);
/* Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z". Needs 36 bytes. */
void cli_fmt_rfc3339nano(const struct timespec *ts, char *buf, size_t cap);
/* Go's time.StampMicro in local time, for `sub -t`: "Jan _2 15:04:05.000000". Needs 24 bytes. */
void cli_fmt_stamp_micro(const struct timespec *ts, char *buf, size_t cap);
/* Go's Duration.String, for `sub -d`: "1.5s", "2m3.25s", "350ms", "12µs", "0s". Needs 32 bytes. */
void cli_fmt_duration(uint64_t ns, char *buf, size_t cap);

#endif
