/*
 * verify_and_map (nb_certauth.h). The certificate is read through nb_tls.h; the users come from
 * nb_auth's lookup by name. The debug lines are nats-server's, so that an operator can follow which
 * name of the certificate was tried.
 */
#include "nb_certauth.h"

#include "nb_srv.h"
#include "nb_tls.h"

#include <stdio.h>

#define NAME_MAX_LEN 1024 /* a subject printed longer than this maps to nobody */

struct lookup {
    const struct nb_auth *a;
    struct nb_conn *c;
    const struct nb_auth_user *user;
};

static bool
try_alt_name(void *ud, enum nb_tls_alt kind, const char *name)
{
    static const char *const what[] = {"email", "SAN", "URI"};
    struct lookup *l = ud;
    l->user = nb__auth_user(l->a, name);
    if (l->user)
        nb__conn_log(l->c, NB_LOG_DEBUG, "Using %s found in cert for auth [\"%s\"]", what[kind],
                     name);
    return l->user != NULL;
}

/* A user whose name is the subject as a DN: RDNs in order first, then in any order. */
static const struct nb_auth_user *
dn_user(const struct nb_auth *a, const struct nb_tls *t)
{
    for (int any_order = 0; any_order < 2; any_order++) {
        for (size_t i = 0; i < a->nusers; i++) {
            const struct nb_auth_user *u = &a->users[i];
            if (!u->standard_refused && nb__tls_subject_is(t, u->name, any_order)) return u;
        }
    }
    return NULL;
}

static const struct nb_auth_user *
subject_user(struct nb_conn *c, const struct nb_auth *a)
{
    char rdn[NAME_MAX_LEN], with_dc[NAME_MAX_LEN];
    if (!nb__tls_subject(c->tls, false, rdn, sizeof rdn)) {
        nb__conn_log(c, NB_LOG_DEBUG, "User required in cert, none found");
        return NULL;
    }
    const struct nb_auth_user *u = dn_user(a, c->tls);
    if (u) {
        nb__conn_log(c, NB_LOG_DEBUG, "Using DistinguishedNameMatch for auth [\"%s\"]", u->name);
        return u;
    }
    nb__conn_log(c, NB_LOG_DEBUG, "DistinguishedNameMatch could not be used for auth [\"%s\"]",
                 rdn);
    if (nb__tls_subject(c->tls, true, with_dc, sizeof with_dc)) {
        if ((u = nb__auth_user(a, with_dc))) {
            nb__conn_log(c, NB_LOG_DEBUG, "Using RDNSequence for auth [\"%s\"]", u->name);
            return u;
        }
        nb__conn_log(c, NB_LOG_DEBUG, "RDNSequence could not be used for auth [\"%s\"]", with_dc);
    }
    if ((u = nb__auth_user(a, rdn)))
        nb__conn_log(c, NB_LOG_DEBUG, "Using certificate subject for auth [\"%s\"]", u->name);
    else
        nb__conn_log(c, NB_LOG_DEBUG, "User in cert [\"%s\"], not found", rdn);
    return u;
}

static const struct nb_auth_user *
mapped_user(struct nb_conn *c, const struct nb_auth *a)
{
    struct lookup l = {.a = a, .c = c};
    if (!c->tls) {
        nb__conn_log(c, NB_LOG_DEBUG, "User required in cert, no TLS connection state");
        return NULL;
    }
    if (nb__tls_peer_count(c->tls) > 1)
        nb__conn_log(c, NB_LOG_DEBUG, "Multiple peer certificates found, selecting first");
    if (nb__tls_each_alt_name(c->tls, try_alt_name, &l)) return l.user;
    return subject_user(c, a);
}

enum nb_auth_verdict
nb__certauth_check(struct nb_conn *c, const struct nb_auth *a, const struct np_connect *cc,
                   const char *nonce, struct nb_auth_result *res)
{
    if (!a->cfg->tls.map || !a->nusers) return nb__auth_check(a, cc, nonce, res);
    *res = (struct nb_auth_result){0};
    const struct nb_auth_user *u = mapped_user(c, a);
    if (!u) return NB_AUTH_FAIL;
    /* nats-server words this as the server's, not the connection's */
    if (cc && cc->user && *cc->user)
        nb__log(c->srv, NB_LOG_WARN,
                "User \"%s\" found in connect proto, but user required from cert", cc->user);
    res->user = u;
    res->name = u->name;
    const char *given = cc ? cc->pass : NULL;
    if (nb__auth_is_bcrypt(u->password)) {
        res->hash = u->password;
        res->secret = given ? given : "";
        return NB_AUTH_BCRYPT;
    }
    return nb__auth_equal(u->password, given) ? NB_AUTH_OK : NB_AUTH_FAIL;
}
