/*
 * libbroker internal: the users and permissions of a configuration (struct nb_user, struct
 * nb_permissions in nb.h), read from the parsed file as nats-server 2.9.10's opts.go reads
 * authorization.users and permissions, and copied and freed with the configuration.
 */
#ifndef NB_USERS_H
#define NB_USERS_H

#include "nb.h"
#include "nb_conf.h"

#include <stddef.h>

/* Where and why a users or permissions value was refused. */
struct nb_users_error {
    const cJSON *at; /* the node to point at */
    char msg[220];
};

/*
 * Reads authorization.users (v, an array of maps) into a new array of *n users. Returns 0,
 * NB_ECONFIG with err, or NB_ENOMEM; *users is only set on success, and then owned by the caller
 * (nb__users_free()). An empty array gives *users NULL and *n 0.
 */
int nb__users_parse(const struct nb_conf *doc, const cJSON *v, struct nb_user **users, size_t *n,
                    struct nb_users_error *err);
/* Reads a permissions map (a user's permissions, or default_permissions). Returns as above. */
int nb__perms_parse(const struct nb_conf *doc, const cJSON *v, struct nb_permissions **out,
                    struct nb_users_error *err);

/* Deep copies; *out NULL for a NULL src. Return 0 or NB_ENOMEM (then *out is NULL). */
int nb__perms_copy(const struct nb_permissions *src, struct nb_permissions **out);
int nb__users_copy(const struct nb_user *src, size_t n, struct nb_user **out);
/* Free what the functions above return; NULL is fine. */
void nb__perms_free(struct nb_permissions *p);
void nb__users_free(struct nb_user *users, size_t n);

#endif
