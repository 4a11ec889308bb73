/*
 * JetStream's set of streams: loading them at start, the sync policy, and helpers the stream and
 * API modules share.
 *
 * Sync policy (as nats-server): a PubAck means the message was written to the operating system,
 * and file streams are fsync'd every sync_interval (default 2 minutes) by a libuv worker thread.
 * With sync_interval 0 ("always") PubAcks of file streams are held until a sync that covers them
 * has finished; one sync serves every PubAck held at the end of a loop iteration (group commit).
 */
#include "nb_js.h"
#include "nb_consumer.h"
#include "nb_srv.h"
#include "np_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SYNC_FDS 256

/* ---- small helpers ------------------------------------------------------------------------------ */

int64_t
nb__js_coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool
nb__json_u64(cJSON *obj, const char *key, uint64_t n)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, n);
    return cJSON_AddRawToObject(obj, key, num) != NULL;
}

bool
nb__json_i64(cJSON *obj, const char *key, int64_t n)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, n);
    return cJSON_AddRawToObject(obj, key, num) != NULL;
}

bool
nb__json_time(cJSON *obj, const char *key, int64_t ns)
{
    char buf[NP_TIME_MAX];
    np_time_format(ns, buf, sizeof buf);
    return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

void
nb__js_reply(struct nb_js *js, const char *reply, size_t reply_len, const char *body, size_t len)
{
    if (!reply_len) return;
    struct nb_msg m = {.subject = reply, .subject_len = reply_len, .data = body, .len = len};
    nb_server_publish(js->srv, &m);
}

char *
nb__path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int
nb__mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
    return 0;
}

static int
write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -errno;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int
sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int
nb__write_file_atomic(const char *dir, const char *name, const char *data, size_t len, bool durable)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && durable && fsync(fd) != 0) rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
    if (rc == 0 && durable) rc = sync_dir(dir);
    if (rc) unlink(tmp);
    return rc;
}

void
nb__remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *child = nb__path_join(path, e->d_name);
            if (!child) continue;
            struct stat sb;
            if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode))
                nb__remove_tree(child);
            else
                unlink(child);
            free(child);
        }
        closedir(d);
    }
    rmdir(path);
}

/* ---- streams ------------------------------------------------------------------------------------- */

struct nb_stream *
nb__js_stream_for(struct nb_js *js, const char *subject, size_t len)
{
    for (struct nb_stream *st = js->streams; st; st = st->next) {
        for (size_t i = 0; i < st->cfg.nsubjects; i++) {
            const char *p = st->cfg.subjects[i];
            if (np_subject_match(p, strlen(p), subject, len)) return st;
        }
    }
    return NULL;
}

bool
nb__js_overlaps(struct nb_js *js, const struct nb_stream_config *cfg, const struct nb_stream *self)
{
    for (struct nb_stream *st = js->streams; st; st = st->next) {
        if (st == self) continue;
        for (size_t i = 0; i < st->cfg.nsubjects; i++) {
            const char *a = st->cfg.subjects[i];
            for (size_t k = 0; k < cfg->nsubjects; k++) {
                const char *b = cfg->subjects[k];
                if (np_subject_intersect(a, strlen(a), b, strlen(b))) return true;
            }
        }
    }
    return false;
}

uint64_t
nb__js_usage(struct nb_js *js, enum nb_store_kind kind)
{
    uint64_t total = 0;
    struct nb_store_state s;
    for (struct nb_stream *st = js->streams; st; st = st->next) {
        if (st->cfg.storage != kind) continue;
        nb_store_state(st->store, &s);
        total += s.bytes;
    }
    return total;
}

/* ---- syncing ------------------------------------------------------------------------------------- */

struct sync_job {
    uv_work_t req;
    struct nb_js *js;
    struct nb_held_ack *acks;
    struct nb_store_snap **snaps;
    size_t nsnaps;
    size_t nfds;
    int fds[MAX_SYNC_FDS];
};

static void
sync_work(uv_work_t *req)
{
    struct sync_job *job = req->data;
    for (size_t i = 0; i < job->nfds; i++) {
        fsync(job->fds[i]);
        close(job->fds[i]);
    }
    for (size_t i = 0; i < job->nsnaps; i++)
        nb_store_snap_write(job->snaps[i]);
}

static void
end_snaps(struct nb_store_snap **snaps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nb_store_snap_end(snaps[i]);
    free(snaps);
}

/* Enough recycled PubAcks for a few windows of publishers, without holding on to a burst. */
#define MAX_FREE_ACKS 4096

static struct nb_held_ack *
alloc_ack(struct nb_js *js, size_t len)
{
    struct nb_held_ack *a = js->free_acks;
    if (len <= NB_HELD_ACK_DATA && a) {
        js->free_acks = a->next;
        js->nfree_acks--;
        return a;
    }
    bool pooled = len <= NB_HELD_ACK_DATA;
    a = malloc(sizeof *a + (pooled ? NB_HELD_ACK_DATA : len));
    if (a) a->pooled = pooled;
    return a;
}

void
nb__js_free_ack(struct nb_js *js, struct nb_held_ack *a)
{
    if (!a->pooled || js->nfree_acks == MAX_FREE_ACKS) {
        free(a);
        return;
    }
    a->next = js->free_acks;
    js->free_acks = a;
    js->nfree_acks++;
}

void
nb__js_release_acks(struct nb_js *js, struct nb_held_ack *a, bool send)
{
    while (a) {
        struct nb_held_ack *next = a->next;
        if (send) nb__js_reply(js, a->data, a->reply_len, a->data + a->reply_len, a->body_len);
        nb__js_free_ack(js, a);
        a = next;
    }
}

static void
sync_done(uv_work_t *req, int status)
{
    (void)status;
    struct sync_job *job = req->data;
    struct nb_js *js = job->js;
    js->sync_running = false;
    nb__js_release_acks(js, job->acks, !js->srv->stopping);
    end_snaps(job->snaps, job->nsnaps);
    free(job);
    nb__server_handle_closed(js->srv);
}

/* Hands the dirty files of every stream, and the PubAcks held for them, to a worker. */
static void
start_sync(struct nb_js *js)
{
    if (js->sync_running) return;
    struct sync_job *job = calloc(1, sizeof *job);
    if (!job) return;
    job->js = js;
    job->req.data = job;
    for (struct nb_stream *st = js->streams; st; st = st->next) {
        if (!st->dirty || job->nfds == MAX_SYNC_FDS) continue;
        int n = nb_store_take_dirty(st->store, job->fds + job->nfds, MAX_SYNC_FDS - job->nfds);
        if (n > 0) job->nfds += (size_t)n;
        st->dirty = false;
    }
    job->acks = js->held;
    js->held = NULL;
    js->held_tail = &js->held;
    job->snaps = js->snaps;
    job->nsnaps = js->nsnaps;
    js->snaps = NULL;
    js->nsnaps = js->snaps_cap = 0;
    js->sync_running = true;
    js->srv->open_handles++; /* a stop waits for the worker */
    uv_queue_work(js->srv->loop, &job->req, sync_work, sync_done);
}

/* A stream's checkpoint; its index snapshot, when one is due, goes with the next sync job. */
static void
checkpoint(struct nb_js *js, struct nb_stream *st)
{
    struct nb_store_snap *snap;
    if (js->nsnaps == js->snaps_cap) {
        size_t cap = js->snaps_cap ? js->snaps_cap * 2 : 8;
        struct nb_store_snap **v = realloc(js->snaps, cap * sizeof *v);
        if (!v) return; /* the next timer tries again */
        js->snaps = v;
        js->snaps_cap = cap;
    }
    if (nb_store_checkpoint_begin(st->store, &snap) == 0 && snap) js->snaps[js->nsnaps++] = snap;
}

static void
on_sync_timer(uv_timer_t *t)
{
    struct nb_js *js = t->data;
    for (struct nb_stream *st = js->streams; st; st = st->next)
        checkpoint(js, st);
    start_sync(js);
}

void
nb__js_ack(struct nb_stream *st, uint64_t seq, const char *reply, size_t reply_len,
           const char *body, size_t len)
{
    struct nb_js *js = st->js;
    js->acks_waiting++;
    js->acks_total++;
    if (st->cfg.storage != NB_STORE_FILE) {
        nb__js_reply(js, reply, reply_len, body, len);
        return;
    }
    struct nb_held_ack *a = alloc_ack(js, reply_len + len);
    if (!a) return; /* the publisher times out and retries: at least once still holds */
    a->next = NULL;
    a->seq = seq;
    a->reply_len = reply_len;
    a->body_len = len;
    memcpy(a->data, reply, reply_len);
    memcpy(a->data + reply_len, body, len);
    *st->acks_tail = a;
    st->acks_tail = &a->next;
    nb__js_flush_soon(st);
}

void
nb__js_flush_soon(struct nb_stream *st)
{
    if (st->in_flush_list) return;
    st->in_flush_list = true;
    st->flush_next = st->js->flush_list;
    st->js->flush_list = st;
}

/* A list of PubAcks goes out now, or joins those waiting for the next sync. */
static void
acks_written(struct nb_js *js, struct nb_held_ack *ready)
{
    if (!ready) return;
    if (js->srv->cfg.js_sync_interval_ms != 0) return nb__js_release_acks(js, ready, true);
    *js->held_tail = ready;
    while (ready->next)
        ready = ready->next;
    js->held_tail = &ready->next;
}

void
nb__js_before_flush(struct nb_server *srv)
{
    struct nb_js *js = srv->js;
    if (!js) return;
    js->acks_waiting = 0;
    while (js->flush_list) {
        struct nb_stream *st = js->flush_list;
        js->flush_list = st->flush_next;
        st->in_flush_list = false;
        struct nb_held_ack *ready;
        nb__stream_flush(st, &ready);
        acks_written(js, ready);
    }
    if (js->held && !js->sync_running) start_sync(js);
}

static void
consumer_events(struct nb_js *js, bool save)
{
    uv_update_time(js->srv->loop);
    uint64_t now = nb__now_ms(js->srv);
    for (struct nb_stream *st = js->streams; st; st = st->next) {
        if (!st->consumers) continue;
        nb__consumers_tick(st, now);
        if (save) nb__consumers_save(st);
    }
}

void
nb__js_tick(struct nb_server *srv)
{
    if (!srv->js) return;
    consumer_events(srv->js, true);
    nb__flush_output(srv);
}

/*
 * Output produced in a timer callback would otherwise wait for the flusher, which runs only once
 * the next poll returns: up to the next timer or network event.
 */
static void
on_event_timer(uv_timer_t *t)
{
    struct nb_js *js = t->data;
    js->event_due = 0;
    consumer_events(js, false);
    nb__flush_output(js->srv);
}

void
nb__js_wake_at(struct nb_js *js, uint64_t due_ms)
{
    if (!js->sync_timer_open || (js->event_due && js->event_due <= due_ms)) return;
    uv_update_time(js->srv->loop);
    uint64_t now = nb__now_ms(js->srv);
    js->event_due = due_ms > now ? due_ms : now;
    uv_timer_start(&js->event_timer, on_event_timer, js->event_due - now, 0);
}

/* ---- loading ------------------------------------------------------------------------------------- */

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n == cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) break;
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Loads the stream in dir/name from its meta.json. Failures are logged; the others still load. */
static void
load_stream(struct nb_js *js, const char *name)
{
    char *dir = nb__path_join(js->streams_dir, name),
         *meta = dir ? nb__path_join(dir, "meta.json") : NULL;
    size_t len = 0;
    char *text = meta ? read_file(meta, &len) : NULL;
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(doc, "created");
    struct nb_stream_config cfg;
    struct nb_jserr err = {0};
    int64_t created_ns = 0;
    struct nb_stream *st = NULL;
    if (!doc || !cJSON_IsString(created) ||
        np_time_parse(created->valuestring, strlen(created->valuestring), &created_ns) != 0) {
        nb__log(js->srv, NB_LOG_ERROR, "JetStream could not read %s: skipping stream '%s'",
                meta ? meta : name, name);
    } else if (nb_streamcfg_from_json(&cfg, cJSON_GetObjectItemCaseSensitive(doc, "config"),
                                      &err) != 0) {
        nb__log(js->srv, NB_LOG_ERROR, "JetStream stream '%s' has a bad configuration: %s", name,
                err.description);
    } else {
        if (nb__stream_open(js, &cfg, created_ns ? created_ns : 1, &st, &err) != 0) {
            nb__log(js->srv, NB_LOG_ERROR, "JetStream could not restore stream '%s': %s", name,
                    err.description);
        } else {
            struct nb_store_state s;
            nb_store_state(st->store, &s);
            nb__js_add_stream(js, st);
            nb__log(js->srv, NB_LOG_INFO, "  Restored %" PRIu64 " messages for stream '$G > %s'",
                    s.msgs, cfg.name);
        }
        nb_streamcfg_release(&cfg);
    }
    cJSON_Delete(doc);
    free(text);
    free(meta);
    free(dir);
}

static int
load_streams(struct nb_js *js)
{
    DIR *d = opendir(js->streams_dir);
    if (!d) return -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        load_stream(js, e->d_name);
    }
    closedir(d);
    return 0;
}

void
nb__js_add_stream(struct nb_js *js, struct nb_stream *st)
{
    st->next = js->streams;
    js->streams = st;
    np_map_put(&js->names, st->cfg.name, strlen(st->cfg.name), st);
}

void
nb__js_remove_stream(struct nb_js *js, struct nb_stream *st)
{
    for (struct nb_stream **p = &js->streams; *p; p = &(*p)->next) {
        if (*p == st) {
            *p = st->next;
            break;
        }
    }
    np_map_del(&js->names, st->cfg.name, strlen(st->cfg.name));
}

/* ---- start and stop ----------------------------------------------------------------------------- */

static char *
default_store_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    return nb__path_join(tmp && *tmp ? tmp : "/tmp", "nats");
}

static void
log_start(struct nb_js *js)
{
    const struct nb_config *c = &js->srv->cfg;
    char mem[32] = "unlimited", file[32] = "unlimited", sync[32] = "always";
    if (c->js_max_memory >= 0) snprintf(mem, sizeof mem, "%" PRId64 " bytes", c->js_max_memory);
    if (c->js_max_file >= 0) snprintf(file, sizeof file, "%" PRId64 " bytes", c->js_max_file);
    if (c->js_sync_interval_ms)
        snprintf(sync, sizeof sync, "%" PRId64 "ms", c->js_sync_interval_ms);
    nb__log(js->srv, NB_LOG_INFO, "Starting JetStream");
    nb__log(js->srv, NB_LOG_INFO, "  Max Memory:      %s", mem);
    nb__log(js->srv, NB_LOG_INFO, "  Max Storage:     %s", file);
    nb__log(js->srv, NB_LOG_INFO, "  Store Directory: \"%s\"", c->store_dir);
    nb__log(js->srv, NB_LOG_INFO, "  Sync Interval:   %s", sync);
}

int
nb__js_start(struct nb_server *srv, char *err, size_t cap)
{
    if (!srv->cfg.jetstream) return 0;
    struct nb_js *js = calloc(1, sizeof *js);
    if (!js) return NB_ENOMEM;
    srv->js = js;
    js->srv = srv;
    js->held_tail = &js->held;
    if (!srv->cfg.store_dir && !(srv->cfg.store_dir = default_store_dir())) return NB_ENOMEM;
    js->streams_dir = nb__path_join(srv->cfg.store_dir, "jetstream/$G/streams");
    if (!js->streams_dir) return NB_ENOMEM;
    int rc = nb__mkdir_p(js->streams_dir);
    if (rc) {
        snprintf(err, cap, "cannot create the JetStream store %s: %s", js->streams_dir,
                 nb_strerror(rc));
        return rc;
    }
    log_start(js);
    uv_timer_init(srv->loop, &js->sync_timer);
    uv_timer_init(srv->loop, &js->event_timer);
    js->sync_timer.data = js->event_timer.data = js;
    js->sync_timer_open = true;
    srv->open_handles += 2;
    rc = load_streams(js);
    if (rc == 0)
        rc = nb_server_subscribe(srv, "$JS.API.>", NULL, nb__jsapi_handle, js, &js->api_sub);
    if (rc) {
        snprintf(err, cap, "cannot start JetStream: %s", nb_strerror(rc));
        return rc;
    }
    if (srv->cfg.js_sync_interval_ms > 0) {
        uint64_t every = (uint64_t)srv->cfg.js_sync_interval_ms;
        uv_timer_start(&js->sync_timer, on_sync_timer, every, every);
    }
    return 0;
}

static void
on_closed(uv_handle_t *h)
{
    struct nb_js *js = h->data;
    nb__server_handle_closed(js->srv);
}

/* At a clean stop the data reaches the disk before the process exits. */
static void
sync_now(struct nb_stream *st)
{
    int fds[MAX_SYNC_FDS];
    nb_store_checkpoint(st->store);
    int n = nb_store_take_dirty(st->store, fds, MAX_SYNC_FDS);
    for (int i = 0; i < n; i++) {
        fsync(fds[i]);
        close(fds[i]);
    }
}

void
nb__js_stop(struct nb_server *srv)
{
    struct nb_js *js = srv->js;
    if (!js) return;
    if (js->api_sub) nb_server_unsubscribe(srv, js->api_sub);
    js->api_sub = NULL;
    nb__js_release_acks(js, js->held, false);
    js->held = NULL;
    js->held_tail = &js->held;
    end_snaps(js->snaps, js->nsnaps); /* not written: the close below writes a fresh one */
    js->snaps = NULL;
    js->nsnaps = js->snaps_cap = 0;
    while (js->streams) {
        struct nb_stream *st = js->streams;
        nb__js_remove_stream(js, st);
        sync_now(st);
        st->counted = true;
        srv->open_handles++;
        nb__stream_close(st, false);
    }
    if (js->sync_timer_open) {
        js->sync_timer_open = false;
        uv_close((uv_handle_t *)&js->sync_timer, on_closed);
        uv_close((uv_handle_t *)&js->event_timer, on_closed);
    }
}

void
nb__js_free(struct nb_server *srv)
{
    struct nb_js *js = srv->js;
    if (!js) return;
    while (js->free_acks) {
        struct nb_held_ack *a = js->free_acks;
        js->free_acks = a->next;
        free(a);
    }
    np_map_release(&js->names);
    free(js->streams_dir);
    free(js);
    srv->js = NULL;
}
