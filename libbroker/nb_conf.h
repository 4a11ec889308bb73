/*
 * libbroker internal: nats-server's configuration syntax (its conf/lex.go and conf/parse.go are
 * the behaviour reference), parsed into a cJSON tree. Nothing outside libbroker and its tests
 * includes this file.
 *
 * The tree. The root is an object. Maps become objects whose members keep the order and spelling
 * in which keys were written (matching keys case-insensitively is the option mapper's job; a key
 * written twice in one map keeps its first position and its last value). Arrays become arrays,
 * strings strings, booleans booleans. Every number becomes a cJSON number, but valuedouble is only
 * an approximation for integers above 2^53: read integers from the node's metadata (ival).
 * Datetimes stay strings. Variable definitions that something references are removed from the
 * tree once the whole file has been read; unreferenced ones stay, as ordinary keys.
 *
 * The metadata (the hidden field). Every node the parser creates stores 1 + the index of its entry
 * in doc->meta in its valueint field; nb__conf_meta() resolves it. valueint therefore never holds
 * a number's value in these trees, and code must not call cJSON_SetNumberValue() on them. A
 * member of a map records where its key was written, an array element where it was written, the
 * root 1:1 of the main file. A value copied from a variable reference records where the
 * reference was written, with the flags of the value it copies.
 *
 * Limits, so that no input can exhaust the stack or memory: nesting of maps and arrays is bounded
 * by NB_CONF_MAX_DEPTH (variable copies included), the total number of nodes by NB_CONF_MAX_NODES,
 * include chains by NB_CONF_MAX_INCLUDES, files by NB_CONF_MAX_FILE bytes.
 */
#ifndef NB_CONF_H
#define NB_CONF_H

#include "nb.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define NB_CONF_MAX_DEPTH    64
#define NB_CONF_MAX_NODES    (1 << 20)
#define NB_CONF_MAX_INCLUDES 10
#define NB_CONF_MAX_FILE     (16 << 20)

/* How a value was written. */
enum nb_conf_flag {
    NB_CONF_INT = 1 << 0,      /* an integer literal; ival holds its exact value */
    NB_CONF_SUFFIX = 1 << 1,   /* an integer written with a size suffix (2k, 1MB) */
    NB_CONF_FLOAT = 1 << 2,    /* a literal with a fraction (1.5) */
    NB_CONF_QUOTED = 1 << 3,   /* a string in quotes or a ( ) block, never a number or boolean */
    NB_CONF_DATETIME = 1 << 4, /* an ISO-8601 Zulu datetime, kept as its string */
    NB_CONF_USED = 1 << 5      /* a variable definition something referenced */
};

struct nb_conf_meta {
    int64_t ival;     /* exact value of an NB_CONF_INT number, size suffix applied */
    int line, column; /* 1-based */
    unsigned file;    /* index into nb_conf.files */
    unsigned flags;   /* enum nb_conf_flag bits */
    int height;       /* levels of nesting: 1 for a scalar or an empty container */
    int nodes;        /* nodes in this subtree, counted before variables were removed */
};

/* A parsed configuration. Zero-initialise it; nb__conf_release() frees it. */
struct nb_conf {
    cJSON *root;               /* top-level object */
    struct nb_conf_meta *meta; /* indexed by valueint - 1 */
    size_t nmeta, meta_cap;
    char **files; /* files[0] is the main file, then includes and "$NAME" for env values */
    size_t nfiles, files_cap;
};

/* Flags of nb__conf_parse_mem(). */
#define NB_CONF_NO_INCLUDE 1u /* an include directive is an error (nothing is read from disk) */

/*
 * Parses the file at path into doc, resolving includes relative to the directory of the file
 * that names them. Returns 0, NB_ECONF_SYNTAX (err has file, line, column and message),
 * NB_ECONFIG (the file cannot be read; line 0) or NB_ENOMEM. On failure doc is left released.
 * err may be NULL.
 */
int nb__conf_parse_file(struct nb_conf *doc, const char *path, struct nb_conf_error *err);

/*
 * Parses len bytes at data (no terminator needed) as if they were the file name; includes are
 * resolved relative to the directory part of name unless flags has NB_CONF_NO_INCLUDE. Returns
 * as nb__conf_parse_file().
 */
int nb__conf_parse_mem(struct nb_conf *doc, const char *name, const char *data, size_t len,
                       unsigned flags, struct nb_conf_error *err);

/* Frees everything doc owns and zeroes it. Safe on a zeroed or already released doc. */
void nb__conf_release(struct nb_conf *doc);

/* The metadata of a node of doc->root, or NULL for a node the parser did not create. */
const struct nb_conf_meta *nb__conf_meta(const struct nb_conf *doc, const cJSON *node);

/* The name of the file a metadata entry points into (never NULL). */
const char *nb__conf_file(const struct nb_conf *doc, const struct nb_conf_meta *m);

/*
 * Maps a parsed document over cfg (the work of nb_config_load() once the file is parsed; kept
 * separate so the fuzzer can reach it without a file). Same warnings and return values as
 * nb_config_load(); cfg is only modified when 0 is returned.
 */
int nb__config_apply(struct nb_config *cfg, const struct nb_conf *doc, nb_conf_warn_fn warn,
                     void *warn_ud, struct nb_conf_error *err);

#endif
