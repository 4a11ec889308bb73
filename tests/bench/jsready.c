/*
 * jsready: starts a JetStream server and times how long it takes to serve a stream.
 *
 * usage: jsready PORT STREAM MESSAGES -- SERVER ARGS...
 *
 * Runs the server, then polls 127.0.0.1:PORT every millisecond until STREAM.INFO for STREAM answers
 * with MESSAGES messages, and prints "<seconds> <server pid>" (the server keeps running). Polling
 * from one process with a 1 ms period keeps the measurement's own cost far below what it measures,
 * which a loop of `natsctl request` processes would not. Exit 1 after 300 s or when the server dies.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

/* Asks once; returns the stream's message count, or -1 when there is no answer yet. */
static long long
ask(int port, const char *stream)
{
    int fd = connect_port(port);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "CONNECT {\"verbose\":false}\r\nSUB _jsready 1\r\n"
                     "PUB $JS.API.STREAM.INFO.%s _jsready 0\r\n\r\n",
                     stream);
    long long got = -1;
    if (write(fd, req, (size_t)n) == n) {
        static char buf[1 << 16];
        size_t len = 0;
        ssize_t r;
        while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
            len += (size_t)r;
            buf[len] = '\0';
            char *m = strstr(buf, "\"messages\":");
            if (m && strchr(m, ',')) {
                got = atoll(m + 11);
                break;
            }
        }
    }
    close(fd);
    return got;
}

int
main(int argc, char **argv)
{
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: jsready PORT STREAM MESSAGES -- SERVER ARGS...\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long long want = atoll(argv[3]);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        /* The caller reads our stdout to its end: the server, which outlives us, must not hold it. */
        dup2(2, 1);
        execvp(argv[5], argv + 5);
        _exit(127);
    }
    while (now_s() - t0 < 300) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return 1;
        if (ask(port, argv[2]) == want) {
            printf("%.3f %d\n", now_s() - t0, (int)pid);
            return 0;
        }
        usleep(1000);
    }
    kill(pid, SIGKILL);
    return 1;
}
