/*
 * INFO and CONNECT JSON (spec 1.2, 1.3), on top of cJSON.
 *
 * Decoding copies Go's encoding/json as nats-server and nats.go use it, because that is what peers
 * are measured against: one JSON value with nothing but whitespace after it, object keys matched to
 * field names without regard to ASCII case, a later duplicate key overriding an earlier one, a null
 * value leaving its field alone. CONNECT is as strict as nats-server (a known key with the wrong type
 * fails the whole command); INFO is read tolerantly, as a client should read a server. Encoding
 * follows the field order and omitempty rules of the Go structs. Integers are written as raw digits
 * because cJSON prints through a double and would lose precision above 2^53. Every string a
 * struct holds is its own heap copy, so releasing it is always a plain free().
 */
#include "np.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_POW_53 9007199254740992.0
#define TWO_POW_63 9223372036854775808.0
#define TWO_POW_64 18446744073709551616.0

/* How a JSON value is stored into a struct field. */
enum kind {
    K_BOOL,
    K_INT,         /* int; CONNECT clamps values a Go int holds but a C int does not */
    K_I64,         /* int64_t */
    K_U64,         /* uint64_t */
    K_STR,         /* char *, a heap copy */
    K_STRV,        /* INFO connect_urls: char ** and its count */
    K_ACCOUNT,     /* CONNECT "account": refused when a non-empty string */
    K_NEW_ACCOUNT, /* CONNECT "new_account": refused when true */
};

struct field {
    const char *name;
    size_t off; /* offset of the member in its struct */
    enum kind kind;
};

/* The name and offset of a member, for a table entry. */
#define INFO_MEMBER(m)    #m, offsetof(struct np_info, m)
#define CONNECT_MEMBER(m) #m, offsetof(struct np_connect, m)

static const struct field info_fields[] = {
    {INFO_MEMBER(server_id), K_STR},
    {INFO_MEMBER(server_name), K_STR},
    {INFO_MEMBER(version), K_STR},
    {INFO_MEMBER(proto), K_INT},
    {INFO_MEMBER(go), K_STR},
    {INFO_MEMBER(host), K_STR},
    {INFO_MEMBER(port), K_INT},
    {INFO_MEMBER(headers), K_BOOL},
    {INFO_MEMBER(auth_required), K_BOOL},
    {INFO_MEMBER(tls_required), K_BOOL},
    {INFO_MEMBER(tls_verify), K_BOOL},
    {INFO_MEMBER(tls_available), K_BOOL},
    {INFO_MEMBER(max_payload), K_I64},
    {INFO_MEMBER(jetstream), K_BOOL},
    {INFO_MEMBER(natsctl_streams), K_BOOL},
    {INFO_MEMBER(ip), K_STR},
    {INFO_MEMBER(client_id), K_U64},
    {INFO_MEMBER(client_ip), K_STR},
    {INFO_MEMBER(nonce), K_STR},
    {INFO_MEMBER(cluster), K_STR},
    {INFO_MEMBER(cluster_dynamic), K_BOOL},
    {INFO_MEMBER(connect_urls), K_STRV},
    {INFO_MEMBER(ldm), K_BOOL},
    {INFO_MEMBER(lnoc), K_BOOL},
    {INFO_MEMBER(gateway), K_STR},
};

static const struct field connect_fields[] = {
    {CONNECT_MEMBER(verbose), K_BOOL},
    {CONNECT_MEMBER(pedantic), K_BOOL},
    {CONNECT_MEMBER(echo), K_BOOL},
    {CONNECT_MEMBER(tls_required), K_BOOL},
    {CONNECT_MEMBER(headers), K_BOOL},
    {CONNECT_MEMBER(no_responders), K_BOOL},
    {CONNECT_MEMBER(protocol), K_INT},
    {CONNECT_MEMBER(name), K_STR},
    {CONNECT_MEMBER(lang), K_STR},
    {CONNECT_MEMBER(version), K_STR},
    {CONNECT_MEMBER(user), K_STR},
    {CONNECT_MEMBER(pass), K_STR},
    {CONNECT_MEMBER(auth_token), K_STR},
    {CONNECT_MEMBER(nkey), K_STR},
    {CONNECT_MEMBER(jwt), K_STR},
    {CONNECT_MEMBER(sig), K_STR},
    {"account", 0, K_ACCOUNT},
    {"new_account", 0, K_NEW_ACCOUNT},
    {CONNECT_MEMBER(cluster), K_STR},
    {CONNECT_MEMBER(gateway), K_STR},
    {CONNECT_MEMBER(cluster_dynamic), K_BOOL},
    {CONNECT_MEMBER(lnoc), K_BOOL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (ascii_lower(*a) != ascii_lower(*b)) return false;
    }
    return *a == *b;
}

static const struct field *
find_field(const struct field *table, size_t n, const char *key)
{
    if (!key) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (ascii_ieq(table[i].name, key)) return &table[i];
    }
    return NULL;
}

static bool
is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses json[0..len) as exactly one value. Returns NULL when it is not valid JSON. */
static cJSON *
parse_value(const char *json, size_t len)
{
    if (!json || len == 0) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root) return NULL;
    for (const char *p = end; p < json + len; p++) {
        if (!is_json_space(*p)) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* Reads a number that is whole and within [lo, hi) into *out. */
static bool
whole_number(const cJSON *v, double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= lo && d < hi)) return false;
    /* From 2^53 on a double has no fraction bits, and below it the cast is exact. */
    if (d > -TWO_POW_53 && d < TWO_POW_53 && (double)(int64_t)d != d) return false;
    *out = d;
    return true;
}

/* strdup, which plain -std=c11 builds (such as the fuzzer's) do not declare. */
static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    return copy ? memcpy(copy, s, n) : NULL;
}

static int
replace_str(char **slot, const char *s)
{
    char *copy = dup_str(s);
    if (!copy) return NP_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

static void
free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Copies the string elements of a JSON array (others are skipped); an empty result is NULL. */
static int
replace_strv(char ***slot, size_t *count, const cJSON *arr)
{
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (cJSON_IsString(e)) n++;
    }
    char **v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v) return NP_ENOMEM;
    size_t i = 0;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e)) continue;
        v[i] = dup_str(e->valuestring);
        if (!v[i++]) {
            free_strv(v, n);
            return NP_ENOMEM;
        }
    }
    free_strv(*slot, *count);
    *slot = v;
    *count = n;
    return 0;
}

/* Stores one INFO value; a value of the wrong type or range is skipped, as a lenient client does. */
static int
info_set(struct np_info *info, const struct field *f, const cJSON *v)
{
    char *at = (char *)info + f->off;
    double d;
    switch (f->kind) {
    case K_BOOL:
        if (cJSON_IsBool(v)) *(bool *)at = cJSON_IsTrue(v);
        return 0;
    case K_INT:
        if (whole_number(v, INT_MIN, (double)INT_MAX + 1, &d)) *(int *)at = (int)d;
        return 0;
    case K_I64:
        if (whole_number(v, -TWO_POW_63, TWO_POW_63, &d)) *(int64_t *)at = (int64_t)d;
        return 0;
    case K_U64:
        if (whole_number(v, 0, TWO_POW_64, &d)) *(uint64_t *)at = (uint64_t)d;
        return 0;
    case K_STR:
        return cJSON_IsString(v) ? replace_str((char **)at, v->valuestring) : 0;
    case K_STRV:
        return cJSON_IsArray(v) ? replace_strv(&info->connect_urls, &info->n_connect_urls, v) : 0;
    default:
        return 0;
    }
}

int
np_info_parse(struct np_info *info, const char *json, size_t len)
{
    *info = (struct np_info){.server_id = NULL};
    cJSON *root = parse_value(json, len);
    int rc = cJSON_IsObject(root) ? 0 : NP_EJSON;
    for (const cJSON *v = rc ? NULL : root->child; v && rc == 0; v = v->next) {
        const struct field *f = find_field(info_fields, COUNT(info_fields), v->string);
        if (f) rc = info_set(info, f, v);
    }
    cJSON_Delete(root);
    if (rc) np_info_release(info);
    return rc;
}

void
np_info_release(struct np_info *info)
{
    free(info->server_id);
    free(info->server_name);
    free(info->version);
    free(info->go);
    free(info->host);
    free(info->client_ip);
    free(info->nonce);
    free(info->cluster);
    free(info->ip);
    free(info->gateway);
    free_strv(info->connect_urls, info->n_connect_urls);
    *info = (struct np_info){.server_id = NULL};
}

static bool
put_str(cJSON *o, const char *key, const char *s)
{
    return cJSON_AddStringToObject(o, key, s ? s : "") != NULL;
}

/* Go's omitempty: an empty string is left out like a missing one. */
static bool
put_opt_str(cJSON *o, const char *key, const char *s)
{
    return !s || !*s || put_str(o, key, s);
}

static bool
put_bool(cJSON *o, const char *key, bool b)
{
    return cJSON_AddBoolToObject(o, key, b) != NULL;
}

static bool
put_opt_bool(cJSON *o, const char *key, bool b)
{
    return !b || put_bool(o, key, b);
}

static bool
put_i64(cJSON *o, const char *key, int64_t n)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, n);
    return cJSON_AddRawToObject(o, key, digits) != NULL;
}

static bool
put_opt_u64(cJSON *o, const char *key, uint64_t n)
{
    if (n == 0) return true;
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, n);
    return cJSON_AddRawToObject(o, key, digits) != NULL;
}

/* A NULL element is written as "" so the array keeps its length. */
static bool
put_opt_strv(cJSON *o, const char *key, char *const *v, size_t n)
{
    if (!v || n == 0) return true;
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i] ? v[i] : "");
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return false;
        }
    }
    return arr != NULL;
}

/* Prints o compactly and frees it; ok false (an earlier step failed) gives NULL. */
static char *
finish_json(cJSON *o, bool ok)
{
    char *out = ok && o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return out;
}

char *
np_info_encode(const struct np_info *info)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && put_str(o, "server_id", info->server_id) &&
              put_str(o, "server_name", info->server_name) &&
              put_str(o, "version", info->version) && put_i64(o, "proto", info->proto) &&
              put_str(o, "go", info->go) && put_str(o, "host", info->host) &&
              put_i64(o, "port", info->port) && put_bool(o, "headers", info->headers) &&
              put_opt_bool(o, "auth_required", info->auth_required) &&
              put_opt_bool(o, "tls_required", info->tls_required) &&
              put_opt_bool(o, "tls_verify", info->tls_verify) &&
              put_opt_bool(o, "tls_available", info->tls_available) &&
              put_i64(o, "max_payload", info->max_payload) &&
              put_opt_bool(o, "jetstream", info->jetstream) &&
              put_opt_bool(o, "natsctl_streams", info->natsctl_streams) &&
              put_opt_str(o, "ip", info->ip) && put_opt_u64(o, "client_id", info->client_id) &&
              put_opt_str(o, "client_ip", info->client_ip) &&
              put_opt_str(o, "nonce", info->nonce) && put_opt_str(o, "cluster", info->cluster) &&
              put_opt_bool(o, "cluster_dynamic", info->cluster_dynamic) &&
              put_opt_strv(o, "connect_urls", info->connect_urls, info->n_connect_urls) &&
              put_opt_bool(o, "ldm", info->ldm) && put_opt_bool(o, "lnoc", info->lnoc);
    return finish_json(o, ok);
}

/* Keys are matched as Go's decoder matches them: without regard to ASCII case. */
static void
delete_key(cJSON *o, const char *key)
{
    cJSON *v;
    while ((v = cJSON_GetObjectItem(o, key)) != NULL)
        cJSON_Delete(cJSON_DetachItemViaPointer(o, v));
}

char *
np_info_gossip(const char *json, size_t len, const char *ip)
{
    cJSON *o = parse_value(json, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    delete_key(o, "nonce");
    const cJSON *have = cJSON_GetObjectItem(o, "ip");
    bool ok = true;
    if (!cJSON_IsString(have) || !have->valuestring[0]) {
        delete_key(o, "ip");
        ok = put_str(o, "ip", ip);
    }
    return finish_json(o, ok);
}

void
np_connect_init(struct np_connect *c)
{
    *c = (struct np_connect){.verbose = true, .pedantic = true, .echo = true};
}

/* What one CONNECT parse learns besides the struct's own fields. */
struct connect_ctx {
    struct np_connect *c;
    bool account;     /* the last "account" was a non-empty string */
    bool new_account; /* the last "new_account" was true */
};

/*
 * Reads a Go int: a whole number within int64. A value a C int cannot hold is clamped, which keeps
 * it out of the valid protocol range just as the unclamped value would be.
 */
static int
connect_int(int *slot, const cJSON *v)
{
    double d;
    if (!whole_number(v, -TWO_POW_63, TWO_POW_63, &d)) return NP_EJSON;
    int64_t n = (int64_t)d;
    *slot = n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int)n;
    return 0;
}

/* Stores one CONNECT value; a wrong type fails the command, as Go's decoder fails nats-server's. */
static int
connect_set(struct connect_ctx *x, const struct field *f, const cJSON *v)
{
    char *at = (char *)x->c + f->off;
    bool is_str = cJSON_IsString(v), is_bool = cJSON_IsBool(v);
    switch (f->kind) {
    case K_BOOL:
        if (is_bool) *(bool *)at = cJSON_IsTrue(v);
        return is_bool ? 0 : NP_EJSON;
    case K_INT:
        return connect_int((int *)at, v);
    case K_STR:
        return is_str ? replace_str((char **)at, v->valuestring) : NP_EJSON;
    case K_ACCOUNT:
        if (is_str) x->account = v->valuestring[0] != '\0';
        return is_str ? 0 : NP_EJSON;
    case K_NEW_ACCOUNT:
        if (is_bool) x->new_account = cJSON_IsTrue(v);
        return is_bool ? 0 : NP_EJSON;
    default:
        return 0;
    }
}

int
np_connect_parse(struct np_connect *c, const char *json, size_t len)
{
    cJSON *root = parse_value(json, len);
    /* Go decodes a top-level null into a struct as "no change", and nats-server accepts it. */
    int rc = (cJSON_IsObject(root) || cJSON_IsNull(root)) ? 0 : NP_EJSON;
    struct connect_ctx x = {.c = c};
    for (const cJSON *v = rc ? NULL : root->child; v && rc == 0; v = v->next) {
        const struct field *f = find_field(connect_fields, COUNT(connect_fields), v->string);
        if (f && !cJSON_IsNull(v)) rc = connect_set(&x, f, v);
    }
    cJSON_Delete(root);
    if (rc) {
        np_connect_release(c);
        return rc;
    }
    c->has_account = c->has_account || x.account || x.new_account;
    return 0;
}

char *
np_connect_encode(const struct np_connect *c)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && put_bool(o, "verbose", c->verbose) && put_bool(o, "pedantic", c->pedantic) &&
              put_opt_str(o, "jwt", c->jwt) && put_opt_str(o, "nkey", c->nkey) &&
              put_opt_str(o, "sig", c->sig) && put_opt_str(o, "user", c->user) &&
              put_opt_str(o, "pass", c->pass) && put_opt_str(o, "auth_token", c->auth_token) &&
              put_bool(o, "tls_required", c->tls_required) && put_opt_str(o, "name", c->name) &&
              put_str(o, "lang", c->lang) && put_str(o, "version", c->version) &&
              put_i64(o, "protocol", c->protocol) && put_bool(o, "echo", c->echo) &&
              put_bool(o, "headers", c->headers) && put_bool(o, "no_responders", c->no_responders);
    return finish_json(o, ok);
}

char *
np_connect_encode_route(const struct np_connect *c)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && put_bool(o, "echo", c->echo) && put_bool(o, "verbose", c->verbose) &&
              put_bool(o, "pedantic", c->pedantic) && put_opt_str(o, "user", c->user) &&
              put_opt_str(o, "pass", c->pass) && put_bool(o, "tls_required", c->tls_required) &&
              put_bool(o, "headers", c->headers) && put_str(o, "name", c->name) &&
              put_str(o, "cluster", c->cluster) &&
              put_opt_bool(o, "cluster_dynamic", c->cluster_dynamic) &&
              put_opt_bool(o, "lnoc", c->lnoc);
    return finish_json(o, ok);
}

void
np_connect_release(struct np_connect *c)
{
    free(c->name);
    free(c->lang);
    free(c->version);
    free(c->user);
    free(c->pass);
    free(c->auth_token);
    free(c->nkey);
    free(c->jwt);
    free(c->sig);
    free(c->cluster);
    free(c->gateway);
    np_connect_init(c);
}
