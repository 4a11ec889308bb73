/*
 * Holds N idle HTTP connections to a monitoring port, for tests/bench/monidle.sh: each connection
 * sends the first line of a request and never finishes it (the slow client a server must not let
 * cost its other clients anything). A connection the server closes is opened again at once, so N
 * stay open (or keep trying) for the whole run. Prints "ready" on stdout once N are connected,
 * then runs until killed.
 *
 * usage: httpidle -p PORT [-n N]     (N defaults to 1000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char partial[] = "GET /varz HTTP/1.1\r\nHost: bench\r\n";

static int
open_one(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, partial, sizeof partial - 1) != (ssize_t)(sizeof partial - 1)) {
        close(fd);
        return -1;
    }
    return fd;
}

int
main(int argc, char **argv)
{
    int port = 0, n = 1000, opt;
    while ((opt = getopt(argc, argv, "p:n:")) != -1) {
        if (opt == 'p') port = atoi(optarg);
        if (opt == 'n') n = atoi(optarg);
    }
    if (port <= 0 || n <= 0) {
        fputs("usage: httpidle -p PORT [-n N]\n", stderr);
        return 2;
    }
    struct pollfd *fds = calloc((size_t)n, sizeof *fds);
    if (!fds) return 1;
    for (int i = 0; i < n; i++) {
        fds[i].fd = open_one(port);
        fds[i].events = POLLIN;
        if (fds[i].fd < 0) {
            fprintf(stderr, "httpidle: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
    }
    puts("ready");
    fflush(stdout);
    char sink[4096];
    for (;;) {
        if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR) return 1;
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents) continue;
            if (read(fds[i].fd, sink, sizeof sink) > 0) continue;
            close(fds[i].fd); /* closed by the server: come back as another slow client */
            fds[i].fd = open_one(port);
        }
    }
}
