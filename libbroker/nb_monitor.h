/*
 * The monitoring endpoints behind the HTTP port: nats-server 2.9.10's JSON (field names, types and
 * layout) for what natsctl knows. nb_monitor.c routes a request and holds what the endpoints share;
 * nb_varz.c writes /varz and /jsz, nb_connz.c /connz (with the ring of recently closed
 * connections) and /subsz, nb_routez.c /routez.
 *
 * Every endpoint reads the server's state on the loop thread and writes its answer into one buffer;
 * nothing here is kept per connection or grows with traffic.
 */
#ifndef NB_MONITOR_H
#define NB_MONITOR_H

#include "nb_httpreq.h"
#include "nb_jw.h"
#include "np_buf.h"

#include <stdbool.h>
#include <stdint.h>

struct nb_server;
struct nb_client;
struct nb_closed;

/*
 * The accounts the endpoints show. Every client is in the global account. nats-server also creates
 * a system account for its own traffic; natsctl has none that clients could use, but the endpoints
 * report it (empty) as nats-server's default configuration does, so tools find the same shape.
 */
#define NB_MON_GLOBAL_ACCOUNT "$G"
#define NB_MON_SYSTEM_ACCOUNT "$SYS"

/* How many closed connections /connz?state=closed remembers, as nats-server's default. */
#define NB_CLOSED_MAX 10000

/* The paths nats-server counts in /varz's http_req_stats, in its order of output (sorted). */
#define NB_MON_PATHS(X)                                                                            \
    X(ROOT, "/")                                                                                   \
    X(ACCOUNTZ, "/accountz")                                                                       \
    X(ACCSTATZ, "/accstatz")                                                                       \
    X(CONNZ, "/connz")                                                                             \
    X(GATEWAYZ, "/gatewayz")                                                                       \
    X(HEALTHZ, "/healthz")                                                                         \
    X(JSZ, "/jsz")                                                                                 \
    X(LEAFZ, "/leafz")                                                                             \
    X(ROUTEZ, "/routez")                                                                           \
    X(SUBSZ, "/subsz")                                                                             \
    X(VARZ, "/varz")

enum nb_mon_path {
#define NB__MON_PATH_ENUM(name, text) NB_MON_##name,
    NB_MON_PATHS(NB__MON_PATH_ENUM)
#undef NB__MON_PATH_ENUM
        NB_MON_NPATHS
};

/* The monitoring state of a server: created with the HTTP port, freed with the server. */
struct nb_monitor {
    uint64_t req_stats[NB_MON_NPATHS];
    struct nb_closed **closed; /* ring of NB_CLOSED_MAX, allocated at the first close */
    size_t closed_head, nclosed;
    int64_t cpu_wall_ns; /* the previous CPU sample of /varz */
    uint64_t cpu_used_us;
    double cpu_pct;
};

/* An answer: the status, its body, and the body's type. */
struct nb_mon_answer {
    int status;
    const char *content_type;
    struct np_buf body;
};

struct nb_monitor *nb__monitor_new(void);
void nb__monitor_free(struct nb_monitor *mon);
/* Answers a parsed GET or HEAD request. Returns 0, or NB_ENOMEM (ans then holds nothing). */
int nb__monitor_serve(struct nb_server *srv, const struct nb_httpreq *req,
                      struct nb_mon_answer *ans);
/* Remembers a client connection that is being torn down, for /connz?state=closed. */
void nb__monitor_closed(struct nb_client *c);

/* ---- shared by the endpoint modules ------------------------------------------------------------ */

/* An endpoint writes its JSON with w, or returns 400 with the error text in err. */
typedef int (*nb_mon_fn)(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                         struct np_buf *err);

int nb__mon_varz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                 struct np_buf *err);
int nb__mon_jsz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                struct np_buf *err);
int nb__mon_connz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                  struct np_buf *err);
int nb__mon_subsz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                  struct np_buf *err);
int nb__mon_routez(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
                   struct np_buf *err);

/*
 * Query parameters decoded as nats-server decodes them (Go's strconv): absent or empty leaves *out
 * unchanged and returns 0; a bad value returns 400 with nats-server's error text in err.
 */
int nb__mon_bool(const struct nb_httpreq *req, const char *name, bool *out, struct np_buf *err);
int nb__mon_int(const struct nb_httpreq *req, const char *name, int64_t *out, struct np_buf *err);
int nb__mon_u64(const struct nb_httpreq *req, const char *name, uint64_t *out, struct np_buf *err);
/* The parameter's decoded value in out, "" when absent or too long. */
void nb__mon_str(const struct nb_httpreq *req, const char *name, char *out, size_t cap);

/* The wall-clock time of a loop time (uv_now): connection times are kept in loop time. */
int64_t nb__mon_wall_ns(const struct nb_server *srv, uint64_t loop_ms);
/* nats-server's uptime text: "1y2d3h4m5s", leading zero units left out, seconds always. */
void nb__mon_uptime(int64_t ns, char *buf, size_t cap);
/* Go's time.Duration text: "0s", "850ns", "996µs", "2.507553ms", "1m2.5s". */
void nb__mon_duration(int64_t ns, char *buf, size_t cap);
/* The server's id and now, which most endpoints start with. */
void nb__mon_head(struct nb_server *srv, struct nb_jw *w);
/*
 * The sublist's figures as /subsz and /accountz's sublist_stats show them, for account (NULL: all
 * of them). Every subscription is in $G: another account's figures are zeros.
 */
void nb__mon_sublist_stats(struct nb_server *srv, const char *account, struct nb_jw *w);

#endif
