/*
 * The stream names the shell completes: fetched from $JS.API.STREAM.NAMES when the shell connects
 * and after each command that may have created or removed a stream, so that Tab never waits for
 * the network (it offers what the last answer said).
 */
#ifndef CLI_NAMES_H
#define CLI_NAMES_H

#include <stddef.h>

struct np_client;

struct cli_names {
    char **v;
    size_t n;
    unsigned asking; /* requests on their way; an answer replaces the list */
};

/* Asks the server for the names again; nc may be NULL (nothing happens). */
void cli_names_refresh(struct cli_names *s, struct np_client *nc);
/* Calls offer for each name that starts with prefix. */
void cli_names_complete(const struct cli_names *s, const char *prefix,
                        void (*offer)(void *ud, const char *name), void *ud);
void cli_names_release(struct cli_names *s);

#endif
