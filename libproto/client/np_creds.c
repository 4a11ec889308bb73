/*
 * nkey seed files and .creds files for the client connection (np_creds.h). The file's bytes are
 * wiped before they are freed, on every path, because they hold the seed.
 */
#include "np_creds.h"
#include "np_client.h"
#include "np_nkey.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (64 * 1024) /* a .creds file is about 1 KiB; a JWT with many claims a few */

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return NP_CLIENT_ECREDS_FILES;
}

#define KIND(creds) ((creds) ? "creds" : "nkey")

/* Reads path whole into *out (*len bytes). Returns 0, NP_ENOMEM or NP_CLIENT_ECREDS_FILES. */
static int
slurp(const char *path, bool creds, char **out, size_t *len, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, cap, "%s file %s: %s", KIND(creds), path, strerror(errno));
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    int rc = !buf        ? NP_ENOMEM
             : ferror(f) ? fail(err, cap, "%s file %s: %s", KIND(creds), path, strerror(errno))
             : n > FILE_MAX
                 ? fail(err, cap, "%s file %s: larger than %d bytes", KIND(creds), path, FILE_MAX)
                 : 0;
    fclose(f);
    if (rc != 0) {
        if (buf) np_nkey_wipe(buf, FILE_MAX + 1);
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

static char *
dup_str(struct np_str s)
{
    char *d = malloc(s.len + 1);
    if (!d) return NULL;
    memcpy(d, s.ptr, s.len);
    d[s.len] = '\0';
    return d;
}

/* Signs nonce with the seed in text, and sets cn's key or JWT and signature. */
static int
sign_text(const char *path, bool creds, const char *text, size_t len, const char *nonce,
          struct np_connect *cn, char *err, size_t cap)
{
    struct np_str seed, jwt = {NULL, 0};
    if (creds && np_nkey_find_jwt(text, len, &jwt) != 0)
        return fail(err, cap, "creds file %s: no user JWT found", path);
    if (np_nkey_find_seed(text, len, &seed) != 0)
        return fail(err, cap, "%s file %s: no nkey seed found", KIND(creds), path);
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    int rc = np_nkey_sign(seed.ptr, seed.len, nonce, strlen(nonce), pub, sig);
    if (rc == NP_EINVAL)
        return fail(err, cap, "%s file %s: not a valid nkey seed", KIND(creds), path);
    if (rc != 0) return rc;
    char *key = creds ? dup_str(jwt) : strdup(pub);
    char *s = strdup(sig);
    if (!key || !s) {
        free(key);
        free(s);
        return NP_ENOMEM;
    }
    if (creds)
        cn->jwt = key;
    else
        cn->nkey = key;
    cn->sig = s;
    return 0;
}

int
np__creds_sign(const char *path, bool creds, const char *nonce, struct np_connect *cn, char *err,
               size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    int rc = slurp(path, creds, &text, &len, err, cap);
    if (rc != 0) return rc;
    rc = sign_text(path, creds, text, len, nonce, cn, err, cap);
    np_nkey_wipe(text, FILE_MAX + 1);
    free(text);
    return rc;
}
