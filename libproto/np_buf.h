/*
 * A growable byte buffer. The bytes stay NUL-terminated after every np_buf_add (so a buffer of
 * text is a C string); who writes through ptr after np_buf_reserve terminates it if it cares.
 * A zeroed struct np_buf is empty and owns no memory.
 */
#ifndef NP_BUF_H
#define NP_BUF_H

#include <stddef.h>

struct np_buf {
    char *ptr; /* NULL until the first reserve */
    size_t len, cap;
};

/* Makes room for n more bytes and a NUL after them. Returns 0 or NP_ENOMEM (b unchanged). */
int np_buf_reserve(struct np_buf *b, size_t n);
/* Appends n bytes. Returns 0 or NP_ENOMEM (b unchanged). */
int np_buf_add(struct np_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int np_buf_adds(struct np_buf *b, const char *s);
/* Frees the memory and leaves b empty and reusable. */
void np_buf_release(struct np_buf *b);

#endif
