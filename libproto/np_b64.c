#include "np_b64.h"

#include "np.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
np_b64_encode(const void *src, size_t len, struct np_buf *out)
{
    const unsigned char *p = src;
    if (len > (SIZE_MAX / 4) * 3 - 3 || np_buf_reserve(out, (len + 2) / 3 * 4 + 1) != 0)
        return NP_ENOMEM;
    char *d = out->ptr + out->len;
    for (; len >= 3; len -= 3, p += 3) {
        *d++ = alphabet[p[0] >> 2];
        *d++ = alphabet[(p[0] & 3) << 4 | p[1] >> 4];
        *d++ = alphabet[(p[1] & 15) << 2 | p[2] >> 6];
        *d++ = alphabet[p[2] & 63];
    }
    if (len) {
        unsigned b1 = len == 2 ? p[1] : 0;
        *d++ = alphabet[p[0] >> 2];
        *d++ = alphabet[(p[0] & 3) << 4 | b1 >> 4];
        *d++ = len == 2 ? alphabet[(b1 & 15) << 2] : '=';
        *d++ = '=';
    }
    *d = '\0';
    out->len = (size_t)(d - out->ptr);
    return 0;
}

/* The 6-bit value of c, or -1 when c is not in the alphabet. */
static int
sextet(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int
np_b64_decode(const char *s, size_t len, struct np_buf *out)
{
    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1 || np_buf_reserve(out, len / 4 * 3 + 3) != 0)
        return len % 4 == 1 ? NP_EINVAL : NP_ENOMEM;
    unsigned char *d = (unsigned char *)out->ptr + out->len;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = sextet(s[i]);
        if (v < 0) return NP_EINVAL;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *d++ = (unsigned char)(acc >> bits);
        }
    }
    out->len = (size_t)((char *)d - out->ptr);
    return 0;
}
