/*
 * Bench results and their three forms: the human report (stdout), one JSON document (--json) and
 * natscli's CSV columns (--csv FILE). The model is plain data so the formats can be tested without
 * a network.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include "cli_hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_role { CLI_ROLE_PUB, CLI_ROLE_SUB, CLI_ROLE_REQ, CLI_ROLE_REP, CLI_ROLE_COUNT };

/* One client's counts. secs is from its first to its last message (0 when fewer than 2). */
struct cli_report_client {
    enum cli_role role;
    int id;                     /* 1-based within its role */
    uint64_t msgs, bytes, wire; /* payload bytes and bytes on the wire, protocol included */
    double secs;
    const struct cli_hist *latency; /* NULL when this client measures none */
};

/* One run parameter: a string (value) or, when number is set, num. */
struct cli_report_param {
    const char *key, *value;
    bool number;
    double num;
};

/* A numeric parameter: printed as a number in every form (JSON included). */
struct cli_report_param cli_report_num(const char *key, double num);

struct cli_report {
    const char *mode;
    const struct cli_report_param *params; /* printed sorted by key */
    size_t nparams;
    const struct cli_report_client *clients;
    size_t nclients;
    const struct cli_hist *latency; /* all clients' latency merged, or NULL */
    const char *broker;             /* "nats-server 2.9.10" */
    bool embedded, partial;
    uint64_t lost, duplicates, out_of_order, errors, slow_consumers;
    bool js;                 /* publishes into a stream: the PubAck counts below apply */
    uint64_t acked, refused; /* positive PubAcks, and error PubAcks (message not stored) */
    bool consume;            /* reads a stream through a consumer: acks below applies */
    uint64_t acks;           /* acks sent (explicit policy) */
};

/* The aggregate of one role: rates over the span from the earliest start to the latest end. */
struct cli_report_role {
    size_t clients;
    uint64_t msgs, bytes, wire;
    double secs; /* the longest client's; clients run concurrently */
    double msgs_per_sec, bytes_per_sec, wire_per_sec;
    double min, avg, max, stddev; /* over the clients' msgs/s */
};

/* Sums the clients of one role. */
void cli_report_role_of(const struct cli_report *r, enum cli_role role,
                        struct cli_report_role *out);
/* True when anything went wrong (lost, duplicates, out of order, errors, slow consumers, refused). */
bool cli_report_unreliable(const struct cli_report *r);
/* The human report. Returns 0 or a negative errno from writing. */
int cli_report_text(const struct cli_report *r, FILE *f);
/* One JSON document with params, clients[], aggregate per role, latency_us, counters. */
int cli_report_json(const struct cli_report *r, FILE *f);
/*
 * natscli's CSV columns, one row per client, plus latency columns when measured; those stay empty
 * in the rows of clients that measure none (publishers).
 */
int cli_report_csv(const struct cli_report *r, FILE *f);

#endif
