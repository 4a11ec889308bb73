/*
 * The cluster's client URLs (spec 5.3): what clients get as connect_urls, so that they can fail
 * over to another server. Each peer's route INFO names its client URLs; they are counted (two
 * routes may name one URL) and listed after this server's own. Clients that speak protocol 1 and
 * have finished their handshake get an async INFO whenever the list changes.
 *
 * As in nats-server, connect_urls appear in clients' INFO once a peer has announced URLs, and then
 * stay (with only this server's own URLs when every peer has gone). With no_advertise the peers'
 * URLs are neither announced nor taken. In lame duck mode this server's own URLs are left out.
 */
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
host_port(const char *host, int port)
{
    char buf[320];
    snprintf(buf, sizeof buf, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return strdup(buf);
}

static int
add_own(struct nb_cluster *cl, char *url)
{
    char **v = url ? realloc(cl->own_urls, (cl->nown + 1) * sizeof *v) : NULL;
    if (!v) {
        free(url);
        return NB_ENOMEM;
    }
    cl->own_urls = v;
    v[cl->nown++] = url;
    return 0;
}

/* A listener on every address is reached through each non-loopback one, as nats-server lists. */
static int
add_interfaces(struct nb_cluster *cl, int port, bool v6)
{
    uv_interface_address_t *ifs;
    int n, rc = 0;
    if (uv_interface_addresses(&ifs, &n) != 0) return 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char ip[64];
        if (ifs[i].is_internal) continue;
        if (ifs[i].address.address4.sin_family == AF_INET)
            uv_ip4_name(&ifs[i].address.address4, ip, sizeof ip);
        else if (v6)
            uv_ip6_name(&ifs[i].address.address6, ip, sizeof ip);
        else
            continue;
        rc = add_own(cl, host_port(ip, port));
    }
    uv_free_interface_addresses(ifs, n);
    return rc;
}

/* client_advertise "host[:port]": the port defaults to the one listened on. */
static char *
advertised(const char *adv, int port)
{
    const char *colon = strrchr(adv, ':');
    if (colon && strchr(adv, ':') == colon) return strdup(adv);
    if (adv[0] == '[') return strdup(adv);
    return host_port(adv, port);
}

int
nb__curls_init(struct nb_server *srv)
{
    struct nb_cluster *cl = srv->cluster;
    const char *host = srv->cfg.host;
    if (srv->cfg.client_advertise)
        return add_own(cl, advertised(srv->cfg.client_advertise, srv->port));
    bool any4 = strcmp(host, "0.0.0.0") == 0 || !*host, any6 = strcmp(host, "::") == 0;
    int rc = any4 || any6 ? add_interfaces(cl, srv->port, any6) : 0;
    if (rc == 0 && cl->nown == 0) rc = add_own(cl, host_port(host, srv->port));
    return rc;
}

/* Tells clients that can take it (protocol 1, handshake done) the new connect_urls. */
static void
urls_changed(struct nb_server *srv)
{
    srv->cluster->urls_announced = true;
    srv->cluster->urls_gen++;
    if (srv->stopping) return; /* routes are leaving because everything is */
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (nb__conn_is_client(c) && !c->closing) nb__client_async_info(nb__client_of(c));
    }
}

static struct nb_peer_url *
find(struct nb_cluster *cl, const char *url)
{
    for (size_t i = 0; i < cl->npeer_urls; i++) {
        if (strcmp(cl->peer_urls[i].url, url) == 0) return &cl->peer_urls[i];
    }
    return NULL;
}

void
nb__curls_add(struct nb_server *srv, char *const *urls, size_t n)
{
    struct nb_cluster *cl = srv->cluster;
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        struct nb_peer_url *u = find(cl, urls[i]);
        if (u) {
            u->refs++;
            continue;
        }
        struct nb_peer_url *v = realloc(cl->peer_urls, (cl->npeer_urls + 1) * sizeof *v);
        char *copy = strdup(urls[i]);
        if (v) cl->peer_urls = v;
        if (!v || !copy) {
            free(copy);
            continue; /* clients just do not learn this URL */
        }
        v[cl->npeer_urls++] = (struct nb_peer_url){copy, 1};
        changed = true;
    }
    if (changed) urls_changed(srv);
}

void
nb__curls_remove(struct nb_server *srv, char *const *urls, size_t n)
{
    struct nb_cluster *cl = srv->cluster;
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        struct nb_peer_url *u = find(cl, urls[i]);
        if (!u || --u->refs > 0) continue;
        free(u->url);
        *u = cl->peer_urls[--cl->npeer_urls];
        changed = true;
    }
    if (changed) urls_changed(srv);
}

char **
nb__curls_list(const struct nb_server *srv, size_t *n)
{
    const struct nb_cluster *cl = srv->cluster;
    *n = 0;
    if (!cl || !cl->urls_announced || srv->cfg.cluster_no_advertise) return NULL;
    char **v = malloc((cl->nown + cl->npeer_urls) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < cl->nown && !srv->lame_duck; i++)
        v[(*n)++] = cl->own_urls[i];
    for (size_t i = 0; i < cl->npeer_urls; i++)
        v[(*n)++] = cl->peer_urls[i].url;
    return v;
}

void
nb__curls_release(struct nb_cluster *cl)
{
    for (size_t i = 0; i < cl->nown; i++)
        free(cl->own_urls[i]);
    free(cl->own_urls);
    for (size_t i = 0; i < cl->npeer_urls; i++)
        free(cl->peer_urls[i].url);
    free(cl->peer_urls);
}
