/*
 * JetStream inside the server: the set of streams (nb_js.c), one stream's publish path and limits
 * (nb_stream.c), and the $JS.API request handlers (nb_jsapi.c).
 *
 * Streams capture messages through internal subscriptions on their subjects, so a stored message
 * takes the same path as any other (and a publish to a stream subject never gets no-responders).
 * The API is one internal subscription on $JS.API.>. Everything runs on the loop thread except
 * fsync, which a libuv worker does (nb_js.c), so a slow disk never stalls other clients.
 */
#ifndef NB_JS_H
#define NB_JS_H

#include "nb.h"
#include "nb_jserr.h"
#include "nb_store.h"
#include "nb_streamcfg.h"
#include "np_map.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct nb_server;
struct nb_stream;
struct nb_dedupe;
struct nb_consumer;

/*
 * A PubAck held back until the message it confirms has been written (the store buffers appends
 * until the end of the loop iteration) and, with sync_interval always, synced.
 */
struct nb_held_ack {
    struct nb_held_ack *next;
    uint64_t seq; /* the message it confirms */
    size_t reply_len, body_len;
    bool pooled; /* NB_HELD_ACK_DATA bytes, recycled through the stream set's free list */
    char data[]; /* reply, then body */
};
/* Room for a PubAck of any usual reply subject; a larger one is allocated on its own. */
#define NB_HELD_ACK_DATA 256u

struct nb_js {
    struct nb_server *srv;
    char *streams_dir;   /* <store_dir>/jetstream/$G/streams */
    struct np_map names; /* stream name -> struct nb_stream * */
    struct nb_stream *streams;
    struct nb_isub *api_sub;
    uv_timer_t sync_timer;  /* fsync of file streams every sync_interval */
    uv_timer_t event_timer; /* the next consumer deadline (redelivery, pull expiry, heartbeat) */
    uint64_t event_due;     /* when event_timer fires, 0 when it is idle */
    bool sync_timer_open;
    bool sync_running;                     /* a worker is syncing */
    struct nb_held_ack *held, **held_tail; /* waiting for the next sync (always mode) */
    struct nb_held_ack *free_acks;         /* recycled held PubAcks: no malloc per publish */
    size_t nfree_acks;
    struct nb_store_snap **snaps; /* index snapshots waiting for the next sync */
    size_t nsnaps, snaps_cap;
    struct nb_stream *flush_list; /* streams with appends to write this iteration */
    uint64_t api_total, api_errors;
    size_t acks_waiting; /* PubAcks produced since output was last flushed */
    uint64_t acks_total; /* PubAcks produced since the start */
};

/* How many PubAcks were produced so far (0 without JetStream). */
static inline uint64_t
nb__js_acks_produced(const struct nb_js *js)
{
    return js ? js->acks_total : 0;
}

/* How many PubAcks wait for the next flush of output (0 without JetStream). */
static inline size_t
nb__js_acks_waiting(const struct nb_js *js)
{
    return js ? js->acks_waiting : 0;
}

/* One stream: its configuration, its store, and the state of the publish path. */
struct nb_stream {
    struct nb_stream *next;
    struct nb_js *js;
    struct nb_stream_config cfg;
    struct nb_store *store;
    char *dir; /* the stream's directory, NULL for memory streams */
    int64_t created_ns;
    struct nb_isub **subs; /* one capture subscription per subject */
    size_t nsubs;
    struct nb_dedupe *dedupe; /* Nats-Msg-Id within the duplicate window */
    char *last_msg_id;        /* the newest message's Nats-Msg-Id, NUL-terminated */
    size_t last_msg_id_len;   /* 0 when it had none */
    size_t last_msg_id_cap;
    uv_timer_t age_timer; /* removes messages older than max_age */
    struct nb_consumer *consumers;
    bool counted;            /* the server's stop waits for age_timer to close */
    bool dirty;              /* written since the last sync */
    bool trim_due;           /* limits to apply once the buffered appends are written */
    uint64_t unflushed_from; /* the first append of this iteration */
    bool in_flush_list;
    struct nb_stream *flush_next;
    struct nb_held_ack *acks, **acks_tail; /* PubAcks waiting for the buffered appends */
    char *ack_prefix;                      /* {"stream":"NAME","seq": */
    size_t ack_prefix_len;
};

/* Starts JetStream when the configuration asks for it: loads the streams, serves the API. */
int nb__js_start(struct nb_server *srv, char *err, size_t cap);
/* Stops the timers (each closed handle is reported to the server) before the server frees. */
void nb__js_stop(struct nb_server *srv);
/* Syncs and closes every stream (a clean shutdown) and frees JetStream. */
void nb__js_free(struct nb_server *srv);
/* The server's 100 ms ticker: consumers' inactivity and heartbeats, and their saved state. */
void nb__js_tick(struct nb_server *srv);
/* Makes sure the consumers' deadlines are looked at no later than due_ms (loop time). */
void nb__js_wake_at(struct nb_js *js, uint64_t due_ms);
/* Called once per loop iteration before output is flushed: starts the sync held PubAcks wait for. */
void nb__js_before_flush(struct nb_server *srv);

/* ---- streams (nb_stream.c) -------------------------------------------------------------------- */

/*
 * Creates a stream from cfg (file streams get dir, created if missing, holding meta.json and msgs/)
 * or, with created_ns not 0, loads one that exists. Returns 0 and sets *out, or -1 with err set.
 */
int nb__stream_open(struct nb_js *js, const struct nb_stream_config *cfg, int64_t created_ns,
                    struct nb_stream **out, struct nb_jserr *err);
/* Applies a new configuration (already checked with nb_streamcfg_check_update). 0 or -1 + err. */
int nb__stream_update(struct nb_stream *st, const struct nb_stream_config *cfg,
                      struct nb_jserr *err);
/* Closes the stream; with remove, its files are deleted too. Frees it. */
void nb__stream_close(struct nb_stream *st, bool remove);
/* The StreamInfo object (config, created, state); filter and deleted add the optional parts. */
cJSON *nb__stream_info(struct nb_stream *st, const char *subjects_filter, bool deleted);
/* Purges per the API request. Returns 0 and sets *purged, or -1 with err set. */
int nb__stream_purge(struct nb_stream *st, const char *filter, uint64_t upto, uint64_t keep,
                     uint64_t *purged, struct nb_jserr *err);
/* Handles one captured message; replies with a PubAck when it has a reply subject. */
void nb__stream_ingest(struct nb_stream *st, const struct nb_msg *msg);
/*
 * Writes the buffered appends, applies the limits they were waiting for, and hands back the
 * PubAcks that may now go out (in *ready). When the write fails, those PubAcks become errors and
 * are answered here; *ready is then NULL.
 */
void nb__stream_flush(struct nb_stream *st, struct nb_held_ack **ready);
/*
 * After a store call failed: the store undid its buffered appends, so PubAcks for them become
 * errors, and what was derived from them (duplicate window, last msg id) is reloaded.
 */
void nb__stream_undone(struct nb_stream *st);

/* The first sequence stored at or after ts (ns), or 0 when none is. */
uint64_t nb__stream_seq_at_time(struct nb_stream *st, int64_t ts);

/* ---- the duplicate window (nb_dedupe.c) ----------------------------------------------------------- */

struct nb_dedupe *nb__dedupe_new(void);
void nb__dedupe_free(struct nb_dedupe *d);
/* Remembers that message id (len bytes) was stored as seq at ts. 0 or -1 (out of memory). */
int nb__dedupe_add(struct nb_dedupe *d, const char *id, size_t len, uint64_t seq, int64_t ts);
/* The sequence stored under id, or 0. */
uint64_t nb__dedupe_find(const struct nb_dedupe *d, const char *id, size_t len);
/* Forgets the ids stored before ts. */
void nb__dedupe_expire(struct nb_dedupe *d, int64_t ts);

/* ---- helpers shared by the JetStream modules (nb_js.c) ------------------------------------------ */

/* The wall clock to a few milliseconds, for activity stamps read by humans (consumer info). */
int64_t nb__js_coarse_ns(void);
/* Adds key: n to obj as an exact 64-bit number (cJSON's doubles would round it). */
bool nb__json_u64(cJSON *obj, const char *key, uint64_t n);
bool nb__json_i64(cJSON *obj, const char *key, int64_t n);
/* Adds key: the RFC 3339 time of ns. */
bool nb__json_time(cJSON *obj, const char *key, int64_t ns);
/* Publishes a reply (body of len bytes, no headers) as the server. */
void nb__js_reply(struct nb_js *js, const char *reply, size_t reply_len, const char *body,
                  size_t len);
/*
 * Sends a PubAck for seq: at once for a memory stream, after the buffered appends were written
 * (and synced, in always mode) for a file stream.
 */
void nb__js_ack(struct nb_stream *st, uint64_t seq, const char *reply, size_t reply_len,
                const char *body, size_t len);
/* Puts st on the list of streams whose buffered appends are written before output goes out. */
void nb__js_flush_soon(struct nb_stream *st);
/* Sends the PubAcks in the list (or frees them unsent) and frees the list. */
void nb__js_release_acks(struct nb_js *js, struct nb_held_ack *a, bool send);
void nb__js_free_ack(struct nb_js *js, struct nb_held_ack *a);
/* Adds a new or loaded stream to the set; removes one (the caller closes it). */
void nb__js_add_stream(struct nb_js *js, struct nb_stream *st);
void nb__js_remove_stream(struct nb_js *js, struct nb_stream *st);
/*
 * Files: "dir/name" (malloc'd or NULL); mkdir -p; replace dir/name atomically (temp file and
 * rename; durable: fsync'd before and after, for what must survive a power cut); rm -r.
 */
char *nb__path_join(const char *dir, const char *name);
int nb__mkdir_p(const char *path);
int nb__write_file_atomic(const char *dir, const char *name, const char *data, size_t len,
                          bool durable);
void nb__remove_tree(const char *path);
/* The stream capturing messages on the literal subject, or NULL. */
struct nb_stream *nb__js_stream_for(struct nb_js *js, const char *subject, size_t len);
/* Whether cfg's subjects overlap a stream other than self. */
bool nb__js_overlaps(struct nb_js *js, const struct nb_stream_config *cfg,
                     const struct nb_stream *self);
/* Total bytes held by streams of one storage kind, for the account limits. */
uint64_t nb__js_usage(struct nb_js *js, enum nb_store_kind kind);

/* ---- the API (nb_jsapi.c) ------------------------------------------------------------------------ */

/* The internal subscription callback for $JS.API.>. */
void nb__jsapi_handle(struct nb_server *srv, const struct nb_msg *msg, void *ud);

#endif
