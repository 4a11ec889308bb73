/*
 * nkeys encoding, nonce signing and seed files (np_nkey.h). Ed25519 itself is OpenSSL's, the
 * library the TLS code already links; everything here is the nats framing around it.
 */
#include "np_nkey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdint.h>
#include <string.h>

#define KEY_BYTES    32
#define SIG_BYTES    64
#define PUB_RAW_LEN  (1 + KEY_BYTES + 2) /* prefix, key, CRC */
#define SEED_RAW_LEN (2 + KEY_BYTES + 2) /* two prefix bytes, seed, CRC */
#define SEED_LEN     58                  /* base32 characters of SEED_RAW_LEN bytes */
#define PREFIX_SEED  (18 << 3)           /* 'S' */
#define PREFIX_USER  (20 << 3)           /* 'U' */
#define NONCE_BYTES  11

/* The key types nkeys can encode as public keys: operator, server, cluster, account, user. */
static bool
public_prefix(unsigned p)
{
    return p == (14 << 3) || p == (13 << 3) || p == (2 << 3) || p == 0 || p == PREFIX_USER;
}

void
np_nkey_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

/* CRC16-XMODEM (polynomial 0x1021, initial 0), bit by bit: keys are short. */
static uint16_t
crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc = (uint16_t)(crc ^ (p[i] << 8));
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void
base32_encode(const unsigned char *src, size_t n, char *dst)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | src[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            *dst++ = b32[(acc >> bits) & 31];
        }
    }
    if (bits) *dst++ = b32[(acc << (5 - bits)) & 31];
    *dst = '\0';
}

/* Decodes exactly len characters into exactly n bytes; false on any other character or size. */
static bool
base32_decode(const char *s, size_t len, unsigned char *dst, size_t n)
{
    if (len != (n * 8 + 4) / 5) return false;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        const char *at = s[i] ? strchr(b32, s[i]) : NULL;
        if (!at) return false;
        acc = acc << 5 | (uint32_t)(at - b32);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            dst[out++] = (unsigned char)(acc >> bits);
        }
    }
    return out == n;
}

/* Whether raw[0..n) ends with the little-endian CRC of what precedes it. */
static bool
crc_ok(const unsigned char *raw, size_t n)
{
    uint16_t crc = crc16(raw, n - 2);
    return raw[n - 2] == (crc & 0xff) && raw[n - 1] == crc >> 8;
}

/* Decodes a public key of any type into its prefix byte and key. */
static bool
public_decode(const char *s, unsigned *prefix, unsigned char key[KEY_BYTES])
{
    unsigned char raw[PUB_RAW_LEN];
    if (!s || strlen(s) != NP_NKEY_KEY_LEN || !base32_decode(s, NP_NKEY_KEY_LEN, raw, sizeof raw) ||
        !crc_ok(raw, sizeof raw) || !public_prefix(raw[0]))
        return false;
    *prefix = raw[0];
    memcpy(key, raw + 1, KEY_BYTES);
    return true;
}

static void
public_encode(unsigned prefix, const unsigned char key[KEY_BYTES], char out[NP_NKEY_KEY_LEN + 1])
{
    unsigned char raw[PUB_RAW_LEN];
    raw[0] = (unsigned char)prefix;
    memcpy(raw + 1, key, KEY_BYTES);
    uint16_t crc = crc16(raw, PUB_RAW_LEN - 2);
    raw[PUB_RAW_LEN - 2] = (unsigned char)(crc & 0xff);
    raw[PUB_RAW_LEN - 1] = (unsigned char)(crc >> 8);
    base32_encode(raw, sizeof raw, out);
}

bool
np_nkey_is_user(const char *s)
{
    unsigned prefix;
    unsigned char key[KEY_BYTES];
    return public_decode(s, &prefix, key) && prefix == PREFIX_USER;
}

/*
 * A seed's first two bytes hold the seed prefix in the top five bits of the first, and the key
 * type's prefix in the low three bits of the first and the top five of the second.
 */
static bool
seed_decode(const char *s, size_t len, unsigned *type, unsigned char seed[KEY_BYTES])
{
    unsigned char raw[SEED_RAW_LEN];
    bool ok = len == SEED_LEN && base32_decode(s, len, raw, sizeof raw) &&
              crc_ok(raw, sizeof raw) && (raw[0] & 0xf8) == PREFIX_SEED;
    if (ok) {
        *type = (unsigned)((raw[0] & 7) << 5 | (raw[1] & 0xf8) >> 3);
        ok = public_prefix(*type);
    }
    if (ok) memcpy(seed, raw + 2, KEY_BYTES);
    OPENSSL_cleanse(raw, sizeof raw);
    return ok;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64url_encode(const unsigned char *src, size_t n, char *dst)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | src[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *dst++ = b64url[(acc >> bits) & 63];
        }
    }
    if (bits) *dst++ = b64url[(acc << (6 - bits)) & 63];
    *dst = '\0';
}

int
np_nkey_nonce(char out[NP_NKEY_NONCE_LEN + 1])
{
    unsigned char raw[NONCE_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1) return NP_ENOMEM;
    base64url_encode(raw, sizeof raw, out);
    return 0;
}

/*
 * Decodes len characters of alphabet (no padding), keeping the first cap bytes. Returns the byte
 * count of the whole decoding, or -1 on a character outside the alphabet or a length no encoding
 * has.
 */
static long
base64_decode(const char *s, size_t len, const char *alphabet, unsigned char *dst, size_t cap)
{
    if (len % 4 == 1) return -1;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        const char *at = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!at) return -1;
        acc = acc << 6 | (uint32_t)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out < cap) dst[out] = (unsigned char)(acc >> bits);
            out++;
        }
    }
    return (long)out;
}

/*
 * nats-server decodes a signature as raw URL base64 and, failing that, as padded standard base64.
 * Returns the byte count or -1. A signature of the wrong size still decodes, and then fails
 * verification, as in Go.
 */
static long
sig_decode(const char *sig, unsigned char *dst, size_t cap)
{
    size_t len = strlen(sig);
    long n = base64_decode(sig, len, b64url, dst, cap);
    if (n >= 0 || len % 4 != 0) return n;
    size_t pad = len >= 1 && sig[len - 1] == '=' ? (len >= 2 && sig[len - 2] == '=' ? 2 : 1) : 0;
    return base64_decode(sig, len - pad, b64std, dst, cap);
}

int
np_nkey_sign(const char *seed, size_t len, const void *msg, size_t mlen,
             char pub[NP_NKEY_KEY_LEN + 1], char sig[NP_NKEY_SIG_LEN + 1])
{
    unsigned type;
    unsigned char key[KEY_BYTES];
    if (!seed_decode(seed, len, &type, key)) return NP_EINVAL;
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    EVP_MD_CTX *ctx = pk ? EVP_MD_CTX_new() : NULL;
    unsigned char raw[SIG_BYTES], pubraw[KEY_BYTES];
    size_t siglen = sizeof raw, publen = sizeof pubraw;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestSign(ctx, raw, &siglen, msg, mlen) == 1 && siglen == SIG_BYTES &&
              EVP_PKEY_get_raw_public_key(pk, pubraw, &publen) == 1 && publen == KEY_BYTES;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    if (!ok) return NP_ENOMEM;
    public_encode(type, pubraw, pub);
    base64url_encode(raw, sizeof raw, sig);
    return 0;
}

enum np_nkey_verdict
np_nkey_verify(const char *pub, const void *msg, size_t mlen, const char *sig)
{
    unsigned char raw[SIG_BYTES], key[KEY_BYTES];
    long n = sig_decode(sig, raw, sizeof raw);
    if (n < 0) return NP_NKEY_NOT_BASE64;
    unsigned prefix;
    if (n != SIG_BYTES || !public_decode(pub, &prefix, key)) return NP_NKEY_NOT_VERIFIED;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, sizeof key);
    EVP_MD_CTX *ctx = pk ? EVP_MD_CTX_new() : NULL;
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(ctx, raw, SIG_BYTES, msg, mlen) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok ? NP_NKEY_VERIFIED : NP_NKEY_NOT_VERIFIED;
}

/* ---- seed and creds files ----------------------------------------------------------------------- */

struct line {
    const char *ptr;
    size_t len; /* without the line end and surrounding blanks */
};

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The line at *pos, trimmed; advances *pos past its end. False at the end of the text. */
static bool
next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    if (*pos >= len) return false;
    size_t start = *pos, end = start;
    while (end < len && text[end] != '\n')
        end++;
    *pos = end < len ? end + 1 : end;
    while (start < end && blank(text[start]))
        start++;
    while (end > start && blank(text[end - 1]))
        end--;
    *l = (struct line){text + start, end - start};
    return true;
}

/* A frame line: three or more dashes, anything, three or more dashes. */
static bool
is_frame(const struct line *l)
{
    return l->len >= 6 && memcmp(l->ptr, "---", 3) == 0 &&
           memcmp(l->ptr + l->len - 3, "---", 3) == 0;
}

/* The characters a framed block may hold (the \w, '-', '.' and '=' of nkeys' pattern). */
static bool
is_block(const struct line *l)
{
    if (l->len == 0) return false;
    for (size_t i = 0; i < l->len; i++) {
        char c = l->ptr[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == '=';
        if (!ok) return false;
    }
    return true;
}

/* The n-th (0-based) framed block of text, if there is one. */
static bool
framed_block(const char *text, size_t len, int n, struct np_str *out)
{
    struct line a, b, c;
    size_t pos = 0;
    if (!next_line(text, len, &pos, &a)) return false;
    while (next_line(text, len, &pos, &b)) {
        size_t after = pos;
        if (is_frame(&a) && is_block(&b) && next_line(text, len, &after, &c) && is_frame(&c)) {
            if (n-- == 0) {
                *out = (struct np_str){b.ptr, b.len};
                return true;
            }
            pos = after;
            if (!next_line(text, len, &pos, &a)) return false;
            continue;
        }
        a = b;
    }
    return false;
}

int
np_nkey_find_seed(const char *text, size_t len, struct np_str *seed)
{
    if (framed_block(text, len, 1, seed)) return 0;
    struct line l;
    size_t pos = 0;
    while (next_line(text, len, &pos, &l)) {
        if (l.len >= 2 && l.ptr[0] == 'S' && strchr("OAU", l.ptr[1]) && l.ptr[1]) {
            *seed = (struct np_str){l.ptr, l.len};
            return 0;
        }
    }
    return NP_EINVAL;
}

int
np_nkey_find_jwt(const char *text, size_t len, struct np_str *jwt)
{
    if (framed_block(text, len, 0, jwt)) return 0;
    size_t start = 0, end = len;
    while (start < end && blank(text[start]))
        start++;
    while (end > start && blank(text[end - 1]))
        end--;
    if (start == end) return NP_EINVAL;
    *jwt = (struct np_str){text + start, end - start};
    return 0;
}
