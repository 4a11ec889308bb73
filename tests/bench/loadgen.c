/*
 * loadgen: the client side of `make bench`, speaking the NATS text protocol on raw sockets.
 *
 * One thread drives every connection of a run through poll(), so the client can never take more
 * than one core of the two the benchmark machine has, and its CPU share (printed with the result)
 * says directly whether it was the bottleneck. Nothing is allocated once a run has started.
 *
 * Publishers write slices of one pre-built buffer of PUB frames that carries a PING after every K
 * frames. At most max_pings of those PINGs may be unanswered, and in pubsub mode the publisher may
 * also not run more than a window of frames ahead of the slowest subscriber (or of the queue group
 * as a whole), so neither the server's buffers nor the client's grow without bound.
 *
 * Readers take up to 256 KiB per read() and only ever act on complete frames: a frame cut by a
 * read stays at the front of the buffer until the rest arrives, so counts are exact. Every MSG is
 * checked for its size and trailing CRLF. Every wait has a deadline, and an error, a timeout, a
 * missing or an extra message makes the exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK  (256u * 1024u) /* bytes offered to each read() */
#define CTRL_MAX    4096u          /* longest control line accepted, as the server's limit */
#define PAYLOAD_MAX (1024u * 1024u)
#define OBUF_MIN    (64u * 1024u)
#define MAX_CONNS   64u
#define SETUP_NS    (5ull * 1000000000ull) /* connect and handshake deadline per connection */
#define INBOX       "bench.inbox.1"
#define PROBE       "bench.probe"
#define MAX_PORTS   8u
#define PROBE_NS    (20ull * 1000000ull) /* between probes while interest crosses the routes */

enum mode { MODE_PUB, MODE_PUBSUB, MODE_REQREP, MODE_SUBS };
enum role { ROLE_PUB, ROLE_SUB, ROLE_RESPONDER, ROLE_REQUESTER, ROLE_HOLDER };

struct opts {
    enum mode mode;
    int port;
    uint64_t msgs;       /* messages per run (pub, pubsub) or measured round trips (reqrep) */
    size_t size;         /* payload bytes */
    unsigned pubs, subs; /* subs: subscribers, queue members, or subscriptions in subs mode */
    bool queue;
    const char *subject;
    uint64_t ping_every; /* 0: derived so that a block is about 64 KiB */
    unsigned max_pings;
    size_t window;   /* bytes of frames a publisher may be ahead of the slowest subscriber */
    uint64_t warmup; /* reqrep round trips left out of the samples */
    double timeout, hold;
    int sub_ports[MAX_PORTS]; /* pubsub: subscribers' servers, round robin (none: --port) */
    unsigned nsub_ports;
};

/* The PUB frames every publisher sends from: blocks of k frames, each block ending in a PING. */
struct stream {
    char *buf;
    size_t len;   /* a whole number of blocks */
    size_t frame; /* bytes of one PUB frame */
    size_t block; /* k frames plus the PING */
    uint64_t k;
};

struct conn {
    int fd;
    enum role role;
    bool got_info;
    bool wblocked; /* the last write met a full socket: wait for POLLOUT */
    char *rbuf;    /* unscanned input starts at rbuf[0] */
    size_t rlen, rcap;
    char *obuf; /* small control output (PONGs, SUBs, requests, replies) */
    size_t olen, ocap;
    uint64_t pongs; /* PONGs received since the handshake */
    unsigned pong_due;
    uint64_t msgs;   /* MSG frames received */
    uint64_t probes; /* subscriber: probe MSGs received (--sub-ports) */
    uint64_t n;      /* publisher: messages to send */
    uint64_t pos;    /* publisher: bytes of its stream written */
    uint64_t total;  /* publisher: length of its stream, final PING included */
    uint64_t pings;  /* publisher: PINGs in its stream */
};

struct run {
    struct opts o;
    struct conn c[MAX_CONNS];
    unsigned nconns;
    struct stream st;
    uint64_t window_msgs;
    char *payload; /* o.size bytes followed by CRLF, for replies */
    char *request; /* the one request frame the requester repeats */
    size_t request_len;
    uint64_t *samples; /* reqrep round trips in ns */
    uint64_t sent_at;  /* when the outstanding request was written */
    uint64_t t_start;  /* start of the measured phase */
    uint64_t cpu_start;
    enum role sync_role; /* whose PONGs sync_role() is waiting for */
    bool probing;        /* the publisher holds its stream back until interest has arrived */
};

typedef bool (*done_fn)(const struct run *r, const struct conn *c);

static char errmsg[512];

static const char usage_text[] =
    "usage: loadgen MODE -p PORT [options]\n"
    "\n"
    "Drives a NATS server on 127.0.0.1:PORT and prints one line of key=value results on stdout.\n"
    "Exit status 0 on success, 1 on any error, timeout, lost or extra message, 2 on bad usage.\n"
    "\n"
    "Modes:\n"
    "  pub     P publishers send N messages in total to a subject nobody subscribes to;\n"
    "          the clock stops at the PONG answering the PING after the last message\n"
    "  pubsub  1 publisher, M subscribers each receiving all N messages (or, with --queue,\n"
    "          M members of one queue group receiving N in total); the clock runs from the\n"
    "          first publish until the last expected message has arrived\n"
    "  reqrep  a responder answers each request on the subject; a requester sends one request\n"
    "          at a time, N round trips after the warm-up; prints p50/p90/p99 in microseconds\n"
    "  subs    one connection subscribes to bench.sub.0 .. bench.sub.<M-1>, waits for the\n"
    "          PONG, prints its line, then holds the subscriptions until killed (or --hold)\n"
    "\n"
    "Options:\n"
    "  -p, --port PORT       server port on 127.0.0.1 (required)\n"
    "  -n, --msgs N          messages or round trips (default 1000000; reqrep 20000)\n"
    "  -s, --size BYTES      payload size, 0 to 1048576 (default 16)\n"
    "  -P, --pubs P          publishers, pub mode only (default 1)\n"
    "  -S, --subs M          subscribers or queue members (default 1); subs mode: the number of\n"
    "                        subscriptions (default 100000)\n"
    "  -q, --queue           pubsub: the subscribers form queue group \"q\"\n"
    "      --subject SUBJ    subject to publish and subscribe to (default bench.core)\n"
    "      --ping-every K    PING after every K frames (default: about every 64 KiB)\n"
    "      --max-pings N     unanswered PINGs a publisher may have (default 16)\n"
    "      --window BYTES    how far a publisher may run ahead of its slowest subscriber\n"
    "                        (default 8388608)\n"
    "      --warmup N        reqrep round trips before sampling starts (default 1000)\n"
    "  -t, --timeout SEC     deadline for the measured phase (default 60)\n"
    "      --hold SEC        subs mode: exit 0 after holding this long (default 600)\n"
    "      --sub-ports P[,P] pubsub: subscribers connect to these servers of a cluster in turn\n"
    "                        (the publisher to --port); measuring starts once a probe message\n"
    "                        from the publisher has reached every subscriber\n"
    "  -h, --help            this text\n"
    "\n"
    "Output keys: mode size pubs subs queue msgs delivered wall_s msgs_per_s delivered_per_s\n"
    "cpu_s cpu_pct (the client's own user+system CPU over the measured phase, as a percentage\n"
    "of one core: the client is single-threaded, so near 100 means the result is client-bound);\n"
    "reqrep adds p50_us p90_us p99_us max_us; queue mode adds member_min member_max.\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
                  (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    return us * 1000ull;
}

static const char *
role_name(enum role role)
{
    static const char *const names[] = {"publisher", "subscriber", "responder", "requester",
                                        "subscription holder"};
    return names[role];
}

/* Output staged in obuf goes out before anything else the connection writes. */
static int
conn_flush(struct conn *c)
{
    size_t off = 0;
    while (off < c->olen) {
        ssize_t n = write(c->fd, c->obuf + off, c->olen - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->wblocked = true;
            break;
        }
        if (n < 0) return fail("write to the %s: %s", role_name(c->role), strerror(errno));
        off += (size_t)n;
    }
    c->olen -= off;
    if (c->olen && off) memmove(c->obuf, c->obuf + off, c->olen);
    return 0;
}

static int
conn_append(struct conn *c, const void *data, size_t len)
{
    if (len > c->ocap - c->olen) return fail("output buffer of the %s is full", role_name(c->role));
    memcpy(c->obuf + c->olen, data, len);
    c->olen += len;
    return 0;
}

/*
 * Writes the iovecs straight from the caller's memory when nothing is queued, and stages only what
 * the socket did not take, so a whole frame is always either sent or queued in order.
 */
static int
conn_sendv(struct conn *c, const struct iovec *iov, int cnt)
{
    size_t done = 0;
    if (c->olen == 0) {
        ssize_t n = writev(c->fd, iov, cnt);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return fail("write to the %s: %s", role_name(c->role), strerror(errno));
        done = n > 0 ? (size_t)n : 0;
    }
    for (int i = 0; i < cnt; i++) {
        size_t skip = done < iov[i].iov_len ? done : iov[i].iov_len;
        done -= skip;
        if (conn_append(c, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip) < 0)
            return -1;
    }
    if (c->olen) c->wblocked = true;
    return 0;
}

static int
conn_connect(struct conn *c, int port)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return fail("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) return 0;
    if (errno != EINPROGRESS) return fail("connect 127.0.0.1:%d: %s", port, strerror(errno));
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    int n = poll(&p, 1, (int)(SETUP_NS / 1000000));
    if (n == 0) return fail("connect 127.0.0.1:%d: timed out", port);
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (n < 0 || err) return fail("connect 127.0.0.1:%d: %s", port, strerror(n < 0 ? errno : err));
    return 0;
}

static int
conn_open(struct run *r, enum role role, int port, size_t ocap)
{
    if (r->nconns == MAX_CONNS) return fail("more than %u connections", MAX_CONNS);
    struct conn *c = &r->c[r->nconns];
    memset(c, 0, sizeof *c);
    c->role = role;
    c->rcap = READ_CHUNK + CTRL_MAX + r->o.size + 2;
    c->ocap = ocap < OBUF_MIN ? OBUF_MIN : ocap;
    c->rbuf = malloc(c->rcap);
    c->obuf = malloc(c->ocap);
    if (!c->rbuf || !c->obuf) return fail("out of memory");
    if (conn_connect(c, port) < 0) return -1;
    r->nconns++;
    return 0;
}

/*
 * The payload size is the last field of the MSG line [p, nl) whatever the other fields are, so
 * counting needs no further parsing.
 */
static int
msg_size(const char *p, const char *nl, size_t *size)
{
    const char *e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    if (e - p < 4 || memcmp(p, "MSG ", 4) != 0)
        return fail("unexpected line from the server: %.*s", (int)(e - p > 80 ? 80 : e - p), p);
    const char *d = e;
    while (d > p && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (d == e || e - d > 9 || d[-1] != ' ') return fail("bad MSG size: %.*s", (int)(e - p), p);
    size_t v = 0;
    for (; d < e; d++)
        v = v * 10 + (size_t)(*d - '0');
    *size = v;
    return 0;
}

static bool
line_is(const char *p, const char *nl, const char *verb)
{
    size_t n = strlen(verb);
    return (size_t)(nl - p) >= n && memcmp(p, verb, n) == 0;
}

static int
on_control(struct conn *c, const char *p, const char *nl)
{
    if (line_is(p, nl, "PING")) {
        c->pong_due++;
    } else if (line_is(p, nl, "PONG")) {
        c->pongs++;
    } else if (line_is(p, nl, "INFO")) {
        c->got_info = true;
    } else if (line_is(p, nl, "-ERR")) {
        int len = (int)(nl - p > 200 ? 200 : nl - p);
        return fail("the %s got %.*s", role_name(c->role), len, p);
    } else if (!line_is(p, nl, "+OK")) {
        int len = (int)(nl - p > 80 ? 80 : nl - p);
        return fail("unexpected line from the server: %.*s", len, p);
    }
    return 0;
}

static int
send_request(struct run *r, struct conn *c)
{
    struct iovec iov = {.iov_base = r->request, .iov_len = r->request_len};
    if (c->msgs == r->o.warmup) {
        r->cpu_start = cpu_ns();
        r->t_start = now_ns();
        r->sent_at = r->t_start;
    } else {
        r->sent_at = now_ns();
    }
    return conn_sendv(c, &iov, 1);
}

/* The responder answers on the reply subject, the third of the four MSG fields. */
static int
respond(struct run *r, struct conn *c, const char *p, const char *nl, size_t size)
{
    const char *f[5];
    size_t n = 0;
    for (const char *q = p + 4; q < nl && n < 5; n++) {
        f[n] = q;
        while (q < nl && *q != ' ')
            q++;
        q++;
    }
    if (n != 4) return fail("request without a reply subject: %.*s", (int)(nl - p), p);
    char head[CTRL_MAX + 32];
    int hl = snprintf(head, sizeof head, "PUB %.*s %zu\r\n", (int)(f[3] - 1 - f[2]), f[2], size);
    struct iovec iov[2] = {{head, (size_t)hl}, {r->payload, size + 2}};
    return conn_sendv(c, iov, 2);
}

static int
on_msg(struct run *r, struct conn *c, const char *p, const char *nl, size_t size)
{
    switch (c->role) {
    case ROLE_SUB:
        if (++c->msgs > r->o.msgs) return fail("a subscriber got more than %" PRIu64, r->o.msgs);
        return 0;
    case ROLE_RESPONDER:
        c->msgs++;
        return respond(r, c, p, nl, size);
    case ROLE_REQUESTER: {
        uint64_t i = c->msgs++;
        if (i >= r->o.warmup + r->o.msgs) return fail("a reply nobody asked for");
        if (i >= r->o.warmup) r->samples[i - r->o.warmup] = now_ns() - r->sent_at;
        return c->msgs < r->o.warmup + r->o.msgs ? send_request(r, c) : 0;
    }
    default:
        return fail("unexpected MSG on the %s connection", role_name(c->role));
    }
}

static int
scan(struct run *r, struct conn *c)
{
    char *p = c->rbuf, *end = c->rbuf + c->rlen;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            if ((size_t)(end - p) > CTRL_MAX) return fail("control line over %u bytes", CTRL_MAX);
            break;
        }
        if (*p != 'M') {
            if (on_control(c, p, nl) < 0) return -1;
            p = nl + 1;
            continue;
        }
        size_t size = 0;
        if ((size_t)(nl - p) > CTRL_MAX) return fail("control line over %u bytes", CTRL_MAX);
        if (msg_size(p, nl, &size) < 0) return -1;
        bool probe = r->o.nsub_ports && c->role == ROLE_SUB && line_is(p, nl, "MSG " PROBE " ");
        if (!probe && size != r->o.size)
            return fail("MSG of %zu bytes, expected %zu", size, r->o.size);
        char *payload = nl + 1;
        if ((size_t)(end - payload) < size + 2) break;
        if (payload[size] != '\r' || payload[size + 1] != '\n')
            return fail("MSG payload not followed by CRLF");
        if (probe)
            c->probes++;
        else if (on_msg(r, c, p, nl, size) < 0)
            return -1;
        p = payload + size + 2;
    }
    c->rlen = (size_t)(end - p);
    if (c->rlen && p != c->rbuf) memmove(c->rbuf, p, c->rlen);
    return 0;
}

static int
conn_read(struct run *r, struct conn *c)
{
    ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n == 0) return fail("the server closed the %s connection", role_name(c->role));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return fail("read from the %s: %s", role_name(c->role), strerror(errno));
    }
    c->rlen += (size_t)n;
    return scan(r, c);
}

/* Messages the slowest reader has: the minimum over subscribers, or the group's total. */
static uint64_t
slowest(const struct run *r)
{
    uint64_t low = UINT64_MAX, sum = 0;
    for (unsigned i = 0; i < r->nconns; i++) {
        if (r->c[i].role != ROLE_SUB) continue;
        sum += r->c[i].msgs;
        if (r->c[i].msgs < low) low = r->c[i].msgs;
    }
    return r->o.queue ? sum : low;
}

static uint64_t
msg_pos(const struct stream *st, uint64_t m)
{
    return m / st->k * st->block + m % st->k * st->frame;
}

/* How far the publisher's stream may be written now. */
static uint64_t
pub_limit(const struct run *r, const struct conn *c)
{
    uint64_t lim = (c->pongs + r->o.max_pings) * r->st.block;
    if (lim > c->total) lim = c->total;
    if (r->o.mode == MODE_PUBSUB) {
        uint64_t m = slowest(r) + r->window_msgs;
        if (m < c->n && msg_pos(&r->st, m) < lim) lim = msg_pos(&r->st, m);
    }
    return lim;
}

/* The next contiguous run of stream bytes at the cursor and where its PING boundary lies. */
static size_t
stream_chunk(const struct stream *st, const struct conn *c, const char **src, uint64_t *boundary)
{
    static const char ping[] = "PING\r\n";
    uint64_t full = c->n / st->k * st->block, pos = c->pos;
    if (pos < full) {
        size_t off = (size_t)(pos % st->len);
        *src = st->buf + off;
        *boundary = (pos / st->block + 1) * st->block;
        return st->len - off < full - pos ? st->len - off : (size_t)(full - pos);
    }
    uint64_t tail = c->n % st->k * st->frame, q = pos - full;
    *boundary = c->total;
    *src = q < tail ? st->buf + q : ping + (q - tail);
    return q < tail ? (size_t)(tail - q) : (size_t)(c->total - pos);
}

static bool
at_boundary(const struct stream *st, const struct conn *c)
{
    uint64_t full = c->n / st->k * st->block;
    return c->pos == c->total || (c->pos <= full && c->pos % st->block == 0);
}

/*
 * Writes as much of the publisher's stream as flow control and the socket allow. A PONG owed to
 * the server can only go out between blocks, since the stream may stop inside a frame.
 */
static int
pub_pump(struct run *r, struct conn *c)
{
    while (!c->wblocked) {
        if (c->olen) {
            if (conn_flush(c) < 0) return -1;
            continue;
        }
        if (c->pong_due && at_boundary(&r->st, c)) {
            for (; c->pong_due; c->pong_due--)
                if (conn_append(c, "PONG\r\n", 6) < 0) return -1;
            continue;
        }
        if (r->probing) return 0;
        uint64_t lim = pub_limit(r, c), boundary;
        if (c->pos >= lim) return 0;
        const char *src;
        size_t len = stream_chunk(&r->st, c, &src, &boundary);
        if (c->pong_due && boundary < lim) lim = boundary;
        if (len > lim - c->pos) len = (size_t)(lim - c->pos);
        ssize_t n = write(c->fd, src, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) c->wblocked = true;
        if (n < 0 && !c->wblocked) return fail("write to the publisher: %s", strerror(errno));
        if (n > 0) c->pos += (uint64_t)n;
    }
    return 0;
}

static int
pump(struct run *r, struct conn *c)
{
    if (c->role == ROLE_PUB) return pub_pump(r, c);
    for (; c->pong_due; c->pong_due--)
        if (conn_append(c, "PONG\r\n", 6) < 0) return -1;
    return c->olen && !c->wblocked ? conn_flush(c) : 0;
}

static int
poll_once(struct run *r, uint64_t deadline)
{
    struct pollfd pfd[MAX_CONNS];
    for (unsigned i = 0; i < r->nconns; i++) {
        pfd[i].fd = r->c[i].fd;
        pfd[i].events = (short)(POLLIN | (r->c[i].wblocked ? POLLOUT : 0));
        pfd[i].revents = 0;
    }
    uint64_t now = now_ns();
    if (now >= deadline) return 1;
    int n = poll(pfd, r->nconns, (int)((deadline - now) / 1000000 + 1));
    if (n < 0 && errno != EINTR) return fail("poll: %s", strerror(errno));
    for (unsigned i = 0; n > 0 && i < r->nconns; i++) {
        if (pfd[i].revents & POLLOUT) r->c[i].wblocked = false;
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR) && conn_read(r, &r->c[i]) < 0) return -1;
    }
    return 0;
}

/* Runs every connection until done(r, c) holds; 1 if the deadline passed first. */
static int
run_until(struct run *r, done_fn done, const struct conn *c, uint64_t deadline)
{
    for (;;) {
        for (unsigned i = 0; i < r->nconns; i++)
            if (pump(r, &r->c[i]) < 0) return -1;
        if (done(r, c)) return 0;
        int rc = poll_once(r, deadline);
        if (rc != 0) return rc;
        if (done(r, c)) return 0;
    }
}

static bool
got_info(const struct run *r, const struct conn *c)
{
    (void)r;
    return c->got_info;
}

static bool
got_pong(const struct run *r, const struct conn *c)
{
    (void)r;
    return c->pongs > 0;
}

static int
wait_for(struct run *r, done_fn done, const struct conn *c, uint64_t ns, const char *what)
{
    int rc = run_until(r, done, c, now_ns() + ns);
    if (rc > 0) return fail("timed out waiting for %s on the %s", what, role_name(c->role));
    return rc;
}

/*
 * Connects, reads INFO, sends CONNECT with the SUB lines in subs, then a PING, and returns once
 * the PONG proves the server has registered every subscription.
 */
static int
handshake(struct run *r, enum role role, int port, const char *subs, size_t subs_len)
{
    if (conn_open(r, role, port, subs_len + OBUF_MIN) < 0) return -1;
    struct conn *c = &r->c[r->nconns - 1];
    if (wait_for(r, got_info, c, SETUP_NS, "INFO") < 0) return -1;
    static const char hello[] = "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,"
                                "\"lang\":\"C\",\"version\":\"1\",\"name\":\"loadgen\","
                                "\"protocol\":1,\"headers\":false}\r\n";
    if (conn_append(c, hello, sizeof hello - 1) < 0 || conn_append(c, subs, subs_len) < 0 ||
        conn_append(c, "PING\r\n", 6) < 0)
        return -1;
    if (wait_for(r, got_pong, c, SETUP_NS, "the handshake PONG") < 0) return -1;
    c->pongs = 0;
    return 0;
}

static int
build_stream(struct run *r)
{
    struct stream *st = &r->st;
    char head[CTRL_MAX];
    int hl = snprintf(head, sizeof head, "PUB %s %zu\r\n", r->o.subject, r->o.size);
    st->frame = (size_t)hl + r->o.size + 2;
    st->k = r->o.ping_every ? r->o.ping_every : (64u * 1024u + st->frame - 1) / st->frame;
    st->block = st->k * st->frame + 6;
    size_t blocks = (4u * 1024u * 1024u + st->block - 1) / st->block;
    if (blocks > r->o.msgs / st->k + 1) blocks = (size_t)(r->o.msgs / st->k + 1);
    st->len = blocks * st->block;
    st->buf = malloc(st->len);
    if (!st->buf) return fail("out of memory for a %zu-byte stream buffer", st->len);
    char *p = st->buf;
    for (size_t b = 0; b < blocks; b++) {
        for (uint64_t i = 0; i < st->k; i++, p += st->frame) {
            memcpy(p, head, (size_t)hl);
            memset(p + hl, 'x', r->o.size);
            memcpy(p + hl + r->o.size, "\r\n", 2);
        }
        memcpy(p, "PING\r\n", 6);
        p += 6;
    }
    r->window_msgs = r->o.window / st->frame + 1;
    return 0;
}

static int
add_publishers(struct run *r)
{
    for (unsigned i = 0; i < r->o.pubs; i++) {
        if (handshake(r, ROLE_PUB, r->o.port, "", 0) < 0) return -1;
        struct conn *c = &r->c[r->nconns - 1];
        c->n = r->o.msgs / r->o.pubs + (i < r->o.msgs % r->o.pubs ? 1 : 0);
        c->pings = c->n / r->st.k + (c->n % r->st.k ? 1 : 0);
        c->total = msg_pos(&r->st, c->n) + (c->n % r->st.k ? 6 : 0);
    }
    return 0;
}

static bool
pubs_done(const struct run *r, const struct conn *c)
{
    (void)c;
    for (unsigned i = 0; i < r->nconns; i++)
        if (r->c[i].role == ROLE_PUB && r->c[i].pongs < r->c[i].pings) return false;
    return true;
}

static bool
subs_done(const struct run *r, const struct conn *c)
{
    (void)c;
    for (unsigned i = 0; i < r->nconns; i++)
        if (r->c[i].role == ROLE_SUB && !r->o.queue && r->c[i].msgs < r->o.msgs) return false;
    return !r->o.queue || slowest(r) >= r->o.msgs;
}

static bool
synced(const struct run *r, const struct conn *c)
{
    (void)c;
    for (unsigned i = 0; i < r->nconns; i++)
        if (r->c[i].role == r->sync_role && r->c[i].pongs == 0) return false;
    return true;
}

/*
 * PINGs every connection of one role and waits for the PONGs. The server answers a PING only after
 * everything it routed to that connection before it, so afterwards those counts are final.
 */
static int
sync_role(struct run *r, enum role role)
{
    r->sync_role = role;
    for (unsigned i = 0; i < r->nconns; i++) {
        if (r->c[i].role != role) continue;
        r->c[i].pongs = 0;
        if (conn_append(&r->c[i], "PING\r\n", 6) < 0) return -1;
    }
    int rc = run_until(r, synced, NULL, now_ns() + SETUP_NS);
    if (rc > 0) return fail("timed out waiting for the PONGs of every %s", role_name(role));
    return rc;
}

static int
measure(struct run *r, done_fn done, const char *what)
{
    int rc = run_until(r, done, NULL, r->t_start + (uint64_t)(r->o.timeout * 1e9));
    if (rc <= 0) return rc;
    return fail("timed out after %.0f s waiting for %s (slowest reader at %" PRIu64 " of %" PRIu64
                ")",
                r->o.timeout, what, slowest(r), r->o.msgs);
}

/*
 * After the clock stops, proves nothing more arrives: the publisher's last PONG means the server
 * has routed every PUB, and a PONG on each subscriber then means every routed MSG was read.
 */
static int
verify_counts(struct run *r)
{
    if (measure(r, pubs_done, "the publisher's last PONG") < 0 || sync_role(r, ROLE_SUB) < 0)
        return -1;
    uint64_t sum = 0;
    for (unsigned i = 0; i < r->nconns; i++)
        sum += r->c[i].role == ROLE_SUB ? r->c[i].msgs : 0;
    uint64_t want = r->o.queue ? r->o.msgs : r->o.msgs * r->o.subs;
    if (sum != want) return fail("delivered %" PRIu64 " messages, expected %" PRIu64, sum, want);
    return 0;
}

static void
print_common(const struct run *r, uint64_t delivered, uint64_t wall, uint64_t cpu)
{
    static const char *const modes[] = {"pub", "pubsub", "reqrep", "subs"};
    double ws = (double)wall / 1e9, cs = (double)cpu / 1e9;
    printf("mode=%s size=%zu pubs=%u subs=%u queue=%d msgs=%" PRIu64 " delivered=%" PRIu64
           " wall_s=%.6f msgs_per_s=%.0f delivered_per_s=%.0f cpu_s=%.3f cpu_pct=%.1f",
           modes[r->o.mode], r->o.size, r->o.pubs, r->o.mode == MODE_PUB ? 0 : r->o.subs,
           r->o.queue, r->o.msgs, delivered, ws, (double)r->o.msgs / ws, (double)delivered / ws, cs,
           100.0 * cs / ws);
}

static int
run_pub(struct run *r)
{
    if (build_stream(r) < 0 || add_publishers(r) < 0) return -1;
    uint64_t cpu0 = cpu_ns();
    r->t_start = now_ns();
    if (measure(r, pubs_done, "the publishers' last PONG") < 0) return -1;
    uint64_t wall = now_ns() - r->t_start, cpu = cpu_ns() - cpu0;
    print_common(r, 0, wall, cpu);
    printf("\n");
    return 0;
}

static int
add_subscribers(struct run *r)
{
    char line[CTRL_MAX];
    for (unsigned i = 0; i < r->o.subs; i++) {
        int n = snprintf(line, sizeof line, "SUB %s %s1\r\n%s", r->o.subject,
                         r->o.queue ? "q " : "", r->o.nsub_ports ? "SUB " PROBE " 2\r\n" : "");
        int port = r->o.nsub_ports ? r->o.sub_ports[i % r->o.nsub_ports] : r->o.port;
        if (handshake(r, ROLE_SUB, port, line, (size_t)n) < 0) return -1;
    }
    return 0;
}

static bool
probed(const struct run *r, const struct conn *c)
{
    (void)c;
    for (unsigned i = 0; i < r->nconns; i++)
        if (r->c[i].role == ROLE_SUB && r->c[i].probes == 0) return false;
    return true;
}

/*
 * Interest crosses routes asynchronously, so the publisher's server may not know yet of a
 * subscriber on another server. Each subscriber's probe subscription follows its benchmark one on
 * the same connection, and its server announces both in that order on the one route to the
 * publisher's server: once a probe from the publisher has arrived, the benchmark interest had too.
 */
static int
wait_probes(struct run *r)
{
    static const char probe[] = "PUB " PROBE " 0\r\n\r\n";
    struct conn *pub = &r->c[r->nconns - 1];
    uint64_t deadline = now_ns() + SETUP_NS;
    r->probing = true;
    while (!probed(r, NULL)) {
        if (now_ns() >= deadline) return fail("timed out waiting for interest to cross the routes");
        if (conn_append(pub, probe, sizeof probe - 1) < 0) return -1;
        if (run_until(r, probed, NULL, now_ns() + PROBE_NS) < 0) return -1;
    }
    r->probing = false;
    return 0;
}

static void
print_members(const struct run *r)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < r->nconns; i++) {
        if (r->c[i].role != ROLE_SUB) continue;
        lo = r->c[i].msgs < lo ? r->c[i].msgs : lo;
        hi = r->c[i].msgs > hi ? r->c[i].msgs : hi;
    }
    printf(" member_min=%" PRIu64 " member_max=%" PRIu64, lo, hi);
}

static int
run_pubsub(struct run *r)
{
    if (build_stream(r) < 0 || add_subscribers(r) < 0 || add_publishers(r) < 0) return -1;
    if (r->o.nsub_ports && wait_probes(r) < 0) return -1;
    uint64_t cpu0 = cpu_ns();
    r->t_start = now_ns();
    if (measure(r, subs_done, "the subscribers") < 0) return -1;
    uint64_t wall = now_ns() - r->t_start, cpu = cpu_ns() - cpu0;
    if (verify_counts(r) < 0) return -1;
    print_common(r, r->o.queue ? r->o.msgs : r->o.msgs * r->o.subs, wall, cpu);
    if (r->o.queue) print_members(r);
    printf("\n");
    return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples, in microseconds. */
static double
pct_us(const struct run *r, double pct)
{
    uint64_t rank = (uint64_t)(pct / 100.0 * (double)r->o.msgs + 0.999999);
    if (rank < 1) rank = 1;
    return (double)r->samples[rank - 1] / 1e3;
}

static bool
replies_done(const struct run *r, const struct conn *c)
{
    return c->msgs >= r->o.warmup + r->o.msgs;
}

/* Every request got exactly one reply, and the responder saw each request once. */
static int
verify_replies(struct run *r)
{
    if (sync_role(r, ROLE_RESPONDER) < 0 || sync_role(r, ROLE_REQUESTER) < 0) return -1;
    uint64_t want = r->o.warmup + r->o.msgs;
    if (r->c[0].msgs != want || r->c[1].msgs != want)
        return fail("%" PRIu64 " requests answered, %" PRIu64
                    " replies received, expected %" PRIu64,
                    r->c[0].msgs, r->c[1].msgs, want);
    return 0;
}

static int
run_reqrep(struct run *r)
{
    r->samples = malloc(r->o.msgs * sizeof *r->samples);
    r->payload = malloc(r->o.size + 2);
    char line[CTRL_MAX];
    int n = snprintf(line, sizeof line, "PUB %s %s %zu\r\n", r->o.subject, INBOX, r->o.size);
    r->request_len = (size_t)n + r->o.size + 2;
    r->request = malloc(r->request_len);
    if (!r->samples || !r->payload || !r->request) return fail("out of memory");
    memset(r->payload, 'x', r->o.size);
    memcpy(r->payload + r->o.size, "\r\n", 2);
    memcpy(r->request, line, (size_t)n);
    memcpy(r->request + n, r->payload, r->o.size + 2);
    n = snprintf(line, sizeof line, "SUB %s 1\r\n", r->o.subject);
    if (handshake(r, ROLE_RESPONDER, r->o.port, line, (size_t)n) < 0 ||
        handshake(r, ROLE_REQUESTER, r->o.port, "SUB " INBOX " 1\r\n",
                  sizeof "SUB " INBOX " 1\r\n" - 1) < 0)
        return -1;
    struct conn *req = &r->c[1];
    uint64_t begin = now_ns();
    if (send_request(r, req) < 0) return -1;
    int rc = run_until(r, replies_done, req, begin + (uint64_t)(r->o.timeout * 1e9));
    if (rc > 0) return fail("timed out after %" PRIu64 " round trips", req->msgs);
    if (rc < 0) return -1;
    uint64_t wall = now_ns() - r->t_start, cpu = cpu_ns() - r->cpu_start;
    if (verify_replies(r) < 0) return -1;
    qsort(r->samples, r->o.msgs, sizeof *r->samples, cmp_u64);
    print_common(r, r->o.msgs, wall, cpu);
    printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", pct_us(r, 50), pct_us(r, 90),
           pct_us(r, 99), (double)r->samples[r->o.msgs - 1] / 1e3);
    return 0;
}

static bool
never(const struct run *r, const struct conn *c)
{
    (void)r;
    (void)c;
    return false;
}

/* Holds the subscriptions, answering the server's PINGs, until killed or until --hold runs out. */
static int
run_subs(struct run *r)
{
    size_t cap = (size_t)r->o.subs * 40u, len = 0;
    char *subs = malloc(cap + 1);
    if (!subs) return fail("out of memory");
    for (unsigned i = 0; i < r->o.subs; i++)
        len += (size_t)snprintf(subs + len, cap + 1 - len, "SUB bench.sub.%u %u\r\n", i, i);
    uint64_t begin = now_ns();
    int rc = handshake(r, ROLE_HOLDER, r->o.port, subs, len);
    free(subs);
    if (rc < 0) return -1;
    printf("mode=subs subs=%u setup_s=%.6f cpu_s=%.3f ready=1\n", r->o.subs,
           (double)(now_ns() - begin) / 1e9, (double)cpu_ns() / 1e9);
    fflush(stdout);
    rc = run_until(r, never, NULL, begin + (uint64_t)(r->o.hold * 1e9));
    return rc < 0 ? -1 : 0;
}

static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int
parse_secs(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 86400) return -1;
    *out = v;
    return 0;
}

/* A comma-separated list of ports, at most MAX_PORTS. */
static int
parse_ports(const char *s, struct opts *o)
{
    o->nsub_ports = 0;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || v < 1 || v > 65535 || o->nsub_ports == MAX_PORTS) return -1;
        o->sub_ports[o->nsub_ports++] = (int)v;
        if (*end == '\0') return 0;
        if (*end != ',') return -1;
        s = end + 1;
    }
}

static int
parse_mode(const char *s, enum mode *m)
{
    static const char *const names[] = {"pub", "pubsub", "reqrep", "subs"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (enum mode)i;
            return 0;
        }
    return -1;
}

/* Applies one numeric option; v has been parsed within the option's bounds. */
static void
set_num(struct opts *o, int ch, uint64_t v)
{
    switch (ch) {
    case 'p':
        o->port = (int)v;
        break;
    case 'n':
        o->msgs = v;
        break;
    case 's':
        o->size = (size_t)v;
        break;
    case 'P':
        o->pubs = (unsigned)v;
        break;
    case 'S':
        o->subs = (unsigned)v;
        break;
    case 'k':
        o->ping_every = v;
        break;
    case 'm':
        o->max_pings = (unsigned)v;
        break;
    case 'w':
        o->window = (size_t)v;
        break;
    case 'u':
        o->warmup = v;
        break;
    default:
        break;
    }
}

static int
set_opt(struct opts *o, int ch, const char *arg)
{
    static const struct {
        char ch;
        uint64_t lo, hi;
    } bounds[] = {
        {'p', 1, 65535},   {'n', 1, UINT64_MAX / 1024}, {'s', 0, PAYLOAD_MAX},
        {'P', 1, 32},      {'S', 1, 10000000},          {'k', 1, 1000000},
        {'m', 1, 1000000}, {'w', 1, 1ull << 34},        {'u', 0, 100000000},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        uint64_t v;
        if (bounds[i].ch != ch) continue;
        if (parse_u64(arg, bounds[i].lo, bounds[i].hi, &v) < 0) return -1;
        set_num(o, ch, v);
        return 0;
    }
    switch (ch) {
    case 'q':
        o->queue = true;
        return 0;
    case 'j':
        o->subject = arg;
        return !*arg || strpbrk(arg, " \t\r\n") || strlen(arg) > 256 ? -1 : 0;
    case 't':
        return parse_secs(arg, &o->timeout);
    case 'H':
        return parse_secs(arg, &o->hold);
    case 'o':
        return parse_ports(arg, o);
    default:
        return -1;
    }
}

static int
check_opts(struct opts *o, bool msgs_set, bool subs_set)
{
    if (!o->port) return fail("--port is required");
    if (o->mode == MODE_REQREP && !msgs_set) o->msgs = 20000;
    if (o->mode == MODE_SUBS && !subs_set) o->subs = 100000;
    if (o->pubs > 1 && o->mode != MODE_PUB) return fail("--pubs applies to pub mode only");
    if (o->queue && o->mode != MODE_PUBSUB) return fail("--queue applies to pubsub mode only");
    if (o->nsub_ports && o->mode != MODE_PUBSUB)
        return fail("--sub-ports applies to pubsub mode only");
    if (o->mode == MODE_PUBSUB && o->subs + 1 > MAX_CONNS)
        return fail("at most %u subscribers", MAX_CONNS - 1);
    if (o->mode == MODE_PUB && o->msgs < o->pubs) return fail("fewer messages than publishers");
    return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"msgs", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"pubs", required_argument, NULL, 'P'},
        {"subs", required_argument, NULL, 'S'},
        {"queue", no_argument, NULL, 'q'},
        {"subject", required_argument, NULL, 'j'},
        {"ping-every", required_argument, NULL, 'k'},
        {"max-pings", required_argument, NULL, 'm'},
        {"window", required_argument, NULL, 'w'},
        {"warmup", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 't'},
        {"hold", required_argument, NULL, 'H'},
        {"sub-ports", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct opts){.msgs = 1000000,
                       .size = 16,
                       .pubs = 1,
                       .subs = 1,
                       .subject = "bench.core",
                       .max_pings = 16,
                       .window = 8u << 20,
                       .warmup = 1000,
                       .timeout = 60,
                       .hold = 600};
    bool msgs_set = false, subs_set = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "p:n:s:P:S:qt:h", longs, NULL)) != -1) {
        if (ch == 'h') return 1;
        if (set_opt(o, ch, optarg) < 0)
            return ch == '?' ? fail("bad option") : fail("bad value for -%c: '%s'", ch, optarg);
        msgs_set |= ch == 'n';
        subs_set |= ch == 'S';
    }
    if (optind != argc - 1) return fail("expected exactly one MODE");
    if (parse_mode(argv[optind], &o->mode) < 0) return fail("unknown mode '%s'", argv[optind]);
    return check_opts(o, msgs_set, subs_set);
}

int
main(int argc, char **argv)
{
    static struct run r;
    signal(SIGPIPE, SIG_IGN);
    int rc = parse_args(argc, argv, &r.o);
    if (rc != 0) {
        if (rc > 0) return fputs(usage_text, stdout) == EOF ? 1 : 0;
        fprintf(stderr, "loadgen: %s\nTry 'loadgen --help'.\n", errmsg);
        return 2;
    }
    switch (r.o.mode) {
    case MODE_PUB:
        rc = run_pub(&r);
        break;
    case MODE_PUBSUB:
        rc = run_pubsub(&r);
        break;
    case MODE_REQREP:
        rc = run_reqrep(&r);
        break;
    case MODE_SUBS:
        rc = run_subs(&r);
        break;
    }
    if (rc < 0) {
        fprintf(stderr, "loadgen: %s\n", errmsg);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
