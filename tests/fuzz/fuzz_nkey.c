/*
 * libFuzzer target for nkeys (libproto/np_nkey.c): the seed and JWT finders of nkey and .creds
 * files, public key checks, seed decoding and signature verification.
 *
 * The input is the text of a file, given exactly as read (no NUL: an exact-size heap copy, so ASan
 * sees a read past it). Checked beyond "no crash, no over-read, no leak": what the finders return
 * lies inside the text and is not empty, a found seed that signs gives a signature its public key
 * verifies, and the input taken as a public key and a signature is verified or refused without a
 * crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_nkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const char *text, size_t len, struct np_str s)
{
    if (s.len == 0 || s.ptr < text || s.ptr + s.len > text + len) abort();
}

static void
fuzz_files(const char *text, size_t len)
{
    struct np_str seed, jwt;
    if (np_nkey_find_jwt(text, len, &jwt) == 0) inside(text, len, jwt);
    if (np_nkey_find_seed(text, len, &seed) != 0) return;
    inside(text, len, seed);
    char pub[NP_NKEY_KEY_LEN + 1], sig[NP_NKEY_SIG_LEN + 1];
    int rc = np_nkey_sign(seed.ptr, seed.len, text, len, pub, sig);
    if (rc == NP_EINVAL) return;
    if (rc != 0) abort();
    if (np_nkey_verify(pub, text, len, sig) != NP_NKEY_VERIFIED) abort();
}

/* The text up to its first newline as a public key, the rest as a signature of "nonce". */
static void
fuzz_verify(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return;
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *nl = strchr(copy, '\n');
    const char *sig = "";
    if (nl) {
        *nl = '\0';
        sig = nl + 1;
    }
    (void)np_nkey_is_user(copy);
    enum np_nkey_verdict v = np_nkey_verify(copy, "nonce", 5, sig);
    if (v != NP_NKEY_VERIFIED && v != NP_NKEY_NOT_BASE64 && v != NP_NKEY_NOT_VERIFIED) abort();
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    fuzz_files(text, size);
    fuzz_verify(text, size);
    free(text);
    return 0;
}
