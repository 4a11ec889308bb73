/*
 * Formatting bench results. Units are stated wherever a number is printed: rates in msgs/s, byte
 * rates in binary units (MiB/s = 1024² bytes/s), latency in the unit that reads best in the human
 * report and in microseconds in the machine forms, whose keys carry the unit.
 */
#include "cli_report.h"
#include "cli_stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const role_names[CLI_ROLE_COUNT] = {"pub", "sub", "req", "rep"};
static const char *const role_titles[CLI_ROLE_COUNT] = {"Pub", "Sub", "Req", "Rep"};
static const char role_letters[CLI_ROLE_COUNT] = {'P', 'S', 'R', 'E'};

static const double percentiles[] = {50, 90, 99, 99.9};
static const char *const percentile_keys[] = {"p50", "p90", "p99", "p99_9"};
#define NPERCENTILES (sizeof percentiles / sizeof percentiles[0])

static double
rate(uint64_t n, double secs)
{
    return secs > 0 ? (double)n / secs : 0;
}

void
cli_report_role_of(const struct cli_report *r, enum cli_role role, struct cli_report_role *out)
{
    double *rates = calloc(r->nclients + 1, sizeof *rates);
    struct cli_stats st;
    *out = (struct cli_report_role){0};
    for (size_t i = 0; i < r->nclients; i++) {
        const struct cli_report_client *c = &r->clients[i];
        if (c->role != role) continue;
        if (rates) rates[out->clients] = rate(c->msgs, c->secs);
        out->clients++;
        out->msgs += c->msgs;
        out->bytes += c->bytes;
        out->wire += c->wire;
        if (c->secs > out->secs) out->secs = c->secs;
    }
    out->msgs_per_sec = rate(out->msgs, out->secs);
    out->bytes_per_sec = rate(out->bytes, out->secs);
    out->wire_per_sec = rate(out->wire, out->secs);
    cli_stats_of(rates, rates ? out->clients : 0, &st);
    free(rates);
    out->min = st.min;
    out->avg = st.avg;
    out->max = st.max;
    out->stddev = st.stddev;
}

bool
cli_report_unreliable(const struct cli_report *r)
{
    return r->lost || r->duplicates || r->out_of_order || r->errors || r->slow_consumers ||
           r->refused;
}

struct cli_report_param
cli_report_num(const char *key, double num)
{
    return (struct cli_report_param){.key = key, .number = true, .num = num};
}

static int
param_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cli_report_param *)a)->key,
                  ((const struct cli_report_param *)b)->key);
}

/* The parameters sorted by key, in a copy (the caller's order is theirs). */
static struct cli_report_param *
sorted_params(const struct cli_report *r)
{
    struct cli_report_param *p = malloc((r->nparams + 1) * sizeof *p);
    if (!p) return NULL;
    memcpy(p, r->params, r->nparams * sizeof *p);
    qsort(p, r->nparams, sizeof *p, param_cmp);
    return p;
}

/* ---------------------------------------------------------------------------------------------- */
/* Text                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static void
text_header(const struct cli_report *r, FILE *f)
{
    struct cli_report_param *p = sorted_params(r);
    fprintf(f, "%sbench %s", r->partial ? "PARTIAL " : "", r->mode);
    for (size_t i = 0; p && i < r->nparams; i++) {
        if (p[i].number)
            fprintf(f, " %s=%.15g", p[i].key, p[i].num);
        else
            fprintf(f, " %s=%s", p[i].key, p[i].value);
    }
    fprintf(f, " broker=\"%s\" embedded=%s\n", r->broker ? r->broker : "unknown",
            r->embedded ? "yes" : "no");
    free(p);
}

static void
text_client(const struct cli_report_client *c, FILE *f)
{
    char msgs[32], bytes[32], count[32];
    cli_fmt_rate(rate(c->msgs, c->secs), msgs, sizeof msgs);
    cli_fmt_bytes_rate(rate(c->bytes, c->secs), bytes, sizeof bytes);
    cli_fmt_rate((double)c->msgs, count, sizeof count);
    fprintf(f, " [%d] %s msgs/s  %s  (%s msgs in %.3fs)\n", c->id, msgs, bytes, count, c->secs);
}

static void
text_role(const struct cli_report *r, enum cli_role role, FILE *f)
{
    struct cli_report_role a;
    char msgs[32], bytes[32], wire[32], mn[32], avg[32], mx[32], sd[32];
    cli_report_role_of(r, role, &a);
    if (a.clients == 0) return;
    cli_fmt_rate(a.msgs_per_sec, msgs, sizeof msgs);
    cli_fmt_bytes_rate(a.bytes_per_sec, bytes, sizeof bytes);
    cli_fmt_bytes_rate(a.wire_per_sec, wire, sizeof wire);
    fprintf(f, "%s stats: %s msgs/s  %s payload  %s wire\n", role_titles[role], msgs, bytes, wire);
    for (size_t i = 0; i < r->nclients; i++) {
        if (r->clients[i].role == role) text_client(&r->clients[i], f);
    }
    if (a.clients < 2) return;
    cli_fmt_rate(a.min, mn, sizeof mn);
    cli_fmt_rate(a.avg, avg, sizeof avg);
    cli_fmt_rate(a.max, mx, sizeof mx);
    cli_fmt_rate(a.stddev, sd, sizeof sd);
    fprintf(f, " min %s | avg %s | max %s | stddev %s msgs/s\n", mn, avg, mx, sd);
}

static void
text_latency(const struct cli_hist *h, FILE *f)
{
    char v[32];
    fprintf(f, "Latency (%llu samples):", (unsigned long long)cli_hist_count(h));
    for (size_t i = 0; i < NPERCENTILES; i++) {
        cli_fmt_latency(cli_hist_percentile(h, percentiles[i]), v, sizeof v);
        fprintf(f, " %s %s", percentile_keys[i], v);
    }
    cli_fmt_latency(cli_hist_max(h), v, sizeof v);
    fprintf(f, " max %s", v);
    cli_fmt_latency((uint64_t)cli_hist_mean(h), v, sizeof v);
    fprintf(f, " mean %s\n", v);
}

static void
text_warnings(const struct cli_report *r, FILE *f)
{
    const struct {
        uint64_t n;
        const char *what;
    } w[] = {{r->lost, "messages lost"},
             {r->duplicates, "duplicate messages"},
             {r->out_of_order, "messages out of order"},
             {r->errors, "client errors or disconnects"},
             {r->refused, "messages refused by the stream (error PubAcks)"},
             {r->slow_consumers, "slow consumers cut by the server"}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        if (w[i].n) fprintf(f, "WARNING: %llu %s\n", (unsigned long long)w[i].n, w[i].what);
    }
}

int
cli_report_text(const struct cli_report *r, FILE *f)
{
    text_header(r, f);
    for (int role = 0; role < CLI_ROLE_COUNT; role++)
        text_role(r, (enum cli_role)role, f);
    if (r->latency && cli_hist_count(r->latency)) text_latency(r->latency, f);
    if (r->js)
        fprintf(f, "PubAcks: %llu acked, %llu refused\n", (unsigned long long)r->acked,
                (unsigned long long)r->refused);
    if (r->consume) fprintf(f, "Acks: %llu sent\n", (unsigned long long)r->acks);
    text_warnings(r, f);
    return fflush(f) == 0 && !ferror(f) ? 0 : -errno;
}

/* ---------------------------------------------------------------------------------------------- */
/* JSON                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static cJSON *
json_latency(const struct cli_hist *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    for (size_t i = 0; i < NPERCENTILES; i++)
        cJSON_AddNumberToObject(o, percentile_keys[i],
                                (double)cli_hist_percentile(h, percentiles[i]) / 1e3);
    cJSON_AddNumberToObject(o, "min", (double)cli_hist_min(h) / 1e3);
    cJSON_AddNumberToObject(o, "max", (double)cli_hist_max(h) / 1e3);
    cJSON_AddNumberToObject(o, "mean", cli_hist_mean(h) / 1e3);
    cJSON_AddNumberToObject(o, "stddev", cli_hist_stddev(h) / 1e3);
    cJSON_AddNumberToObject(o, "samples", (double)cli_hist_count(h));
    return o;
}

static cJSON *
json_client(const struct cli_report_client *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "role", role_names[c->role]);
    cJSON_AddNumberToObject(o, "id", c->id);
    cJSON_AddNumberToObject(o, "msgs", (double)c->msgs);
    cJSON_AddNumberToObject(o, "bytes", (double)c->bytes);
    cJSON_AddNumberToObject(o, "wire_bytes", (double)c->wire);
    cJSON_AddNumberToObject(o, "secs", c->secs);
    cJSON_AddNumberToObject(o, "msgs_per_sec", rate(c->msgs, c->secs));
    cJSON_AddNumberToObject(o, "bytes_per_sec", rate(c->bytes, c->secs));
    if (c->latency && cli_hist_count(c->latency))
        cJSON_AddItemToObject(o, "latency_us", json_latency(c->latency));
    return o;
}

static cJSON *
json_role(const struct cli_report_role *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "clients", (double)a->clients);
    cJSON_AddNumberToObject(o, "msgs", (double)a->msgs);
    cJSON_AddNumberToObject(o, "bytes", (double)a->bytes);
    cJSON_AddNumberToObject(o, "secs", a->secs);
    cJSON_AddNumberToObject(o, "msgs_per_sec", a->msgs_per_sec);
    cJSON_AddNumberToObject(o, "bytes_per_sec", a->bytes_per_sec);
    cJSON_AddNumberToObject(o, "wire_bytes_per_sec", a->wire_per_sec);
    cJSON_AddNumberToObject(o, "min_msgs_per_sec", a->min);
    cJSON_AddNumberToObject(o, "avg_msgs_per_sec", a->avg);
    cJSON_AddNumberToObject(o, "max_msgs_per_sec", a->max);
    cJSON_AddNumberToObject(o, "stddev_msgs_per_sec", a->stddev);
    return o;
}

static void
json_body(const struct cli_report *r, cJSON *doc)
{
    cJSON *params = cJSON_AddObjectToObject(doc, "params");
    for (size_t i = 0; params && i < r->nparams; i++) {
        const struct cli_report_param *p = &r->params[i];
        if (p->number)
            cJSON_AddNumberToObject(params, p->key, p->num);
        else
            cJSON_AddStringToObject(params, p->key, p->value);
    }
    cJSON_AddStringToObject(doc, "mode", r->mode);
    cJSON_AddStringToObject(doc, "broker", r->broker ? r->broker : "unknown");
    cJSON_AddBoolToObject(doc, "embedded", r->embedded);
    cJSON_AddBoolToObject(doc, "partial", r->partial);
    cJSON *clients = cJSON_AddArrayToObject(doc, "clients");
    for (size_t i = 0; clients && i < r->nclients; i++)
        cJSON_AddItemToArray(clients, json_client(&r->clients[i]));
    cJSON *agg = cJSON_AddObjectToObject(doc, "aggregate");
    for (int role = 0; agg && role < CLI_ROLE_COUNT; role++) {
        struct cli_report_role a;
        cli_report_role_of(r, (enum cli_role)role, &a);
        if (a.clients) cJSON_AddItemToObject(agg, role_names[role], json_role(&a));
    }
    if (r->latency && cli_hist_count(r->latency))
        cJSON_AddItemToObject(doc, "latency_us", json_latency(r->latency));
    cJSON_AddNumberToObject(doc, "lost", (double)r->lost);
    cJSON_AddNumberToObject(doc, "duplicates", (double)r->duplicates);
    cJSON_AddNumberToObject(doc, "out_of_order", (double)r->out_of_order);
    cJSON_AddNumberToObject(doc, "errors", (double)r->errors);
    cJSON_AddNumberToObject(doc, "slow_consumers", (double)r->slow_consumers);
    if (r->consume) cJSON_AddNumberToObject(doc, "acks", (double)r->acks);
    if (!r->js) return;
    cJSON_AddNumberToObject(doc, "acked", (double)r->acked);
    cJSON_AddNumberToObject(doc, "refused", (double)r->refused);
}

int
cli_report_json(const struct cli_report *r, FILE *f)
{
    cJSON *doc = cJSON_CreateObject();
    char *text = NULL;
    if (doc) {
        json_body(r, doc);
        text = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
    }
    if (!text) return -ENOMEM;
    fprintf(f, "%s\n", text);
    cJSON_free(text);
    return fflush(f) == 0 && !ferror(f) ? 0 : -errno;
}

/* ---------------------------------------------------------------------------------------------- */
/* CSV                                                                                             */
/* ---------------------------------------------------------------------------------------------- */

int
cli_report_csv(const struct cli_report *r, FILE *f)
{
    bool lat = r->latency != NULL;
    fputs("#RunID, ClientID, MsgCount, MsgBytes, MsgsPerSec, BytesPerSec, DurationSecs", f);
    if (lat)
        fputs(", P50LatencyMicroSecs, P90LatencyMicroSecs, P99LatencyMicroSecs, "
              "P999LatencyMicroSecs, MaxLatencyMicroSecs",
              f);
    fputc('\n', f);
    char run_id[32];
    snprintf(run_id, sizeof run_id, "%lld", (long long)time(NULL));
    for (size_t i = 0; i < r->nclients; i++) {
        const struct cli_report_client *c = &r->clients[i];
        fprintf(f, "%s, %c%d, %llu, %llu, %.0f, %.0f, %.6f", run_id, role_letters[c->role], c->id,
                (unsigned long long)c->msgs, (unsigned long long)c->bytes, rate(c->msgs, c->secs),
                rate(c->bytes, c->secs), c->secs);
        for (size_t k = 0; lat && k <= NPERCENTILES; k++) {
            const struct cli_hist *h = c->latency;
            if (!h || !cli_hist_count(h)) {
                fputs(",", f);
                continue;
            }
            uint64_t ns =
                k < NPERCENTILES ? cli_hist_percentile(h, percentiles[k]) : cli_hist_max(h);
            fprintf(f, ", %.3f", (double)ns / 1e3);
        }
        fputc('\n', f);
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -errno;
}
