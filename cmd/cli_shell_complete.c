/*
 * Tab in the shell: command names, meta commands, flags and their values from the command table,
 * stream names from the last answer of the server (cli_names), background ids after unsub, and
 * subjects token by token from the subject tree.
 */
#include "cli_shell.h"

#include <stdlib.h>
#include <string.h>

static const char *const meta_names[] = {":subs",    ":unsub",    ":set",  ":connect",
                                         ":sniff",   ":subjects", ":top",  ":stats",
                                         ":history", ":help",     ":quit", NULL};
static const char *const set_names[] = {"raw", "pretty", "json", "timestamps", NULL};
static const char *const on_off[] = {"on", "off", NULL};

struct comp {
    struct cli_cands *c;
    const char *word;
};

static void
offer(struct comp *k, const char *cand)
{
    if (strncmp(cand, k->word, strlen(k->word)) == 0) cli_cands_add(k->c, cand);
}

static void
offer_name(void *ud, const char *name)
{
    offer(ud, name);
}

static void
offer_list(struct comp *k, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        offer(k, list[i]);
}

static void
complete_command_names(struct comp *k)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (!(c->flags & CLI_HIDDEN) && !strchr(c->name, ' ') && c->fn != cmd_shell)
            offer(k, c->name);
    }
    for (size_t i = 0; i < cli_naliases; i++)
        offer(k, cli_aliases[i].alias);
    offer(k, "unsub");
    offer_list(k, meta_names);
}

static const struct cli_opt *
option_row(const struct cli_cmd *cmd, const char *word)
{
    for (const struct cli_opt *o = cmd->opts; o && o->id && word[0] == '-'; o++) {
        if (word[1] == '-' && o->long_name && strcmp(word + 2, o->long_name) == 0) return o;
        if (word[1] != '-' && o->short_name && strcmp(word + 1, o->short_name) == 0) return o;
    }
    return NULL;
}

static void
complete_options(struct comp *k, const struct cli_cmd *cmd)
{
    char flag[80];
    for (const struct cli_opt *o = cmd->opts; o && o->id; o++) {
        if (o->long_name) {
            snprintf(flag, sizeof flag, "--%s", o->long_name);
            offer(k, flag);
        }
    }
}

/* Whether a command's first argument names an existing stream (its synopsis says so). */
static bool
takes_stream(const struct cli_cmd *cmd)
{
    return strncmp(cmd->usage, "STREAM", 6) == 0 ||
           (strncmp(cmd->name, "stream ", 7) == 0 && strncmp(cmd->usage, "NAME", 4) == 0 &&
            strcmp(cmd->name, "stream add") != 0);
}

/* Arguments of a command: its enum values, a following option's values, stream names, subjects. */
static void
complete_args(struct shell *sh, struct comp *k, const struct cli_cmd *cmd, char **words, int n,
              int used)
{
    const struct cli_opt *prev = n > used ? option_row(cmd, words[n - 1]) : NULL;
    if (prev && prev->long_name && strcmp(prev->long_name, "stream") == 0) {
        cli_names_complete(&sh->streams, k->word, offer_name, k);
        return;
    }
    if (prev && prev->arg_name) {
        offer_list(k, prev->values);
        return;
    }
    if (n == used && takes_stream(cmd)) {
        cli_names_complete(&sh->streams, k->word, offer_name, k);
        return;
    }
    if (k->word[0] == '-') {
        complete_options(k, cmd);
        return;
    }
    if (n == used && cmd->args) {
        offer_list(k, cmd->args);
        return;
    }
    cli_sniff_complete(&sh->sniff, k->word, offer_name, k);
}

static void
complete_meta(struct shell *sh, struct comp *k, char **words, int n)
{
    if (strcmp(words[0], ":set") == 0) {
        offer_list(k, n == 1 ? set_names : on_off);
    } else if (strcmp(words[0], ":help") == 0) {
        complete_command_names(k);
    } else if (strcmp(words[0], ":unsub") == 0 || strcmp(words[0], "unsub") == 0) {
        for (struct job *j = sh->jobs; j; j = j->next) {
            char id[16];
            snprintf(id, sizeof id, "%d", j->id);
            offer(k, id);
        }
    } else if (strcmp(words[0], ":sniff") == 0 || strcmp(words[0], ":subjects") == 0) {
        cli_sniff_complete(&sh->sniff, k->word, offer_name, k);
    }
}

void
cli_shell_complete(void *ud, const char *line, size_t word, struct cli_cands *c)
{
    struct shell *sh = ud;
    struct comp k = {.c = c, .word = line + word};
    char *before = strndup(line, word);
    const char *text = before;
    struct cli_words w = {0};
    if (!before) return;
    /* Only the last command of the line matters: skip those before a ';'. */
    while (cli_words_next(&text, &w) == CLI_WORDS_CMD && *text) {
    }
    long long times;
    int skip = cli_shell_repeat_prefix(&w, 0, &times);
    char **words = w.v ? w.v + skip : NULL;
    int n = w.n - skip, used;
    if (n <= 0) {
        complete_command_names(&k);
    } else if (words[0][0] == ':' || strcmp(words[0], "unsub") == 0) {
        complete_meta(sh, &k, words, n);
    } else {
        const struct cli_cmd *cmd = cli_cmd_lookup(words, n, &used);
        if (cmd && !(cmd->flags & CLI_HIDDEN)) complete_args(sh, &k, cmd, words, n, used);
    }
    cli_words_free(&w);
    free(before);
}
