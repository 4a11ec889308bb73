/*
 * A small JetStream API client for the stream, kv and pub --jetstream commands: requests to
 * $JS.API.* over the command's cli_conn, the JSON they answer with, and the one-line messages and
 * exit codes for what can go wrong (docs/streams.md).
 *
 * Every failure is reported here and ends the command through cli_conn_finish(): no responders
 * (JetStream is off) with 5, a timeout with 4, an API error with 6 ("stream not found (10059)").
 * The callbacks only see successes.
 */
#ifndef CLI_JS_H
#define CLI_JS_H

#include "cli_conn.h"
#include "np.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* A successful API response: parsed, and as received (for --json). Both valid during the call. */
typedef void (*cli_js_cb)(struct cli_conn *cc, const cJSON *resp, struct np_str raw);
/* A request's outcome: status 0 with m, or NP_CLIENT_ENO_RESPONDERS / ETIMEOUT / ECLOSED. */
typedef void (*cli_js_msg_cb)(struct cli_conn *cc, int status, const struct np_msg *m);

/*
 * Sends body (NULL for none; not owned, and its whole numbers are rewritten as integers, see
 * cli_js_ints) to "$JS.API.<api>" and calls cb with the response unless it is an error.
 */
void cli_js_call(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb);
/* Like cli_js_call(), but an API error response goes to cb too (check it with cli_js_error()). */
void cli_js_call_any(struct cli_conn *cc, const char *api, cJSON *body, cli_js_cb cb);
/* Sends a request to subject and calls cb with whatever came back; nothing is reported here. */
void cli_js_request(struct cli_conn *cc, const char *subject, struct np_str headers,
                    struct np_str data, cli_js_msg_cb cb);
/* Reports a failed cli_js_request() status for a request to subject and ends the command. */
void cli_js_fail(struct cli_conn *cc, int status, const char *subject);
/*
 * True when resp carries an API error; then msg holds "description (err_code)" and *err_code the
 * code (0 when absent).
 */
bool cli_js_error(const cJSON *resp, char *msg, size_t cap, int *err_code);
/* Prints an API error of resp and ends the command with 6. */
void cli_js_refused(struct cli_conn *cc, const cJSON *resp);

/*
 * cJSON prints numbers beyond 32 bits as "1.2e+11", which the server's decoder refuses for
 * durations and limits: turns every whole number in the tree into a raw integer. Returns 0 or
 * NP_ENOMEM.
 */
int cli_js_ints(cJSON *item);
/* Adds key: v as an integer, never in exponent form. Returns false on no memory. */
bool cli_js_add_int(cJSON *obj, const char *key, int64_t v);
/* obj[key] as a whole number, or def when absent or not a number. */
int64_t cli_js_int(const cJSON *obj, const char *key, int64_t def);
/* obj[key] as a string, or "" when absent or not a string. */
const char *cli_js_str(const cJSON *obj, const char *key);
/* obj[key] as a bool, false when absent. */
bool cli_js_bool(const cJSON *obj, const char *key);

/* Decodes the base64 string obj[key] (absent: empty) into out, replacing its contents. 0 or -1. */
int cli_js_b64(const cJSON *obj, const char *key, struct np_buf *out);
/* "125 B", "1.5 KiB", "3.0 MiB" ... */
void cli_js_fmt_bytes(uint64_t n, char *buf, size_t cap);

/*
 * Asks question on the terminal (stderr) and reads a line from stdin, without its newline, into
 * line. Returns false at end of input.
 */
bool cli_js_ask(const char *question, char *line, size_t cap);
/* Asks "<question> [y/N] "; true for y or yes. */
bool cli_js_confirm(const char *question);

#endif
