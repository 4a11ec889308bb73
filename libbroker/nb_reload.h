/*
 * libbroker internal: configuration reload (nb_server_reload()). The diff is apart from applying
 * it so that the rules can be tested without a server.
 */
#ifndef NB_RELOAD_H
#define NB_RELOAD_H

#include "nb.h"

#include <stdbool.h>
#include <stddef.h>

/* What a reload changes, each flag one of nats-server's "Reloaded: ..." lines. */
struct nb_reload_diff {
    bool trace, debug, logtime, log_file;
    bool username, password, token, auth_timeout;
    bool tls_timeout;
    bool tls; /* the tls block's settings (the files' contents are compared when applying) */
};

/*
 * Compares the running configuration with a new one, as nats-server's diffOptions: returns 0 and
 * fills d when every difference can be applied, or NB_ECONFIG with msg in nats-server's words
 * ("config reload not supported for MaxPayload: old=1048576, new=100") for the first one that
 * cannot, in nats-server's option order.
 */
int nb__reload_diff(const struct nb_config *old, const struct nb_config *new,
                    struct nb_reload_diff *d, char *msg, size_t cap);

/* d as Go's time.Duration prints it ("2m0s", "1.5s", "500ms"), from milliseconds. */
void nb__go_duration(int64_t ms, char *buf, size_t cap);

#endif
