/*
 * The embedded broker's thread. The only cross-thread traffic is the start handshake (a semaphore)
 * and the stop request (an async handle); the statistics are read after the thread has joined.
 */
#include "cli_embed.h"

#include <string.h>

static void
on_stopped(struct nb_server *srv, void *ud)
{
    struct cli_embed *e = ud;
    nb_server_stats(srv, &e->stats);
}

static void
on_stop(uv_async_t *a)
{
    struct cli_embed *e = a->data;
    uv_close((uv_handle_t *)a, NULL);
    nb_server_stop(e->srv, on_stopped, e);
}

static int
start_server(struct cli_embed *e)
{
    struct nb_config cfg;
    nb_config_init(&cfg);
    cfg.port = 0;
    int rc = nb_server_new(&e->srv, &e->loop, &cfg);
    nb_config_release(&cfg);
    if (rc != 0) return rc;
    rc = nb_server_start(e->srv);
    if (rc == 0) rc = uv_async_init(&e->loop, &e->stop, on_stop);
    if (rc != 0) {
        /* nb.h: a server that failed to start is stopped like a running one before it is freed. */
        nb_server_stop(e->srv, NULL, NULL);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        nb_server_free(e->srv);
        return rc;
    }
    e->stop.data = e;
    e->port = nb_server_port(e->srv);
    return 0;
}

static void
thread_main(void *arg)
{
    struct cli_embed *e = arg;
    e->err = uv_loop_init(&e->loop);
    if (e->err == 0) {
        e->err = start_server(e);
        if (e->err != 0) uv_loop_close(&e->loop);
    }
    uv_sem_post(&e->ready);
    if (e->err != 0) return;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    nb_server_free(e->srv);
    uv_loop_close(&e->loop);
}

int
cli_embed_start(struct cli_embed *e)
{
    memset(e, 0, sizeof *e);
    int rc = uv_sem_init(&e->ready, 0);
    if (rc != 0) return rc;
    rc = uv_thread_create(&e->thread, thread_main, e);
    if (rc == 0) {
        uv_sem_wait(&e->ready);
        rc = e->err;
        if (rc != 0) uv_thread_join(&e->thread);
    }
    uv_sem_destroy(&e->ready);
    return rc;
}

void
cli_embed_stop(struct cli_embed *e)
{
    uv_async_send(&e->stop);
    uv_thread_join(&e->thread);
}
