/*
 * natsctl server --signal (-sl): nats-server's way to send a signal to a running server by verb.
 */
#ifndef CLI_SIGNAL_H
#define CLI_SIGNAL_H

#include "cli.h"

/*
 * Sends the signal that arg names, "VERB[=PID]" (ldm, stop, quit, term, reopen, reload; PID a
 * number or the path of a pid file), to a running natsctl server. Without a PID the pid file
 * (-P) is read when pidfile is not NULL, and otherwise the one natsctl server running is found
 * in /proc. Errors are printed in nats-server's wording. Returns CLI_EXIT_OK or CLI_EXIT_FAIL
 * (nats-server exits 1 whatever went wrong).
 */
int cli_signal_send(const struct cli_cmd *self, const char *arg, const char *pidfile);

#endif
