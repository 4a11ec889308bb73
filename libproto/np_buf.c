/*
 * Growth doubles, so appending n bytes one at a time costs O(n) copies in all; the first
 * allocation is small because most buffers (a subject, a header line) stay small.
 */
#include "np_buf.h"
#include "np.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 64

int
np_buf_reserve(struct np_buf *b, size_t n)
{
    if (b->ptr && b->cap - b->len > n) return 0;
    if (n > SIZE_MAX / 2 - b->len) return NP_ENOMEM;
    size_t cap = b->cap ? b->cap : FIRST_CAP;
    while (cap - b->len <= n)
        cap *= 2;
    char *p = realloc(b->ptr, cap);
    if (!p) return NP_ENOMEM;
    if (!b->ptr) p[0] = '\0';
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int
np_buf_add(struct np_buf *b, const void *p, size_t n)
{
    if (np_buf_reserve(b, n) != 0) return NP_ENOMEM;
    if (n) memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int
np_buf_adds(struct np_buf *b, const char *s)
{
    return np_buf_add(b, s, strlen(s));
}

void
np_buf_release(struct np_buf *b)
{
    free(b->ptr);
    *b = (struct np_buf){NULL, 0, 0};
}
