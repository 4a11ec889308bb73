/*
 * The subjects the shell has seen: a tree with one node per token, counting messages, their rate
 * and the size of the last one, for `:subjects`, `:top` and subject completion token by token.
 *
 * Memory is bounded: past max_nodes new subjects are not added (their messages are counted in
 * `untracked`), so a firehose of unique subjects cannot grow the shell without limit.
 */
#ifndef CLI_SNIFF_H
#define CLI_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cli_sniff_node {
    char *token;
    struct cli_sniff_node *kids, *next; /* children sorted by token */
    uint64_t msgs;                      /* messages on exactly this subject */
    uint64_t last_size;                 /* body size of the last one */
    uint64_t prev_msgs;                 /* msgs at the last tick */
    double rate;                        /* msgs/s between the last two ticks */
    bool subject;                       /* a subject seen, not only a prefix of others */
};

struct cli_sniff {
    struct cli_sniff_node root;
    size_t nodes, max_nodes;
    uint64_t untracked; /* messages on subjects left out for max_nodes */
    uint64_t last_tick_ms;
};

void cli_sniff_init(struct cli_sniff *s, size_t max_nodes);
void cli_sniff_release(struct cli_sniff *s);
/* Counts one message of size bytes on subject[0..len). */
void cli_sniff_add(struct cli_sniff *s, const char *subject, size_t len, uint64_t size);
/* Records a subject for completion without counting a message (one the user published). */
void cli_sniff_note(struct cli_sniff *s, const char *subject);
/* Updates the rates; call about once a second with a monotonic time in ms. */
void cli_sniff_tick(struct cli_sniff *s, uint64_t now_ms);
/*
 * Prints the tree of the subjects that match filter (NULL or "" for all): each token indented
 * under its parent with the messages below it, their rate and, for a subject, the last size.
 * Returns the number of lines printed.
 */
int cli_sniff_print(const struct cli_sniff *s, const char *filter, FILE *f);
/* Prints the n subjects with the most messages per second (then the most messages). */
void cli_sniff_top(const struct cli_sniff *s, size_t n, FILE *f);
/*
 * Calls add(ud, candidate) for each completion of the subject prefix `word`: the word up to its
 * last '.', plus a known next token, with a '.' after a token that has tokens below it.
 */
void cli_sniff_complete(const struct cli_sniff *s, const char *word,
                        void (*add)(void *ud, const char *candidate), void *ud);

#endif
