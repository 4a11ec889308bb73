/*
 * Consumers: a stream read by a cursor with at-least-once delivery (spec 4, 5). A consumer is "just
 * a publisher that reads from the stream": it hands stored messages to its inbox (push) or to the
 * inboxes of waiting pull requests, with a $JS.ACK reply subject it listens on itself.
 */
#ifndef NB_CONSUMER_H
#define NB_CONSUMER_H

#include "nb_consumercfg.h"
#include "nb_js.h"

#include <cJSON.h>

struct nb_consumer;

/*
 * Creates a consumer on st from a normalised configuration whose name is set. Returns 0 and sets
 * *out, or -1 with err.
 */
int nb__consumer_create(struct nb_stream *st, const struct nb_consumer_config *cfg,
                        struct nb_consumer **out, struct nb_jserr *err);
/* The next consumer of the same stream, for iterating st->consumers. */
struct nb_consumer *nb__consumer_next(const struct nb_consumer *c);
/* The consumer of st named name (len bytes), or NULL. */
struct nb_consumer *nb__consumer_find(struct nb_stream *st, const char *name, size_t len);
/* Applies an update already allowed by nb_consumercfg_check_update. 0 or -1 with err. */
int nb__consumer_update(struct nb_consumer *c, const struct nb_consumer_config *cfg,
                        struct nb_jserr *err);
/* Deletes c: waiting pull requests get 409 Consumer Deleted; with forget, its files go too. */
void nb__consumer_delete(struct nb_consumer *c, bool forget);
const struct nb_consumer_config *nb__consumer_config(const struct nb_consumer *c);
/* Whether a push consumer's deliver subject has a subscriber (a durable "bound" to a client). */
bool nb__consumer_bound(const struct nb_consumer *c);
/* The ConsumerInfo object. */
cJSON *nb__consumer_info(struct nb_consumer *c);
/* A pull request (CONSUMER.MSG.NEXT) with its reply subject. */
void nb__consumer_pull(struct nb_consumer *c, const struct nb_msg *req);

/* Everything of st's consumers at once, for the stream. */
void nb__consumers_appended(struct nb_stream *st, uint64_t seq, const char *subject, size_t len);
/* Before a message leaves st (limits, delete): consumers that had not reached it count it off. */
void nb__consumers_removing(struct nb_stream *st, uint64_t seq);
/* After a purge: counts are recomputed. */
void nb__consumers_purged(struct nb_stream *st);
/* Delivers what the consumers of st can deliver now. */
void nb__consumers_kick(struct nb_stream *st);
/* Timers: redeliveries due, pull request expiries and heartbeats, inactivity. */
void nb__consumers_tick(struct nb_stream *st, uint64_t now_ms);
/* The stream sequence below which c has settled everything. */
uint64_t nb__consumer_floor(const struct nb_consumer *c);
/* Interest retention: removes the messages from seq on that no consumer wants any more. */
void nb__consumers_release(struct nb_stream *st, uint64_t from);
/* Deletes every consumer of st (the stream is going away). */
void nb__consumers_close(struct nb_stream *st, bool forget);
/* Loads the durable consumers saved under the stream's directory. */
void nb__consumers_load(struct nb_stream *st);
/* Writes the state of durable consumers that changed (called on the ticker and at a stop). */
void nb__consumers_save(struct nb_stream *st);
/*
 * Whether a message of st (seq, subject) is still wanted by a consumer: interest and work-queue
 * retention remove it when none does.
 */
bool nb__consumers_want(struct nb_stream *st, uint64_t seq, const char *subject, size_t len);

#endif
