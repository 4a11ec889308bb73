/*
 * libFuzzer target for consumer configurations (libbroker/nb_consumercfg.c).
 *
 * The input is the "config" object of a CONSUMER.CREATE request, checked against a fixed stream
 * (subjects "s.>" with consumer limits, or a work queue when the first byte is odd, so both rule
 * sets are reached). Checked beyond "no crash, no over-read, no leak": a refusal carries a
 * JetStream error code; an accepted configuration has its defaults filled in, its copy compares
 * equal and allows the update, and its echo parses back to an equal configuration, so the echo
 * is valid JSON and a fixed point of the normalisation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nb_consumercfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const streams[] = {
    "{\"name\":\"S\",\"subjects\":[\"s.>\"],\"consumer_limits\":"
    "{\"inactive_threshold\":600000000000,\"max_ack_pending\":5000}}",
    "{\"name\":\"WQ\",\"subjects\":[\"wq.>\",\"one\"],\"retention\":\"workqueue\"}",
};

static void
check_echo(const struct nb_consumer_config *cfg, const struct nb_stream_config *stream)
{
    cJSON *obj = nb_consumercfg_to_json(cfg);
    if (!obj) return;
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text) return;
    cJSON *again_obj = cJSON_Parse(text);
    if (!again_obj) abort();
    struct nb_consumer_config again;
    struct nb_jserr err;
    if (nb_consumercfg_from_json(&again, again_obj, stream, &err) != 0) abort();
    if (!nb_consumercfg_equal(cfg, &again)) abort();
    nb_consumercfg_release(&again);
    cJSON_Delete(again_obj);
    free(text);
}

static void
check_accepted(const struct nb_consumer_config *cfg, const struct nb_stream_config *stream)
{
    if (cfg->max_deliver == 0 || cfg->max_deliver < -1) abort();
    if (!cfg->deliver_subject && cfg->max_waiting <= 0) abort();
    if (!cfg->durable_name && cfg->inactive_threshold <= 0) abort();
    if (cfg->ack_policy != NB_ACK_NONE && cfg->max_ack_pending == 0) abort();
    struct nb_consumer_config copy;
    if (nb_consumercfg_copy(&copy, cfg) == 0) {
        if (!nb_consumercfg_equal(cfg, &copy)) abort();
        struct nb_jserr uerr;
        if (nb_consumercfg_check_update(cfg, &copy, &uerr) != 0) abort();
        nb_consumercfg_release(&copy);
    }
    check_echo(cfg, stream);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nb_stream_config stream;
    struct nb_jserr err = {0};
    const char *sjson = streams[size > 0 && (data[0] & 1)];
    if (nb_streamcfg_parse(&stream, sjson, strlen(sjson), &err) != 0) abort();
    cJSON *obj = cJSON_ParseWithLength((const char *)data, size);
    struct nb_consumer_config cfg;
    if (!obj) {
        nb_streamcfg_release(&stream);
        return 0;
    }
    if (nb_consumercfg_from_json(&cfg, obj, &stream, &err) != 0) {
        if (err.code == 0 || err.err_code == 0 || !err.description[0]) abort();
    } else {
        check_accepted(&cfg, &stream);
        nb_consumercfg_release(&cfg);
    }
    cJSON_Delete(obj);
    nb_streamcfg_release(&stream);
    return 0;
}
