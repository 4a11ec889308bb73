/*
 * --signal VERB[=PID]: nats-server's processSignal() and ProcessSignal(), for natsctl servers. The
 * order of the checks and the messages are nats-server's ("invalid pid: x", "unknown signal
 * \"x\"", "no such process"), and so is the exit code, 1 for every error. Three things differ:
 *
 * - a PID must be positive: nats-server would pass 0 or -N to kill(2), which signals a whole
 *   process group (ours, for 0);
 * - a pid file's trailing newline is allowed (nats-server reports "invalid pid: 123\n");
 * - without a PID, -P's pid file is used when given; otherwise the natsctl server processes are
 *   found in /proc (nats-server runs `pgrep nats-server`), the command line naming `server`.
 */
#include "cli_signal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *verb;
    int signum;
} verbs[] = {
    {"stop", SIGKILL},  {"quit", SIGINT}, {"reopen", SIGUSR1},
    {"reload", SIGHUP}, {"ldm", SIGUSR2}, {"term", SIGTERM},
};

/* At most 16 servers are listed when several run; the message says so. */
#define MAX_FOUND 16

struct found {
    long pids[MAX_FOUND];
    size_t n;
};

static int fail(const struct cli_cmd *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(const struct cli_cmd *self, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error(self, "%s", msg);
    return CLI_EXIT_FAIL;
}

/* A file's first bytes, or false when it cannot be read (then the text is taken as a PID). */
static bool
read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return false;
    buf[n] = '\0';
    return true;
}

/* Go's strconv.Atoi on the text, positive only; a trailing newline is allowed. */
static bool
parse_pid(const char *s, long *pid)
{
    char *end;
    if (!isdigit((unsigned char)s[0]) && s[0] != '+') return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == '\n' || *end == '\r')
        end++;
    if (errno || *end || v <= 0 || v > INT_MAX) return false;
    *pid = v;
    return true;
}

/* The command line of a natsctl server: `natsctl server ...` or the multicall `natsctl-server`. */
static bool
is_server_cmdline(const char *args, size_t len)
{
    const char *argv0 = args, *slash = strrchr(argv0, '/');
    const char *base = slash ? slash + 1 : argv0;
    if (strcmp(base, "natsctl-server") == 0) return true;
    if (strcmp(base, "natsctl") != 0) return false;
    size_t n0 = strlen(argv0) + 1;
    if (n0 >= len || strcmp(args + n0, "server") != 0) return false;
    size_t n1 = n0 + strlen(args + n0) + 1;
    return n1 >= len || strcmp(args + n1, "check") != 0;
}

static bool
is_natsctl_server(long pid)
{
    char path[64], args[4096];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, args, sizeof args - 1);
    close(fd);
    if (n <= 0) return false;
    args[n] = '\0';
    return is_server_cmdline(args, (size_t)n);
}

/* Every natsctl server but this process; false when /proc cannot be read. */
static bool
find_servers(struct found *f)
{
    DIR *d = opendir("/proc");
    if (!d) return false;
    long self = (long)getpid();
    struct dirent *e;
    f->n = 0;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (!parse_pid(e->d_name, &pid) || pid == self || !is_natsctl_server(pid)) continue;
        if (f->n < MAX_FOUND) f->pids[f->n] = pid;
        f->n++;
    }
    closedir(d);
    return true;
}

static int
several(const struct cli_cmd *self, const struct found *f)
{
    char msg[1024];
    size_t len = (size_t)snprintf(msg, sizeof msg, "multiple natsctl server processes running:");
    for (size_t i = 0; i < f->n && i < MAX_FOUND && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len, "\n%ld", f->pids[i]);
    if (f->n > MAX_FOUND && len < sizeof msg)
        snprintf(msg + len, sizeof msg - len, "\n(and %zu more)", f->n - MAX_FOUND);
    return fail(self, "%s", msg);
}

/* The PID to signal, or an exit code after saying why there is none. */
static int
resolve_pid(const struct cli_cmd *self, const char *spec, const char *pidfile, long *pid)
{
    char text[64];
    if (!spec && pidfile) spec = pidfile;
    if (spec) {
        const char *s = read_small_file(spec, text, sizeof text) ? text : spec;
        if (parse_pid(s, pid)) return 0;
        return fail(self, "invalid pid: %s", s);
    }
    struct found f;
    if (!find_servers(&f)) return fail(self, "unable to resolve pid, try providing one");
    if (f.n == 0) return fail(self, "no natsctl server processes running");
    if (f.n > 1) return several(self, &f);
    *pid = f.pids[0];
    return 0;
}

/* Go's syscall.Errno texts are strerror's, in lower case ("no such process"). */
static int
kill_failed(const struct cli_cmd *self, int err)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s", strerror(err));
    msg[0] = (char)tolower((unsigned char)msg[0]);
    return fail(self, "%s", msg);
}

int
cli_signal_send(const struct cli_cmd *self, const char *arg, const char *pidfile)
{
    char verb[64];
    const char *eq = strchr(arg, '=');
    size_t vlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (eq && strchr(eq + 1, '=')) {
        char extra[512];
        snprintf(extra, sizeof extra, "%s", strchr(eq + 1, '=') + 1);
        for (char *p = extra; (p = strchr(p, '=')) != NULL;)
            *p = ' ';
        return fail(self, "invalid signal parameters: [%s]", extra);
    }
    snprintf(verb, sizeof verb, "%.*s", (int)vlen, arg);
    long pid;
    int rc = resolve_pid(self, eq ? eq + 1 : NULL, pidfile, &pid);
    if (rc) return rc;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(verb, verbs[i].verb) != 0) continue;
        if (kill((pid_t)pid, verbs[i].signum) != 0) return kill_failed(self, errno);
        return CLI_EXIT_OK;
    }
    return fail(self, "unknown signal \"%s\"", verb);
}
