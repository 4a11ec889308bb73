/*
 * Texts and names for the NP_E* codes, and comparison of views with C strings. Both tables come
 * from NP_ERR_MAP in np.h, so a code cannot be added without its text.
 */
#include "np.h"

#include <string.h>

const char *
np_strerror(int err)
{
    switch (err) {
    case NP_OK:
        return "success";
#define NP__ERR_TEXT(name, text)                                                                   \
    case NP_E##name:                                                                               \
        return text;
        NP_ERR_MAP(NP__ERR_TEXT)
#undef NP__ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *
np_errname(int err)
{
    switch (err) {
    case NP_OK:
        return "NP_OK";
#define NP__ERR_NAME(name, text)                                                                   \
    case NP_E##name:                                                                               \
        return "NP_E" #name;
        NP_ERR_MAP(NP__ERR_NAME)
#undef NP__ERR_NAME
    default:
        return "NP_E?";
    }
}

bool
np_err_is_url(int err)
{
    return err >= NP_EURL && err <= NP_EURL_ROUTE_PORT;
}

/* strnlen keeps the scan of s bounded by the view, however long s is. */
bool
np_str_eq(struct np_str a, const char *s)
{
    if (strnlen(s, a.len + 1) != a.len) return false;
    return a.len == 0 || memcmp(a.ptr, s, a.len) == 0;
}
