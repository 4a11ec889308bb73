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

/* The durable state of one consumer: where it is saved, and the changes not yet written. */
struct nb_cstore;

/* Sets *out to the store of c, or to NULL when c keeps no state (not durable, or of a memory
 * stream). Returns 0 or NB_ENOMEM. */
int nb__cstore_new(const struct nb_consumer *c, struct nb_cstore **out);
void nb__cstore_free(struct nb_cstore *cs);
/* Writes meta.json (configuration and creation time) of a durable consumer; logs a failure. */
void nb__cstore_save_config(const struct nb_consumer *c);
/* Removes the consumer's directory (it was deleted). */
void nb__cstore_remove(const struct nb_consumer *c);
/* A delivery (first or again) or a removal from pending, remembered until the next write. */
void nb__cstore_note_delivery(struct nb_cstore *cs, uint64_t sseq, uint64_t dseq, uint64_t dc);
void nb__cstore_note_removal(struct nb_cstore *cs, uint64_t sseq);
/*
 * Writes what changed with the cursor: appended to state.log, or a rewrite of state.json when the
 * log has outgrown it. Whether it was written.
 */
bool nb__cstore_save_state(struct nb_cstore *cs, const struct nb_consumer *c);
/* Appends the noted changes now, before an ack is confirmed: it must outlive a crash. */
void nb__cstore_sync(struct nb_cstore *cs, const struct nb_consumer *c);

/* ---- the consumer, for nb_consumerstore.c ---- */

struct nb_stream *nb__consumer_stream(const struct nb_consumer *c);
struct nb_cstore *nb__consumer_cstore(const struct nb_consumer *c);
int64_t nb__consumer_created(const struct nb_consumer *c);
void nb__consumer_cursor(const struct nb_consumer *c, struct nb_consumer_cursor *out);
/* Calls fn for each pending delivery in stream order while it returns true; false if one did not. */
bool nb__consumer_each_pending(const struct nb_consumer *c,
                               bool (*fn)(void *ud, uint64_t sseq, uint64_t dseq, uint64_t dc),
                               void *ud);

/*
 * Restoring a saved consumer: nb__consumer_restore, then either nb__consumer_restore_cursor and
 * nb__consumer_restore_pending for each saved delivery, or nb__consumer_start when no state was
 * saved; then, for each record of state.log, nb__consumer_restore_delivery, _ack or _cursor (with
 * the consumer's own lps), and nb__consumer_restored at the end.
 */
struct nb_consumer *nb__consumer_restore(struct nb_stream *st, const struct nb_consumer_config *cfg,
                                         int64_t created_ns);
void nb__consumer_restore_cursor(struct nb_consumer *c, const struct nb_consumer_cursor *cur);
/* A pending delivery, redelivered one ack_wait from now. false: no memory. */
bool nb__consumer_restore_pending(struct nb_consumer *c, uint64_t sseq, uint64_t dseq, uint64_t dc);
/* Positions a consumer that has no saved state by its deliver policy. false: no memory. */
bool nb__consumer_start(struct nb_consumer *c);
void nb__consumer_restore_ack(struct nb_consumer *c, uint64_t sseq, bool upto);
/* A logged delivery: sseq is pending with that delivery, and the cursor is past it. */
bool nb__consumer_restore_delivery(struct nb_consumer *c, uint64_t sseq, uint64_t dseq,
                                   uint64_t dc);
void nb__consumer_restored(struct nb_consumer *c);

#endif
