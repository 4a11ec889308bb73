#include "nb_jsjson.h"

#include <stdlib.h>
#include <string.h>

#define TWO_POW_63 9223372036854775808.0
#define TWO_POW_64 18446744073709551616.0

bool
nb__jj_bad(struct nb_jserr *err, const char *what, const char *key)
{
    nb_jserr_setf(err, NB_JSERR_INVALID_JSON, "%s %s", key, what);
    return false;
}

bool
nb__jj_nomem(struct nb_jserr *err)
{
    nb_jserr_set(err, NB_JSERR_INSUFFICIENT_RESOURCES, NULL);
    return false;
}

const cJSON *
nb__jj_member(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(item) ? NULL : item;
}

bool
nb__jj_to_int64(double d, int64_t *out)
{
    if (!(d >= -TWO_POW_63 && d < TWO_POW_63)) return false;
    int64_t v = (int64_t)d;
    if ((double)v != d) return false;
    *out = v;
    return true;
}

bool
nb__jj_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out,
           struct nb_jserr *err)
{
    const cJSON *item = nb__jj_member(obj, key);
    int64_t v;
    if (!item) return true;
    if (!cJSON_IsNumber(item) || !nb__jj_to_int64(item->valuedouble, &v) || v < min || v > max)
        return nb__jj_bad(err, "must be an integer in range", key);
    *out = v;
    return true;
}

bool
nb__jj_uint(const cJSON *obj, const char *key, uint64_t *out, struct nb_jserr *err)
{
    const cJSON *item = nb__jj_member(obj, key);
    if (!item) return true;
    double d = cJSON_IsNumber(item) ? item->valuedouble : -1;
    if (!(d >= 0 && d < TWO_POW_64) || (double)(uint64_t)d != d)
        return nb__jj_bad(err, "must be an unsigned integer in range", key);
    *out = (uint64_t)d;
    return true;
}

bool
nb__jj_bool(const cJSON *obj, const char *key, bool *out, struct nb_jserr *err)
{
    const cJSON *item = nb__jj_member(obj, key);
    if (!item) return true;
    if (!cJSON_IsBool(item)) return nb__jj_bad(err, "must be a boolean", key);
    *out = cJSON_IsTrue(item);
    return true;
}

bool
nb__jj_string(const cJSON *obj, const char *key, bool empty_is_absent, char **out,
              struct nb_jserr *err)
{
    const cJSON *item = nb__jj_member(obj, key);
    if (!item) return true;
    if (!cJSON_IsString(item)) return nb__jj_bad(err, "must be a string", key);
    if (empty_is_absent && !item->valuestring[0]) return true;
    *out = strdup(item->valuestring);
    return *out ? true : nb__jj_nomem(err);
}

bool
nb__jj_enum(const cJSON *obj, const char *key, const char *const *names, size_t n, int *out,
            struct nb_jserr *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) return true;
    for (size_t i = 0; cJSON_IsString(item) && i < n; i++) {
        if (strcmp(item->valuestring, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    return nb__jj_bad(err, "has an unknown value", key);
}

bool
nb__jj_strings(const cJSON *obj, const char *key, char ***out, size_t *n, struct nb_jserr *err)
{
    const cJSON *arr = nb__jj_member(obj, key);
    if (!arr) return true;
    if (!cJSON_IsArray(arr)) return nb__jj_bad(err, "must be an array of strings", key);
    size_t len = (size_t)cJSON_GetArraySize(arr);
    if (len == 0) return true;
    *out = calloc(len, sizeof **out);
    if (!*out) return nb__jj_nomem(err);
    for (const cJSON *s = arr->child; s; s = s->next) {
        if (!cJSON_IsString(s)) return nb__jj_bad(err, "must be an array of strings", key);
        (*out)[*n] = strdup(s->valuestring);
        if (!(*out)[*n]) return nb__jj_nomem(err);
        ++*n;
    }
    return true;
}

bool
nb__jj_metadata(const cJSON *obj, cJSON **out, struct nb_jserr *err)
{
    const cJSON *md = nb__jj_member(obj, "metadata");
    if (!md) return true;
    if (!cJSON_IsObject(md)) return nb__jj_bad(err, "must be an object of strings", "metadata");
    for (const cJSON *c = md->child; c; c = c->next)
        if (!cJSON_IsString(c)) return nb__jj_bad(err, "must be an object of strings", "metadata");
    if (!md->child) return true;
    *out = cJSON_CreateObject();
    if (!*out) return nb__jj_nomem(err);
    for (const cJSON *c = md->child; c; c = c->next) {
        cJSON *v = cJSON_CreateString(c->valuestring);
        if (!v) return nb__jj_nomem(err);
        if (cJSON_GetObjectItemCaseSensitive(*out, c->string)) {
            cJSON_ReplaceItemInObjectCaseSensitive(*out, c->string, v);
        } else if (!cJSON_AddItemToObject(*out, c->string, v)) {
            cJSON_Delete(v);
            return nb__jj_nomem(err);
        }
    }
    return true;
}

bool
nb__jj_blank(const cJSON *item)
{
    if (cJSON_IsNull(item) || cJSON_IsFalse(item)) return true;
    if (cJSON_IsNumber(item)) return item->valuedouble == 0;
    if (cJSON_IsString(item)) return item->valuestring[0] == '\0';
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item)) return false;
    for (const cJSON *c = item->child; c; c = c->next)
        if (!nb__jj_blank(c)) return false;
    return true;
}
