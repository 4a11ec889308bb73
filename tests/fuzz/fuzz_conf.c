/*
 * libFuzzer target for the configuration parser and the option mapper: any bytes must either
 * load or fail with an error that names a position, without crashing, leaking or reading out of
 * bounds (the sanitizers check the last two). Nothing touches the disk: the input is parsed
 * from memory and include directives are refused.
 */
#include "nb.h"
#include "nb_conf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore_warning(void *ud, const char *msg)
{
    (void)ud;
    (void)msg;
}

/* A parsed document goes through the mapper and validation too, so they see odd trees. */
static void
apply(const struct nb_conf *doc)
{
    struct nb_config cfg;
    struct nb_conf_error err;
    char msg[256];
    nb_config_init(&cfg);
    int rc = nb__config_apply(&cfg, doc, ignore_warning, NULL, &err);
    if (rc != 0 && rc != NB_ECONFIG && rc != NB_ENOMEM) abort();
    /* every key and value the mapper can reject was written somewhere in the input */
    if (rc == NB_ECONFIG && (err.msg[0] == '\0' || err.line < 1 || err.column < 1)) abort();
    nb_config_validate(&cfg, msg, sizeof msg);
    nb_config_release(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nb_conf doc;
    struct nb_conf_error err;
    int rc =
        nb__conf_parse_mem(&doc, "fuzz.conf", (const char *)data, size, NB_CONF_NO_INCLUDE, &err);
    if (rc == 0) {
        if (!doc.root) abort();
        apply(&doc);
        nb__conf_release(&doc);
        return 0;
    }
    if (doc.root) abort();
    if (rc == NB_ECONF_SYNTAX && (err.line < 1 || err.column < 1 || err.msg[0] == '\0')) abort();
    if (rc != NB_ECONF_SYNTAX && rc != NB_ENOMEM) abort();
    return 0;
}
