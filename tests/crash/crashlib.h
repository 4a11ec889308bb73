/*
 * What the crash-test clients (crashpub.c, conspub.c) share: errors, message contents that are a
 * pure function of their index, the JetStream connection and the stream they test.
 */
#ifndef CRASHLIB_H
#define CRASHLIB_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

/* The program name crash_fail prefixes its messages with. */
extern const char *crash_prog;

/* Prints "<prog>: <message>" on stderr; returns 1, the exit status of a failed check. */
int crash_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Index idx's payload in buf (cap bytes): its number, then bytes derived from it, min to
 * min+span-1 bytes long. Returns the length. */
int crash_payload(uint64_t idx, int min, int span, char *buf, size_t cap);
/* Connects to url without reconnecting, with a JetStream context whose API wait is wait_ms. */
natsStatus crash_connect(const char *url, int64_t wait_ms, natsConnection **nc, jsCtx **js);
/* Adds the file stream STREAM on "STREAM.>"; an identical one that exists is kept. */
natsStatus crash_add_stream(jsCtx *js, const char *stream, jsErrCode *jerr);

#endif
