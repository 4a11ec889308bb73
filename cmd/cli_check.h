/*
 * Checks on what a client command is about to send, with messages that say why it is refused:
 * "empty token" rather than "invalid subject", the lengths against the limit rather than the
 * server's "maximum control line exceeded" (which also costs the connection).
 */
#ifndef CLI_CHECK_H
#define CLI_CHECK_H

#include "cli_msg.h"
#include "np_client.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Why s[0..len) is not a valid subject: "empty subject", "empty token", "blank character",
 * "'>' must be the last token", or, when wildcards is false (publishing), "wildcard token";
 * NULL when it is valid.
 */
const char *cli_subject_problem(const char *s, size_t len, bool wildcards);
/*
 * Checks subject s (named `what` in the message: "subject", "reply subject") for a control line that carries `others` more bytes of arguments (reply
 * subject, sizes, sid, queue group and their separating spaces): valid, and within
 * NP_MAX_CONTROL_LINE, nats-server's default max_control_line (INFO does not announce it). Returns
 * true, or false with one line in msg: "invalid subject 'a..b': empty token" or "subject too long
 * (5000 > 4089 bytes: the control line limit is 4096)".
 */
bool cli_subject_check(const char *what, const char *s, bool wildcards, size_t others, char *msg,
                       size_t cap);
/*
 * Adds one -H value to m. Returns NULL, or why it was refused: "want KEY:VALUE with a non-empty
 * key without blanks", or that there are too many.
 */
const char *cli_header_add(struct cli_msg *m, const char *kv);
/* Bytes a number takes in a control line. */
size_t cli_digits(unsigned long long v);
/*
 * The control-line arguments of a PUB/HPUB besides the subject: " reply" when there is one, the
 * header size for HPUB, the total size, and the spaces between them.
 */
size_t cli_pub_args(size_t reply_len, size_t hdr_len, size_t total);
/*
 * One line for NP_CLIENT_EMAX_PAYLOAD: "payload 2000 bytes > max_payload 1024" (max_payload from
 * the server's INFO, the protocol default when c is NULL or not connected; headers count towards
 * it, and the message says so when there are some).
 */
void cli_payload_problem(const struct np_client *c, size_t hdr_len, size_t data_len, char *msg,
                         size_t cap);

#endif
