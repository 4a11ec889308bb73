/*
 * JetStream API errors filled from NB_JSERR_MAP. Descriptions are cut to fit the fixed buffer, and
 * a cut never splits a UTF-8 sequence, because the text is sent to clients inside JSON.
 */
#include "nb_jserr.h"

#include <stdio.h>
#include <string.h>

struct entry {
    int code, err_code;
    const char *text;
};

static const struct entry entries[] = {
#define NB__JSERR_ENTRY(name, code, err_code, text) {code, err_code, text},
    NB_JSERR_MAP(NB__JSERR_ENTRY)
#undef NB__JSERR_ENTRY
};

/* Appends src[0..n) at *len, keeping room for the NUL; stops at a UTF-8 boundary when cut. */
static void
append(char *dst, size_t cap, size_t *len, const char *src, size_t n)
{
    size_t room = cap - 1 - *len;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst + *len, src, n);
    *len += n;
    dst[*len] = '\0';
}

void
nb_jserr_set(struct nb_jserr *err, enum nb_jserr_id id, const char *arg)
{
    const struct entry *e = &entries[id];
    const char *hole = strstr(e->text, "%s");
    size_t len = 0;
    err->code = e->code;
    err->err_code = e->err_code;
    err->description[0] = '\0';
    if (!hole) {
        append(err->description, sizeof err->description, &len, e->text, strlen(e->text));
        return;
    }
    if (!arg) arg = "";
    append(err->description, sizeof err->description, &len, e->text, (size_t)(hole - e->text));
    append(err->description, sizeof err->description, &len, arg, strlen(arg));
    append(err->description, sizeof err->description, &len, hole + 2, strlen(hole + 2));
}

void
nb_jserr_setf(struct nb_jserr *err, enum nb_jserr_id id, const char *fmt, ...)
{
    char arg[sizeof err->description + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(arg, sizeof arg, fmt, ap);
    va_end(ap);
    if (n < 0) arg[0] = '\0';
    nb_jserr_set(err, id, arg);
}
