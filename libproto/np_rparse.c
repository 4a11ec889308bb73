/*
 * The route parser: a resumable state machine for what a peer server sends on a route (spec 5),
 * built like the client parser (np_parse.c) and nats-server's parser.go, of which this is the
 * ROUTER half.
 *
 * Verbs are matched a byte per step, one state per prefix; once a verb is complete p->op names it,
 * and the blank, argument, payload and line-end states are shared by every verb, as nats-server
 * shares them through c.op. Argument lines are scanned in bulk up to their LF and payloads taken
 * with one bounds-checked jump.
 *
 * Invariants (those of np_parse.c):
 * - p->state is an enum state value, or the negative NP_E* code that killed the parser.
 * - Views point into the caller's buffer whenever the whole operation is in it. Only an operation
 *   cut by the end of a buffer is copied: its argument line into scratch, its payload into msgbuf.
 * - In the payload states between calls the message waits in p->pending, its views moved into
 *   scratch and msgbuf; every view of a message lies within its arg, so moving arg moves them all.
 * - Limits are checked before anything is buffered.
 */
#include "np_route.h"

#include <stdlib.h>
#include <string.h>

enum state {
    S_START,
    S_I,
    S_IN,
    S_INF,
    S_C,
    S_CO,
    S_CON,
    S_CONN,
    S_CONNE,
    S_CONNEC,
    S_P,
    S_PI,
    S_PIN,
    S_PO,
    S_PON,
    S_PLUS,
    S_PLUS_O,
    S_MINUS,
    S_MINUS_E,
    S_MINUS_ER,
    S_R,
    S_RS,
    S_RM,
    S_RMS,
    S_H,
    S_HM,
    S_HMS,
    S_L,
    S_LS,
    S_LM,
    S_LMS,
    S_A,
    S_BLANK,   /* the verb needs a blank before its arguments */
    S_SPC,     /* blanks before the arguments */
    S_ARG,     /* the argument line */
    S_SKIP,    /* PING, PONG, +OK: the rest of the line is ignored */
    S_PAYLOAD, /* RMSG HMSG LMSG */
    S_END_R,
    S_END_N,
    S_COUNT
};

enum { STEP_MORE = 0, STEP_OP = 1 };

/* Tokens kept from the front of an argument line: LMSG's origin account subject + reply q1. */
#define FRONT_ARGS 6

/* States with one way forward: the upper-case byte, and the state or the verb it completes. */
static const struct {
    unsigned char want;
    unsigned char next; /* a state, when op is 0 */
    unsigned char op;   /* the verb this byte completes */
} chain[S_COUNT] = {
    [S_I] = {'N', S_IN, 0},
    [S_IN] = {'F', S_INF, 0},
    [S_INF] = {'O', 0, NP_ROP_INFO},
    [S_C] = {'O', S_CO, 0},
    [S_CO] = {'N', S_CON, 0},
    [S_CON] = {'N', S_CONN, 0},
    [S_CONN] = {'E', S_CONNE, 0},
    [S_CONNE] = {'C', S_CONNEC, 0},
    [S_CONNEC] = {'T', 0, NP_ROP_CONNECT},
    [S_PI] = {'N', S_PIN, 0},
    [S_PIN] = {'G', 0, NP_ROP_PING},
    [S_PO] = {'N', S_PON, 0},
    [S_PON] = {'G', 0, NP_ROP_PONG},
    [S_PLUS] = {'O', S_PLUS_O, 0},
    [S_PLUS_O] = {'K', 0, NP_ROP_OK},
    [S_MINUS] = {'E', S_MINUS_E, 0},
    [S_MINUS_E] = {'R', S_MINUS_ER, 0},
    [S_MINUS_ER] = {'R', 0, NP_ROP_ERR},
    [S_RM] = {'S', S_RMS, 0},
    [S_RMS] = {'G', 0, NP_ROP_RMSG},
    [S_H] = {'M', S_HM, 0},
    [S_HM] = {'S', S_HMS, 0},
    [S_HMS] = {'G', 0, NP_ROP_HMSG},
    [S_LM] = {'S', S_LMS, 0},
    [S_LMS] = {'G', 0, NP_ROP_LMSG},
};

/* States with two ways forward: ("RS", '+') completes RS+, ("R", 'M') leads to RM... */
static const struct {
    unsigned char state, byte, next, op;
} forks[] = {
    {S_P, 'I', S_PI, 0},           {S_P, 'O', S_PO, 0},           {S_R, 'S', S_RS, 0},
    {S_R, 'M', S_RM, 0},           {S_L, 'S', S_LS, 0},           {S_L, 'M', S_LM, 0},
    {S_RS, '+', 0, NP_ROP_RSUB},   {S_RS, '-', 0, NP_ROP_RUNSUB}, {S_LS, '+', 0, NP_ROP_LSUB},
    {S_LS, '-', 0, NP_ROP_LUNSUB}, {S_A, '+', 0, NP_ROP_ASUB},    {S_A, '-', 0, NP_ROP_AUNSUB},
    {S_START, 'I', S_I, 0},        {S_START, 'C', S_C, 0},        {S_START, 'P', S_P, 0},
    {S_START, '+', S_PLUS, 0},     {S_START, '-', S_MINUS, 0},    {S_START, 'R', S_R, 0},
    {S_START, 'H', S_H, 0},        {S_START, 'L', S_L, 0},        {S_START, 'A', S_A, 0},
};

static const struct np_rop no_op;

static bool
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* nats-server splits route arguments on CR and LF too. */
static bool
is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned char
upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - ('a' - 'A')) : c;
}

static bool
in_payload(int state)
{
    return state == S_PAYLOAD || state == S_END_R || state == S_END_N;
}

static bool
is_message(uint8_t op)
{
    return op == NP_ROP_RMSG || op == NP_ROP_HMSG || op == NP_ROP_LMSG;
}

static int
reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    char *grown = realloc(*buf, need);
    if (!grown) return NP_ENOMEM;
    *buf = grown;
    *cap = need;
    return 0;
}

/* ---- verbs ----------------------------------------------------------------------------------- */

/* A verb is complete: where its arguments (if any) start. */
static void
verb_done(struct np_rparser *p, uint8_t op)
{
    p->op = op;
    if (op == NP_ROP_PING || op == NP_ROP_PONG || op == NP_ROP_OK)
        p->state = S_SKIP;
    else if (op == NP_ROP_INFO || op == NP_ROP_CONNECT)
        p->state = S_SPC; /* as nats-server, INFO and CONNECT need no blank before their JSON */
    else
        p->state = S_BLANK;
}

/* Takes one byte of a verb. Returns 0, or NP_EUNKNOWN_OP when it continues no verb. */
static int
verb_step(struct np_rparser *p, unsigned char c)
{
    unsigned char u = upper(c);
    if (chain[p->state].want) {
        if (u != chain[p->state].want) return NP_EUNKNOWN_OP;
        if (chain[p->state].op)
            verb_done(p, chain[p->state].op);
        else
            p->state = chain[p->state].next;
        return 0;
    }
    for (size_t i = 0; i < sizeof forks / sizeof forks[0]; i++) {
        if (forks[i].state != p->state || forks[i].byte != u) continue;
        if (forks[i].op)
            verb_done(p, forks[i].op);
        else
            p->state = forks[i].next;
        return 0;
    }
    return NP_EUNKNOWN_OP;
}

static void
skip_blanks(struct np_rparser *p, const char *buf, size_t *pos)
{
    if (is_blank((unsigned char)buf[*pos])) {
        (*pos)++;
        return;
    }
    p->state = S_ARG;
    p->scratch_len = 0;
}

static int
skip_line(struct np_rparser *p, const char *buf, size_t len, size_t *pos, struct np_rop *op)
{
    const char *nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl) {
        *pos = len;
        return STEP_MORE;
    }
    *pos = (size_t)(nl - buf) + 1;
    op->type = (enum np_rop_type)p->op;
    p->state = S_START;
    return STEP_OP;
}

/* ---- arguments ------------------------------------------------------------------------------- */

/* A size or weight: 1 to 9 ASCII digits, as nats-server's parseSize takes. -1 for anything else. */
static int64_t
parse_size(struct np_str s)
{
    if (s.len == 0 || s.len > 9) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return -1;
        v = v * 10 + (s.ptr[i] - '0');
    }
    return v;
}

/* The tokens of a line: the first FRONT_ARGS, the last three, and how many there are. */
struct args {
    struct np_str front[FRONT_ARGS];
    struct np_str back[3]; /* back[2] is the last token */
    size_t n;
};

static void
split_args(const char *s, size_t n, struct args *a)
{
    size_t i = 0;
    a->n = 0;
    for (;;) {
        while (i < n && is_sep(s[i]))
            i++;
        if (i == n) return;
        size_t start = i;
        while (i < n && !is_sep(s[i]))
            i++;
        struct np_str t = {s + start, i - start};
        if (a->n < FRONT_ARGS) a->front[a->n] = t;
        a->back[0] = a->back[1];
        a->back[1] = a->back[2];
        a->back[2] = t;
        a->n++;
    }
}

/* Token i of the line, counting from the front (i < FRONT_ARGS) or from the back (n - i <= 3). */
static struct np_str
arg_at(const struct args *a, size_t i)
{
    if (i < FRONT_ARGS) return a->front[i];
    return a->back[3 - (a->n - i)];
}

static int
interest_args(struct np_rop *op, const struct args *a, bool sub)
{
    bool queue = sub ? a->n == 4 : a->n == 3;
    if (a->n != 2 && !queue) return NP_EARGS;
    op->account = a->front[0];
    op->subject = a->front[1];
    if (!queue) return 0;
    op->queue = a->front[2];
    if (!sub) return 0;
    int64_t w = parse_size(a->front[3]);
    if (w < 0) return NP_ESIZE;
    op->weight = (uint32_t)w;
    return 0;
}

static int
set_sizes(const struct np_rparser *p, struct np_rop *op, const struct np_str *hdr,
          struct np_str total)
{
    int64_t h = hdr ? parse_size(*hdr) : 0;
    int64_t n = parse_size(total);
    if (h < 0 || n < 0) return NP_ESIZE;
    if (h > n) return NP_EHDR_SIZE;
    if (p->max_payload != 0 && n > (int64_t)p->max_payload) return NP_EPAYLOAD;
    op->size = total;
    op->hdr_len = (size_t)h;
    op->payload.len = (size_t)n;
    return 0;
}

/*
 * RMSG, HMSG and LMSG: [origin] account subject, then nothing, a reply, or an indicator ('+' and a
 * reply, or '|') followed by queue names, then the sizes (two when there is a header block).
 */
static int
message_args(const struct np_rparser *p, struct np_rop *op, const struct args *a)
{
    size_t first = op->type == NP_ROP_LMSG ? 1u : 0u;
    size_t nsizes = op->type == NP_ROP_RMSG ? 1u : 2u, fixed = first + 2 + nsizes;
    if (a->n < fixed) return NP_EARGS;
    op->origin = first ? a->front[0] : (struct np_str){0};
    op->account = a->front[first];
    op->subject = a->front[first + 1];
    size_t mid = a->n - fixed; /* tokens between the subject and the sizes */
    if (mid == 1) op->reply = a->front[first + 2];
    if (mid > 1) {
        struct np_str ind = a->front[first + 2];
        if (ind.len != 1 || (ind.ptr[0] != '+' && ind.ptr[0] != '|')) return NP_EARGS;
        size_t q = first + 3;
        if (ind.ptr[0] == '+') op->reply = a->front[q++];
        struct np_str last = arg_at(a, a->n - nsizes - 1);
        if (q < a->n - nsizes)
            op->queues =
                (struct np_str){arg_at(a, q).ptr, (size_t)(last.ptr + last.len - arg_at(a, q).ptr)};
    }
    struct np_str hdr = a->back[1];
    return set_sizes(p, op, nsizes == 2 ? &hdr : NULL, a->back[2]);
}

static struct np_str
trim_end(const char *s, size_t n)
{
    while (n > 0 && is_sep(s[n - 1]))
        n--;
    return (struct np_str){s, n};
}

/* Fills op from a complete argument line (its LF and the CR before it already removed). */
static int
finish_line(struct np_rparser *p, const char *line, size_t n, struct np_rop *op)
{
    struct args a;
    int rc = 0;
    op->type = (enum np_rop_type)p->op;
    op->arg = trim_end(line, n);
    switch (p->op) {
    case NP_ROP_RSUB:
    case NP_ROP_RUNSUB:
        split_args(line, n, &a);
        rc = interest_args(op, &a, p->op == NP_ROP_RSUB);
        break;
    case NP_ROP_RMSG:
    case NP_ROP_HMSG:
    case NP_ROP_LMSG:
        split_args(line, n, &a);
        rc = message_args(p, op, &a);
        break;
    case NP_ROP_ERR:
        op->arg = (struct np_str){line, n};
        break;
    default:
        break; /* INFO, CONNECT, and the interest kinds that are ignored */
    }
    if (rc < 0) return rc;
    if (is_message(p->op)) {
        p->state = S_PAYLOAD;
        p->msgbuf_len = 0;
        return STEP_MORE;
    }
    p->state = S_START;
    return STEP_OP;
}

static int
check_line_limit(const struct np_rparser *p, const char *src, size_t chunk)
{
    if (p->max_control_line == 0) return 0;
    size_t total = p->scratch_len + chunk;
    char last = 0;
    if (chunk > 0)
        last = src[chunk - 1];
    else if (p->scratch_len > 0)
        last = p->scratch[p->scratch_len - 1];
    if (last == '\r') total--;
    return total > p->max_control_line ? NP_ECONTROL_LINE : 0;
}

static int
scratch_append(struct np_rparser *p, const char *src, size_t n)
{
    size_t need = p->scratch_len + n;
    if (need > p->scratch_cap) {
        size_t twice = p->scratch_cap * 2;
        int rc = reserve(&p->scratch, &p->scratch_cap, need > twice ? need : twice);
        if (rc < 0) return rc;
    }
    if (n > 0) memcpy(p->scratch + p->scratch_len, src, n);
    p->scratch_len = need;
    return 0;
}

static int
arg_line(struct np_rparser *p, const char *buf, size_t len, size_t *pos, struct np_rop *op)
{
    const char *src = buf + *pos;
    const char *nl = memchr(src, '\n', len - *pos);
    size_t chunk = nl ? (size_t)(nl - src) : len - *pos;
    int rc = check_line_limit(p, src, chunk);
    if (rc < 0) return rc;
    const char *line = src;
    size_t n = chunk;
    p->arg_in_scratch = !nl || p->scratch_len > 0;
    if (p->arg_in_scratch) {
        rc = scratch_append(p, src, chunk);
        if (rc < 0) return rc;
        line = p->scratch;
        n = p->scratch_len;
    }
    if (!nl) {
        *pos = len;
        return STEP_MORE;
    }
    *pos = (size_t)(nl - buf) + 1;
    if (n > 0 && line[n - 1] == '\r') n--;
    return finish_line(p, line, n, op);
}

/* ---- payload --------------------------------------------------------------------------------- */

static int
payload(struct np_rparser *p, const char *buf, size_t len, size_t *pos, struct np_rop *op)
{
    size_t avail = len - *pos, size = op->payload.len;
    if (p->msgbuf_len == 0 && avail >= size) {
        op->payload.ptr = buf + *pos;
        *pos += size;
        p->state = S_END_R;
        return STEP_MORE;
    }
    int rc = reserve(&p->msgbuf, &p->msgbuf_cap, size + 2);
    if (rc < 0) return rc;
    size_t take = size - p->msgbuf_len < avail ? size - p->msgbuf_len : avail;
    memcpy(p->msgbuf + p->msgbuf_len, buf + *pos, take);
    p->msgbuf_len += take;
    *pos += take;
    if (p->msgbuf_len == size) {
        op->payload.ptr = p->msgbuf;
        p->state = S_END_R;
    }
    return STEP_MORE;
}

static int
payload_end(struct np_rparser *p, const char *buf, size_t *pos, struct np_rop *op)
{
    char want = p->state == S_END_R ? '\r' : '\n';
    if (buf[(*pos)++] != want) return NP_EPAYLOAD_END;
    if (p->state == S_END_R) {
        p->state = S_END_N;
        return STEP_MORE;
    }
    op->type = (enum np_rop_type)p->op;
    p->state = S_START;
    return STEP_OP;
}

static void
rebase(struct np_str *v, const char *from, const char *to)
{
    if (v->len > 0) v->ptr = to + (v->ptr - from);
}

/* Moves the argument line of a message, and so every view but the payload, into scratch. */
static int
keep_line(struct np_rparser *p, struct np_rop *op)
{
    const char *from = op->arg.ptr;
    int rc = reserve(&p->scratch, &p->scratch_cap, op->arg.len);
    if (rc < 0) return rc;
    memcpy(p->scratch, from, op->arg.len);
    p->scratch_len = op->arg.len;
    p->arg_in_scratch = true;
    struct np_str *views[] = {&op->arg,   &op->origin, &op->account, &op->subject,
                              &op->reply, &op->queues, &op->size};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        rebase(views[i], from, p->scratch);
    return 0;
}

static int
keep_payload(struct np_rparser *p, struct np_rop *op)
{
    size_t size = op->payload.len;
    int rc = reserve(&p->msgbuf, &p->msgbuf_cap, size + 2);
    if (rc < 0) return rc;
    if (size > 0) memcpy(p->msgbuf, op->payload.ptr, size);
    p->msgbuf_len = size;
    op->payload.ptr = p->msgbuf;
    return 0;
}

static int
park(struct np_rparser *p, struct np_rop *op)
{
    if (!in_payload(p->state)) return 0;
    int rc = p->arg_in_scratch ? 0 : keep_line(p, op);
    if (rc == 0 && p->state != S_PAYLOAD && p->msgbuf_len == 0) rc = keep_payload(p, op);
    if (rc < 0) return rc;
    p->pending = *op;
    *op = no_op;
    return 0;
}

/* ---- the loop -------------------------------------------------------------------------------- */

static int
step(struct np_rparser *p, const char *buf, size_t len, size_t *pos, struct np_rop *op)
{
    switch (p->state) {
    case S_BLANK:
        if (!is_blank((unsigned char)buf[(*pos)++])) return NP_EUNKNOWN_OP;
        p->state = S_SPC;
        return STEP_MORE;
    case S_SPC:
        skip_blanks(p, buf, pos);
        return STEP_MORE;
    case S_ARG:
        return arg_line(p, buf, len, pos, op);
    case S_SKIP:
        return skip_line(p, buf, len, pos, op);
    case S_PAYLOAD:
        return payload(p, buf, len, pos, op);
    case S_END_R:
    case S_END_N:
        return payload_end(p, buf, pos, op);
    default:
        return verb_step(p, (unsigned char)buf[(*pos)++]);
    }
}

static ssize_t
fail(struct np_rparser *p, struct np_rop *op, int err)
{
    *op = no_op;
    p->state = err;
    return err;
}

void
np_rparser_init(struct np_rparser *p, uint32_t max_control_line, uint32_t max_payload)
{
    memset(p, 0, sizeof *p);
    p->state = S_START;
    p->max_control_line = max_control_line;
    p->max_payload = max_payload;
}

void
np_rparser_release(struct np_rparser *p)
{
    free(p->scratch);
    free(p->msgbuf);
    memset(p, 0, sizeof *p);
}

ssize_t
np_rparse(struct np_rparser *p, const char *buf, size_t len, struct np_rop *op)
{
    if (!p || !op || (!buf && len > 0)) return NP_EINVAL;
    if (p->state < 0) return fail(p, op, p->state);
    *op = in_payload(p->state) ? p->pending : no_op;
    size_t pos = 0;
    while (pos < len) {
        int rc = step(p, buf, len, &pos, op);
        if (rc < 0) return fail(p, op, rc);
        if (rc == STEP_OP) return (ssize_t)pos;
    }
    int rc = park(p, op);
    if (rc < 0) return fail(p, op, rc);
    return (ssize_t)len;
}

bool
np_rop_next_queue(const struct np_rop *op, size_t *pos, struct np_str *name)
{
    const char *s = op->queues.ptr;
    size_t n = op->queues.len, i = *pos;
    while (i < n && is_sep(s[i]))
        i++;
    if (i >= n) return false;
    size_t start = i;
    while (i < n && !is_sep(s[i]))
        i++;
    *name = (struct np_str){s + start, i - start};
    *pos = i;
    return true;
}
