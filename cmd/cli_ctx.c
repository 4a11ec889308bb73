/*
 * natscli contexts on disk. The format is natscli's, key for key, because the point is that a
 * user's existing contexts work unchanged and contexts made here work in natscli. Keys natsctl does
 * not know are carried along untouched; keys it knows are type-checked when read, so a typo such as
 * a number for "url" is reported rather than silently ignored.
 */
#include "cli_ctx.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* natscli's string keys in the order it writes them; the bool "tls_first" comes last. */
static const char *const string_keys[] = {
    "description",
    "url",
    "socks_proxy",
    "token",
    "user",
    "password",
    "creds",
    "nkey",
    "cert",
    "key",
    "ca",
    "nsc",
    "jetstream_domain",
    "jetstream_api_prefix",
    "jetstream_event_prefix",
    "inbox_prefix",
    "user_jwt",
    "color_scheme",
};
/* String keys newer natscli versions write, or write only on Windows. */
static const char *const extra_string_keys[] = {
    "user_seed",
    "windows_cert_store",
    "windows_cert_match_by",
    "windows_cert_match",
};

/*
 * Settings that carry credentials or transport security natsctl cannot provide. Connecting without
 * them would mean connecting with less than the user asked for, so a context using any of them is
 * refused.
 */
static const char *const unsupported_keys[] = {
    "nsc",
    "user_jwt",
    "user_seed",
    "socks_proxy",
    "windows_cert_store",
    "windows_cert_match_by",
    "windows_cert_match",
};

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, CLI_CTX_ERRLEN, fmt, ap);
    va_end(ap);
    return -1;
}

bool
cli_ctx_name_valid(const char *name)
{
    return *name && !strstr(name, "..") && !strchr(name, '/') && strlen(name) < CLI_CTX_NAMELEN - 5;
}

bool
cli_ctx_ref_is_file(const char *ref)
{
    size_t n = strlen(ref);
    return strchr(ref, '/') || (n > 5 && strcmp(ref + n - 5, ".json") == 0);
}

/* $XDG_CONFIG_HOME/nats, else $HOME/.config/nats. */
static int
nats_dir(char *out, char *err)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, CLI_CTX_PATHLEN, "%s/nats", xdg);
    else if (home && *home)
        n = snprintf(out, CLI_CTX_PATHLEN, "%s/.config/nats", home);
    else
        return fail(err,
                    "cannot find the context directory: neither XDG_CONFIG_HOME nor HOME is set");
    if (n < 0 || n >= CLI_CTX_PATHLEN) return fail(err, "context directory path too long");
    return 0;
}

int
cli_ctx_path(const char *name, char *out, char *err)
{
    char dir[CLI_CTX_PATHLEN];
    if (nats_dir(dir, err) != 0) return -1;
    if (name && !cli_ctx_name_valid(name)) return fail(err, "invalid context name '%s'", name);
    int n = name ? snprintf(out, CLI_CTX_PATHLEN, "%s/context/%s.json", dir, name)
                 : snprintf(out, CLI_CTX_PATHLEN, "%s", dir);
    if (n < 0 || n >= CLI_CTX_PATHLEN) return fail(err, "context path too long");
    return 0;
}

static bool
in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0) return true;
    return false;
}

#define IN(key, list) in_list(key, list, sizeof list / sizeof list[0])

/* Known keys must have natscli's types; null counts as absent, as Go's decoder treats it. */
static int
check_types(const cJSON *obj, char *err)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *k = it->string;
        if (cJSON_IsNull(it)) continue;
        if ((IN(k, string_keys) || IN(k, extra_string_keys)) && !cJSON_IsString(it))
            return fail(err, "\"%s\" must be a string", k);
        if (strcmp(k, "tls_first") == 0 && !cJSON_IsBool(it))
            return fail(err, "\"tls_first\" must be true or false");
        if (strcmp(k, "windows_ca_certs_match") == 0 && !cJSON_IsArray(it))
            return fail(err, "\"windows_ca_certs_match\" must be a list");
    }
    return 0;
}

int
cli_ctx_parse(struct cli_ctx *c, const char *text, char *err)
{
    cJSON *obj = cJSON_Parse(text);
    if (!obj || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return fail(err, "not a JSON object");
    }
    if (check_types(obj, err) != 0) {
        cJSON_Delete(obj);
        return -1;
    }
    c->json = obj;
    return 0;
}

/* Reads a whole file; returns a malloc'd NUL-terminated copy or NULL with errno set. */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap + 65536);
            if (!nb) break;
            buf = nb;
            cap += 65536;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) break;
            buf[len] = '\0';
            fclose(f);
            return buf;
        }
    }
    int saved = ferror(f) ? EIO : ENOMEM;
    free(buf);
    fclose(f);
    errno = saved;
    return NULL;
}

/* The base name of a file without ".json". */
static void
name_of_file(struct cli_ctx *c, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
    snprintf(c->name, sizeof c->name, "%.*s", (int)n, base);
}

int
cli_ctx_load(struct cli_ctx *c, const char *ref, char *err)
{
    *c = (struct cli_ctx){0};
    if (cli_ctx_ref_is_file(ref)) {
        if (snprintf(c->path, sizeof c->path, "%s", ref) >= (int)sizeof c->path)
            return fail(err, "context path too long");
        name_of_file(c, ref);
    } else {
        if (!cli_ctx_name_valid(ref)) return fail(err, "invalid context name '%s'", ref);
        if (cli_ctx_path(ref, c->path, err) != 0) return -1;
        snprintf(c->name, sizeof c->name, "%s", ref);
    }
    char *text = read_file(c->path);
    if (!text) {
        if (errno == ENOENT && !cli_ctx_ref_is_file(ref))
            return fail(err, "unknown context '%s' (see 'natsctl context ls')", ref);
        return fail(err, "cannot read context %s: %s", c->path, strerror(errno));
    }
    char why[CLI_CTX_ERRLEN];
    int rc = cli_ctx_parse(c, text, why);
    free(text);
    if (rc != 0) return fail(err, "context %s: %s", c->path, why);
    return 0;
}

int
cli_ctx_init_new(struct cli_ctx *c, const char *name, char *err)
{
    *c = (struct cli_ctx){0};
    if (cli_ctx_path(name, c->path, err) != 0) return -1;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->json = cJSON_CreateObject();
    bool ok = c->json != NULL;
    for (size_t i = 0; ok && i < sizeof string_keys / sizeof string_keys[0]; i++)
        ok = cJSON_AddStringToObject(c->json, string_keys[i], "") != NULL;
    if (ok) ok = cJSON_AddFalseToObject(c->json, "tls_first") != NULL;
    if (!ok) {
        cli_ctx_release(c);
        return fail(err, "out of memory");
    }
    return 0;
}

void
cli_ctx_release(struct cli_ctx *c)
{
    cJSON_Delete(c->json);
    c->json = NULL;
}

const char *
cli_ctx_get(const struct cli_ctx *c, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->json, key));
    return v && *v ? v : NULL;
}

int
cli_ctx_set(struct cli_ctx *c, const char *key, const char *value)
{
    cJSON *v = cJSON_CreateString(value);
    if (!v) return -1;
    if (cJSON_GetObjectItemCaseSensitive(c->json, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(c->json, key, v) ? 0 : -1;
    if (!cJSON_AddItemToObject(c->json, key, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

const char *
cli_ctx_unsupported(const struct cli_ctx *c)
{
    for (size_t i = 0; i < sizeof unsupported_keys / sizeof unsupported_keys[0]; i++)
        if (cli_ctx_get(c, unsupported_keys[i])) return unsupported_keys[i];
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->json, "tls_first"))) return "tls_first";
    cJSON *cas = cJSON_GetObjectItemCaseSensitive(c->json, "windows_ca_certs_match");
    if (cJSON_GetArraySize(cas) > 0) return "windows_ca_certs_match";
    return NULL;
}

/* Appends s to the buffer *b (length *len, capacity *cap); false when out of memory. */
static bool
append(char **b, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = realloc(*b, ncap);
        if (!nb) return false;
        *b = nb;
        *cap = ncap;
    }
    memcpy(*b + *len, s, n + 1);
    *len += n;
    return true;
}

/* s as a JSON string literal, malloc'd (cJSON_free), or NULL. */
static char *
quoted(const char *s)
{
    cJSON *v = cJSON_CreateString(s);
    char *out = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    return out;
}

/* Go's json.MarshalIndent(v, "", "  ") shape for a flat object: one key per line. */
char *
cli_ctx_format(const struct cli_ctx *c)
{
    char *b = NULL;
    size_t len = 0, cap = 0;
    bool ok = append(&b, &len, &cap, "{");
    for (const cJSON *it = c->json->child; ok && it; it = it->next) {
        char *key = quoted(it->string);
        char *val = cJSON_PrintUnformatted(it);
        ok = key && val && append(&b, &len, &cap, it == c->json->child ? "\n  " : ",\n  ") &&
             append(&b, &len, &cap, key) && append(&b, &len, &cap, ": ") &&
             append(&b, &len, &cap, val);
        cJSON_free(key);
        cJSON_free(val);
    }
    if (ok) ok = append(&b, &len, &cap, c->json->child ? "\n}" : "}");
    if (!ok) {
        free(b);
        return NULL;
    }
    return b;
}

/* mkdir -p for the directory part of path, mode 0700 for what it creates. */
static int
make_parents(const char *path, char *err)
{
    char dir[CLI_CTX_PATHLEN];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return fail(err, "cannot create %s: %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* Writes data to path through a temporary file in the same directory and rename(). */
static int
write_atomic(const char *path, const char *data, char *err)
{
    char tmp[CLI_CTX_PATHLEN + 16];
    if (make_parents(path, err) != 0) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return fail(err, "cannot write %s: %s", path, strerror(errno));
    size_t len = strlen(data), off = 0;
    int rc = fchmod(fd, 0600);
    while (rc == 0 && off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            rc = -1;
        else
            off += (size_t)n;
    }
    if (rc == 0) rc = fsync(fd);
    if (close(fd) != 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    if (rc != 0) {
        int saved = errno;
        unlink(tmp);
        return fail(err, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

int
cli_ctx_save(const struct cli_ctx *c, char *err)
{
    char *text = cli_ctx_format(c);
    if (!text) return fail(err, "out of memory");
    int rc = write_atomic(c->path, text, err);
    free(text);
    return rc;
}

/* Reads a selection file: its trimmed content, "" when it does not exist. */
static int
read_selection(const char *file, char *out, char *err)
{
    char path[CLI_CTX_PATHLEN], dir[CLI_CTX_PATHLEN];
    *out = '\0';
    /* Without a home there is no selection, which is not an error for commands that only read. */
    if (cli_ctx_path(NULL, dir, err) != 0) return 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return fail(err, "context path too long");
    char *text = read_file(path);
    if (!text) return errno == ENOENT ? 0 : fail(err, "cannot read %s: %s", path, strerror(errno));
    const char *s = text;
    size_t n = strlen(s);
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    int rc = n < CLI_CTX_NAMELEN ? 0 : fail(err, "%s: name too long", path);
    if (rc == 0) snprintf(out, CLI_CTX_NAMELEN, "%.*s", (int)n, s);
    free(text);
    return rc;
}

int
cli_ctx_selected(char *out, char *err)
{
    return read_selection("context.txt", out, err);
}

int
cli_ctx_select(const char *name, char *err)
{
    char dir[CLI_CTX_PATHLEN], path[CLI_CTX_PATHLEN + 32], prev[CLI_CTX_NAMELEN];
    if (cli_ctx_path(NULL, dir, err) != 0 || cli_ctx_selected(prev, err) != 0) return -1;
    snprintf(path, sizeof path, "%s/previous-context.txt", dir);
    if (*prev && write_atomic(path, prev, err) != 0) return -1;
    snprintf(path, sizeof path, "%s/context.txt", dir);
    if (name && *name) return write_atomic(path, name, err);
    if (unlink(path) != 0 && errno != ENOENT)
        return fail(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

int
cli_ctx_remove(const char *name, char *err)
{
    char path[CLI_CTX_PATHLEN];
    if (cli_ctx_path(name, path, err) != 0) return -1;
    if (unlink(path) != 0) {
        if (errno == ENOENT) return fail(err, "unknown context '%s'", name);
        return fail(err, "cannot remove %s: %s", path, strerror(errno));
    }
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* natscli lists the non-empty *.json files whose names are valid context names. */
static bool
listed(const char *dir, const char *file, char *name)
{
    size_t n = strlen(file);
    if (n <= 5 || n - 5 >= CLI_CTX_NAMELEN || strcmp(file + n - 5, ".json") != 0) return false;
    snprintf(name, CLI_CTX_NAMELEN, "%.*s", (int)(n - 5), file);
    char path[CLI_CTX_PATHLEN + CLI_CTX_NAMELEN];
    struct stat st;
    int len = snprintf(path, sizeof path, "%s/%s", dir, file);
    return len > 0 && (size_t)len < sizeof path && cli_ctx_name_valid(name) &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int
cli_ctx_list(char ***names, char *err)
{
    char dir[CLI_CTX_PATHLEN + 8], name[CLI_CTX_NAMELEN];
    if (cli_ctx_path(NULL, dir, err) != 0) return -1;
    strcat(dir, "/context");
    size_t n = 0;
    char **list = calloc(1, sizeof *list);
    if (!list) return fail(err, "out of memory");
    DIR *d = opendir(dir);
    if (!d && errno != ENOENT) {
        free(list);
        return fail(err, "cannot read %s: %s", dir, strerror(errno));
    }
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!listed(dir, e->d_name, name)) continue;
        char **nl = realloc(list, (n + 2) * sizeof *list);
        char *copy = strdup(name);
        if (nl) list = nl;
        if (!nl || !copy) {
            free(copy);
            closedir(d);
            cli_ctx_free_list(list);
            return fail(err, "out of memory");
        }
        list[n++] = copy;
        list[n] = NULL;
    }
    if (d) closedir(d);
    qsort(list, n, sizeof *list, cmp_names);
    *names = list;
    return 0;
}

void
cli_ctx_free_list(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}
