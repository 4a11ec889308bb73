/*
 * Reading JetStream request bodies (cJSON objects) the way nats-server's Go decoder does: null is
 * absent, numbers must be whole and in range, enums must be known names. A wrong type or value
 * fails the whole request with 10025 "invalid JSON: <key> <why>". Shared by the stream and consumer
 * configuration parsers.
 */
#ifndef NB_JSJSON_H
#define NB_JSJSON_H

#include "nb_jserr.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each reader leaves *out alone when the key is absent, and returns false with err when bad. */

/* Sets err to 10025 "invalid JSON: <key> <what>" and returns false. */
bool nb__jj_bad(struct nb_jserr *err, const char *what, const char *key);
/* Sets err to the out-of-memory answer (10023) and returns false. */
bool nb__jj_nomem(struct nb_jserr *err);
/* The member key of obj, or NULL when it is absent or null. */
const cJSON *nb__jj_member(const cJSON *obj, const char *key);
/* Whether d is a whole number that fits an int64 (cJSON keeps numbers as doubles only). */
bool nb__jj_to_int64(double d, int64_t *out);
bool nb__jj_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out,
                struct nb_jserr *err);
bool nb__jj_uint(const cJSON *obj, const char *key, uint64_t *out, struct nb_jserr *err);
bool nb__jj_bool(const cJSON *obj, const char *key, bool *out, struct nb_jserr *err);
/* A copied string; with empty_is_absent, "" leaves *out NULL as Go's omitempty reads it. */
bool nb__jj_string(const cJSON *obj, const char *key, bool empty_is_absent, char **out,
                   struct nb_jserr *err);
/* An enum: the index of the member's value in names. */
bool nb__jj_enum(const cJSON *obj, const char *key, const char *const *names, size_t n, int *out,
                 struct nb_jserr *err);
/* An array of strings, copied; an empty array leaves *out NULL. */
bool nb__jj_strings(const cJSON *obj, const char *key, char ***out, size_t *n,
                    struct nb_jserr *err);
/* An object of strings, copied; a key given twice keeps its last value, as Go's map decoding. */
bool nb__jj_metadata(const cJSON *obj, cJSON **out, struct nb_jserr *err);
/* Whether a value carries nothing: null, false, 0, "", or containers of such values. */
bool nb__jj_blank(const cJSON *item);

#endif
