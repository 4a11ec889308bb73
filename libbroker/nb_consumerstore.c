/*
 * The durable state of consumers. A durable consumer of a file stream keeps <stream dir>/obs/<name>/:
 * meta.json (configuration and creation time, written when they change), state.json (cursor, ack
 * floor and pending deliveries: a snapshot) and state.log (the changes since that snapshot).
 *
 * Rewriting the whole state every time it changed cost O(pending) per tick: with 100,000 pending
 * messages, tens of milliseconds of the loop every 100 ms. Changes are therefore noted as they
 * happen (a delivery: "D sseq dseq dc"; a removal from pending: "A sseq") and appended to the log
 * once per tick with the cursor ("C sseq dseq ilps redelivered"), so a tick costs what changed. The
 * snapshot is rewritten only when the log has grown past twice its size (and at least LOG_MIN),
 * and at the first save after a load. Both carry a generation ("gen" in state.json, "G n" as the
 * log's first line): a log whose generation is not the snapshot's predates it and is ignored, so a
 * crash between writing the snapshot and truncating the log cannot replay stale records. An ack
 * that asked for a confirmation is appended before it is confirmed, so a confirmed ack is never
 * redelivered after a crash.
 */
#include "nb_consumerstore.h"
#include "nb_srv.h"
#include "np.h"
#include "np_buf.h"
#include "np_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MIN (1u << 20) /* the log may reach this much before a snapshot, whatever its size */

struct nb_cstore {
    char *dir;
    int log_fd; /* state.log, opened for appending; -1 until the first snapshot */
    uint64_t gen;
    size_t log_bytes, snap_bytes;
    bool snapshot_due;
    struct np_buf notes; /* records not yet appended */
};

static bool
persistent(const struct nb_consumer *c)
{
    const struct nb_consumer_config *cfg = nb__consumer_config(c);
    return nb__consumer_stream(c)->dir && cfg->durable_name && !cfg->mem_storage;
}

static char *
consumer_dir(const struct nb_consumer *c)
{
    const char *dir = nb__consumer_stream(c)->dir, *name = nb__consumer_config(c)->name;
    size_t n = strlen(dir) + strlen(name) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/obs/%s", dir, name);
    return p;
}

int
nb__cstore_new(const struct nb_consumer *c, struct nb_cstore **out)
{
    *out = NULL;
    if (!persistent(c)) return 0;
    struct nb_cstore *cs = calloc(1, sizeof *cs);
    if (!cs || !(cs->dir = consumer_dir(c))) {
        free(cs);
        return NB_ENOMEM;
    }
    cs->log_fd = -1;
    cs->snapshot_due = true;
    *out = cs;
    return 0;
}

void
nb__cstore_free(struct nb_cstore *cs)
{
    if (!cs) return;
    if (cs->log_fd >= 0) close(cs->log_fd);
    np_buf_release(&cs->notes);
    free(cs->dir);
    free(cs);
}

/* A record of up to four numbers, without printf: deliveries and acks note one each. */
static void
note(struct nb_cstore *cs, char kind, const uint64_t *v, size_t n)
{
    char line[2 + 4 * (NP_U64_DIGITS + 1)];
    size_t len = 0;
    line[len++] = kind;
    for (size_t i = 0; i < n; i++) {
        line[len++] = ' ';
        len += np_enc_u64(line + len, v[i]);
    }
    line[len++] = '\n';
    if (np_buf_add(&cs->notes, line, len) != 0) cs->snapshot_due = true; /* the state is whole */
}

void
nb__cstore_note_delivery(struct nb_cstore *cs, uint64_t sseq, uint64_t dseq, uint64_t dc)
{
    note(cs, 'D', (uint64_t[]){sseq, dseq, dc}, 3);
}

void
nb__cstore_note_removal(struct nb_cstore *cs, uint64_t sseq)
{
    note(cs, 'A', &sseq, 1);
}

/* ---- saving -------------------------------------------------------------------------------------- */

void
nb__cstore_save_config(const struct nb_consumer *c)
{
    if (!persistent(c)) return;
    struct nb_stream *st = nb__consumer_stream(c);
    char *dir = consumer_dir(c);
    cJSON *meta = cJSON_CreateObject(), *cfg = nb_consumercfg_to_json(nb__consumer_config(c));
    bool ok = dir && meta && cfg && nb__mkdir_p(dir) == 0 &&
              cJSON_AddItemToObject(meta, "config", cfg) &&
              nb__json_time(meta, "created", nb__consumer_created(c));
    if (!ok) cJSON_Delete(cfg);
    char *text = ok ? cJSON_PrintUnformatted(meta) : NULL;
    if (text && nb__write_file_atomic(dir, "meta.json", text, strlen(text), true) != 0) ok = false;
    if (!ok)
        nb__log(st->js->srv, NB_LOG_ERROR, "JetStream could not save consumer '%s > %s'",
                st->cfg.name, nb__consumer_config(c)->name);
    free(text);
    cJSON_Delete(meta);
    free(dir);
}

void
nb__cstore_remove(const struct nb_consumer *c)
{
    if (!persistent(c)) return;
    char *dir = consumer_dir(c);
    if (dir) nb__remove_tree(dir);
    free(dir);
}

static bool
add_pending(void *ud, uint64_t sseq, uint64_t dseq, uint64_t dc)
{
    char t[72];
    snprintf(t, sizeof t, "[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", sseq, dseq, dc);
    cJSON *v = cJSON_CreateRaw(t);
    return v && cJSON_AddItemToArray(ud, v);
}

static cJSON *
state_json(const struct nb_consumer *c, uint64_t gen)
{
    struct nb_consumer_cursor cur;
    nb__consumer_cursor(c, &cur);
    cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "pending") : NULL;
    bool ok = arr && nb__json_u64(o, "gen", gen) && nb__json_u64(o, "sseq", cur.sseq) &&
              nb__json_u64(o, "dseq", cur.dseq) && nb__json_u64(o, "ilps", cur.ilps) &&
              nb__json_u64(o, "redelivered", cur.redelivered);
    ok = ok && nb__consumer_each_pending(c, add_pending, arr);
    if (ok && cur.nlps) {
        cJSON *l = cJSON_AddArrayToObject(o, "lps");
        for (size_t i = 0; ok && l && i < cur.nlps; i++) {
            char t[24];
            snprintf(t, sizeof t, "%" PRIu64, cur.lps[i]);
            cJSON *v = cJSON_CreateRaw(t);
            ok = v && cJSON_AddItemToArray(l, v);
        }
        ok = ok && l;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A new log holding only its generation, in place of the old one. */
static int
start_log(struct nb_cstore *cs)
{
    char path[4200], head[32];
    snprintf(path, sizeof path, "%s/state.log", cs->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int n = snprintf(head, sizeof head, "G %" PRIu64 "\n", cs->gen);
    if (write(fd, head, (size_t)n) != n) {
        close(fd);
        return -EIO;
    }
    if (cs->log_fd >= 0) close(cs->log_fd);
    cs->log_fd = fd;
    cs->log_bytes = (size_t)n;
    return 0;
}

static bool
snapshot(struct nb_cstore *cs, const struct nb_consumer *c)
{
    cJSON *o = state_json(c, cs->gen + 1);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    int rc =
        text ? nb__write_file_atomic(cs->dir, "state.json", text, strlen(text), false) : NB_ENOMEM;
    if (rc == 0) {
        cs->gen++;
        cs->snap_bytes = strlen(text);
        cs->notes.len = 0;
        cs->snapshot_due = start_log(cs) != 0;
    }
    free(text);
    cJSON_Delete(o);
    return rc == 0;
}

/* Appends the noted records in one write; a failed one leaves them for a snapshot. */
static bool
append(struct nb_cstore *cs)
{
    if (!cs->notes.len) return true;
    ssize_t w = write(cs->log_fd, cs->notes.ptr, cs->notes.len);
    if (w != (ssize_t)cs->notes.len) {
        cs->snapshot_due = true; /* a partial record is ignored at load, after what was whole */
        return false;
    }
    cs->log_bytes += cs->notes.len;
    cs->notes.len = 0;
    return true;
}

bool
nb__cstore_save_state(struct nb_cstore *cs, const struct nb_consumer *c)
{
    size_t limit = cs->snap_bytes * 2 > LOG_MIN ? cs->snap_bytes * 2 : LOG_MIN;
    if (cs->snapshot_due || cs->log_fd < 0 || cs->log_bytes + cs->notes.len > limit)
        return snapshot(cs, c);
    struct nb_consumer_cursor cur;
    nb__consumer_cursor(c, &cur);
    note(cs, 'C', (uint64_t[]){cur.sseq, cur.dseq, cur.ilps, cur.redelivered}, 4);
    return append(cs) || snapshot(cs, c);
}

void
nb__cstore_sync(struct nb_cstore *cs, const struct nb_consumer *c)
{
    if (cs->snapshot_due || cs->log_fd < 0 || !append(cs)) snapshot(cs, c);
}

/* ---- loading ------------------------------------------------------------------------------------- */

static uint64_t
json_u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble : 0;
}

static void
load_state(struct nb_consumer *c, const cJSON *o)
{
    struct nb_consumer_cursor cur = {.sseq = json_u64(o, "sseq"),
                                     .dseq = json_u64(o, "dseq"),
                                     .ilps = json_u64(o, "ilps"),
                                     .redelivered = json_u64(o, "redelivered")};
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "lps"), *v;
    size_t n = (size_t)cJSON_GetArraySize(l);
    if (n && (cur.lps = calloc(n, sizeof *cur.lps))) {
        cJSON_ArrayForEach(v, l) cur.lps[cur.nlps++] = (uint64_t)v->valuedouble;
    }
    nb__consumer_restore_cursor(c, &cur);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o, "pending"))
    {
        if (!nb__consumer_restore_pending(c, (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble,
                                          (uint64_t)cJSON_GetArrayItem(v, 1)->valuedouble,
                                          (uint64_t)cJSON_GetArrayItem(v, 2)->valuedouble))
            break;
    }
}

/* Up to max numbers after a record's letter; returns how many were read. */
static size_t
numbers(const char *p, const char *end, uint64_t *v, size_t max)
{
    size_t n = 0;
    while (n < max && p < end && *p == ' ') {
        char *next;
        v[n] = strtoull(p + 1, &next, 10);
        if (next == p + 1) break;
        p = next;
        n++;
    }
    return p == end ? n : 0;
}

static void
apply_record(struct nb_consumer *c, const char *p, const char *end)
{
    uint64_t v[4];
    size_t n = numbers(p + 1, end, v, 4);
    if (p[0] == 'D' && n == 3) {
        nb__consumer_restore_delivery(c, v[0], v[1], v[2]);
    } else if (p[0] == 'A' && n == 1) {
        nb__consumer_restore_ack(c, v[0], false);
    } else if (p[0] == 'C' && n == 4) {
        struct nb_consumer_cursor cur;
        nb__consumer_cursor(c, &cur);
        cur.sseq = v[0];
        cur.dseq = v[1];
        cur.ilps = v[2];
        cur.redelivered = v[3];
        nb__consumer_restore_cursor(c, &cur);
    }
}

/*
 * Applies state.log when it continues the snapshot of generation gen. A last line without its
 * newline was torn by a crash while being written: it is left out.
 */
static void
replay_log(struct nb_consumer *c, const char *text, uint64_t gen)
{
    const char *p = text, *nl = strchr(p, '\n');
    uint64_t v;
    if (!nl || p[0] != 'G' || numbers(p + 1, nl, &v, 1) != 1 || v != gen) return;
    for (p = nl + 1; (nl = strchr(p, '\n')); p = nl + 1)
        if (nl > p) apply_record(c, p, nl);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct np_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (np_buf_add(&b, chunk, n) != 0) break;
    fclose(f);
    return b.ptr;
}

static void
load_consumer(struct nb_stream *st, const char *obs, const char *name)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s/meta.json", obs, name) >= (int)sizeof path) return;
    char *text = read_text(path);
    cJSON *meta = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(meta, "created");
    struct nb_consumer_config cfg;
    struct nb_jserr err = {0};
    int64_t created_ns = 0;
    if (!meta || !cJSON_IsString(created) ||
        np_time_parse(created->valuestring, strlen(created->valuestring), &created_ns) != 0 ||
        nb_consumercfg_from_json(&cfg, cJSON_GetObjectItemCaseSensitive(meta, "config"), &st->cfg,
                                 &err) != 0) {
        nb__log(st->js->srv, NB_LOG_ERROR, "JetStream could not restore consumer '%s > %s'",
                st->cfg.name, name);
        cJSON_Delete(meta);
        return;
    }
    cJSON_Delete(meta);
    struct nb_consumer *c = nb__consumer_restore(st, &cfg, created_ns);
    nb_consumercfg_release(&cfg);
    if (!c) return;
    if (snprintf(path, sizeof path, "%s/%s/state.json", obs, name) >= (int)sizeof path)
        path[0] = '\0';
    text = read_text(path);
    cJSON *state = text ? cJSON_Parse(text) : NULL;
    free(text);
    uint64_t gen = json_u64(state, "gen");
    if (state && json_u64(state, "dseq")) {
        load_state(c, state);
    } else {
        nb__consumer_start(c);
    }
    cJSON_Delete(state);
    if (snprintf(path, sizeof path, "%s/%s/state.log", obs, name) < (int)sizeof path &&
        (text = read_text(path))) {
        replay_log(c, text, gen);
        free(text);
    }
    struct nb_cstore *cs = nb__consumer_cstore(c);
    if (cs) cs->gen = gen;
    nb__consumer_restored(c);
}

void
nb__consumers_load(struct nb_stream *st)
{
    if (!st->dir) return;
    char obs[4200];
    snprintf(obs, sizeof obs, "%s/obs", st->dir);
    DIR *d = opendir(obs);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.') load_consumer(st, obs, e->d_name);
    }
    closedir(d);
}
