/*
 * A streaming JSON writer for the monitoring endpoints: it appends to an np_buf in the layout of
 * Go's json.MarshalIndent(v, "", "  ") (what nats-server answers), so a response is built with one
 * growing buffer instead of a tree of nodes, and diffs against nats-server's output stay readable.
 *
 * Strings are escaped as Go escapes them: '<', '>' and '&' as \u003c..., and invalid UTF-8 becomes
 * U+FFFD, so any client-supplied name yields valid JSON. Out of memory is sticky: the calls after
 * it do nothing and nb_jw_failed() reports it.
 */
#ifndef NB_JW_H
#define NB_JW_H

#include "np_buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_JW_MAX_DEPTH 32

struct nb_jw {
    struct np_buf *b;
    int depth;
    bool pretty;
    bool failed;
    bool empty[NB_JW_MAX_DEPTH]; /* nothing written yet in the container at this depth */
};

void nb_jw_init(struct nb_jw *w, struct np_buf *b, bool pretty);
bool nb_jw_failed(const struct nb_jw *w);

/* key is the member name inside an object and NULL inside an array or at the top. */
void nb_jw_obj(struct nb_jw *w, const char *key);
void nb_jw_arr(struct nb_jw *w, const char *key);
void nb_jw_end_obj(struct nb_jw *w);
void nb_jw_end_arr(struct nb_jw *w);
void nb_jw_str(struct nb_jw *w, const char *key, const char *s);
void nb_jw_strn(struct nb_jw *w, const char *key, const char *s, size_t n);
void nb_jw_u64(struct nb_jw *w, const char *key, uint64_t v);
void nb_jw_i64(struct nb_jw *w, const char *key, int64_t v);
/* Shortest text that reads back as v, as Go prints a float64 (2, 0.75, 1e-07). */
void nb_jw_f64(struct nb_jw *w, const char *key, double v);
void nb_jw_bool(struct nb_jw *w, const char *key, bool v);
/* null: what Go writes for a nil slice or pointer, which some nats-server answers keep. */
void nb_jw_null(struct nb_jw *w, const char *key);
/* An RFC 3339 UTC time with nanoseconds, trailing zeros dropped, as Go's time.Time marshals. */
void nb_jw_time(struct nb_jw *w, const char *key, int64_t unix_ns);
/* Copies a cJSON value (objects from the JetStream modules, such as a StreamInfo's state). */
void nb_jw_cjson(struct nb_jw *w, const char *key, const cJSON *v);

#endif
