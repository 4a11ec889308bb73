/*
 * The command table: the one list that dispatch, help and completion read. Keep it sorted by name.
 */
#include "cli.h"

#include <string.h>

extern const struct cli_opt cmd_server_opts[];
extern const char cmd_server_details[];
extern const char cmd_completion_details[];
extern const struct cli_opt cmd_bench_opts[];
extern const char cmd_bench_details[];
extern const char *const cmd_bench_modes[];
extern const struct cli_opt cmd_pub_opts[];
extern const char cmd_pub_details[];
extern const struct cli_opt cmd_reply_opts[];
extern const char cmd_reply_details[];
extern const struct cli_opt cmd_request_opts[];
extern const char cmd_request_details[];
extern const struct cli_opt cmd_shell_opts[];
extern const char cmd_shell_details[];
extern const struct cli_opt cmd_sub_opts[];
extern const char cmd_sub_details[];
extern const struct cli_opt cmd_context_opts[];
extern const char cmd_context_details[];
extern const char *const cmd_context_subcommands[];
extern const struct cli_opt cmd_rtt_opts[];
extern const char cmd_rtt_details[];
extern const struct cli_opt cmd_check_opts[];
extern const char cmd_check_details[];
extern const char *const cmd_check_kinds[];
extern const char cmd_stream_details[];
extern const char *const cmd_stream_subcommands[];
#define STREAM_SUB(sub)                                                                            \
    extern const struct cli_opt cmd_stream_##sub##_opts[];                                         \
    extern const char cmd_stream_##sub##_details[];
STREAM_SUB(add)
STREAM_SUB(edit)
STREAM_SUB(get)
STREAM_SUB(info)
STREAM_SUB(ls)
STREAM_SUB(purge)
STREAM_SUB(report)
STREAM_SUB(rm)
STREAM_SUB(view)
extern const char cmd_consumer_details[];
extern const char *const cmd_consumer_subcommands[];
#define CONSUMER_SUB(sub)                                                                          \
    extern const struct cli_opt cmd_consumer_##sub##_opts[];                                       \
    extern const char cmd_consumer_##sub##_details[];
CONSUMER_SUB(add)
CONSUMER_SUB(info)
CONSUMER_SUB(ls)
CONSUMER_SUB(next)
CONSUMER_SUB(rm)
extern const char cmd_kv_details[];
extern const char *const cmd_kv_subcommands[];
#define KV_SUB(sub)                                                                                \
    extern const struct cli_opt cmd_kv_##sub##_opts[];                                             \
    extern const char cmd_kv_##sub##_details[];
KV_SUB(add)
KV_SUB(del)
KV_SUB(get)
KV_SUB(history)
KV_SUB(watch)
KV_SUB(ls)
KV_SUB(put)

static const char *const shells[] = {"bash", "fish", "zsh", NULL};
static const char *const server_words[] = {"check", NULL};

const struct cli_cmd cli_commands[] = {
    {"__complete", cmd_complete, "print completion candidates", "CWORD WORD...", NULL, NULL,
     CLI_HIDDEN, NULL},
    {"__man", cmd_man, "print the man page", "", NULL, NULL, CLI_HIDDEN, NULL},
    {"bench", cmd_bench, "measure throughput and latency",
     "pub|sub|pubsub|request|reply|queue [SUBJECT] [options]", cmd_bench_opts, cmd_bench_details, 0,
     cmd_bench_modes},
    {"completion", cmd_completion, "print a shell completion script", "bash|zsh|fish", NULL,
     cmd_completion_details, 0, shells},
    {"consumer", cmd_consumer, "manage JetStream consumers", "SUBCOMMAND [STREAM [NAME]] [options]",
     NULL, cmd_consumer_details, 0, cmd_consumer_subcommands},
    {"consumer add", cmd_consumer_add, "create a durable consumer", "STREAM NAME [options]",
     cmd_consumer_add_opts, cmd_consumer_add_details, 0, NULL},
    {"consumer info", cmd_consumer_info, "show a consumer's configuration and state",
     "STREAM NAME [options]", cmd_consumer_info_opts, cmd_consumer_info_details, 0, NULL},
    {"consumer ls", cmd_consumer_ls, "list a stream's consumers", "STREAM [options]",
     cmd_consumer_ls_opts, cmd_consumer_ls_details, 0, NULL},
    {"consumer next", cmd_consumer_next, "pull the next messages of a pull consumer",
     "STREAM NAME [options]", cmd_consumer_next_opts, cmd_consumer_next_details, 0, NULL},
    {"consumer rm", cmd_consumer_rm, "delete a consumer", "STREAM NAME [options]",
     cmd_consumer_rm_opts, cmd_consumer_rm_details, 0, NULL},
    {"context", cmd_context, "manage natscli connection contexts",
     "add|ls|select|unselect|show|edit|rm [NAME] [options]", cmd_context_opts, cmd_context_details,
     0, cmd_context_subcommands},
    {"help", cmd_help, "show help for natsctl or one of its commands", "[COMMAND]", NULL, NULL, 0,
     NULL},
    {"kv", cmd_kv, "use JetStream key-value buckets", "SUBCOMMAND [BUCKET [KEY]] [options]", NULL,
     cmd_kv_details, 0, cmd_kv_subcommands},
    {"kv add", cmd_kv_add, "create a key-value bucket", "BUCKET [options]", cmd_kv_add_opts,
     cmd_kv_add_details, 0, NULL},
    {"kv del", cmd_kv_del, "delete a key", "BUCKET KEY [options]", cmd_kv_del_opts,
     cmd_kv_del_details, 0, NULL},
    {"kv get", cmd_kv_get, "print a key's value", "BUCKET KEY [options]", cmd_kv_get_opts,
     cmd_kv_get_details, 0, NULL},
    {"kv history", cmd_kv_history, "print every revision of a key", "BUCKET KEY [options]",
     cmd_kv_history_opts, cmd_kv_history_details, 0, NULL},
    {"kv ls", cmd_kv_ls, "list the key-value buckets", "[options]", cmd_kv_ls_opts,
     cmd_kv_ls_details, 0, NULL},
    {"kv put", cmd_kv_put, "store a value under a key", "BUCKET KEY [VALUE|-] [options]",
     cmd_kv_put_opts, cmd_kv_put_details, 0, NULL},
    {"kv watch", cmd_kv_watch, "print the latest values, then every update",
     "BUCKET [KEY] [options]", cmd_kv_watch_opts, cmd_kv_watch_details, CLI_LONG_RUNNING, NULL},
    {"pub", cmd_pub, "publish messages", "SUBJECT [BODY|-] [options]", cmd_pub_opts,
     cmd_pub_details, 0, NULL},
    {"reply", cmd_reply, "answer requests with an echo, a body or a program's output",
     "SUBJECT [BODY] [options]", cmd_reply_opts, cmd_reply_details, CLI_LONG_RUNNING, NULL},
    {"request", cmd_request, "send a request and print the replies", "SUBJECT [BODY|-] [options]",
     cmd_request_opts, cmd_request_details, 0, NULL},
    {"rtt", cmd_rtt, "measure the round trip time to each server", "[ITERATIONS] [options]",
     cmd_rtt_opts, cmd_rtt_details, 0, NULL},
    {"server", cmd_server, "run a NATS broker in the foreground", "[options]", cmd_server_opts,
     cmd_server_details, CLI_LONG_RUNNING, server_words},
    {"server check", cmd_server_check, "check a server for a monitoring system (Nagios codes)",
     "connection [options]", cmd_check_opts, cmd_check_details, CLI_OWN_EXITS, cmd_check_kinds},
    {"shell", cmd_shell, "explore subjects and run commands interactively",
     "[-c 'CMD; ...'] [options]", cmd_shell_opts, cmd_shell_details, 0, NULL},
    {"stream", cmd_stream, "manage JetStream streams", "SUBCOMMAND [NAME] [options]", NULL,
     cmd_stream_details, 0, cmd_stream_subcommands},
    {"stream add", cmd_stream_add, "create a stream", "NAME [options]", cmd_stream_add_opts,
     cmd_stream_add_details, 0, NULL},
    {"stream edit", cmd_stream_edit, "change a stream's configuration", "NAME [options]",
     cmd_stream_edit_opts, cmd_stream_edit_details, 0, NULL},
    {"stream get", cmd_stream_get, "print one message of a stream",
     "NAME SEQ | NAME --last-for SUBJECT [options]", cmd_stream_get_opts, cmd_stream_get_details, 0,
     NULL},
    {"stream info", cmd_stream_info, "show a stream's configuration and state", "NAME [options]",
     cmd_stream_info_opts, cmd_stream_info_details, 0, NULL},
    {"stream ls", cmd_stream_ls, "list the streams", "[options]", cmd_stream_ls_opts,
     cmd_stream_ls_details, 0, NULL},
    {"stream purge", cmd_stream_purge, "delete messages from a stream", "NAME [options]",
     cmd_stream_purge_opts, cmd_stream_purge_details, 0, NULL},
    {"stream report", cmd_stream_report, "a table of every stream", "[options]",
     cmd_stream_report_opts, cmd_stream_report_details, 0, NULL},
    {"stream rm", cmd_stream_rm, "delete a stream", "NAME [options]", cmd_stream_rm_opts,
     cmd_stream_rm_details, 0, NULL},
    {"stream view", cmd_stream_view, "page through the messages of a stream", "NAME [options]",
     cmd_stream_view_opts, cmd_stream_view_details, 0, NULL},
    {"sub", cmd_sub, "print the messages on subjects", "SUBJECT... [options]", cmd_sub_opts,
     cmd_sub_details, CLI_LONG_RUNNING, NULL},
    {"version", cmd_version, "print the natsctl version", "", NULL, NULL, 0, NULL},
};

const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

/* natscli's names for the same commands. */
const struct cli_alias cli_aliases[] = {
    {"ctx", "context"},
    {"publish", "pub"},
    {"req", "request"},
    {"subscribe", "sub"},
};

const size_t cli_naliases = sizeof cli_aliases / sizeof cli_aliases[0];

const struct cli_cmd *
cli_cmd_find(const char *name)
{
    for (size_t i = 0; i < cli_naliases; i++) {
        if (strcmp(cli_aliases[i].alias, name) == 0) name = cli_aliases[i].name;
    }
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (strcmp(cli_commands[i].name, name) == 0) return &cli_commands[i];
    }
    return NULL;
}

const char *
cli_cmd_alias(const struct cli_cmd *cmd, size_t i)
{
    for (size_t k = 0; k < cli_naliases; k++) {
        if (strcmp(cli_aliases[k].name, cmd->name) == 0 && i-- == 0) return cli_aliases[k].alias;
    }
    return NULL;
}

const struct cli_cmd *
cli_cmd_lookup(char **words, int n, int *used)
{
    const struct cli_cmd *one = n > 0 ? cli_cmd_find(words[0]) : NULL;
    *used = 1;
    if (!one || n < 2) return one;
    size_t len = strlen(one->name);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        if (strncmp(name, one->name, len) == 0 && name[len] == ' ' &&
            strcmp(name + len + 1, words[1]) == 0) {
            *used = 2;
            return &cli_commands[i];
        }
    }
    return one;
}
