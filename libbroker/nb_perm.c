/*
 * Permission checks, after nats-server 2.9.10 (client.go: setPermissions, canSubscribe,
 * queueMatches, pubAllowedFullCheck, checkDenySub, deliverMsg's reply tracking).
 *
 * Lists are scanned pattern by pattern: a list is what one user was given, and the answers for
 * publish subjects and filtered deliveries are cached per connection (128 and 256 subjects, as
 * nats-server's caches), so allowed traffic costs one lookup and no allocation. Two deliberate
 * differences, both refusing what nats-server 2.9.10 lets through (docs/security.md):
 * - a subscription must be covered by an allow entry: nats-server matches its '*' and '>' as
 *   literal tokens, so that an allow entry "foo.*" admits "foo.>";
 * - a queue subscription whose subject matches a plain deny entry is refused even when a queue
 *   deny entry for another group also matches (nats-server 2.9.10 let the queue entry decide).
 * And one of degree: the subscribe deny list filters every wildcard subscription that overlaps it,
 * where nats-server turns filtering on only once a wildcard subscription contains a deny entry.
 */
#include "nb_perm.h"

#include <stdlib.h>
#include <string.h>

#define PUB_CACHE     128  /* nats-server's maxPermCacheSize */
#define DELIVER_CACHE 256  /* maxDenyPermCacheSize */
#define REPLIES_MAX   4096 /* replyPermLimit: reply subjects remembered per connection */

/* ---- compiling ----------------------------------------------------------------------------------- */

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Copies s into the text block at *p and returns the copy's view. */
static struct np_str
keep(char **p, const char *s, size_t len)
{
    char *dst = *p;
    memcpy(dst, s, len);
    dst[len] = '\0';
    *p += len + 1;
    return (struct np_str){dst, len};
}

/*
 * Fills list from entries; with queues, "subject queue" is split in two (nats-server's
 * splitSubjectQueue), and an entry of more words, which the configuration cannot hold, is left out.
 */
static void
compile_list(struct nb_perm_list *list, char *const *entries, size_t n, bool queues, char **text)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = entries[i], *words[3];
        size_t lens[3], nw = 0;
        if (!queues) {
            words[0] = s;
            lens[0] = strlen(s);
            nw = 1;
        }
        for (const char *p = s; queues && *p && nw < 3;) {
            while (blank(*p))
                p++;
            if (!*p) break;
            words[nw] = p;
            while (*p && !blank(*p))
                p++;
            lens[nw] = (size_t)(p - words[nw]);
            nw++;
        }
        if (nw == 0 || nw > 2) continue;
        struct np_str subj = keep(text, words[0], lens[0]);
        struct np_str queue = nw == 2 ? keep(text, words[1], lens[1]) : (struct np_str){"", 0};
        list->v[list->n++] =
            (struct nb_perm_entry){subj.ptr, queue.ptr, (uint32_t)subj.len, (uint32_t)queue.len};
    }
}

static size_t
text_size(char *const *entries, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(entries[i]) + 2; /* a split entry needs two terminators */
    return total;
}

static bool
alloc_list(struct nb_perm_list *list, size_t n)
{
    list->n = 0;
    list->v = n ? calloc(n, sizeof *list->v) : NULL;
    return !n || list->v;
}

void
nb__perm_set_free(struct nb_perm_set *set)
{
    if (!set) return;
    free(set->pub_allow.v);
    free(set->pub_deny.v);
    free(set->sub_allow.v);
    free(set->sub_deny.v);
    free(set->text);
    free(set);
}

int
nb__perm_set_new(const struct nb_permissions *cfg, struct nb_perm_set **out)
{
    const struct nb_subject_perms *pub = &cfg->publish, *sub = &cfg->subscribe;
    struct nb_perm_set *set = calloc(1, sizeof *set);
    size_t size = text_size(pub->allow, pub->nallow) + text_size(pub->deny, pub->ndeny) +
                  text_size(sub->allow, sub->nallow) + text_size(sub->deny, sub->ndeny);
    if (!set || !(set->text = malloc(size ? size : 1)) ||
        !alloc_list(&set->pub_allow, pub->nallow) || !alloc_list(&set->pub_deny, pub->ndeny) ||
        !alloc_list(&set->sub_allow, sub->nallow) || !alloc_list(&set->sub_deny, sub->ndeny)) {
        nb__perm_set_free(set);
        return NB_ENOMEM;
    }
    char *text = set->text;
    compile_list(&set->pub_allow, pub->allow, pub->nallow, false, &text);
    compile_list(&set->pub_deny, pub->deny, pub->ndeny, false, &text);
    compile_list(&set->sub_allow, sub->allow, sub->nallow, true, &text);
    compile_list(&set->sub_deny, sub->deny, sub->ndeny, true, &text);
    set->pub_limited = set->pub_allow.n > 0 || cfg->allow_responses;
    for (uint32_t i = 0; i < set->sub_deny.n; i++)
        set->sub_deny_plain = set->sub_deny_plain || set->sub_deny.v[i].queue_len == 0;
    set->responses = cfg->allow_responses;
    set->responses_max = cfg->responses_max;
    set->responses_ttl_ms = cfg->responses_ttl_ms;
    *out = set;
    return 0;
}

/* ---- subscribing --------------------------------------------------------------------------------- */

/* nats-server's queueMatches for one entry: the same name, or a name its wildcards cover. */
static bool
queue_matches(struct np_str queue, const struct nb_perm_entry *e)
{
    if (queue.len == e->queue_len && memcmp(queue.ptr, e->queue, queue.len) == 0) return true;
    return np_subject_has_wildcard(e->queue, e->queue_len) &&
           np_subject_subset(queue.ptr, queue.len, e->queue, e->queue_len);
}

/*
 * An allow list admits a plain subscription covered by a plain entry. A queue subscription whose
 * subject is covered by queue entries must also name one of their groups.
 */
static bool
allow_admits(const struct nb_perm_list *allow, struct np_str subject, struct np_str queue)
{
    bool plain = false, queued = false, queue_ok = false;
    for (uint32_t i = 0; i < allow->n; i++) {
        const struct nb_perm_entry *e = &allow->v[i];
        if (!np_subject_subset(subject.ptr, subject.len, e->subject, e->subject_len)) continue;
        if (e->queue_len == 0) {
            plain = true;
        } else {
            queued = true;
            queue_ok = queue_ok || (queue.len && queue_matches(queue, e));
        }
    }
    return queue.len && queued ? queue_ok : plain;
}

/* A deny list refuses what a plain entry matches, and a queue group that a queue entry names. */
static bool
deny_refuses(const struct nb_perm_list *deny, struct np_str subject, struct np_str queue)
{
    for (uint32_t i = 0; i < deny->n; i++) {
        const struct nb_perm_entry *e = &deny->v[i];
        if (!np_subject_match(e->subject, e->subject_len, subject.ptr, subject.len)) continue;
        if (e->queue_len == 0 || (queue.len && queue_matches(queue, e))) return true;
    }
    return false;
}

bool
nb__perm_may_subscribe(const struct nb_perm_set *set, struct np_str subject, struct np_str queue)
{
    static const char sys_group[] = "_sys_";
    if (queue.len == sizeof sys_group - 1 && memcmp(queue.ptr, sys_group, queue.len) == 0)
        return false;
    if (set->sub_allow.n && !allow_admits(&set->sub_allow, subject, queue)) return false;
    return !deny_refuses(&set->sub_deny, subject, queue);
}

bool
nb__perm_filters(const struct nb_perm_set *set, struct np_str subject)
{
    if (!set->sub_deny_plain || !np_subject_has_wildcard(subject.ptr, subject.len)) return false;
    for (uint32_t i = 0; i < set->sub_deny.n; i++) {
        const struct nb_perm_entry *e = &set->sub_deny.v[i];
        if (e->queue_len == 0 &&
            np_subject_intersect(e->subject, e->subject_len, subject.ptr, subject.len))
            return true;
    }
    return false;
}

/* ---- publishing and delivery --------------------------------------------------------------------- */

void
nb__perm_state_init(struct nb_perm_state *st, const struct nb_perm_set *set)
{
    memset(st, 0, sizeof *st);
    st->set = set;
    st->pub.max = PUB_CACHE;
    st->deliver.max = DELIVER_CACHE;
    st->replies.max = REPLIES_MAX;
}

void
nb__perm_state_release(struct nb_perm_state *st)
{
    nb__scache_release(&st->pub);
    nb__scache_release(&st->deliver);
    nb__scache_release(&st->replies);
}

/* Whether a plain entry of list matches the literal subject. */
static bool
list_matches(const struct nb_perm_list *list, const char *subject, size_t len)
{
    for (uint32_t i = 0; i < list->n; i++) {
        const struct nb_perm_entry *e = &list->v[i];
        if (e->queue_len == 0 && np_subject_match(e->subject, e->subject_len, subject, len))
            return true;
    }
    return false;
}

/* A response to a message received with this reply subject, within its count and time. */
static bool
response_allowed(struct nb_perm_state *st, const char *subject, size_t len, uint64_t now_ms)
{
    const struct nb_perm_set *set = st->set;
    struct nb_scache_entry *e = nb__scache_get(&st->replies, subject, len);
    if (!e) return false;
    e->count++;
    if ((set->responses_max > 0 && e->count > set->responses_max) ||
        (set->responses_ttl_ms > 0 && now_ms - e->time > (uint64_t)set->responses_ttl_ms)) {
        nb__scache_del(&st->replies, e);
        return false;
    }
    return true;
}

/*
 * The answer for a subject other than the last one published: from the cache, or decided and
 * cached unless responses may change it. Kept out of line so that nb__perm_may_publish() saves almost no
 * registers on the path every message takes.
 */
static __attribute__((noinline)) bool
publish_lookup(struct nb_perm_state *st, const char *subject, size_t len, uint64_t now_ms)
{
    const struct nb_perm_set *set = st->set;
    struct nb_scache_entry *e = nb__scache_get(&st->pub, subject, len);
    if (e) return e->allowed;
    bool allowed = !set->pub_limited || list_matches(&set->pub_allow, subject, len);
    allowed = allowed && !list_matches(&set->pub_deny, subject, len);
    /* A refusal is not cached while responses may still turn it into a yes. */
    if (!allowed && set->responses) return response_allowed(st, subject, len, now_ms);
    if ((e = nb__scache_put(&st->pub, subject, len))) e->allowed = allowed;
    return allowed;
}

bool
nb__perm_may_publish(struct nb_perm_state *st, const char *subject, size_t len, uint64_t now_ms)
{
    const struct nb_perm_set *set = st->set;
    if (!set->pub_limited && set->pub_deny.n == 0) return true;
    const struct nb_scache_entry *e = nb__scache_last(&st->pub, subject, len);
    return e ? e->allowed : publish_lookup(st, subject, len, now_ms);
}

bool
nb__perm_may_deliver(struct nb_perm_state *st, const char *subject, size_t len)
{
    struct nb_scache_entry *e = nb__scache_get(&st->deliver, subject, len);
    if (e) return e->allowed;
    bool allowed = !list_matches(&st->set->sub_deny, subject, len);
    if ((e = nb__scache_put(&st->deliver, subject, len))) e->allowed = allowed;
    return allowed;
}

void
nb__perm_reply_received(struct nb_perm_state *st, const char *reply, size_t len, uint64_t now_ms)
{
    struct nb_scache_entry *e = nb__scache_put(&st->replies, reply, len);
    if (!e) return;
    e->time = now_ms;
    e->count = 0;
}
