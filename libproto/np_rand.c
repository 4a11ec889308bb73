/*
 * splitmix64: every seed gives a full-period, well-mixed sequence, so a seed from the clock is as
 * good as one from the kernel for what this serves (ids that must not repeat, jitter).
 */
#include "np_rand.h"

#include <string.h>

void
np_rand_seed(struct np_rand *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t
np_rand_next(struct np_rand *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* The modulo bias of a 64-bit draw over a short alphabet is below 2^-57: not worth rejecting. */
void
np_rand_fill(struct np_rand *r, char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[np_rand_next(r) % k];
}
