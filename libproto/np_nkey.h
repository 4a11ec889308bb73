/*
 * NATS nkeys: Ed25519 keys written as nats-io/nkeys writes them (RFC 4648 base32 without padding of
 * a prefix byte, the 32 key bytes and a little-endian CRC16-XMODEM), the nonce signatures of the
 * CONNECT handshake (base64 raw URL encoding), and the files that carry seeds: an nkey seed file
 * and a .creds file (a user JWT and its seed between "-----...-----" lines).
 *
 * Seeds are secrets: these functions keep decoded seed bytes on the stack and wipe them before
 * returning; callers wipe the text they read a seed from (OPENSSL_cleanse or np_nkey_wipe()).
 */
#ifndef NP_NKEY_H
#define NP_NKEY_H

#include "np.h"

#include <stdbool.h>
#include <stddef.h>

#define NP_NKEY_KEY_LEN   56 /* characters of an encoded public key */
#define NP_NKEY_SIG_LEN   86 /* characters of an encoded signature */
#define NP_NKEY_NONCE_LEN 15 /* characters of a nonce */

/*
 * Writes a fresh nonce to out, NUL-terminated, as nats-server makes one: 11 random bytes in raw
 * URL base64. Returns 0, or NP_ENOMEM when the random generator fails.
 */
int np_nkey_nonce(char out[NP_NKEY_NONCE_LEN + 1]);

/* nats-io/nkeys' IsValidPublicUserKey for a 32-byte key: s is "U..." with a good CRC. */
bool np_nkey_is_user(const char *s);

/*
 * Signs msg with the seed in seed[0..len) ("S" and a key type, 58 characters). Writes the seed's
 * public key to pub and the signature to sig, both NUL-terminated. Returns 0, NP_EINVAL when seed
 * is not a valid seed, or NP_ENOMEM when the crypto library fails.
 */
int np_nkey_sign(const char *seed, size_t len, const void *msg, size_t mlen,
                 char pub[NP_NKEY_KEY_LEN + 1], char sig[NP_NKEY_SIG_LEN + 1]);

enum np_nkey_verdict {
    NP_NKEY_VERIFIED,
    NP_NKEY_NOT_BASE64, /* sig is neither raw URL nor padded standard base64 */
    NP_NKEY_NOT_VERIFIED,
};

/*
 * Checks sig (NUL-terminated, base64 raw URL encoding or, as nats-server also accepts, padded
 * standard base64) as pub's signature of msg. A pub that is not a valid public key of any type is
 * NP_NKEY_NOT_VERIFIED.
 */
enum np_nkey_verdict np_nkey_verify(const char *pub, const void *msg, size_t mlen, const char *sig);

/*
 * Finds the seed in the text of an nkey or .creds file as nats-io/nkeys' ParseDecoratedNKey does:
 * the second "-----"-framed block when there are two or more, otherwise the first line that
 * starts, after blanks, with "SO", "SA" or "SU". *seed views text. Returns 0 or NP_EINVAL (none).
 */
int np_nkey_find_seed(const char *text, size_t len, struct np_str *seed);

/*
 * Finds the user JWT in the text of a .creds file as ParseDecoratedJWT does: the first framed
 * block, otherwise the whole text without surrounding blanks. *jwt views text. Returns 0 or
 * NP_EINVAL (empty).
 */
int np_nkey_find_jwt(const char *text, size_t len, struct np_str *jwt);

/* Overwrites n bytes at p in a way the compiler keeps. */
void np_nkey_wipe(void *p, size_t n);

#endif
