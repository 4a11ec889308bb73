/*
 * The durable state of consumers. A durable consumer of a file stream keeps <stream dir>/obs/<name>/:
 * meta.json (configuration and creation time, written when they change) and state.json (cursor,
 * ack floor and pending deliveries, rewritten by the ticker at most every 100 ms when it changed).
 * An ack that asked for a confirmation is appended to acks.log before it is confirmed, so a
 * confirmed ack is never redelivered after a crash; the ticker's rewrite of state.json empties the
 * log.
 */
#include "nb_consumerstore.h"
#include "nb_srv.h"
#include "np.h"
#include "np_time.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
state_json(const struct nb_consumer *c)
{
    struct nb_consumer_cursor cur;
    nb__consumer_cursor(c, &cur);
    cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "pending") : NULL;
    bool ok = arr && nb__json_u64(o, "sseq", cur.sseq) && nb__json_u64(o, "dseq", cur.dseq) &&
              nb__json_u64(o, "ilps", cur.ilps) && nb__json_u64(o, "redelivered", cur.redelivered);
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

bool
nb__cstore_save_state(const struct nb_consumer *c)
{
    if (!persistent(c)) return false;
    char *dir = consumer_dir(c);
    cJSON *o = state_json(c);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    int rc = dir && text ? nb__write_file_atomic(dir, "state.json", text, strlen(text), false)
                         : NB_ENOMEM;
    if (rc == 0) {
        char log[4200];
        snprintf(log, sizeof log, "%s/acks.log", dir);
        remove(log);
    }
    free(text);
    cJSON_Delete(o);
    free(dir);
    return rc == 0;
}

void
nb__cstore_log_ack(const struct nb_consumer *c, uint64_t sseq, bool upto)
{
    if (!persistent(c)) return;
    char *dir = consumer_dir(c), path[4200];
    if (!dir) return;
    snprintf(path, sizeof path, "%s/acks.log", dir);
    free(dir);
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s%" PRIu64 "\n", upto ? "<=" : "", sseq);
    fclose(f);
}

/* ---- loading ------------------------------------------------------------------------------------- */

static void
replay_log(struct nb_consumer *c, const char *dir)
{
    char path[4200], line[64];
    if (snprintf(path, sizeof path, "%s/acks.log", dir) >= (int)sizeof path) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        bool upto = line[0] == '<';
        nb__consumer_restore_ack(c, strtoull(line + (upto ? 2 : 0), NULL, 10), upto);
    }
    fclose(f);
}

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
    if (state && json_u64(state, "dseq")) {
        load_state(c, state);
    } else {
        nb__consumer_start(c);
    }
    cJSON_Delete(state);
    if (snprintf(path, sizeof path, "%s/%s", obs, name) < (int)sizeof path) replay_log(c, path);
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
