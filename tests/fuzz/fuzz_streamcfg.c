/*
 * libFuzzer target for stream configurations (libbroker/nb_streamcfg.c).
 *
 * The input is a STREAM.CREATE body. Checked beyond "no crash, no over-read, no leak": a refusal
 * carries a JetStream error code; an accepted configuration is normalised (a name, subjects,
 * one replica), its copy compares equal, and its echo parses back to an equal configuration,
 * so the echo is both valid JSON and a fixed point of the normalisation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb_streamcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_echo(const struct nb_stream_config *cfg)
{
    cJSON *obj = nb_streamcfg_to_json(cfg);
    if (!obj) return;
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text) return;
    struct nb_stream_config again;
    struct nb_jserr err;
    if (nb_streamcfg_parse(&again, text, strlen(text), &err) != 0) abort();
    if (!nb_streamcfg_equal(cfg, &again)) abort();
    nb_streamcfg_release(&again);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nb_stream_config cfg, copy;
    struct nb_jserr err = {0};
    if (nb_streamcfg_parse(&cfg, (const char *)data, size, &err) != 0) {
        if (err.code == 0 || err.err_code == 0 || !err.description[0]) abort();
        return 0;
    }
    if (!nb_js_name_valid(cfg.name) || cfg.nsubjects == 0 || cfg.num_replicas != 1) abort();
    if (nb_streamcfg_copy(&copy, &cfg) == 0) {
        if (!nb_streamcfg_equal(&cfg, &copy)) abort();
        struct nb_jserr uerr;
        if (nb_streamcfg_check_update(&cfg, &copy, &uerr) != 0) abort();
        nb_streamcfg_release(&copy);
    }
    check_echo(&cfg);
    nb_streamcfg_release(&cfg);
    return 0;
}
