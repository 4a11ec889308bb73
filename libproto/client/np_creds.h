/*
 * The client connection's nkey and .creds files: read at each handshake, as nats.go reads them, so
 * a seed stays in memory only while it signs the server's nonce. Internal to libproto/client;
 * np_client.h is the interface.
 */
#ifndef NP_CREDS_H
#define NP_CREDS_H

#include "np.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads path (a .creds file when creds, else an nkey seed file) and signs nonce with its seed. On
 * success sets cn->jwt (creds) or cn->nkey, and cn->sig, all malloc'd for the caller to free.
 * Returns 0, NP_ENOMEM, or NP_CLIENT_ECREDS_FILES with a one-line reason in err that names the
 * file and never holds its text.
 */
int np__creds_sign(const char *path, bool creds, const char *nonce, struct np_connect *cn,
                   char *err, size_t cap);

#endif
