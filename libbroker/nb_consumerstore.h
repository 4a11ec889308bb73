/*
 * Private to the consumer modules. nb_consumerstore.c keeps the state of durable consumers of file
 * streams in <stream dir>/obs/<name>/; nb_consumer.c owns that state and lends the store the few
 * operations it needs to save and restore it, so neither sees the other's internals.
 */
#ifndef NB_CONSUMERSTORE_H
#define NB_CONSUMERSTORE_H

#include "nb_consumer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A consumer's position apart from its pending deliveries. lps (the last_per_subject sequences) is
 * borrowed when saving and handed to the consumer when restoring.
 */
struct nb_consumer_cursor {
    uint64_t sseq, dseq, ilps, redelivered;
    uint64_t *lps;
    size_t nlps;
};

/* ---- the store, for nb_consumer.c ---- */

/* Writes meta.json (configuration and creation time) of a durable consumer; logs a failure. */
void nb__cstore_save_config(const struct nb_consumer *c);
/* Removes the consumer's directory (it was deleted). */
void nb__cstore_remove(const struct nb_consumer *c);
/* Rewrites state.json and empties acks.log. Whether it was written (false: not durable too). */
bool nb__cstore_save_state(const struct nb_consumer *c);
/* Appends an ack to acks.log, so a confirmed ack outlives a crash before the next rewrite. */
void nb__cstore_log_ack(const struct nb_consumer *c, uint64_t sseq, bool upto);

/* ---- the consumer, for nb_consumerstore.c ---- */

struct nb_stream *nb__consumer_stream(const struct nb_consumer *c);
int64_t nb__consumer_created(const struct nb_consumer *c);
void nb__consumer_cursor(const struct nb_consumer *c, struct nb_consumer_cursor *out);
/* Calls fn for each pending delivery in stream order while it returns true; false if one did not. */
bool nb__consumer_each_pending(const struct nb_consumer *c,
                               bool (*fn)(void *ud, uint64_t sseq, uint64_t dseq, uint64_t dc),
                               void *ud);

/*
 * Restoring a saved consumer: nb__consumer_restore, then either nb__consumer_restore_cursor and
 * nb__consumer_restore_pending for each saved delivery, or nb__consumer_start when no state was
 * saved; then nb__consumer_restore_ack for each logged ack, and nb__consumer_restored at the end.
 */
struct nb_consumer *nb__consumer_restore(struct nb_stream *st, const struct nb_consumer_config *cfg,
                                         int64_t created_ns);
void nb__consumer_restore_cursor(struct nb_consumer *c, const struct nb_consumer_cursor *cur);
/* A pending delivery, redelivered one ack_wait from now. false: no memory. */
bool nb__consumer_restore_pending(struct nb_consumer *c, uint64_t sseq, uint64_t dseq, uint64_t dc);
/* Positions a consumer that has no saved state by its deliver policy. false: no memory. */
bool nb__consumer_start(struct nb_consumer *c);
void nb__consumer_restore_ack(struct nb_consumer *c, uint64_t sseq, bool upto);
void nb__consumer_restored(struct nb_consumer *c);

#endif
