/*
 * The GET behind :stats. HTTP/1.0 with "Connection: close" keeps the reply simple: no chunked
 * encoding, the body ends where the connection does.
 */
#include "cli_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLY (1u << 20)

struct target {
    char host[256], port[8], path[512];
};

static int
parse_url(const char *url, struct target *t)
{
    if (strncmp(url, "http://", 7) != 0) return -1;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    snprintf(t->path, sizeof t->path, "%s", slash ? slash : "/");
    const char *colon = memchr(h, ':', hl);
    if (h[0] == '[') colon = memchr(h, ']', hl) ? strchr(memchr(h, ']', hl), ':') : NULL;
    size_t name = colon && colon < h + hl ? (size_t)(colon - h) : hl;
    if (!name || name >= sizeof t->host) return -1;
    snprintf(t->host, sizeof t->host, "%.*s", (int)name, h);
    if (t->host[0] == '[') { /* [::1] */
        memmove(t->host, t->host + 1, strlen(t->host));
        t->host[strcspn(t->host, "]")] = '\0';
    }
    if (colon && colon < h + hl)
        snprintf(t->port, sizeof t->port, "%.*s", (int)(h + hl - colon - 1), colon + 1);
    else
        snprintf(t->port, sizeof t->port, "80");
    return 0;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; true when they came. */
static bool
wait_for(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return false;
        int n = poll(&p, 1, (int)left);
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

static int
open_socket(const struct target *t, int64_t deadline, char *err, size_t cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(t->host, t->port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, cap, "%s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(err, cap, "%s", strerror(errno));
        close(fd);
        fd = -1;
    } else if (fd >= 0) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (!wait_for(fd, POLLOUT, deadline))
            soerr = ETIMEDOUT;
        else
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr) {
            snprintf(err, cap, "%s", strerror(soerr));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

static int
exchange(int fd, const struct target *t, int64_t deadline, char **reply, size_t *len)
{
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     t->path, t->host);
    if (n <= 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) return -EIO;
    char *buf = malloc(MAX_REPLY + 1);
    if (!buf) return -ENOMEM;
    *len = 0;
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline)) {
            free(buf);
            return -ETIMEDOUT;
        }
        ssize_t r = read(fd, buf + *len, MAX_REPLY - *len);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
            *len + (size_t)(r > 0 ? r : 0) >= MAX_REPLY) {
            if (r > 0) *len += (size_t)r;
            break;
        }
        if (r > 0) *len += (size_t)r;
    }
    buf[*len] = '\0';
    *reply = buf;
    return 0;
}

int
cli_http_get(const char *url, int timeout_ms, int *status, char **body, char *err, size_t cap)
{
    struct target t;
    if (parse_url(url, &t) != 0) {
        snprintf(err, cap, "invalid monitoring URL '%s' (want http://HOST:PORT)", url);
        return -1;
    }
    int64_t deadline = now_ms() + timeout_ms;
    int fd = open_socket(&t, deadline, err, cap);
    if (fd < 0) return -1;
    char *reply = NULL;
    size_t len = 0;
    int rc = exchange(fd, &t, deadline, &reply, &len);
    close(fd);
    if (rc != 0) {
        snprintf(err, cap, "%s", rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
        return -1;
    }
    char *split = strstr(reply, "\r\n\r\n");
    if (sscanf(reply, "HTTP/%*d.%*d %d", status) != 1 || !split) {
        snprintf(err, cap, "not an HTTP reply");
        free(reply);
        return -1;
    }
    memmove(reply, split + 4, len - (size_t)(split + 4 - reply) + 1);
    *body = reply;
    return 0;
}
