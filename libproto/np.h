/*
 * libproto: the NATS client protocol without I/O.
 *
 * Everything here works on caller memory and has no globals, so every function can be unit-tested and
 * fuzzed. Strings that come from the wire are (pointer, length) views: they are not NUL-terminated and
 * are only valid as long as the buffer they point into.
 *
 * Errors: functions return 0 (or a count) on success and a negative NP_E* code on failure.
 */
#ifndef NP_H
#define NP_H

#include "np_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Error codes, one list drives the enum, np_strerror() and np_errname(). */
#define NP_ERR_MAP(X)                                                                              \
    X(UNKNOWN_OP, "unknown protocol operation")                                                    \
    X(CONTROL_LINE, "maximum control line exceeded")                                               \
    X(PAYLOAD, "maximum payload exceeded")                                                         \
    X(ARGS, "wrong number of arguments")                                                           \
    X(SIZE, "bad or missing size")                                                                 \
    X(HDR_SIZE, "header size larger than total size")                                              \
    X(PAYLOAD_END, "payload not followed by CRLF")                                                 \
    X(SUBJECT, "invalid subject")                                                                  \
    X(HEADER, "malformed header block")                                                            \
    X(JSON, "malformed JSON")                                                                      \
    X(NOSPACE, "buffer too small")                                                                 \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid argument")                                                                   \
    X(URL, "malformed server URL")                                                                 \
    X(URL_SCHEME, "unsupported URL scheme: only nats:// is supported")                             \
    X(URL_HOST, "server URL without a valid host")                                                 \
    X(URL_PORT, "port is not a number")                                                            \
    X(URL_PORT_RANGE, "port out of range (1-65535)")                                               \
    X(URL_ESCAPE, "bad %-escape in the URL's user or password")                                    \
    X(URL_PATH, "a server URL takes no path")                                                      \
    X(URL_ROUTE_SCHEME, "unsupported URL scheme: a route URL is nats:// or nats-route://")         \
    X(URL_ROUTE_PORT, "a route URL needs a port")                                                  \
    X(SIZE_SUFFIX, "not a size such as 512, 64KB or 1MiB")                                         \
    X(DURATION, "not a duration such as 500ms, 1m30s or 2h")                                       \
    X(RANGE, "value out of range")

enum np_err {
    NP_OK = 0,
#define NP__ERR_ENUM(name, text) NP_E##name,
    NP__ERR_FIRST = -1000, /* clear of negated errno values, which libuv codes are */
    NP_ERR_MAP(NP__ERR_ENUM)
#undef NP__ERR_ENUM
        NP__ERR_END, /* one past the last code */
};

/*
 * Returns a static lowercase description of an NP_E* code ("unknown error" otherwise). Only the
 * core's codes: the client connection has np_client_strerror(), which also knows libuv's.
 */
const char *np_strerror(int err);
/* Returns the static name of an NP_E* code, e.g. "NP_EPAYLOAD". */
const char *np_errname(int err);

/* True for the NP_EURL* codes: the text given as a server URL is at fault. */
bool np_err_is_url(int err);

/* ---------------------------------------------------------------------------------------------- */
/* Shared constants: one definition for the broker, the client and the CLI                          */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The nats-server release whose behaviour natsctl reproduces, and which the broker advertises in
 * INFO "version": clients pick features by that number, so it names the reference, not natsctl.
 */
#define NP_SERVER_VERSION     "2.9.10"
#define NP_DEFAULT_PORT       4222
#define NP_DEFAULT_URL        "nats://127.0.0.1:4222"
#define NP_DEFAULT_TIMEOUT_MS 5000

/* A borrowed view of bytes; ptr may be NULL when len is 0. */
struct np_str {
    const char *ptr;
    size_t len;
};

#define NP_STR_LIT(s) ((struct np_str){(s), sizeof(s) - 1})
/* Returns true when the view equals the NUL-terminated string s. */
bool np_str_eq(struct np_str a, const char *s);

/* ---------------------------------------------------------------------------------------------- */
/* Parser                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

#define NP_MAX_CONTROL_LINE 4096
#define NP_MAX_PAYLOAD      (1024 * 1024)

/* Which side of the connection the parser reads for. */
enum np_mode {
    NP_MODE_SERVER, /* the broker reading a client: CONNECT PUB HPUB SUB UNSUB PING PONG INFO +OK -ERR */
    NP_MODE_CLIENT, /* a client reading a server: INFO MSG HMSG PING PONG +OK -ERR */
};

enum np_op_type {
    NP_OP_NONE = 0, /* no complete operation yet */
    NP_OP_INFO,
    NP_OP_CONNECT,
    NP_OP_PUB,
    NP_OP_HPUB,
    NP_OP_SUB,
    NP_OP_UNSUB,
    NP_OP_MSG,
    NP_OP_HMSG,
    NP_OP_PING,
    NP_OP_PONG,
    NP_OP_OK,
    NP_OP_ERR,
};

/*
 * One complete operation. Fields not used by an operation are zero. All views point into the buffer
 * given to np_parse() or into the parser's own buffers, and are valid until the next np_parse() call
 * on the same parser.
 */
struct np_op {
    enum np_op_type type;
    struct np_str subject; /* PUB HPUB SUB MSG HMSG */
    struct np_str reply;   /* PUB HPUB MSG HMSG; len 0 when absent */
    struct np_str sid;     /* SUB UNSUB MSG HMSG */
    struct np_str queue;   /* SUB; len 0 when absent */
    struct np_str arg;     /* INFO/CONNECT: the JSON; -ERR: the text after "-ERR " as sent */
    struct np_str size;    /* PUB HPUB MSG HMSG: the total size field as sent (echoed in MSG) */
    struct np_str payload; /* PUB HPUB MSG HMSG: header block + body, without the final CRLF */
    size_t hdr_len;        /* HPUB HMSG: bytes of payload that are the header block */
    int64_t max_msgs;      /* UNSUB: -1 when absent, 0 when present but not a valid number */
};

/*
 * Parser state. Caller-allocated; the fields are private. Initialise with np_parser_init() and free
 * the internal buffers with np_parser_release().
 */
struct np_parser {
    /* private */
    enum np_mode mode;
    int state;                 /* parse state, or the NP_E* code that killed the parser (< 0) */
    uint32_t max_control_line; /* 0 = unlimited */
    uint32_t max_payload;      /* 0 = unlimited */
    bool arg_in_scratch;       /* the current argument line is held in scratch */
    char *scratch;             /* argument line kept across reads (grows on demand) */
    size_t scratch_len, scratch_cap;
    char *msgbuf; /* payload kept across reads (reused, grows on demand) */
    size_t msgbuf_len, msgbuf_cap;
    struct np_op pending; /* the operation whose payload spans reads, views in scratch/msgbuf */
};

/* Initialises p. A limit of 0 disables it. Never fails. */
void np_parser_init(struct np_parser *p, enum np_mode mode, uint32_t max_control_line,
                    uint32_t max_payload);
/* Frees the parser's internal buffers; p may be initialised again afterwards. */
void np_parser_release(struct np_parser *p);
/* Changes the payload limit (a server learns it from INFO only after the parser exists). */
void np_parser_set_max_payload(struct np_parser *p, uint32_t max_payload);

/*
 * Parses bytes from buf[0..len). Returns the number of bytes consumed (0..len) and fills *op.
 *
 * If op->type != NP_OP_NONE on return, one complete operation was found and the caller should act on
 * it and call np_parse() again with the rest of the buffer (buf + consumed). If op->type ==
 * NP_OP_NONE, the whole buffer was consumed and the partial operation was saved inside the parser,
 * so the buffer may be reused.
 *
 * On a protocol error returns a negative NP_E* code; the parser must then be released. Limits are
 * enforced before anything is buffered: a control line longer than max_control_line fails with
 * NP_ECONTROL_LINE even when its end has not arrived, a size over max_payload fails with NP_EPAYLOAD
 * before the payload is read.
 */
ssize_t np_parse(struct np_parser *p, const char *buf, size_t len, struct np_op *op);

/* ---------------------------------------------------------------------------------------------- */
/* Subjects                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/*
 * Returns true when s is a valid subscription subject: non-empty tokens separated by '.', no blank
 * bytes (space, TAB, CR, LF, FF), '*' and '>' allowed as whole tokens, '>' only as the last token.
 */
bool np_subject_valid(const char *s, size_t len);
/* Returns true when s is a valid subject with no wildcard token (what pedantic publish requires). */
bool np_subject_valid_literal(const char *s, size_t len);
/* Returns true when the (valid) subject has a '*' or '>' token. */
bool np_subject_has_wildcard(const char *s, size_t len);
/*
 * Returns true when the literal subject matches the pattern (which may hold '*' and '>' tokens),
 * following NATS rules: '*' is one token, '>' one or more trailing tokens.
 */
bool np_subject_match(const char *pattern, size_t plen, const char *subject, size_t slen);
/*
 * Returns true when some literal subject matches both patterns (either may hold wildcards): how
 * JetStream tells that two streams would capture the same messages.
 */
bool np_subject_intersect(const char *a, size_t alen, const char *b, size_t blen);
/*
 * Returns true when every subject that matches sub (which may hold wildcards) also matches
 * pattern: a subscription on sub can receive nothing that pattern does not allow. False for an
 * invalid subject on either side.
 */
bool np_subject_subset(const char *sub, size_t slen, const char *pattern, size_t plen);
/*
 * Splits s into at most max tokens. Returns the token count, or NP_ENOSPACE when s has more than
 * max tokens, or NP_ESUBJECT when a token is empty.
 */
int np_subject_tokens(const char *s, size_t len, struct np_str *tokens, size_t max);

/* ---------------------------------------------------------------------------------------------- */
/* Encoders: write into dst[0..cap) and return the length the complete output needs (like          */
/* snprintf, without a NUL). Nothing is written past cap; output is complete only if the return    */
/* value is <= cap.                                                                                 */
/* ---------------------------------------------------------------------------------------------- */

size_t np_enc_pub(char *dst, size_t cap, struct np_str subject, struct np_str reply, size_t size);
size_t np_enc_hpub(char *dst, size_t cap, struct np_str subject, struct np_str reply,
                   size_t hdr_len, size_t total);
size_t np_enc_sub(char *dst, size_t cap, struct np_str subject, struct np_str queue,
                  struct np_str sid);
/* max < 0 means no max argument. */
size_t np_enc_unsub(char *dst, size_t cap, struct np_str sid, int64_t max);
/* The MSG/HMSG control line only (payload and its CRLF follow). */
size_t np_enc_msg(char *dst, size_t cap, struct np_str subject, struct np_str sid,
                  struct np_str reply, size_t size);
size_t np_enc_hmsg(char *dst, size_t cap, struct np_str subject, struct np_str sid,
                   struct np_str reply, size_t hdr_len, size_t total);
/* A message on a route (spec 5.5): RMSG, or HMSG when hdr_len is not 0. */
struct np_rmsg_line {
    struct np_str account, subject, reply;
    const struct np_str *queues; /* the queue groups the receiving server delivers to */
    size_t nqueues;
    size_t hdr_len; /* 0: no header block */
    size_t total;   /* header block + body */
};
/*
 * "RMSG <account> <subject> [reply] <size>\r\n", with queues "... + <reply> <q>... <size>" or
 * "... | <q>... <size>"; HMSG carries "<hdr_len> <total>" instead of the size.
 */
size_t np_enc_rmsg(char *dst, size_t cap, const struct np_rmsg_line *m);
/* Interest on a route (spec 5.4). */
struct np_rsub_line {
    struct np_str account, subject;
    struct np_str queue; /* len 0: plain interest */
    uint32_t weight;     /* RS+ of a queue group: its local members */
};
/* "RS+ <account> <subject>\r\n", or "RS+ <account> <subject> <queue> <weight>\r\n". */
size_t np_enc_rsub(char *dst, size_t cap, const struct np_rsub_line *l);
/* "RS- <account> <subject>[ <queue>]\r\n" (the weight is not sent). */
size_t np_enc_runsub(char *dst, size_t cap, const struct np_rsub_line *l);
/* "INFO <json> \r\n" with the trailing space nats-server sends. */
size_t np_enc_info(char *dst, size_t cap, struct np_str json);
/* "CONNECT <json>\r\n". */
size_t np_enc_connect(char *dst, size_t cap, struct np_str json);
/* "-ERR '<text>'\r\n". */
size_t np_enc_err(char *dst, size_t cap, struct np_str text);
/*
 * s between double quotes as Go's %q writes it (nats-server quotes subjects in errors and logs
 * that way): '"' and '\\' escaped, control bytes and invalid UTF-8 as \xNN, \a \b \t \n \v \f \r
 * by name, and non-printing code points as \uNNNN or \UNNNNNNNN.
 */
size_t np_enc_quoted(char *dst, size_t cap, struct np_str s);
/* v in decimal at dst, which has room for NP_U64_DIGITS; returns the length. */
#define NP_U64_DIGITS 20
size_t np_enc_u64(char *dst, uint64_t v);

#define NP_PING    "PING\r\n"
#define NP_PONG    "PONG\r\n"
#define NP_OK_LINE "+OK\r\n"

/* ---------------------------------------------------------------------------------------------- */
/* Header blocks: "NATS/1.0[ <code>[ <description>]]\r\n" + "Key: value\r\n"... + "\r\n"        */
/* ---------------------------------------------------------------------------------------------- */

#define NP_HDR_LINE             "NATS/1.0"
#define NP_HDR_MIN_LEN          12 /* "NATS/1.0\r\n\r\n" */
#define NP_STATUS_NO_RESPONDERS 503

/* A parsed header block: status and an iterator over its fields. */
struct np_hdr {
    int status;                /* 0 when the status line has no code */
    struct np_str description; /* len 0 when absent */
    const char *fields;        /* private: first field line */
    const char *end;           /* private: end of the block (after the blank line) */
};

/*
 * Parses a header block of exactly len bytes (the hdr_len of an HPUB/HMSG). Returns 0 or
 * NP_EHEADER. The views point into buf.
 */
int np_hdr_parse(struct np_hdr *h, const char *buf, size_t len);
/*
 * Iterates fields: *pos starts at 0 (opaque cursor). Returns 1 and sets key/value (value with
 * surrounding blanks trimmed) for each field, 0 at the end, NP_EHEADER on a malformed line.
 */
int np_hdr_next(const struct np_hdr *h, size_t *pos, struct np_str *key, struct np_str *value);
/* Finds the first field whose key equals name exactly (case kept, as NATS does). Returns true if found. */
bool np_hdr_get(const struct np_hdr *h, const char *name, struct np_str *value);

/* A growing header-block builder (heap memory, for clients; the broker never builds headers). */
struct np_hdr_builder {
    struct np_buf buf;
    int err; /* first error, sticky */
};

/* Starts a block; status 0 writes a bare "NATS/1.0" line. description may be NULL. */
void np_hdr_builder_init(struct np_hdr_builder *b, int status, const char *description);
/* Adds one field; keys must not contain ':' or blanks, neither may contain CR or LF (NP_EHEADER). */
void np_hdr_builder_add(struct np_hdr_builder *b, struct np_str key, struct np_str value);
/* Terminates the block. Returns 0 and sets *out to the bytes (owned by b), or the sticky error. */
int np_hdr_builder_finish(struct np_hdr_builder *b, struct np_str *out);
void np_hdr_builder_release(struct np_hdr_builder *b);

/* ---------------------------------------------------------------------------------------------- */
/* INFO and CONNECT JSON (cJSON inside)                                                            */
/* ---------------------------------------------------------------------------------------------- */

/*
 * Server INFO, to a client or (proto 2) to a route peer, as in nats-server where one struct serves
 * both. Strings are owned by the struct after np_info_parse(); np_info_release() frees them.
 */
struct np_info {
    char *server_id;
    char *server_name;
    char *version;
    int proto;
    char *go;
    char *host;
    int port;
    bool headers;
    bool auth_required;
    bool tls_required;
    bool tls_verify;    /* the server wants a client certificate */
    bool tls_available; /* TLS offered but not required (allow_non_tls) */
    int64_t max_payload;
    bool jetstream;
    /* routes: a natsctl server with streams. Not "jetstream", which would make a nats-server peer
     * count it in its JetStream meta group; nats-server ignores keys it does not know. */
    bool natsctl_streams;
    char *ip;           /* routes: "nats-route://host:port/" to dial this server; NULL = omitted */
    uint64_t client_id; /* 0 = omitted */
    char *client_ip;    /* NULL = omitted */
    char *nonce;        /* NULL = omitted */
    char *cluster;      /* NULL = omitted */
    bool cluster_dynamic; /* routes: the cluster name was generated, not configured */
    char **connect_urls;  /* NULL = omitted; host:port strings */
    size_t n_connect_urls;
    bool ldm;
    bool lnoc;     /* routes: understands leafnode-origin interest (LS+/LS-/LMSG) */
    char *gateway; /* routes: set only in INFOs about gateways, which natsctl ignores */
};

/* Parses INFO JSON into a zeroed struct. Returns 0 or NP_EJSON (the struct is then released). */
int np_info_parse(struct np_info *info, const char *json, size_t len);
/*
 * Encodes INFO JSON in nats-server 2.9.10's key order, compact, omitting what nats-server omits when
 * empty. Returns a malloc'd NUL-terminated string, or NULL on allocation failure.
 */
char *np_info_encode(const struct np_info *info);
void np_info_release(struct np_info *info);
/*
 * The INFO a server forwards to its other routes about a peer that just joined (spec 5.3): the
 * peer's own INFO json with "nonce" removed and, when the peer gave none, "ip" set to ip. Returns
 * a malloc'd string, or NULL when json is not an object or memory is short.
 */
char *np_info_gossip(const char *json, size_t len, const char *ip);

/* Client CONNECT options. np_connect_init() sets nats-server's defaults for missing keys. */
struct np_connect {
    bool verbose;  /* default true */
    bool pedantic; /* default true */
    bool echo;     /* default true */
    bool tls_required;
    bool headers;
    bool no_responders;
    int protocol;     /* default 0 */
    bool has_account; /* a non-empty "account" or "new_account":true (legacy, refused) */
    char *name, *lang, *version;
    char *user, *pass, *auth_token;
    char *nkey; /* a public nkey, proven by sig */
    char *jwt;  /* a user JWT (operator mode), proven by sig */
    char *sig;  /* the nonce of INFO signed with the key's seed, raw URL base64 */
    /* A route's CONNECT (spec 5.1): name is then the server id */
    char *cluster, *gateway;
    bool cluster_dynamic, lnoc;
};

void np_connect_init(struct np_connect *c);
/* Parses CONNECT JSON over the defaults. Returns 0 or NP_EJSON. */
int np_connect_parse(struct np_connect *c, const char *json, size_t len);
/* Encodes the fields a client sends. Returns a malloc'd string or NULL. */
char *np_connect_encode(const struct np_connect *c);
/*
 * Encodes a route's CONNECT with the fields and order nats-server's route CONNECT has (no lang,
 * which marks a client). Returns a malloc'd string or NULL.
 */
char *np_connect_encode_route(const struct np_connect *c);
void np_connect_release(struct np_connect *c);

#endif
