/*
 * The memory store's message bodies: one malloc'd record per message, owned by its slot. The
 * subject is not copied: the slot's subject entry already holds it.
 */
#include "nb.h"
#include "nb_store_int.h"

#include <stdlib.h>
#include <string.h>

int
nb__mem_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
               size_t hdr_len, const char *data, size_t data_len, int64_t ts)
{
    struct nb__blk *b = st->blks[st->nblks - 1];
    if (b->n >= MEM_BLK_SLOTS) {
        b = nb__blk_new(st, st->last_seq + 1);
        if (!b) return NB_ENOMEM;
    }
    struct nb__subj *s;
    if (nb__blk_reserve(st, b, true, b->n + 1) || nb__subj_ref(st, subject, subject_len, &s))
        return NB_ENOMEM;
    struct nb__mrec *r = malloc(sizeof *r + hdr_len + data_len);
    if (!r) {
        nb__subj_unref_unused(st, s);
        return NB_ENOMEM;
    }
    r->ts = ts;
    r->hdr_len = hdr_len;
    r->data_len = data_len;
    if (hdr_len) memcpy(r->bytes, hdr, hdr_len);
    if (data_len) memcpy(r->bytes + hdr_len, data, data_len);
    b->mem[b->n] = r;
    nb__index_add(st, b, s, nb_store_record_size(st, subject_len, hdr_len, data_len), ts);
    return 0;
}

void
nb__mem_load(const struct nb__blk *b, uint32_t slot, struct nb_store_msg *out)
{
    const struct nb__mrec *r = b->mem[slot];
    out->ts = r->ts;
    out->hdr = r->hdr_len ? r->bytes : NULL;
    out->hdr_len = r->hdr_len;
    out->data = r->bytes + r->hdr_len;
    out->data_len = r->data_len;
}

void
nb__mem_free_slot(struct nb__blk *b, uint32_t slot)
{
    free(b->mem[slot]);
    b->mem[slot] = NULL;
}
