/*
 * Accounts: isolated subject spaces, each with its own sublist. The global account $G holds the
 * clients of a configuration without accounts (and the users of authorization.users); the
 * configured accounts follow in file order, then $SYS when system_account names no configured
 * account (as in nats-server 2.9.10, which has a system account either way). A message published in one account only ever matches the
 * subscriptions of that account.
 */
#ifndef NB_ACCOUNT_H
#define NB_ACCOUNT_H

#include "nb.h"
#include "nb_sublist.h"

#include <stdbool.h>
#include <stddef.h>

#define NB_ACCOUNT_GLOBAL "$G"
#define NB_ACCOUNT_SYSTEM "$SYS"

struct nb_account;
struct nb_accounts;

/* The accounts of cfg: $G, cfg->accounts, and $SYS unless another is the system account. */
int nb__accounts_new(const struct nb_config *cfg, struct nb_accounts **out);
void nb__accounts_free(struct nb_accounts *as);
/* The account called name, or NULL. */
struct nb_account *nb__accounts_find(const struct nb_accounts *as, const char *name, size_t len);
struct nb_account *nb__accounts_global(const struct nb_accounts *as);
/* cfg->system_account, or $SYS. */
struct nb_account *nb__accounts_system(const struct nb_accounts *as);
/* The accounts in order ($G first), for listing: i below nb__accounts_count(). */
size_t nb__accounts_count(const struct nb_accounts *as);
struct nb_account *nb__accounts_at(const struct nb_accounts *as, size_t i);

const char *nb__account_name(const struct nb_account *a);
size_t nb__account_name_len(const struct nb_account *a);
struct nb_sublist *nb__account_sublist(const struct nb_account *a);
/* Whether a is the system account. */
bool nb__account_is_system(const struct nb_account *a);
/* Client connections in the account, kept by the client protocol for /accountz and /accstatz. */
void nb__account_conn_add(struct nb_account *a, int delta);
size_t nb__account_conns(const struct nb_account *a);
/*
 * The traffic of the account's clients, for /accstatz: in_* what they published, out_* what they
 * were sent, and their slow consumers (connections is nb__account_conns()).
 */
struct nb_stats *nb__account_stats(struct nb_account *a);

#endif
