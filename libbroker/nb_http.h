/*
 * The monitoring port: an HTTP listener on the server's loop.
 */
#ifndef NB_HTTP_H
#define NB_HTTP_H

#include <uv.h>

struct nb_server;
struct nb_http;

/*
 * Listens for HTTP on addr and sets srv->http_port to the port bound. Returns 0 or a negative libuv
 * code (the handle is closed by stop).
 */
int nb__http_start(struct nb_server *srv, const struct sockaddr *addr);
/* Closes the listener and every open HTTP connection. */
void nb__http_stop(struct nb_http *http);

#endif
