#include "crashlib.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

int
crash_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", crash_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int
crash_payload(uint64_t idx, int min, int span, char *buf, size_t cap)
{
    int len = min + (int)((idx * 7919u) % (uint64_t)span);
    int head = snprintf(buf, cap, "idx=%" PRIu64 ";", idx);
    for (int i = head; i < len; i++)
        buf[i] = (char)('a' + (idx + (uint64_t)i * 13u) % 26u);
    return len;
}

natsStatus
crash_connect(const char *url, int64_t wait_ms, natsConnection **nc, jsCtx **js)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK) s = natsOptions_SetURL(o, url);
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(o, false);
    if (s == NATS_OK) s = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = wait_ms;
    if (s == NATS_OK) s = natsConnection_JetStream(js, *nc, &jo);
    return s;
}

natsStatus
crash_add_stream(jsCtx *js, const char *stream, jsErrCode *jerr)
{
    char subject[300];
    snprintf(subject, sizeof subject, "%s.>", stream);
    const char *subjects[] = {subject};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo *si = NULL;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, jerr);
    jsStreamInfo_Destroy(si);
    return s;
}
