/*
 * A small fast generator for ids, jitter and random picks: splitmix64, seeded by the caller (from
 * uv_random or the clock: seeding is I/O and stays out of libproto). Not for secrets.
 */
#ifndef NP_RAND_H
#define NP_RAND_H

#include <stddef.h>
#include <stdint.h>

/* The 62 characters of a NATS nuid (inboxes, ids). */
#define NP_RAND_BASE62 "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define NP_NUID_LEN    22

struct np_rand {
    uint64_t state; /* any value, zero included, is a valid state */
};

void np_rand_seed(struct np_rand *r, uint64_t seed);
uint64_t np_rand_next(struct np_rand *r);
/* Writes n characters drawn from the NUL-terminated, non-empty alphabet; no NUL is added. */
void np_rand_fill(struct np_rand *r, char *out, size_t n, const char *alphabet);

#endif
