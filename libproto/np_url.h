/*
 * NATS server URLs: parsing `[nats://|tls://][user[:pass]@]host[:port][/]` and hiding credentials in
 * text meant for people. Pure string work, no I/O, so the CLI can check and show server lists
 * without the client connection, and the fuzzer can reach every branch.
 */
#ifndef NP_URL_H
#define NP_URL_H

#include "np.h"

/* One server address. Strings are owned (np_url_release() frees them). */
struct np_url {
    char *host;        /* without brackets for IPv6 */
    int port;          /* NP_DEFAULT_PORT when absent */
    char *user, *pass; /* NULL when absent; pass alone (no user) means a token */
    bool tls;          /* tls://: the connection must be secured, whatever the server says */
};

/*
 * Parses one URL: IPv6 hosts in brackets, userinfo percent-decoded, a userinfo without ':' is a
 * token (stored in pass), blanks around the text ignored. A scheme other than nats:// and tls:// is
 * refused. Returns 0, NP_ENOMEM or an NP_EURL* code saying what is wrong (np_err_is_url() is true
 * for all of them); on failure u holds nothing.
 */
int np_url_parse(struct np_url *u, const char *text);
/*
 * Parses a route URL (a server's cluster port): like np_url_parse(), but nats-route:// is accepted
 * beside nats://, and the port must be given (there is no default cluster port). user and pass
 * are the cluster credentials to present.
 */
int np_url_parse_route(struct np_url *u, const char *text);
void np_url_release(struct np_url *u);
/*
 * Writes text (one URL or a comma-separated list) with any password or token replaced by "***".
 * The output is always NUL-terminated (when cap > 0), truncated to fit.
 */
void np_url_redact(const char *text, char *out, size_t cap);

#endif
