/*
 * The route protocol between the servers of a cluster (spec 5), without I/O: a parser for what a
 * peer server sends on a route. The encoders of route lines (RS+, RS-, RMSG) are in np.h with
 * the others, and route INFO and CONNECT are struct np_info and struct np_connect.
 */
#ifndef NP_ROUTE_H
#define NP_ROUTE_H

#include "np.h"

enum np_rop_type {
    NP_ROP_NONE = 0, /* no complete operation yet */
    NP_ROP_INFO,
    NP_ROP_CONNECT,
    NP_ROP_PING,
    NP_ROP_PONG,
    NP_ROP_OK,
    NP_ROP_ERR,
    NP_ROP_RSUB,   /* RS+ account subject [queue weight] */
    NP_ROP_RUNSUB, /* RS- account subject [queue] */
    NP_ROP_RMSG,   /* RMSG account subject [reply | + reply queue... | "|" queue...] size */
    NP_ROP_HMSG,   /* HMSG like RMSG, with the header size before the total */
    /* Leafnode-origin and gateway interest: only sent to peers that asked, parsed to be ignored */
    NP_ROP_LSUB,
    NP_ROP_LUNSUB,
    NP_ROP_LMSG,
    NP_ROP_ASUB,
    NP_ROP_AUNSUB,
};

/*
 * One complete operation. Fields an operation does not use are zero. Views point into the buffer
 * given to np_rparse() or into the parser's own buffers, and are valid until the next call.
 */
struct np_rop {
    enum np_rop_type type;
    struct np_str arg;     /* the arguments as sent: INFO/CONNECT JSON, -ERR text, for traces */
    struct np_str origin;  /* LMSG: the origin cluster */
    struct np_str account; /* RS+ RS- RMSG HMSG LMSG */
    struct np_str subject; /* RS+ RS- RMSG HMSG LMSG */
    struct np_str reply;   /* RMSG HMSG LMSG; len 0 when absent */
    struct np_str queue;   /* RS+ RS-: the queue group, len 0 for plain interest */
    struct np_str queues;  /* RMSG HMSG LMSG: the queue names as sent (np_rop_next_queue) */
    uint32_t weight;       /* RS+ with a queue: how many members the peer has */
    struct np_str size;    /* RMSG HMSG LMSG: the total size field as sent */
    struct np_str payload; /* RMSG HMSG LMSG: header block + body, without the final CRLF */
    size_t hdr_len;        /* HMSG LMSG: bytes of payload that are the header block */
};

/* Parser state: caller-allocated, fields private. */
struct np_rparser {
    int state;  /* parse state, or the NP_E* code that killed the parser (< 0) */
    uint8_t op; /* the np_rop_type whose verb has been read */
    uint32_t max_control_line, max_payload; /* 0 = unlimited */
    bool arg_in_scratch;
    char *scratch; /* argument line kept across reads */
    size_t scratch_len, scratch_cap;
    char *msgbuf; /* payload kept across reads */
    size_t msgbuf_len, msgbuf_cap;
    struct np_rop pending; /* the message whose payload spans reads, views in scratch/msgbuf */
};

/*
 * Initialises p. nats-server puts no limit on what a route sends; a limit of 0 does the same, but
 * a broker should bound both, since the bytes come from the network.
 */
void np_rparser_init(struct np_rparser *p, uint32_t max_control_line, uint32_t max_payload);
/* Frees the parser's buffers; p may be initialised again afterwards. */
void np_rparser_release(struct np_rparser *p);

/*
 * Parses buf[0..len) with np_parse()'s contract (np.h): returns the bytes consumed and at most one
 * complete operation in *op (NP_ROP_NONE when the buffer ended first and the partial operation
 * was kept), or a negative NP_E* code after which the parser must be released. Verbs are matched
 * without regard to case; arguments are separated by runs of spaces, tabs or CRs.
 */
ssize_t np_rparse(struct np_rparser *p, const char *buf, size_t len, struct np_rop *op);

/*
 * Iterates the queue names of an RMSG/HMSG/LMSG: *pos starts at 0. Returns true and sets *name
 * for each, false after the last.
 */
bool np_rop_next_queue(const struct np_rop *op, size_t *pos, struct np_str *name);

#endif
