/*
 * Client authentication, after nats-server 2.9.10 (auth.go: configureAuthorization,
 * processClientOrLeafAuthentication, comparePasswords, isBcrypt).
 *
 * The order of the checks is nats-server's, quirks included, because clients and operators see its
 * results: with a users list a CONNECT that names a user is checked against that user only; one
 * without credentials becomes no_auth_user by taking that user's name and password, so a
 * no_auth_user whose password is a bcrypt hash is refused to a CONNECT (the hash is compared as if
 * it were the password) and only admitted to a client that sends no CONNECT at all; a token (from
 * the command line) is tried when the CONNECT names no user. A CONNECT with an nkey, when there are
 * nkey users, is checked against that nkey only: it must sign the nonce of the client's INFO.
 *
 * bcrypt comes from the C library's crypt_r (libxcrypt with glibc, musl's own in the static
 * build). Go computes every bcrypt version the same way and compares only the hash that follows
 * the salt, so that is what nb__auth_bcrypt() does.
 */
#include "nb_auth.h"
#include "np_nkey.h"

#include <crypt.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define BCRYPT_LEN    60 /* "$2b$10$" + 22 characters of salt + 31 of hash */
#define BCRYPT_PREFIX 29 /* the part before the hash */

bool
nb__auth_is_bcrypt(const char *s)
{
    return s && s[0] == '$' && s[1] == '2' && s[2] && strchr("abxy", s[2]) && s[3] == '$' &&
           isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) && s[6] == '$';
}

bool
nb__auth_equal(const char *known, const char *given)
{
    if (!known) known = "";
    if (!given) given = "";
    size_t lk = strlen(known), lg = strlen(given);
    unsigned char diff = (unsigned char)(lk != lg);
    for (size_t i = 0; i < lk; i++)
        diff |= (unsigned char)(known[i] ^ given[i < lg ? i : 0]);
    return diff == 0;
}

static bool
equal_bytes(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool
nb__auth_bcrypt(const char *hash, const char *secret)
{
    if (!nb__auth_is_bcrypt(hash) || strlen(hash) != BCRYPT_LEN) return false;
    char setting[BCRYPT_LEN + 1];
    memcpy(setting, hash, sizeof setting);
    setting[2] = 'b';
    /* libxcrypt's crypt_data is 32 KiB: too much for a worker thread's stack. */
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data) return false;
    const char *out = crypt_r(secret ? secret : "", setting, data);
    bool ok = out && strlen(out) == BCRYPT_LEN &&
              equal_bytes(out + BCRYPT_PREFIX, hash + BCRYPT_PREFIX, BCRYPT_LEN - BCRYPT_PREFIX);
    explicit_bzero(data, sizeof *data);
    free(data);
    return ok;
}

bool
nb__auth_has_plaintext(const struct nb_config *cfg)
{
    if (cfg->auth_pass && *cfg->auth_pass && !nb__auth_is_bcrypt(cfg->auth_pass)) return true;
    for (size_t i = 0; i < cfg->nusers; i++) {
        /* a user a certificate maps to has no password to leak */
        if (cfg->tls.map && !cfg->users[i].password) continue;
        if (!cfg->users[i].nkey && !nb__auth_is_bcrypt(cfg->users[i].password)) return true;
    }
    return false;
}

/* ---- building ------------------------------------------------------------------------------------ */

void
nb__auth_free(struct nb_auth *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->nusers; i++)
        nb__perm_set_free(a->users[i].perms);
    free(a->users);
    np_map_release(&a->by_name);
    np_map_release(&a->by_nkey);
    free(a);
}

int
nb__auth_new(const struct nb_config *cfg, struct nb_auth **out)
{
    struct nb_auth *a = calloc(1, sizeof *a);
    if (!a) return NB_ENOMEM;
    a->cfg = cfg;
    a->users = cfg->nusers ? calloc(cfg->nusers, sizeof *a->users) : NULL;
    if (cfg->nusers && !a->users) {
        free(a);
        return NB_ENOMEM;
    }
    a->nusers = cfg->nusers;
    for (size_t i = 0; i < cfg->nusers; i++) {
        const struct nb_user *u = &cfg->users[i];
        struct nb_auth_user *au = &a->users[i];
        *au = (struct nb_auth_user){u->name, u->password,         u->nkey,
                                    NULL,    u->standard_refused, u->account};
        const char *key = u->nkey ? u->nkey : u->name;
        struct np_map *map = u->nkey ? &a->by_nkey : &a->by_name;
        a->nnkeys += u->nkey != NULL;
        if ((u->perms && nb__perm_set_new(u->perms, &au->perms)) ||
            np_map_put(map, key, strlen(key), au)) {
            nb__auth_free(a);
            return NB_ENOMEM;
        }
    }
    if (cfg->no_auth_user)
        a->no_auth_user = np_map_get(&a->by_name, cfg->no_auth_user, strlen(cfg->no_auth_user));
    a->required = cfg->nusers || cfg->auth_token || cfg->auth_user;
    *out = a;
    return 0;
}

/* ---- checking ------------------------------------------------------------------------------------ */

static bool
empty(const char *s)
{
    return !s || !*s;
}

/* nats-server's comparePasswords: bcrypt when the known secret is a hash, else plain text. */
static enum nb_auth_verdict
compare(const char *known, const char *given, struct nb_auth_result *res)
{
    if (nb__auth_is_bcrypt(known)) {
        res->hash = known;
        res->secret = given ? given : "";
        return NB_AUTH_BCRYPT;
    }
    return nb__auth_equal(known, given) ? NB_AUTH_OK : NB_AUTH_FAIL;
}

/* A CONNECT that names a user of the users list (or became no_auth_user): that user decides. */
static enum nb_auth_verdict
check_user(const struct nb_auth *a, const char *name, const char *pass, bool defaulted,
           struct nb_auth_result *res)
{
    res->name = name;
    const struct nb_auth_user *u = np_map_get(&a->by_name, name, strlen(name));
    if (!u || u->standard_refused) return NB_AUTH_FAIL;
    res->user = u;
    /* bcrypt of the hash itself cannot give the hash: nats-server's answer, without the work. */
    if (defaulted && nb__auth_is_bcrypt(u->password)) return NB_AUTH_FAIL;
    return compare(u->password, pass, res);
}

const struct nb_auth_user *
nb__auth_find(const struct nb_auth *a, const char *name)
{
    return name ? np_map_get(&a->by_name, name, strlen(name)) : NULL;
}

const struct nb_auth_user *
nb__auth_find_nkey(const struct nb_auth *a, const char *nkey)
{
    return nkey ? np_map_get(&a->by_nkey, nkey, strlen(nkey)) : NULL;
}

/* nats-server's nkey check, with its debug texts: the nonce signed by the key's seed. */
static enum nb_auth_verdict
check_nkey(const struct nb_auth *a, const struct np_connect *cc, const char *nonce,
           struct nb_auth_result *res)
{
    const struct nb_auth_user *u = nb__auth_find_nkey(a, cc->nkey);
    if (!u || u->standard_refused) return NB_AUTH_FAIL;
    if (empty(cc->sig)) {
        res->debug = "Signature missing";
        return NB_AUTH_FAIL;
    }
    enum np_nkey_verdict v = np_nkey_verify(cc->nkey, nonce, strlen(nonce), cc->sig);
    if (v != NP_NKEY_VERIFIED) {
        res->debug =
            v == NP_NKEY_NOT_BASE64 ? "Signature not valid base64" : "Signature not verified";
        return NB_AUTH_FAIL;
    }
    res->user = u;
    return NB_AUTH_OK;
}

enum nb_auth_verdict
nb__auth_check(const struct nb_auth *a, const struct np_connect *cc, const char *nonce,
               struct nb_auth_result *res)
{
    const struct nb_config *cfg = a->cfg;
    *res = (struct nb_auth_result){0};
    if (!a->required) return NB_AUTH_OK;
    if (!cc) {
        if (!a->no_auth_user || a->no_auth_user->standard_refused) return NB_AUTH_FAIL;
        res->user = a->no_auth_user;
        res->name = a->no_auth_user->name;
        return NB_AUTH_OK;
    }
    if (a->nnkeys && !empty(cc->nkey)) return check_nkey(a, cc, nonce ? nonce : "", res);
    if (a->nusers) {
        const char *name = cc->user, *pass = cc->pass;
        bool defaulted =
            a->no_auth_user && empty(cc->user) && empty(cc->pass) && empty(cc->auth_token);
        if (defaulted) {
            name = a->no_auth_user->name;
            pass = a->no_auth_user->password;
        }
        if (!empty(name)) return check_user(a, name, pass, defaulted, res);
    }
    res->name = cc->user;
    if (cfg->auth_token) return compare(cfg->auth_token, cc->auth_token, res);
    if (cfg->auth_user) {
        if (!nb__auth_equal(cfg->auth_user, cc->user)) return NB_AUTH_FAIL;
        return compare(cfg->auth_pass, cc->pass, res);
    }
    return NB_AUTH_FAIL;
}

const struct nb_auth_user *
nb__auth_user(const struct nb_auth *a, const char *name)
{
    const struct nb_auth_user *u = nb__auth_find(a, name);
    return u && !u->standard_refused ? u : NULL;
}
