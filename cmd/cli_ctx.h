/*
 * natscli's configuration contexts, read and written in natscli's own files so that contexts made
 * by either tool work in the other:
 *
 *   $XDG_CONFIG_HOME/nats/context/NAME.json   (or ~/.config/nats/...), one JSON object per context
 *   $XDG_CONFIG_HOME/nats/context.txt         the selected context's name
 *   $XDG_CONFIG_HOME/nats/previous-context.txt the one selected before it
 *
 * A context is kept as its whole JSON object, so keys natsctl does not know survive an edit. Files
 * are written mode 0600 through a temporary file and rename(), as natscli does, so a reader never
 * sees half a context. Functions return 0, or -1 with a one-line message in err (CLI_CTX_ERRLEN
 * bytes); nothing here prints.
 */
#ifndef CLI_CTX_H
#define CLI_CTX_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_CTX_ERRLEN  256
#define CLI_CTX_PATHLEN 4096
#define CLI_CTX_NAMELEN 256

struct cli_ctx {
    char name[CLI_CTX_NAMELEN]; /* "prod"; for a context given as a file, its base name */
    char path[CLI_CTX_PATHLEN]; /* the JSON file */
    cJSON *json;                /* the whole object; owned */
};

/* natscli's rule: not empty, no "..", no '/'. */
bool cli_ctx_name_valid(const char *name);
/* True when ref names a file rather than a context: it has a '/' or ends in ".json". */
bool cli_ctx_ref_is_file(const char *ref);

/*
 * Loads a context by name, or from a file when cli_ctx_ref_is_file(ref). Fails on an unknown
 * context, a file that is not a JSON object, or a known key with a value of the wrong type.
 */
int cli_ctx_load(struct cli_ctx *c, const char *ref, char *err);
/* Checks a JSON text the way cli_ctx_load() checks a file; on success c owns the parsed object. */
int cli_ctx_parse(struct cli_ctx *c, const char *text, char *err);
/* A new context with every natscli key present and empty, as natscli writes a fresh one. */
int cli_ctx_init_new(struct cli_ctx *c, const char *name, char *err);
void cli_ctx_release(struct cli_ctx *c);

/* A string setting, or NULL when it is absent, empty or not a string. */
const char *cli_ctx_get(const struct cli_ctx *c, const char *key);
/* Sets a string setting, keeping the key's place (or appending it). Returns 0 or -1 (memory). */
int cli_ctx_set(struct cli_ctx *c, const char *key, const char *value);
/*
 * The first setting natsctl cannot honour and must therefore refuse to connect with (nsc, an
 * inline JWT or seed, a SOCKS proxy, TLS-first, a Windows certificate store), or
 * NULL when the context only uses what natsctl supports.
 */
const char *cli_ctx_unsupported(const struct cli_ctx *c);

/* Writes the context to c->path (creating the directories 0700), 2-space indented like natscli. */
int cli_ctx_save(const struct cli_ctx *c, char *err);
/* The context as natscli formats it, malloc'd; NULL when out of memory. */
char *cli_ctx_format(const struct cli_ctx *c);

/* The path of a named context's file, or of a file under the nats directory (name NULL: the dir). */
int cli_ctx_path(const char *name, char *out, char *err);
/* The selected context's name into out (CLI_CTX_NAMELEN), "" when none is selected. */
int cli_ctx_selected(char *out, char *err);
/* Selects name (NULL or "": unselects), remembering the previous selection as natscli does. */
int cli_ctx_select(const char *name, char *err);
/* Removes a context's file. */
int cli_ctx_remove(const char *name, char *err);
/* The names of the stored contexts, sorted, as a malloc'd NULL-terminated array (cli_ctx_free_list). */
int cli_ctx_list(char ***names, char *err);
void cli_ctx_free_list(char **names);

#endif
