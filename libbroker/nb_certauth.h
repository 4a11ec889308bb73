/*
 * verify_and_map: a client's verified certificate names its user of authorization.users, as in
 * nats-server 2.9.10 (checkClientTLSCertSubject and the users-list branch of
 * processClientOrLeafAuthentication).
 */
#ifndef NB_CERTAUTH_H
#define NB_CERTAUTH_H

#include "nb_auth.h"
#include "nb_conn.h"

/*
 * nb__auth_check() for the CONNECT cc of c, except that with verify_and_map and a users list the
 * user is the one c's certificate maps to (tried in nats-server's order: e-mail addresses, DNS
 * names, URIs of the subjectAltName, then the subject as a distinguished name, then its RFC 2253
 * text); no match, or no certificate, is NB_AUTH_FAIL. A mapped user's password, if it has one,
 * must still be in the CONNECT.
 */
enum nb_auth_verdict nb__certauth_check(struct nb_conn *c, const struct nb_auth *a,
                                        const struct np_connect *cc, const char *nonce,
                                        struct nb_auth_result *res);

#endif
