/*
 * The NATS protocol parser: a resumable state machine in the manner of nats-server's parser.go,
 * shared by the broker (NP_MODE_SERVER) and the client (NP_MODE_CLIENT).
 *
 * Verbs are matched one byte per step with one state per prefix, so a read may end anywhere and the
 * next call picks up where the last one stopped. Argument lines are scanned in bulk up to their LF
 * and payloads are taken with one bounds-checked jump, because those are where the bytes are.
 *
 * Invariants:
 * - p->state is an enum state value, or the negative NP_E* code that killed the parser.
 * - Views point into the caller's buffer whenever the whole operation is in it. Only an operation cut
 *   by the end of a buffer is copied: its argument line into scratch, its payload into msgbuf. Both
 *   buffers only grow and are reused, so an operation that fits in one read allocates nothing.
 * - scratch_len > 0 in an argument state means the line began in an earlier read.
 * - In the payload states between calls the operation waits in p->pending, its views already moved
 *   into scratch and msgbuf; within a call it is built directly in the caller's np_op.
 * - Limits are checked before anything is buffered: argument bytes against max_control_line at every
 *   read end and line end, the declared size against max_payload as soon as its line ends.
 */
#include "np.h"

#include <stdlib.h>
#include <string.h>

enum state {
    S_START,
    S_P,
    S_PU,
    S_PUB,
    S_PUB_SPC,
    S_PUB_ARG,
    S_PI,
    S_PIN,
    S_PING,
    S_PO,
    S_PON,
    S_PONG,
    S_H,
    S_HP,
    S_HPU,
    S_HPUB,
    S_HPUB_SPC,
    S_HPUB_ARG,
    S_HM,
    S_HMS,
    S_HMSG,
    S_HMSG_SPC,
    S_HMSG_ARG,
    S_S,
    S_SU,
    S_SUB,
    S_SUB_SPC,
    S_SUB_ARG,
    S_U,
    S_UN,
    S_UNS,
    S_UNSU,
    S_UNSUB,
    S_UNSUB_SPC,
    S_UNSUB_ARG,
    S_M,
    S_MS,
    S_MSG,
    S_MSG_SPC,
    S_MSG_ARG,
    S_C,
    S_CO,
    S_CON,
    S_CONN,
    S_CONNE,
    S_CONNEC,
    S_CONNECT, /* also the blank skipper: CONNECT needs no separator */
    S_CONNECT_ARG,
    S_I,
    S_IN,
    S_INF,
    S_INFO, /* also the blank skipper, like S_CONNECT */
    S_INFO_ARG,
    S_PLUS,
    S_PLUS_O,
    S_PLUS_OK,
    S_MINUS,
    S_MINUS_E,
    S_MINUS_ER,
    S_MINUS_ERR,
    S_MINUS_ERR_SPC,
    S_MINUS_ERR_ARG,
    S_PAYLOAD,
    S_END_R,
    S_END_N,
    S_COUNT
};

/* What step() tells the loop: keep going, or an operation is complete (errors are negative). */
enum { STEP_MORE = 0, STEP_OP = 1 };

#define BLANK    ' ' /* in chain[]: a space or a TAB */
#define MAX_ARGS 5   /* HMSG subject sid reply hdr total */

/*
 * States with one way forward: the upper-case byte they expect and the state it leads to. The
 * branching states (START, P, H) and the states that scan in bulk are handled in code.
 */
static const struct {
    unsigned char want;
    unsigned char next;
} chain[S_COUNT] = {
    [S_PU] = {'B', S_PUB},
    [S_PUB] = {BLANK, S_PUB_SPC},
    [S_PI] = {'N', S_PIN},
    [S_PIN] = {'G', S_PING},
    [S_PO] = {'N', S_PON},
    [S_PON] = {'G', S_PONG},
    [S_HP] = {'U', S_HPU},
    [S_HPU] = {'B', S_HPUB},
    [S_HPUB] = {BLANK, S_HPUB_SPC},
    [S_HM] = {'S', S_HMS},
    [S_HMS] = {'G', S_HMSG},
    [S_HMSG] = {BLANK, S_HMSG_SPC},
    [S_S] = {'U', S_SU},
    [S_SU] = {'B', S_SUB},
    [S_SUB] = {BLANK, S_SUB_SPC},
    [S_U] = {'N', S_UN},
    [S_UN] = {'S', S_UNS},
    [S_UNS] = {'U', S_UNSU},
    [S_UNSU] = {'B', S_UNSUB},
    [S_UNSUB] = {BLANK, S_UNSUB_SPC},
    [S_M] = {'S', S_MS},
    [S_MS] = {'G', S_MSG},
    [S_MSG] = {BLANK, S_MSG_SPC},
    [S_C] = {'O', S_CO},
    [S_CO] = {'N', S_CON},
    [S_CON] = {'N', S_CONN},
    [S_CONN] = {'E', S_CONNE},
    [S_CONNE] = {'C', S_CONNEC},
    [S_CONNEC] = {'T', S_CONNECT},
    [S_I] = {'N', S_IN},
    [S_IN] = {'F', S_INF},
    [S_INF] = {'O', S_INFO},
    [S_PLUS] = {'O', S_PLUS_O},
    [S_PLUS_O] = {'K', S_PLUS_OK},
    [S_MINUS] = {'E', S_MINUS_E},
    [S_MINUS_E] = {'R', S_MINUS_ER},
    [S_MINUS_ER] = {'R', S_MINUS_ERR},
    [S_MINUS_ERR] = {BLANK, S_MINUS_ERR_SPC},
};

/* The argument state each blank-skipping state hands over to. */
static const unsigned char arg_of[S_COUNT] = {
    [S_PUB_SPC] = S_PUB_ARG,     [S_HPUB_SPC] = S_HPUB_ARG,   [S_HMSG_SPC] = S_HMSG_ARG,
    [S_SUB_SPC] = S_SUB_ARG,     [S_UNSUB_SPC] = S_UNSUB_ARG, [S_MSG_SPC] = S_MSG_ARG,
    [S_CONNECT] = S_CONNECT_ARG, [S_INFO] = S_INFO_ARG,       [S_MINUS_ERR_SPC] = S_MINUS_ERR_ARG,
};

/* The operation a state completes when its line ends. */
static const unsigned char op_of[S_COUNT] = {
    [S_PUB_ARG] = NP_OP_PUB,         [S_HPUB_ARG] = NP_OP_HPUB,   [S_HMSG_ARG] = NP_OP_HMSG,
    [S_SUB_ARG] = NP_OP_SUB,         [S_UNSUB_ARG] = NP_OP_UNSUB, [S_MSG_ARG] = NP_OP_MSG,
    [S_CONNECT_ARG] = NP_OP_CONNECT, [S_INFO_ARG] = NP_OP_INFO,   [S_MINUS_ERR_ARG] = NP_OP_ERR,
    [S_PING] = NP_OP_PING,           [S_PONG] = NP_OP_PONG,       [S_PLUS_OK] = NP_OP_OK,
};

/*
 * Operations are cleared by copying this rather than with memset: gcc 12 turns a memset of this size
 * into rep stos, which cost a third of the time per operation; the copy becomes a few vector stores.
 */
static const struct np_op no_op;

static bool
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* nats-server splits arguments on CR too, so a stray CR inside a line separates like a blank. */
static bool
is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
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

/* Grows *buf to hold at least need bytes. Existing bytes are kept. */
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

static int
start_state(bool server, unsigned char u)
{
    switch (u) {
    case 'P':
        return S_P;
    case 'H':
        return S_H;
    case 'I':
        return S_I;
    case '+':
        return S_PLUS;
    case '-':
        return S_MINUS;
    case 'S':
        return server ? S_S : -1;
    case 'U':
        return server ? S_U : -1;
    case 'C':
        return server ? S_C : -1;
    case 'M':
        return server ? -1 : S_M;
    default:
        return -1;
    }
}

/* Returns the state after byte c inside a verb, or -1 when c cannot continue any legal verb. */
static int
verb_next(const struct np_parser *p, unsigned char c)
{
    bool server = p->mode == NP_MODE_SERVER;
    unsigned char u = upper(c);
    switch (p->state) {
    case S_START:
        return start_state(server, u);
    case S_P:
        if (u == 'U' && server) return S_PU;
        if (u == 'I') return S_PI;
        return u == 'O' ? S_PO : -1;
    case S_H:
        if (u == 'P' && server) return S_HP;
        return u == 'M' && !server ? S_HM : -1;
    default: {
        unsigned char want = chain[p->state].want;
        bool ok = want == BLANK ? is_blank(c) : want != 0 && u == want;
        return ok ? chain[p->state].next : -1;
    }
    }
}

/* Blanks between a verb and its arguments are skipped; the first other byte starts the line. */
static void
skip_blanks(struct np_parser *p, const char *buf, size_t *pos)
{
    if (is_blank((unsigned char)buf[*pos])) {
        (*pos)++;
        return;
    }
    p->state = arg_of[p->state];
    p->scratch_len = 0;
}

/* PING, PONG and +OK ignore everything after their letters up to the LF. */
static int
skip_line(struct np_parser *p, const char *buf, size_t len, size_t *pos, struct np_op *op)
{
    const char *nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl) {
        *pos = len;
        return STEP_MORE;
    }
    *pos = (size_t)(nl - buf) + 1;
    op->type = (enum np_op_type)op_of[p->state];
    p->state = S_START;
    return STEP_OP;
}

/* ---- arguments ------------------------------------------------------------------------------- */

/* A size field is 1 to 9 ASCII digits, as in nats-server. Returns -1 for anything else. */
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

/* Splits a line on runs of separators. Returns the count, MAX_ARGS + 1 meaning "too many". */
static size_t
split_args(const char *s, size_t n, struct np_str *t)
{
    size_t count = 0, i = 0;
    for (;;) {
        while (i < n && is_sep(s[i]))
            i++;
        if (i == n || count > MAX_ARGS) return count;
        size_t start = i;
        while (i < n && !is_sep(s[i]))
            i++;
        t[count++] = (struct np_str){s + start, i - start};
    }
}

/* Validates the size fields of a message and records them; the payload pointer comes later. */
static int
set_sizes(const struct np_parser *p, struct np_op *op, const struct np_str *hdr,
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
 * PUB, HPUB, MSG and HMSG share one shape: subject, the sid for deliveries, an optional reply, the
 * header size for the H verbs, then the total size.
 */
static int
message_args(const struct np_parser *p, struct np_op *op, const struct np_str *t, size_t n,
             bool with_sid, bool with_hdr)
{
    size_t fixed = 2 + (size_t)with_sid + (size_t)with_hdr;
    if (n != fixed && n != fixed + 1) return NP_EARGS;
    op->subject = t[0];
    if (with_sid) op->sid = t[1];
    if (n > fixed) op->reply = t[with_sid ? 2 : 1];
    return set_sizes(p, op, with_hdr ? &t[n - 2] : NULL, t[n - 1]);
}

static int
sub_args(struct np_op *op, const struct np_str *t, size_t n)
{
    if (n != 2 && n != 3) return NP_EARGS;
    op->subject = t[0];
    if (n == 3) op->queue = t[1];
    op->sid = t[n - 1];
    return 0;
}

/* An unparsable max is kept as 0, which the broker treats as "remove now", as nats-server does. */
static int
unsub_args(struct np_op *op, const struct np_str *t, size_t n)
{
    if (n != 1 && n != 2) return NP_EARGS;
    op->sid = t[0];
    op->max_msgs = -1;
    if (n == 2) {
        int64_t max = parse_size(t[1]);
        op->max_msgs = max < 0 ? 0 : max;
    }
    return 0;
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
finish_line(struct np_parser *p, const char *line, size_t n, struct np_op *op)
{
    struct np_str t[MAX_ARGS + 1];
    int rc = 0;
    op->type = (enum np_op_type)op_of[p->state];
    switch (p->state) {
    case S_PUB_ARG:
        rc = message_args(p, op, t, split_args(line, n, t), false, false);
        break;
    case S_HPUB_ARG:
        rc = message_args(p, op, t, split_args(line, n, t), false, true);
        break;
    case S_MSG_ARG:
        rc = message_args(p, op, t, split_args(line, n, t), true, false);
        break;
    case S_HMSG_ARG:
        rc = message_args(p, op, t, split_args(line, n, t), true, true);
        break;
    case S_SUB_ARG:
        rc = sub_args(op, t, split_args(line, n, t));
        break;
    case S_UNSUB_ARG:
        rc = unsub_args(op, t, split_args(line, n, t));
        break;
    case S_MINUS_ERR_ARG:
        op->arg = (struct np_str){line, n};
        break;
    default:
        op->arg = trim_end(line, n);
        break;
    }
    if (rc < 0) return rc;
    if (op->type == NP_OP_PUB || op->type == NP_OP_HPUB || op->type == NP_OP_MSG ||
        op->type == NP_OP_HMSG) {
        p->state = S_PAYLOAD;
        p->msgbuf_len = 0;
        return STEP_MORE;
    }
    p->state = S_START;
    return STEP_OP;
}

/*
 * The limit counts argument bytes without the line end. A CR that ends what has arrived may be the
 * one before the LF, so it is not counted yet; nats-server also counts from the first argument byte.
 */
static int
check_line_limit(const struct np_parser *p, const char *src, size_t chunk)
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

/* Scratch grows geometrically: a line fed a byte at a time must not cost a realloc per byte. */
static int
scratch_append(struct np_parser *p, const char *src, size_t n)
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

/* Consumes an argument line up to its LF, or all of the buffer into scratch when the LF is missing. */
static int
arg_line(struct np_parser *p, const char *buf, size_t len, size_t *pos, struct np_op *op)
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

/* Takes the payload in one jump when it is all here, else gathers it in msgbuf (sized once). */
static int
payload(struct np_parser *p, const char *buf, size_t len, size_t *pos, struct np_op *op)
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
payload_end(struct np_parser *p, const char *buf, size_t *pos)
{
    char want = p->state == S_END_R ? '\r' : '\n';
    if (buf[(*pos)++] != want) return NP_EPAYLOAD_END;
    if (p->state == S_END_R) {
        p->state = S_END_N;
        return STEP_MORE;
    }
    p->state = S_START;
    return STEP_OP;
}

static void
rebase(struct np_str *v, const char *from, const char *to)
{
    if (v->len > 0) v->ptr = to + (v->ptr - from);
}

/*
 * Moves the argument line of a message into scratch. The subject is its first token and the size
 * its last, so that span holds every view.
 */
static int
keep_line(struct np_parser *p, struct np_op *op)
{
    const char *from = op->subject.ptr;
    size_t n = (size_t)(op->size.ptr + op->size.len - from);
    int rc = reserve(&p->scratch, &p->scratch_cap, n);
    if (rc < 0) return rc;
    memcpy(p->scratch, from, n);
    p->scratch_len = n;
    p->arg_in_scratch = true;
    rebase(&op->subject, from, p->scratch);
    rebase(&op->reply, from, p->scratch);
    rebase(&op->sid, from, p->scratch);
    rebase(&op->size, from, p->scratch);
    return 0;
}

/* Moves a complete payload still waiting for its CRLF into msgbuf. */
static int
keep_payload(struct np_parser *p, struct np_op *op)
{
    size_t size = op->payload.len;
    int rc = reserve(&p->msgbuf, &p->msgbuf_cap, size + 2);
    if (rc < 0) return rc;
    if (size > 0) memcpy(p->msgbuf, op->payload.ptr, size);
    p->msgbuf_len = size;
    op->payload.ptr = p->msgbuf;
    return 0;
}

/* At the end of a buffer: saves a message that is still arriving, as the buffer may be reused. */
static int
park(struct np_parser *p, struct np_op *op)
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
step(struct np_parser *p, const char *buf, size_t len, size_t *pos, struct np_op *op)
{
    switch (p->state) {
    case S_PUB_SPC:
    case S_HPUB_SPC:
    case S_HMSG_SPC:
    case S_SUB_SPC:
    case S_UNSUB_SPC:
    case S_MSG_SPC:
    case S_CONNECT:
    case S_INFO:
    case S_MINUS_ERR_SPC:
        skip_blanks(p, buf, pos);
        return STEP_MORE;
    case S_PUB_ARG:
    case S_HPUB_ARG:
    case S_HMSG_ARG:
    case S_SUB_ARG:
    case S_UNSUB_ARG:
    case S_MSG_ARG:
    case S_CONNECT_ARG:
    case S_INFO_ARG:
    case S_MINUS_ERR_ARG:
        return arg_line(p, buf, len, pos, op);
    case S_PING:
    case S_PONG:
    case S_PLUS_OK:
        return skip_line(p, buf, len, pos, op);
    case S_PAYLOAD:
        return payload(p, buf, len, pos, op);
    case S_END_R:
    case S_END_N:
        return payload_end(p, buf, pos);
    default:
        break;
    }
    int next = verb_next(p, (unsigned char)buf[(*pos)++]);
    if (next < 0) return NP_EUNKNOWN_OP;
    p->state = next;
    return STEP_MORE;
}

static ssize_t
fail(struct np_parser *p, struct np_op *op, int err)
{
    *op = no_op;
    p->state = err;
    return err;
}

void
np_parser_init(struct np_parser *p, enum np_mode mode, uint32_t max_control_line,
               uint32_t max_payload)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->state = S_START;
    p->max_control_line = max_control_line;
    p->max_payload = max_payload;
}

void
np_parser_release(struct np_parser *p)
{
    free(p->scratch);
    free(p->msgbuf);
    memset(p, 0, sizeof *p);
}

void
np_parser_set_max_payload(struct np_parser *p, uint32_t max_payload)
{
    p->max_payload = max_payload;
}

/*
 * Returns after at most one operation so that its views stay valid while the caller acts on it;
 * see np.h for the contract.
 */
ssize_t
np_parse(struct np_parser *p, const char *buf, size_t len, struct np_op *op)
{
    if (!p || !op || (!buf && len > 0)) return NP_EINVAL;
    if (p->state < 0) return fail(p, op, p->state);
    if (in_payload(p->state))
        *op = p->pending;
    else
        *op = no_op;
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
