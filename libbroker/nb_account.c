/*
 * The account table: a small array (configurations name a handful of accounts), looked up by name
 * when a client authenticates and when a route names the account of an RS+, RS- or RMSG.
 */
#include "nb_account.h"

#include <stdlib.h>
#include <string.h>

struct nb_account {
    char *name;
    size_t name_len;
    struct nb_sublist *sublist;
    size_t conns;
    struct nb_stats stats;
    bool system;
};

struct nb_accounts {
    struct nb_account **v;
    size_t n;
    struct nb_account *system;
};

static void
account_free(struct nb_account *a)
{
    if (!a) return;
    if (a->sublist) nb_sublist_free(a->sublist);
    free(a->name);
    free(a);
}

/* Adds an account called name, unless one exists. Returns 0 or NB_ENOMEM. */
static int
add(struct nb_accounts *as, const char *name)
{
    if (nb__accounts_find(as, name, strlen(name))) return 0;
    struct nb_account **v = realloc(as->v, (as->n + 1) * sizeof *v);
    if (!v) return NB_ENOMEM;
    as->v = v;
    struct nb_account *a = calloc(1, sizeof *a);
    if (!a || !(a->name = strdup(name)) || !(a->sublist = nb_sublist_new())) {
        account_free(a);
        return NB_ENOMEM;
    }
    a->name_len = strlen(name);
    v[as->n++] = a;
    return 0;
}

int
nb__accounts_new(const struct nb_config *cfg, struct nb_accounts **out)
{
    struct nb_accounts *as = calloc(1, sizeof *as);
    if (!as) return NB_ENOMEM;
    int rc = add(as, NB_ACCOUNT_GLOBAL);
    for (size_t i = 0; i < cfg->naccounts && !rc; i++)
        rc = add(as, cfg->accounts[i]);
    const char *sys = cfg->system_account ? cfg->system_account : NB_ACCOUNT_SYSTEM;
    /* As in nats-server, $SYS only exists when it is the system account. */
    if (!rc && strcmp(sys, NB_ACCOUNT_SYSTEM) == 0) rc = add(as, NB_ACCOUNT_SYSTEM);
    if (!rc) as->system = nb__accounts_find(as, sys, strlen(sys));
    /* The configuration was validated: a system account that names nothing is a caller's bug. */
    if (!rc && !as->system) rc = NB_ECONFIG;
    if (rc) {
        nb__accounts_free(as);
        return rc;
    }
    as->system->system = true;
    *out = as;
    return 0;
}

void
nb__accounts_free(struct nb_accounts *as)
{
    if (!as) return;
    for (size_t i = 0; i < as->n; i++)
        account_free(as->v[i]);
    free(as->v);
    free(as);
}

struct nb_account *
nb__accounts_find(const struct nb_accounts *as, const char *name, size_t len)
{
    for (size_t i = 0; i < as->n; i++) {
        struct nb_account *a = as->v[i];
        if (a->name_len == len && memcmp(a->name, name, len) == 0) return a;
    }
    return NULL;
}

struct nb_account *
nb__accounts_global(const struct nb_accounts *as)
{
    return as->v[0];
}

struct nb_account *
nb__accounts_system(const struct nb_accounts *as)
{
    return as->system;
}

size_t
nb__accounts_count(const struct nb_accounts *as)
{
    return as->n;
}

struct nb_account *
nb__accounts_at(const struct nb_accounts *as, size_t i)
{
    return i < as->n ? as->v[i] : NULL;
}

const char *
nb__account_name(const struct nb_account *a)
{
    return a->name;
}

size_t
nb__account_name_len(const struct nb_account *a)
{
    return a->name_len;
}

struct nb_sublist *
nb__account_sublist(const struct nb_account *a)
{
    return a->sublist;
}

bool
nb__account_is_system(const struct nb_account *a)
{
    return a->system;
}

void
nb__account_conn_add(struct nb_account *a, int delta)
{
    a->conns = (size_t)((long)a->conns + delta);
}

size_t
nb__account_conns(const struct nb_account *a)
{
    return a->conns;
}

struct nb_stats *
nb__account_stats(struct nb_account *a)
{
    a->stats.connections = a->conns;
    return &a->stats;
}
