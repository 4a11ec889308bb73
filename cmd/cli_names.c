/*
 * Stream names for the shell's completion (cli_names.h). Only the first page of the answer is
 * used: 1,024 names, which is more than a completion list can show anyway.
 */
#include "cli_names.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "np.h"
#include "np_client.h"

#define ASK_TIMEOUT_MS 2000

static void
names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The "streams" array of a STREAM.NAMES answer, or NULL (then the old list stays). */
static char **
parse_names(const struct np_str *data, size_t *out_n)
{
    cJSON *o = cJSON_ParseWithLength(data->ptr, data->len);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "streams"), *v;
    size_t n = 0, cap = (size_t)cJSON_GetArraySize(arr);
    char **names = cJSON_IsArray(arr) ? calloc(cap ? cap : 1, sizeof *names) : NULL;
    cJSON_ArrayForEach(v, arr)
    {
        if (names && cJSON_IsString(v) && !(names[n++] = strdup(v->valuestring))) {
            names_free(names, n - 1);
            names = NULL;
        }
    }
    cJSON_Delete(o);
    *out_n = n;
    return names;
}

static void
on_names(struct np_client *c, int status, const struct np_msg *reply, void *ud)
{
    (void)c;
    struct cli_names *s = ud;
    s->asking--;
    size_t n;
    char **names = status == 0 && reply ? parse_names(&reply->data, &n) : NULL;
    if (!names) return;
    names_free(s->v, s->n);
    s->v = names;
    s->n = n;
}

void
cli_names_refresh(struct cli_names *s, struct np_client *nc)
{
    static const char body[] = "{\"offset\":0}";
    struct np_str none = {NULL, 0}, data = {body, sizeof body - 1};
    if (nc &&
        np_client_request(nc, "$JS.API.STREAM.NAMES", none, data, ASK_TIMEOUT_MS, on_names, s) == 0)
        s->asking++;
}

void
cli_names_complete(const struct cli_names *s, const char *prefix,
                   void (*offer)(void *ud, const char *name), void *ud)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < s->n; i++)
        if (strncmp(s->v[i], prefix, len) == 0) offer(ud, s->v[i]);
}

void
cli_names_release(struct cli_names *s)
{
    names_free(s->v, s->n);
    s->v = NULL;
    s->n = 0;
}
