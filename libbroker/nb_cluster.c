/*
 * The cluster (spec 5.2, 5.3, 5.7): the route listener, the URLs this server dials, the registry of
 * connected peers, gossip that turns a configuration naming one seed into a full mesh, and the
 * cluster name.
 *
 * A peer is registered under its server id at its first INFO, whichever side dialed; a second
 * connection to the same peer (both sides dialed at once) is closed as a duplicate and the one
 * kept is marked to be redialed should it drop, since the peer may have kept the other one. When a
 * new peer registers, its INFO goes to every other peer with the address to dial it, and a server
 * that hears of a peer it lacks dials it (an implicit route).
 *
 * Dialing is driven by the server's 100 ms ticker, not a timer per URL: a configured route that
 * has no connection and whose server is not reachable through another one is dialed every second,
 * for as long as the server runs; a gossiped one is dialed connect_retries more times after the
 * first and then forgotten.
 */
#include "nb_cluster.h"
#include "nb_client.h"
#include "nb_srv.h"
#include "nb_tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDIAL_MS        1000 /* nats-server's DEFAULT_ROUTE_CONNECT and DEFAULT_ROUTE_RECONNECT */
#define REDIAL_JITTER_MS 100  /* so that two servers redialing each other do not collide again */
#define REPORT_EVERY     3600 /* nats-server's connect_error_reports: failures logged while trying */

/* A host name being resolved for a dial; outlives its solicit if that goes first. */
struct nb_resolve {
    uv_getaddrinfo_t req;
    struct nb_server *srv;
    struct nb_solicit *s; /* NULL once the solicit is gone */
};

static const char id_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* ---- solicits ------------------------------------------------------------------------------------ */

static struct nb_solicit *
solicit_new(struct nb_server *srv, const char *text, bool configured)
{
    struct nb_solicit *s = calloc(1, sizeof *s);
    char shown[512];
    if (!s) return NULL;
    np_url_redact(text, shown, sizeof shown);
    if (np_url_parse_route(&s->url, text) != 0 || !(s->shown = strdup(shown))) {
        np_url_release(&s->url);
        free(s);
        return NULL;
    }
    s->configured = configured;
    s->next = srv->cluster->solicits;
    srv->cluster->solicits = s;
    return s;
}

static void
solicit_free(struct nb_server *srv, struct nb_solicit *s)
{
    struct nb_solicit **pp = &srv->cluster->solicits;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    if (s->resolve) s->resolve->s = NULL;
    if (s->route) s->route->solicit = NULL;
    np_url_release(&s->url);
    free(s->shown);
    free(s->remote_id);
    free(s);
}

static bool
is_local_ip(const struct nb_cluster *cl, const char *host)
{
    for (size_t i = 0; i < cl->nlocal_ips; i++) {
        if (strcmp(cl->local_ips[i], host) == 0) return true;
    }
    return false;
}

/* A failed dial (or a dial that timed out): report it as nats-server does, and try again or not. */
static void
dial_failed(struct nb_server *srv, struct nb_solicit *s, int status)
{
    s->attempts++;
    bool report = s->connected_once || s->attempts == 1 || s->attempts % REPORT_EVERY == 0;
    nb__log(srv, report ? NB_LOG_ERROR : NB_LOG_DEBUG,
            "Error trying to connect to route (attempt %u): dial tcp %s:%d: %s", s->attempts,
            s->url.host, s->url.port, nb_strerror(status));
    if (!s->configured && s->attempts > (uint64_t)srv->cfg.connect_retries) {
        solicit_free(srv, s);
        return;
    }
    s->next_try_ms = nb__now_ms(srv) + REDIAL_MS;
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct nb_resolve *rs = req->data;
    struct nb_solicit *s = rs->s;
    struct nb_server *srv = rs->srv;
    if (s) s->resolve = NULL;
    if (s && status == 0 && res) {
        struct sockaddr_storage addr;
        memcpy(&addr, res->ai_addr, res->ai_addrlen);
        ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)s->url.port);
        nb__route_dial(srv, s, (struct sockaddr *)&addr);
    } else if (s) {
        dial_failed(srv, s, status);
    }
    uv_freeaddrinfo(res);
    free(rs);
    nb__server_handle_closed(srv);
}

static void
resolve_and_dial(struct nb_server *srv, struct nb_solicit *s)
{
    struct nb_resolve *rs = calloc(1, sizeof *rs);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (!rs) return;
    *rs = (struct nb_resolve){.srv = srv, .s = s};
    rs->req.data = rs;
    int rc = uv_getaddrinfo(srv->loop, &rs->req, on_resolved, s->url.host, NULL, &hints);
    if (rc) {
        free(rs);
        dial_failed(srv, s, rc);
        return;
    }
    s->resolve = rs;
    srv->open_handles++; /* a stop waits for the resolver like for a handle */
}

static void
dial(struct nb_server *srv, struct nb_solicit *s)
{
    struct nb_cluster *cl = srv->cluster;
    struct sockaddr_storage addr;
    s->next_try_ms = 0;
    if (s->url.port == cl->port && is_local_ip(cl, s->url.host)) {
        nb__log(srv, NB_LOG_DEBUG, "Not dialing route %s: it is this server", s->shown);
        s->self = true;
        return;
    }
    if (uv_ip4_addr(s->url.host, s->url.port, (struct sockaddr_in *)&addr) == 0 ||
        uv_ip6_addr(s->url.host, s->url.port, (struct sockaddr_in6 *)&addr) == 0)
        nb__route_dial(srv, s, (struct sockaddr *)&addr);
    else
        resolve_and_dial(srv, s);
}

static bool
registered(const struct nb_cluster *cl, const char *id)
{
    return id && np_map_get(&cl->remotes, id, strlen(id)) != NULL;
}

/* A configured route without a connection is dialed again, unless its server is reachable. */
static void
keep_dialing(struct nb_server *srv, struct nb_solicit *s, uint64_t now)
{
    if (!s->configured || s->self || s->route || s->resolve || s->next_try_ms) return;
    if (registered(srv->cluster, s->remote_id)) return;
    s->next_try_ms = now + REDIAL_MS + nb__rand(srv) % REDIAL_JITTER_MS;
}

void
nb__cluster_tick(struct nb_server *srv, uint64_t now)
{
    if (!srv->cluster || srv->stopping) return;
    struct nb_solicit *s = srv->cluster->solicits, *next;
    for (; s; s = next) {
        next = s->next;
        keep_dialing(srv, s, now);
        if (s->next_try_ms && now >= s->next_try_ms && !s->route && !s->resolve) dial(srv, s);
    }
}

/* ---- the cluster name ---------------------------------------------------------------------------- */

bool
nb__cluster_name_ok(struct nb_route *r, const char *theirs, bool theirs_dynamic)
{
    struct nb_server *srv = r->conn.srv;
    struct nb_cluster *cl = srv->cluster;
    if (strcmp(theirs, cl->name) == 0) return true;
    /* A generated name gives way to a configured one, or to the greater of two generated ones. */
    if (!cl->name_dynamic || (theirs_dynamic && strcmp(cl->name, theirs) >= 0)) return false;
    char *name = strdup(theirs);
    if (!name) return false;
    free(cl->name);
    cl->name = name;
    cl->name_dynamic = theirs_dynamic;
    nb__log(srv, NB_LOG_INFO, "Cluster name updated to %s", name);
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (c != &r->conn && !nb__conn_is_client(c))
            nb__conn_close(c, NB_CLOSE_CLUSTER_NAME_CONFLICT, false);
    }
    return true;
}

/* ---- registration and gossip --------------------------------------------------------------------- */

/* Where the peer can be dialed: the address it connects from, with its cluster port. */
static void
peer_url(const struct nb_route *r, int port, char *out, size_t cap)
{
    snprintf(out, cap, strchr(r->conn.ip, ':') ? "nats-route://[%s]:%d/" : "nats-route://%s:%d/",
             r->conn.ip, port);
}

/* The peer's INFO, with the address to dial it, to every other registered route. */
static void
forward_info(struct nb_route *r, struct np_str json, int port)
{
    struct nb_cluster *cl = r->conn.srv->cluster;
    char ip[160];
    peer_url(r, port, ip, sizeof ip);
    char *gossip = np_info_gossip(json.ptr, json.len, ip);
    size_t n = gossip ? strlen(gossip) : 0;
    char *line = gossip ? malloc(n + 8) : NULL;
    if (line) {
        snprintf(line, n + 8, "INFO %s\r\n", gossip);
        size_t it = 0;
        void *val;
        while (np_map_next(&cl->remotes, &it, NULL, NULL, &val)) {
            if (val != r) nb__route_send(val, line, n + 7);
        }
    }
    free(line);
    free(gossip);
}

static void
take_urls(struct nb_route *r, const struct np_info *info)
{
    struct nb_server *srv = r->conn.srv;
    if (srv->cfg.cluster_no_advertise || !info->n_connect_urls) return;
    r->urls = calloc(info->n_connect_urls, sizeof *r->urls);
    for (size_t i = 0; r->urls && i < info->n_connect_urls; i++) {
        if ((r->urls[r->nurls] = strdup(info->connect_urls[i]))) r->nurls++;
    }
    nb__curls_add(srv, r->urls, r->nurls);
}

/*
 * What the peer's first INFO says that outlives it: who it is, and how to dial it again: its
 * advertised address, else where it connects from (its INFO host may be 0.0.0.0).
 */
static bool
remember_peer(struct nb_route *r, const struct np_info *info)
{
    char url[320];
    free(r->remote_id);
    r->remote_id = strdup(info->server_id);
    if (info->ip && *info->ip)
        snprintf(url, sizeof url, "%s", info->ip);
    else
        peer_url(r, info->port, url, sizeof url);
    r->dial_url = strdup(url);
    r->peer_auth = info->auth_required;
    struct nb_solicit *s = r->solicit;
    if (s && r->remote_id) {
        free(s->remote_id);
        s->remote_id = strdup(r->remote_id);
    }
    return r->remote_id && r->dial_url;
}

void
nb__cluster_register(struct nb_route *r, const struct np_info *info, struct np_str json)
{
    struct nb_server *srv = r->conn.srv;
    struct nb_cluster *cl = srv->cluster;
    if (!info->server_id || !remember_peer(r, info)) {
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    struct nb_route *kept = np_map_get(&cl->remotes, r->remote_id, strlen(r->remote_id));
    if (kept) {
        nb__conn_log(&r->conn, NB_LOG_DEBUG, "Detected duplicate remote route \"%s\"",
                     r->remote_id);
        kept->retry = 1;
        nb__conn_close(&r->conn, NB_CLOSE_DUPLICATE_ROUTE, false);
        return;
    }
    if (np_map_put(&cl->remotes, r->remote_id, strlen(r->remote_id), r) != 0) {
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    r->registered = 1;
    if (r->solicit) {
        r->solicit->connected_once = true;
        r->solicit->attempts = 0;
    }
    nb__conn_log(&r->conn, NB_LOG_DEBUG, "Registering remote route \"%s\"", r->remote_id);
    nb__interest_send_all(r);
    if (np_map_count(&cl->remotes) > 1) forward_info(r, json, info->port);
    take_urls(r, info);
}

/* Whether host:port is one of the configured routes (nats-server then leaves it to them). */
static bool
configured(const struct nb_cluster *cl, const char *host, int port)
{
    for (const struct nb_solicit *s = cl->solicits; s; s = s->next) {
        if (s->configured && s->url.port == port && host && strcasecmp(s->url.host, host) == 0)
            return true;
    }
    return false;
}

void
nb__cluster_gossip(struct nb_server *srv, const struct np_info *info)
{
    struct nb_cluster *cl = srv->cluster;
    const char *id = info->server_id;
    if (!id || strcmp(id, srv->server_id) == 0 || registered(cl, id)) return;
    if (configured(cl, info->host, info->port) || !info->ip || !*info->ip) return;
    struct nb_solicit *s = solicit_new(srv, info->ip, false);
    if (!s) {
        nb__log(srv, NB_LOG_ERROR, "Error parsing URL from INFO: \"%.200s\"", info->ip);
        return;
    }
    struct np_url *u = &s->url;
    bool again = false;
    for (const struct nb_solicit *o = s->next; o && !again; o = o->next)
        again = o->url.port == u->port && strcasecmp(o->url.host, u->host) == 0;
    if (again) {
        solicit_free(srv, s);
        return;
    }
    if (info->auth_required) {
        free(u->user);
        free(u->pass);
        u->user = srv->cfg.cluster_user ? strdup(srv->cfg.cluster_user) : NULL;
        u->pass = srv->cfg.cluster_pass ? strdup(srv->cfg.cluster_pass) : NULL;
    }
    s->remote_id = strdup(id);
    dial(srv, s);
}

/* A route that was only accepted but kept over a duplicate: dial its server if it drops. */
static void
redial_accepted(struct nb_server *srv, struct nb_route *r)
{
    struct nb_solicit *s = solicit_new(srv, r->dial_url, false);
    if (!s) return;
    if (r->peer_auth) {
        s->url.user = srv->cfg.cluster_user ? strdup(srv->cfg.cluster_user) : NULL;
        s->url.pass = srv->cfg.cluster_pass ? strdup(srv->cfg.cluster_pass) : NULL;
    }
    s->remote_id = strdup(r->remote_id);
    s->next_try_ms = nb__now_ms(srv) + 1 + nb__rand(srv) % REDIAL_JITTER_MS;
}

void
nb__cluster_route_gone(struct nb_route *r)
{
    struct nb_server *srv = r->conn.srv;
    struct nb_cluster *cl = srv->cluster;
    struct nb_solicit *s = r->solicit;
    if (r->registered) {
        np_map_del(&cl->remotes, r->remote_id, strlen(r->remote_id));
        if (r->nurls) nb__curls_remove(srv, r->urls, r->nurls);
    }
    r->solicit = NULL;
    if (s) s->route = NULL;
    if (srv->stopping) return;
    if (s && !r->tcp_up) {
        dial_failed(srv, s, r->dial_status);
    } else if (s) {
        s->attempts = 0;
        /* configured routes are redialed by the ticker; a gossiped one gets one more try */
        if (!s->configured && (s->self || registered(cl, r->remote_id)))
            solicit_free(srv, s);
        else if (!s->configured)
            s->next_try_ms = nb__now_ms(srv) + 1 + nb__rand(srv) % REDIAL_JITTER_MS;
    } else if (r->retry && r->dial_url && r->remote_id && !registered(cl, r->remote_id)) {
        redial_accepted(srv, r);
    }
}

/* ---- this server's route INFO -------------------------------------------------------------------- */

char *
nb__cluster_info_json(struct nb_server *srv)
{
    static char version[] = NP_SERVER_VERSION, go[] = "natsctl-" NB_VERSION;
    struct nb_cluster *cl = srv->cluster;
    char nonce[16];
    np_rand_fill(&srv->rng, nonce, 15, id_chars);
    nonce[15] = '\0';
    struct np_info info = {
        .server_id = srv->server_id,
        .server_name = srv->cfg.server_name ? srv->cfg.server_name : srv->server_id,
        .version = version,
        .proto = 2,
        .go = go,
        .host = cl->info_host,
        .port = cl->info_port,
        .headers = true,
        .auth_required = srv->cfg.cluster_user != NULL,
        .tls_required = cl->tls != NULL,
        .tls_verify = cl->tls != NULL,
        .max_payload = srv->cfg.max_payload,
        .natsctl_streams = srv->js != NULL,
        .ip = cl->info_ip,
        .nonce = nonce,
        .cluster = cl->name,
        .cluster_dynamic = cl->name_dynamic,
        .ldm = srv->ldm_info,
    };
    if (!srv->cfg.cluster_no_advertise) {
        info.connect_urls = cl->own_urls;
        info.n_connect_urls = cl->nown;
    }
    return np_info_encode(&info);
}

size_t
nb__cluster_nroutes(const struct nb_server *srv)
{
    return srv->cluster ? np_map_count(&srv->cluster->remotes) : 0;
}

/* ---- start and stop ------------------------------------------------------------------------------ */

int
nb__cluster_new(struct nb_server *srv)
{
    struct nb_cluster *cl = calloc(1, sizeof *cl);
    if (!cl) return NB_ENOMEM;
    srv->cluster = cl;
    /* An empty name is no name, as nats-server's Go strings have it. */
    const char *name =
        srv->cfg.cluster_name && *srv->cfg.cluster_name ? srv->cfg.cluster_name : NULL;
    char generated[23];
    if (!name) {
        np_rand_fill(&srv->rng, generated, 22, id_chars);
        generated[22] = '\0';
    }
    cl->name_dynamic = !name;
    cl->name = strdup(name ? name : generated);
    return cl->name ? 0 : NB_ENOMEM;
}

static void
on_listener_closed(uv_handle_t *h)
{
    nb__server_handle_closed(h->data);
}

static void
on_route_connection(uv_stream_t *listener, int status)
{
    struct nb_server *srv = listener->data;
    if (status < 0) {
        nb__log(srv, NB_LOG_ERROR, "Error accepting route connection: %s", uv_strerror(status));
        return;
    }
    nb__route_accept(srv, listener);
}

/* Every address of this host, so that a route URL naming this server is not dialed. */
static void
find_local_ips(struct nb_cluster *cl)
{
    uv_interface_address_t *ifs;
    int n;
    if (uv_interface_addresses(&ifs, &n) != 0) return;
    cl->local_ips = calloc((size_t)n + 2, sizeof *cl->local_ips);
    for (int i = 0; cl->local_ips && i < n; i++) {
        char ip[64];
        if (ifs[i].address.address4.sin_family == AF_INET)
            uv_ip4_name(&ifs[i].address.address4, ip, sizeof ip);
        else
            uv_ip6_name(&ifs[i].address.address6, ip, sizeof ip);
        if ((cl->local_ips[cl->nlocal_ips] = strdup(ip))) cl->nlocal_ips++;
    }
    uv_free_interface_addresses(ifs, n);
}

/* What the route INFO says: cluster_advertise ("host[:port]") or the listen address. */
static int
set_info_address(struct nb_server *srv, const char *host)
{
    struct nb_cluster *cl = srv->cluster;
    const char *adv = srv->cfg.cluster_advertise;
    cl->info_port = cl->port;
    if (!adv) return (cl->info_host = strdup(host)) ? 0 : NB_ENOMEM;
    const char *colon = strrchr(adv, ':');
    bool has_port = colon && strchr(adv, ':') == colon;
    cl->info_host = has_port ? strndup(adv, (size_t)(colon - adv)) : strdup(adv);
    if (has_port) cl->info_port = atoi(colon + 1);
    char ip[320];
    snprintf(ip, sizeof ip, "nats-route://%s:%d/", cl->info_host ? cl->info_host : "",
             cl->info_port);
    cl->info_ip = strdup(ip);
    return cl->info_host && cl->info_ip ? 0 : NB_ENOMEM;
}

static int
listen_routes(struct nb_server *srv, const char *host)
{
    struct nb_cluster *cl = srv->cluster;
    struct sockaddr_storage addr;
    int port = srv->cfg.cluster_port < 0 ? 0 : srv->cfg.cluster_port;
    uv_tcp_init(srv->loop, &cl->listener);
    cl->listener.data = srv;
    cl->listening = true;
    srv->open_handles++;
    int rc = nb__resolve(srv->loop, host, port, &addr);
    if (rc == 0) rc = uv_tcp_bind(&cl->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&cl->listener, 128, on_route_connection);
    if (rc) {
        snprintf(srv->start_error, sizeof srv->start_error,
                 "cannot listen for route connections on %s:%d: %s", host, port, nb_strerror(rc));
        return rc;
    }
    cl->port = nb__bound_port(&cl->listener);
    return 0;
}

/* cluster.tls: the context of every route, and nats-server's warning for insecure. */
static int
start_tls(struct nb_server *srv)
{
    struct nb_cluster *cl = srv->cluster;
    const struct nb_tls_config *tls = &srv->cfg.cluster_tls;
    char why[256];
    if (!tls->enabled) return 0;
    int rc = nb__tls_ctx_new_routes(&cl->tls, tls, why, sizeof why);
    if (rc) {
        snprintf(srv->start_error, sizeof srv->start_error, "cannot start route TLS: %s", why);
        return rc;
    }
    if (tls->insecure)
        nb__log(srv, NB_LOG_WARN,
                "TLS certificate chain and hostname of solicited routes will not be verified. DO "
                "NOT USE IN PRODUCTION!");
    for (struct nb_solicit *s = cl->solicits; s && !cl->tls_name; s = s->next) {
        struct in6_addr ip;
        if (inet_pton(AF_INET, s->url.host, &ip) != 1 && inet_pton(AF_INET6, s->url.host, &ip) != 1)
            cl->tls_name = strdup(s->url.host);
    }
    return 0;
}

int
nb__cluster_start(struct nb_server *srv)
{
    struct nb_cluster *cl = srv->cluster;
    const char *host = srv->cfg.cluster_host ? srv->cfg.cluster_host : srv->cfg.host;
    nb__log(srv, NB_LOG_INFO, "Cluster name is %s", cl->name);
    if (cl->name_dynamic)
        nb__log(srv, NB_LOG_WARN, "Cluster name was dynamically generated, consider setting one");
    if (srv->js)
        nb__log(srv, NB_LOG_WARN,
                "JetStream is not clustered: streams live on this server only, and no other "
                "server of the cluster may enable JetStream");
    int rc = listen_routes(srv, host);
    if (rc) return rc;
    nb__log(srv, NB_LOG_INFO,
            strchr(host, ':') ? "Listening for route connections on [%s]:%d"
                              : "Listening for route connections on %s:%d",
            host, cl->port);
    if ((rc = set_info_address(srv, host)) || (rc = nb__curls_init(srv))) return rc;
    find_local_ips(cl);
    uint64_t now = nb__now_ms(srv);
    for (size_t i = 0; i < srv->cfg.nroutes; i++) {
        struct nb_solicit *s = solicit_new(srv, srv->cfg.routes[i], true);
        if (!s) return NB_ENOMEM;
        s->next_try_ms = now;
    }
    if ((rc = start_tls(srv))) return rc;
    nb__cluster_tick(srv, now);
    return 0;
}

void
nb__cluster_stop(struct nb_server *srv)
{
    struct nb_cluster *cl = srv->cluster;
    if (!cl) return;
    if (cl->listening) uv_close((uv_handle_t *)&cl->listener, on_listener_closed);
    cl->listening = false;
    while (cl->solicits) {
        if (cl->solicits->resolve) uv_cancel((uv_req_t *)&cl->solicits->resolve->req);
        solicit_free(srv, cl->solicits);
    }
}

void
nb__cluster_free(struct nb_server *srv)
{
    struct nb_cluster *cl = srv->cluster;
    if (!cl) return;
    while (cl->solicits)
        solicit_free(srv, cl->solicits);
    nb__interest_release(cl);
    nb__curls_release(cl);
    np_map_release(&cl->remotes);
    for (size_t i = 0; i < cl->nlocal_ips; i++)
        free(cl->local_ips[i]);
    free(cl->local_ips);
    free(cl->name);
    free(cl->info_host);
    free(cl->info_ip);
    free(cl->tls_name);
    nb__tls_ctx_free(cl->tls);
    free(cl);
    srv->cluster = NULL;
}
