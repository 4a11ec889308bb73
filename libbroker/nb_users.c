/*
 * authorization.users and permissions, read as nats-server 2.9.10's opts.go reads them (parseUsers,
 * parseUserPermissions, parseAllowResponses, checkPermSubjectArray), with its error texts where
 * those are meant for people (not where they are Go's panics about types).
 *
 * Keys are matched case-insensitively and in file order, so a key written twice (in any case)
 * takes its last value. The first error ends the reading; nothing half-read is returned.
 */
#include "nb_users.h"
#include "np.h"
#include "np_nkey.h"
#include "np_units.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RESPONSES_MAX_DEFAULT    1               /* nats-server's DEFAULT_ALLOW_RESPONSE_MAX_MSGS */
#define RESPONSES_TTL_DEFAULT_MS (2 * 60 * 1000) /* and DEFAULT_ALLOW_RESPONSE_EXPIRATION */

static int fail(struct nb_users_error *err, const cJSON *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct nb_users_error *err, const cJSON *at, const char *fmt, ...)
{
    err->at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return NB_ECONFIG;
}

/* What kind of value v is, for "expected ..., got <kind>". */
static const char *
kind_of(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "a map";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    return "a number";
}

static bool
key_is(const cJSON *member, const char *const *names)
{
    for (; *names; names++) {
        if (strcasecmp(member->string, *names) == 0) return true;
    }
    return false;
}

/* ---- freeing and copying ------------------------------------------------------------------------ */

static void
strs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
subject_perms_release(struct nb_subject_perms *sp)
{
    strs_free(sp->allow, sp->nallow);
    strs_free(sp->deny, sp->ndeny);
    memset(sp, 0, sizeof *sp);
}

void
nb__perms_free(struct nb_permissions *p)
{
    if (!p) return;
    subject_perms_release(&p->publish);
    subject_perms_release(&p->subscribe);
    free(p);
}

void
nb__users_free(struct nb_user *users, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(users[i].name);
        free(users[i].password);
        free(users[i].account);
        free(users[i].nkey);
        nb__perms_free(users[i].perms);
    }
    free(users);
}

static char **
strs_copy(char *const *src, size_t n)
{
    char **v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] = strdup(src[i]))) {
            strs_free(v, i);
            return NULL;
        }
    }
    return v;
}

static int
subject_perms_copy(struct nb_subject_perms *dst, const struct nb_subject_perms *src)
{
    *dst = (struct nb_subject_perms){.nallow = src->nallow, .ndeny = src->ndeny};
    dst->allow = strs_copy(src->allow, src->nallow);
    dst->deny = strs_copy(src->deny, src->ndeny);
    if ((src->nallow && !dst->allow) || (src->ndeny && !dst->deny)) {
        subject_perms_release(dst);
        return NB_ENOMEM;
    }
    return 0;
}

int
nb__perms_copy(const struct nb_permissions *src, struct nb_permissions **out)
{
    *out = NULL;
    if (!src) return 0;
    struct nb_permissions *p = calloc(1, sizeof *p);
    if (!p) return NB_ENOMEM;
    *p = *src;
    p->publish = p->subscribe = (struct nb_subject_perms){0};
    if (subject_perms_copy(&p->publish, &src->publish) ||
        subject_perms_copy(&p->subscribe, &src->subscribe)) {
        nb__perms_free(p);
        return NB_ENOMEM;
    }
    *out = p;
    return 0;
}

int
nb__users_copy(const struct nb_user *src, size_t n, struct nb_user **out)
{
    *out = NULL;
    if (n == 0) return 0;
    struct nb_user *v = calloc(n, sizeof *v);
    if (!v) return NB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i].standard_refused = src[i].standard_refused;
        if ((src[i].name && !(v[i].name = strdup(src[i].name))) ||
            (src[i].nkey && !(v[i].nkey = strdup(src[i].nkey))) ||
            (src[i].password && !(v[i].password = strdup(src[i].password))) ||
            (src[i].account && !(v[i].account = strdup(src[i].account))) ||
            nb__perms_copy(src[i].perms, &v[i].perms)) {
            nb__users_free(v, i + 1);
            return NB_ENOMEM;
        }
    }
    *out = v;
    return 0;
}

/* ---- subjects ------------------------------------------------------------------------------------ */

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * nats-server's checkPermSubjectArray: a valid subject, or two words of which the first is a valid
 * subject ("subject queue"). Returns NULL, or the text that is not a valid subject.
 */
static const char *
bad_perm_subject(const char *s, char *first, size_t cap)
{
    if (np_subject_valid(s, strlen(s))) return NULL;
    const char *words[3];
    size_t lens[3], n = 0;
    for (const char *p = s; *p && n < 3;) {
        while (blank(*p))
            p++;
        if (!*p) break;
        words[n] = p;
        while (*p && !blank(*p))
            p++;
        lens[n] = (size_t)(p - words[n]);
        n++;
    }
    if (n != 2) return s;
    if (np_subject_valid(words[0], lens[0])) return NULL;
    snprintf(first, cap, "%.*s", (int)lens[0], words[0]);
    return first;
}

/* A subject or an array of subjects (nats-server's parsePermSubjects), appended to *list. */
static int
subjects_parse(const cJSON *v, char ***list, size_t *n, struct nb_users_error *err)
{
    bool one = cJSON_IsString(v);
    if (!one && !cJSON_IsArray(v)) {
        return fail(err, v,
                    "Expected subject permissions to be a subject, or array of subjects, got %s",
                    kind_of(v));
    }
    size_t count = one ? 1 : (size_t)cJSON_GetArraySize(v);
    char **out = count ? calloc(count, sizeof *out) : NULL;
    if (count && !out) return NB_ENOMEM;
    size_t i = 0;
    int rc = 0;
    for (const cJSON *e = one ? v : v->child; e && !rc; e = one ? NULL : e->next, i++) {
        char first[256];
        const char *bad;
        if (!cJSON_IsString(e))
            rc = fail(err, e, "Subject in permissions array cannot be cast to string");
        else if ((bad = bad_perm_subject(e->valuestring, first, sizeof first)))
            rc = fail(err, e, "subject \"%.150s\" is not a valid subject", bad);
        else if (!(out[i] = strdup(e->valuestring)))
            rc = NB_ENOMEM;
    }
    if (rc) {
        strs_free(out, count);
        return rc;
    }
    strs_free(*list, *n);
    *list = out;
    *n = count;
    return 0;
}

/* publish or subscribe: a subject, an array, or { allow, deny } (parseVariablePermissions). */
static int
subject_perms_parse(const cJSON *v, struct nb_subject_perms *sp, struct nb_users_error *err)
{
    static const char *const allow[] = {"allow", NULL}, *const deny[] = {"deny", NULL};
    subject_perms_release(sp);
    if (!cJSON_IsObject(v)) return subjects_parse(v, &sp->allow, &sp->nallow, err);
    for (const cJSON *m = v->child; m; m = m->next) {
        int rc;
        if (key_is(m, allow))
            rc = subjects_parse(m, &sp->allow, &sp->nallow, err);
        else if (key_is(m, deny))
            rc = subjects_parse(m, &sp->deny, &sp->ndeny, err);
        else
            rc = fail(err, m,
                      "Unknown field name \"%.60s\" parsing subject permissions, only 'allow' or "
                      "'deny' are permitted",
                      m->string);
        if (rc) return rc;
    }
    return 0;
}

/* ---- allow_responses ----------------------------------------------------------------------------- */

static int
responses_max(const struct nb_conf *doc, const cJSON *v, struct nb_permissions *p,
              struct nb_users_error *err)
{
    const struct nb_conf_meta *m = nb__conf_meta(doc, v);
    if (!cJSON_IsNumber(v) || !m || !(m->flags & NB_CONF_INT))
        return fail(err, v, "error parsing max, expected an integer");
    /* 0 keeps the default; a negative number means no limit. */
    if (m->ival) p->responses_max = m->ival < 0 ? -1 : m->ival;
    return 0;
}

static int
responses_ttl(const cJSON *v, struct nb_permissions *p, struct nb_users_error *err)
{
    int64_t ns;
    if (!cJSON_IsString(v)) return fail(err, v, "error parsing expires, not a duration string");
    if (np_duration_parse(v->valuestring, strlen(v->valuestring), &ns))
        return fail(err, v, "error parsing expires: invalid duration \"%.60s\"", v->valuestring);
    /* 0 keeps the default, a negative duration means no limit; less than 1 ms is still a limit. */
    if (ns < 0)
        p->responses_ttl_ms = -1;
    else if (ns > 0)
        p->responses_ttl_ms = ns < 1000000 ? 1 : ns / 1000000;
    return 0;
}

static int
responses_parse(const struct nb_conf *doc, const cJSON *v, struct nb_permissions *p,
                struct nb_users_error *err)
{
    static const char *const max[] = {"max", "max_msgs", "max_messages", "max_responses", NULL};
    static const char *const ttl[] = {"expires", "expiration", "ttl", NULL};
    p->allow_responses = cJSON_IsTrue(v) || cJSON_IsObject(v);
    p->responses_max = RESPONSES_MAX_DEFAULT;
    p->responses_ttl_ms = RESPONSES_TTL_DEFAULT_MS;
    if (cJSON_IsBool(v)) return 0;
    if (!cJSON_IsObject(v))
        return fail(err, v, "error parsing response permissions, expected a boolean or a map");
    for (const cJSON *m = v->child; m; m = m->next) {
        int rc;
        if (key_is(m, max))
            rc = responses_max(doc, m, p, err);
        else if (key_is(m, ttl))
            rc = responses_ttl(m, p, err);
        else
            rc = fail(err, m, "Unknown field \"%.60s\" parsing permissions", m->string);
        if (rc) return rc;
    }
    return 0;
}

/* ---- permissions and users ----------------------------------------------------------------------- */

static int
perm_member(const struct nb_conf *doc, const cJSON *m, struct nb_permissions *p,
            struct nb_users_error *err)
{
    static const char *const pub[] = {"pub", "publish", "import", NULL};
    static const char *const sub[] = {"sub", "subscribe", "export", NULL};
    static const char *const resp[] = {"publish_allow_responses", "allow_responses", NULL};
    if (key_is(m, pub)) return subject_perms_parse(m, &p->publish, err);
    if (key_is(m, sub)) return subject_perms_parse(m, &p->subscribe, err);
    if (key_is(m, resp)) return responses_parse(doc, m, p, err);
    return fail(err, m, "Unknown field \"%.60s\" parsing permissions", m->string);
}

int
nb__perms_parse(const struct nb_conf *doc, const cJSON *v, struct nb_permissions **out,
                struct nb_users_error *err)
{
    if (!cJSON_IsObject(v))
        return fail(err, v, "Expected permissions to be a map/struct, got %s", kind_of(v));
    struct nb_permissions *p = calloc(1, sizeof *p);
    if (!p) return NB_ENOMEM;
    for (const cJSON *m = v->child; m; m = m->next) {
        int rc = perm_member(doc, m, p, err);
        if (rc) {
            nb__perms_free(p);
            return rc;
        }
    }
    *out = p;
    return 0;
}

/* The connection types nats-server knows; natsctl's clients are all "STANDARD". */
static int
connection_types(const cJSON *v, struct nb_user *u, struct nb_users_error *err)
{
    static const char *const known[] = {"STANDARD",    "WEBSOCKET", "LEAFNODE",
                                        "LEAFNODE_WS", "MQTT",      "MQTT_WS"};
    bool one = cJSON_IsString(v), standard = false;
    size_t n = 0;
    if (!one && !cJSON_IsArray(v))
        return fail(err, v,
                    "error parsing allowed connection types: expected a string or an array");
    for (const cJSON *e = one ? v : v->child; e; e = one ? NULL : e->next, n++) {
        if (!cJSON_IsString(e))
            return fail(err, e, "error parsing allowed connection types: expected a string");
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcasecmp(e->valuestring, known[k]) != 0)
            k++;
        if (k == sizeof known / sizeof known[0])
            return fail(err, e, "invalid connection types [\"%.60s\"]", e->valuestring);
        standard = standard || k == 0;
    }
    u->standard_refused = n > 0 && !standard;
    return 0;
}

static int
set_string(const cJSON *m, char **field, struct nb_users_error *err)
{
    if (!cJSON_IsString(m)) return fail(err, m, "invalid '%.60s': expected a string", m->string);
    char *copy = strdup(m->valuestring);
    if (!copy) return NB_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int
user_member(const struct nb_conf *doc, const cJSON *m, struct nb_user *u,
            struct nb_users_error *err)
{
    static const char *const name[] = {"user", "username", NULL};
    static const char *const pass[] = {"pass", "password", NULL};
    static const char *const perms[] = {"permission", "permissions", "authorization", NULL};
    static const char *const types[] = {"allowed_connection_types", "connection_types", "clients",
                                        NULL};
    if (strcasecmp(m->string, "nkey") == 0) return set_string(m, &u->nkey, err);
    if (key_is(m, name)) return set_string(m, &u->name, err);
    if (key_is(m, pass)) return set_string(m, &u->password, err);
    if (key_is(m, types)) return connection_types(m, u, err);
    if (!key_is(m, perms)) return fail(err, m, "unknown field \"%.80s\"", m->string);
    nb__perms_free(u->perms);
    u->perms = NULL;
    return nb__perms_parse(doc, m, &u->perms, err);
}

static bool
empty(const char *s)
{
    return !s || !*s;
}

/*
 * nats-server's choice between an nkey user and a named one; the nkey wins. An nkey entry's
 * errors point at its first key, as nats-server's do.
 */
static int
nkey_or_user(const cJSON *v, struct nb_user *u, struct nb_users_error *err)
{
    const cJSON *first = v->child ? v->child : v;
    if (empty(u->nkey)) {
        free(u->nkey);
        u->nkey = NULL;
        if (empty(u->name)) return fail(err, v, "User entry requires a user");
        return 0;
    }
    if (!np_nkey_is_user(u->nkey)) return fail(err, first, "Not a valid public nkey for a user");
    if (!empty(u->name) || !empty(u->password))
        return fail(err, first, "Nkey users do not take usernames or passwords");
    free(u->name);
    free(u->password);
    u->name = u->password = NULL;
    return 0;
}

static int
user_parse(const struct nb_conf *doc, const cJSON *v, struct nb_user *u, struct nb_users_error *err)
{
    if (!cJSON_IsObject(v))
        return fail(err, v, "Expected user entry to be a map/struct, got %s", kind_of(v));
    for (const cJSON *m = v->child; m; m = m->next) {
        int rc = user_member(doc, m, u, err);
        if (rc) return rc;
    }
    return nkey_or_user(v, u, err);
}

/* nats-server refuses a name or an nkey given twice (one namespace for both). */
static int
duplicate(const struct nb_user *a, const struct nb_user *b, const cJSON *at,
          struct nb_users_error *err)
{
    const char *ka = a->nkey ? a->nkey : a->name, *kb = b->nkey ? b->nkey : b->name;
    if (strcmp(ka, kb) != 0) return 0;
    return fail(err, at, "Duplicate %s \"%.60s\" detected", b->nkey ? "nkey" : "user", kb);
}

int
nb__users_parse(const struct nb_conf *doc, const cJSON *v, struct nb_user **users, size_t *n,
                struct nb_users_error *err)
{
    if (!cJSON_IsArray(v))
        return fail(err, v, "Expected users field to be an array, got %s", kind_of(v));
    size_t count = (size_t)cJSON_GetArraySize(v), i = 0;
    struct nb_user *out = count ? calloc(count, sizeof *out) : NULL;
    if (count && !out) return NB_ENOMEM;
    int rc = 0;
    for (const cJSON *e = v->child; e && !rc; e = e->next, i++) {
        rc = user_parse(doc, e, &out[i], err);
        for (size_t j = 0; j < i && !rc; j++)
            rc = duplicate(&out[j], &out[i], e, err);
    }
    if (rc) {
        nb__users_free(out, count);
        return rc;
    }
    *users = out;
    *n = count;
    return 0;
}
