/*
 * Standard base64 (RFC 4648, with padding): the JetStream API carries stored headers and payloads
 * this way in its JSON.
 */
#ifndef NP_B64_H
#define NP_B64_H

#include "np_buf.h"

#include <stddef.h>

/* Appends the encoding of src to out, NUL-terminated (not counted in out->len). 0 or NP_ENOMEM. */
int np_b64_encode(const void *src, size_t len, struct np_buf *out);
/*
 * Appends the bytes that s (len characters, padding optional) encodes to out. Returns 0, NP_EINVAL
 * for a character outside the alphabet or a bad length, or NP_ENOMEM.
 */
int np_b64_decode(const char *s, size_t len, struct np_buf *out);

#endif
