/*
 * The monitoring port: an HTTP listener on the server's loop.
 */
#ifndef NB_HTTP_H
#define NB_HTTP_H

#include <stdbool.h>
#include <uv.h>

struct nb_server;
struct nb_http;

/*
 * Listens for HTTP on addr, or with secure for HTTPS with the client port's certificate (no client
 * certificates asked for, as nats-server's https port does not), and sets srv->http_port to the
 * port bound. Returns 0, NB_ECONFIG or NB_ENOMEM (the TLS context), or a negative libuv code; the
 * handles are closed by stop either way.
 */
int nb__http_start(struct nb_server *srv, const struct sockaddr *addr, bool secure);
/* Closes the listener and every open HTTP connection. */
void nb__http_stop(struct nb_http *http);

#endif
