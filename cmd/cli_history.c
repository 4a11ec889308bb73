/*
 * History file handling. Creation modes are given at open()/mkdir() time rather than fixed with
 * chmod afterwards, so there is no moment when another user could open the file.
 */
#include "cli_history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
has_word(const char *line, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = line; *p; p++) {
        if (strncasecmp(p, word, n) == 0) return true;
    }
    return false;
}

/* A URL whose authority (between "://" and the next '/', blank or comma) has an '@'. */
static bool
url_with_userinfo(const char *line)
{
    for (const char *p = strstr(line, "://"); p; p = strstr(p + 3, "://")) {
        size_t n = strcspn(p + 3, "/ \t,'\"");
        if (memchr(p + 3, '@', n)) return true;
    }
    return false;
}

/* --user NAME:PASS (or --user=NAME:PASS) carries the password inline. */
static bool
user_with_password(const char *line)
{
    for (const char *p = strstr(line, "--user"); p; p = strstr(p + 6, "--user")) {
        const char *v = p + 6;
        if (*v != '=' && *v != ' ') continue;
        v += strspn(v, "= ");
        if (memchr(v, ':', strcspn(v, " \t"))) return true;
    }
    return false;
}

/* An nkey seed typed or pasted as is: "S", a key type, and the rest of its 58 base32 characters. */
static bool
seed_text(const char *line)
{
    for (const char *p = strchr(line, 'S'); p; p = strchr(p + 1, 'S')) {
        if (!p[1] || !strchr("OAUNCPX", p[1])) continue;
        if (strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") >= 56) return true;
    }
    return false;
}

bool
cli_history_sensitive(const char *line)
{
    static const char *const words[] = {"pass", "token", "creds", "nkey", "seed", "secret"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (has_word(line, words[i])) return true;
    }
    return url_with_userinfo(line) || user_with_password(line) || seed_text(line);
}

bool
cli_history_path(char *out, size_t cap)
{
    const char *file = getenv("NATSCTL_HISTFILE"), *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (file) {
        if (!*file || strcmp(file, "/dev/null") == 0) return false;
        n = snprintf(out, cap, "%s", file);
    } else if (state && *state == '/') {
        n = snprintf(out, cap, "%s/natsctl/history", state);
    } else if (home && *home) {
        n = snprintf(out, cap, "%s/.local/state/natsctl/history", home);
    } else {
        return false;
    }
    return n > 0 && (size_t)n < cap;
}

/* mkdir -p of path's directory, each new level 0700. */
static int
make_parents(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return -ENAMETOOLONG;
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    return 0;
}

int
cli_history_append(const char *path, const char *line)
{
    if (cli_history_sensitive(line) || strchr(line, '\n')) return 0;
    int rc = make_parents(path);
    if (rc != 0) return rc;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    size_t len = strlen(line);
    char *buf = malloc(len + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    /* One write, so concurrent shells never interleave within a line. */
    ssize_t w = write(fd, buf, len + 1);
    rc = w == (ssize_t)(len + 1) ? 0 : -EIO;
    free(buf);
    close(fd);
    return rc;
}

/* Rewrites path with lines[from..n): a temporary file renamed over it. */
static void
rewrite(const char *path, char **lines, size_t from, size_t n)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return;
    }
    for (size_t i = from; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
    if (fclose(f) != 0 || rename(tmp, path) != 0) unlink(tmp);
}

void
cli_history_load(const char *path, size_t max, void (*add)(void *ud, const char *line), void *ud)
{
    FILE *f = fopen(path, "re");
    if (!f) return;
    char **lines = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (!len || cli_history_sensitive(line)) continue;
        if (n == cap) {
            char **more = realloc(lines, (cap ? cap * 2 : 256) * sizeof *lines);
            if (!more) break;
            lines = more;
            cap = cap ? cap * 2 : 256;
        }
        if (!(lines[n] = strdup(line))) break;
        n++;
    }
    free(line);
    fclose(f);
    size_t from = n > max ? n - max : 0;
    for (size_t i = from; i < n; i++)
        add(ud, lines[i]);
    if (from) rewrite(path, lines, from, n);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}
