/*
 * libbroker internal: who a client is. struct nb_auth is built once from the server's
 * configuration (a token, a single user, or a users list with compiled permissions, and
 * no_auth_user) and decides on a CONNECT's credentials as nats-server 2.9.10's
 * processClientOrLeafAuthentication does. A bcrypt comparison takes tens of milliseconds, so
 * nb__auth_check() only says which one is needed; the caller runs nb__auth_bcrypt() off the loop
 * thread.
 */
#ifndef NB_AUTH_H
#define NB_AUTH_H

#include "nb.h"
#include "nb_perm.h"
#include "np.h"
#include "np_map.h"

#include <stdbool.h>
#include <stddef.h>

struct nb_auth_user {
    const char *name, *password; /* views into the configuration; password NULL when none */
    const char *nkey;            /* an nkey user's public key (name is then NULL) */
    struct nb_perm_set *perms;   /* NULL: no restriction */
    bool standard_refused;       /* allowed_connection_types leaves out plain clients */
    const char *account;         /* a view into the configuration; NULL: the global account */
};

struct nb_auth {
    const struct nb_config *cfg; /* token and single user/password; outlives this */
    struct nb_auth_user *users;  /* named users and nkey users, in the configuration's order */
    size_t nusers;
    struct np_map by_name; /* name -> struct nb_auth_user * */
    struct np_map by_nkey; /* public nkey -> struct nb_auth_user *; clients then get a nonce */
    size_t nnkeys;         /* how many of users are nkey users */
    const struct nb_auth_user *no_auth_user;
    bool required; /* clients must authenticate (INFO says so unless no_auth_user is set) */
};

/* Builds the authentication of cfg, which must outlive it. Returns 0 or NB_ENOMEM. */
int nb__auth_new(const struct nb_config *cfg, struct nb_auth **out);
void nb__auth_free(struct nb_auth *a);
/* Whether cfg has a plain-text password, for nats-server's warning at start. */
bool nb__auth_has_plaintext(const struct nb_config *cfg);

enum nb_auth_verdict {
    NB_AUTH_OK,     /* authenticated (or nothing is required) */
    NB_AUTH_FAIL,   /* refused */
    NB_AUTH_BCRYPT, /* authenticated if nb__auth_bcrypt(hash, secret) says so */
};

/* What nb__auth_check() found. Pointers are views into a and the CONNECT. */
struct nb_auth_result {
    const struct nb_auth_user *user; /* the user of a users list, when the name was known */
    const char *name;                /* the user name the check went by, for logs; NULL: none */
    const char *debug;               /* why an nkey was refused, for the debug log; NULL: none */
    const char *hash, *secret;       /* NB_AUTH_BCRYPT: what to compare */
};

/*
 * Checks a client's CONNECT (cc NULL: a client that sent an operation before any CONNECT, which
 * becomes no_auth_user when there is one). nonce is what the client's INFO carried ("" when
 * none): an nkey user must have signed it.
 */
enum nb_auth_verdict nb__auth_check(const struct nb_auth *a, const struct np_connect *cc,
                                    const char *nonce, struct nb_auth_result *res);
/* The user of a's users list called name, or NULL. */
const struct nb_auth_user *nb__auth_find(const struct nb_auth *a, const char *name);
/* The nkey user whose public key is nkey, or NULL. */
const struct nb_auth_user *nb__auth_find_nkey(const struct nb_auth *a, const char *nkey);
/*
 * The user of the users list named name (a name a client certificate maps to), NULL when there is
 * none or it may not connect as a plain client.
 */
const struct nb_auth_user *nb__auth_user(const struct nb_auth *a, const char *name);
/* nats-server's isBcrypt: "$2a$", "$2b$", "$2x$" or "$2y$", two digits and "$". */
bool nb__auth_is_bcrypt(const char *s);
/*
 * Whether secret matches the bcrypt hash, as Go's bcrypt decides (every version computed as
 * "$2b$"). Touches nothing shared, so it may run on any thread.
 */
bool nb__auth_bcrypt(const char *hash, const char *secret);
/* Compares two secrets in time that depends only on the length of known. NULL is "". */
bool nb__auth_equal(const char *known, const char *given);

#endif
