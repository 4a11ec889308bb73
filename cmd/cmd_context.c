/*
 * natsctl context: natscli's configuration contexts, managed in natscli's own files so that the
 * two tools share them (cli_ctx.h). Subcommands and their aliases follow natscli's: add (create,
 * save), ls (list, l), select (switch, set), unselect, show (info, view, v), edit (vi), rm (remove).
 *
 * Nothing printed here shows a secret: passwords and tokens appear as ***, and so does any
 * password or token inside the URL.
 */
#include "cli.h"
#include "cli_ctx.h"
#include "cli_env.h"
#include "cli_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    OPT_SERVER = 1,
    OPT_USER,
    OPT_PASSWORD,
    OPT_TOKEN,
    OPT_CREDS,
    OPT_NKEY,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_CA,
    OPT_DESCRIPTION,
    OPT_SELECT,
    OPT_FORCE,
    OPT_NAMES,
};

const struct cli_opt cmd_context_opts[] = {
    {OPT_SERVER, "s", "server", NULL, "URL[,URL...]", "add: the servers", NULL},
    {OPT_USER, NULL, "user", NULL, "USER", "add: user name", NULL},
    {OPT_PASSWORD, NULL, "password", NULL, "PASSWORD", "add: password", NULL},
    {OPT_TOKEN, NULL, "token", NULL, "TOKEN", "add: authorization token", NULL},
    {OPT_CREDS, NULL, "creds", NULL, "FILE", "add: credentials file (user JWT and nkey seed)",
     NULL},
    {OPT_NKEY, NULL, "nkey", NULL, "FILE", "add: nkey seed file", NULL},
    {OPT_TLS_CERT, NULL, "tlscert", NULL, "FILE", "add: TLS client certificate", NULL},
    {OPT_TLS_KEY, NULL, "tlskey", NULL, "FILE", "add: TLS client private key", NULL},
    {OPT_TLS_CA, NULL, "tlsca", NULL, "FILE", "add: CAs to verify the server with", NULL},
    {OPT_DESCRIPTION, NULL, "description", NULL, "TEXT", "add: a description", NULL},
    {OPT_SELECT, NULL, "select", NULL, NULL, "add: select the context once saved", NULL},
    {OPT_FORCE, "f", "force", NULL, NULL, "rm: remove without asking, even the selected context",
     NULL},
    {OPT_NAMES, NULL, "names", NULL, NULL, "ls: print only the names", NULL},
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char *const cmd_context_subcommands[] = {"add",    "edit", "ls",       "rm",
                                               "select", "show", "unselect", NULL};

const char cmd_context_details[] =
    "Contexts are natscli's named connection settings, stored one JSON file each in\n"
    "$XDG_CONFIG_HOME/nats/context/ (default ~/.config/nats/context/), with the selected one\n"
    "named in ~/.config/nats/context.txt. natsctl reads and writes the same files, so contexts\n"
    "made with `nats context add` work here and the other way round.\n"
    "\n"
    "Client commands use the context named by --context (a name or a .json file), else\n"
    "NATS_CONTEXT, else the selected one; --no-context ignores contexts. Flags and environment\n"
    "variables (NATS_URL, NATS_USER, ...) win over the context. A context that sets nsc, an "
    "inline\n"
    "JWT or seed, or other settings natsctl cannot honour is refused (exit 2) rather than used\n"
    "without them.\n"
    "\n"
    "Subcommands (natscli's aliases in brackets):\n"
    "  add NAME [options]   create or update a context (create, save)\n"
    "  ls                   list the contexts, * marks the selected one (list, l)\n"
    "  select NAME          select a context (switch, set); unselect clears the selection\n"
    "  show [NAME]          show a context, secrets hidden (info, view, v)\n"
    "  edit NAME            edit the JSON file in $EDITOR, checked before it is saved (vi)\n"
    "  rm NAME [--force]    remove a context (remove)\n"
    "\n"
    "Examples:\n"
    "  natsctl context add local --server nats://127.0.0.1:4222 --description Laptop --select\n"
    "  natsctl context show\n"
    "  natsctl --context prod sub '>'\n";

struct ctx_opts {
    const char *set[OPT_DESCRIPTION + 1]; /* add's settings by option id */
    bool select, force, names, any_add;
};

/* The context key each add option sets. */
static const char *const add_keys[] = {
    [OPT_SERVER] = "url",        [OPT_USER] = "user",
    [OPT_PASSWORD] = "password", [OPT_TOKEN] = "token",
    [OPT_CREDS] = "creds",       [OPT_NKEY] = "nkey",
    [OPT_TLS_CERT] = "cert",     [OPT_TLS_KEY] = "key",
    [OPT_TLS_CA] = "ca",         [OPT_DESCRIPTION] = "description",
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct ctx_opts *o = ud;
    if (id <= OPT_DESCRIPTION) {
        o->set[id] = arg;
        o->any_add = true;
    } else if (id == OPT_SELECT) {
        o->select = o->any_add = true;
    } else if (id == OPT_FORCE) {
        o->force = true;
    } else {
        o->names = true;
    }
    return 0;
}

/* natscli's subcommand aliases. */
static const char *
canonical(const char *sub)
{
    static const char *const map[][2] = {
        {"create", "add"},    {"save", "add"},   {"list", "ls"},   {"l", "ls"},
        {"switch", "select"}, {"set", "select"}, {"info", "show"}, {"view", "show"},
        {"v", "show"},        {"vi", "edit"},    {"remove", "rm"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(sub, map[i][0]) == 0) return map[i][1];
    return sub;
}

/* The rows of show: labels right-aligned on the longest, as natscli's columns are. */
struct rows {
    const char *label[24];
    char value[24][CLI_CTX_PATHLEN + 64];
    size_t n;
};

static void
row(struct rows *r, const char *label, const char *value)
{
    if (!value || !*value || r->n >= sizeof r->label / sizeof r->label[0]) return;
    r->label[r->n] = label;
    snprintf(r->value[r->n++], sizeof r->value[0], "%s", value);
}

/* A setting natsctl cannot use is shown, and said to be unusable, rather than hidden. */
static void
unusable_row(struct rows *r, const struct cli_ctx *c, const char *key, const char *label)
{
    const char *v = cli_ctx_get(c, key);
    char line[CLI_CTX_PATHLEN + 64];
    if (!v) return;
    snprintf(line, sizeof line, "%s (natsctl cannot use this)", v);
    row(r, label, line);
}

/* Warns on stderr about variables that override what this context says. */
static void
warn_overrides(void)
{
    static const char *const vars[] = {"NATS_URL",   "NATS_USER",  "NATS_PASSWORD",
                                       "NATS_TOKEN", "NATS_CREDS", "NATS_NKEY"};
    char list[128] = "";
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || !*v) continue;
        strcat(list, *list ? ", " : "");
        strcat(list, vars[i]);
    }
    if (*list) fprintf(stderr, "WARNING: the environment overrides this context: %s\n", list);
}

static void
print_context(const struct cli_ctx *c)
{
    static struct rows r;
    char *url = cli_redact_servers(cli_ctx_get(c, "url") ? cli_ctx_get(c, "url") : "");
    r.n = 0;
    row(&r, "Description", cli_ctx_get(c, "description"));
    row(&r, "Server URLs", url);
    free(url);
    row(&r, "Username", cli_ctx_get(c, "user"));
    row(&r, "Password", cli_ctx_get(c, "password") ? "***" : NULL);
    row(&r, "Token", cli_ctx_get(c, "token") ? "***" : NULL);
    row(&r, "Credentials", cli_ctx_get(c, "creds"));
    row(&r, "NKey", cli_ctx_get(c, "nkey"));
    unusable_row(&r, c, "user_jwt", "User JWT");
    unusable_row(&r, c, "user_seed", "User Seed");
    row(&r, "Certificate", cli_ctx_get(c, "cert"));
    row(&r, "Key", cli_ctx_get(c, "key"));
    row(&r, "CA", cli_ctx_get(c, "ca"));
    unusable_row(&r, c, "nsc", "NSC");
    unusable_row(&r, c, "socks_proxy", "SOCKS5 Proxy");
    unusable_row(&r, c, "windows_cert_store", "Certificate Store");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->json, "tls_first")))
        row(&r, "TLS First", "true (natsctl cannot use this)");
    row(&r, "JS API Prefix", cli_ctx_get(c, "jetstream_api_prefix"));
    row(&r, "JS Event Prefix", cli_ctx_get(c, "jetstream_event_prefix"));
    row(&r, "JS Domain", cli_ctx_get(c, "jetstream_domain"));
    row(&r, "Inbox Prefix", cli_ctx_get(c, "inbox_prefix"));
    row(&r, "Path", c->path);
    row(&r, "Color Scheme", cli_ctx_get(c, "color_scheme"));
    int width = 0;
    for (size_t i = 0; i < r.n; i++)
        if ((int)strlen(r.label[i]) > width) width = (int)strlen(r.label[i]);
    printf("NATS Configuration Context \"%s\"\n\n", c->name);
    for (size_t i = 0; i < r.n; i++)
        printf("  %*s: %s\n", width, r.label[i], r.value[i]);
    printf("\n");
    warn_overrides();
}

/* Loads and prints a context; ref NULL means the selected one. */
static int
show(const struct cli_cmd *self, const char *ref)
{
    char sel[CLI_CTX_NAMELEN], err[CLI_CTX_ERRLEN];
    if (!ref) {
        if (cli_ctx_selected(sel, err) != 0) return cli_usage(self, "%s", err);
        if (!*sel) return cli_usage(self, "no context is selected and no name was given");
        if (!cli_ctx_name_valid(sel) || cli_ctx_ref_is_file(sel))
            return cli_usage(self, "the selected context '%s' is not a valid context name", sel);
        ref = sel;
    }
    struct cli_ctx c;
    if (cli_ctx_load(&c, ref, err) != 0) return cli_usage(self, "%s", err);
    print_context(&c);
    cli_ctx_release(&c);
    return CLI_EXIT_OK;
}

static int
select_ctx(const struct cli_cmd *self, const char *name)
{
    char err[CLI_CTX_ERRLEN], path[CLI_CTX_PATHLEN];
    if (cli_ctx_path(name, path, err) != 0) return cli_usage(self, "%s", err);
    if (access(path, F_OK) != 0)
        return cli_usage(self, "unknown context '%s' (see 'natsctl context ls')", name);
    if (cli_ctx_select(name, err) != 0) {
        cli_error(self, "%s", err);
        return CLI_EXIT_FAIL;
    }
    return show(self, name);
}

static int
add(const struct cli_cmd *self, const char *name, const struct ctx_opts *o)
{
    char err[CLI_CTX_ERRLEN], path[CLI_CTX_PATHLEN];
    struct cli_ctx c;
    if (cli_ctx_path(name, path, err) != 0) return cli_usage(self, "%s", err);
    /* As in natscli, adding an existing context updates it. */
    int rc =
        access(path, F_OK) == 0 ? cli_ctx_load(&c, name, err) : cli_ctx_init_new(&c, name, err);
    if (rc != 0) return cli_usage(self, "%s", err);
    for (int id = OPT_SERVER; rc == 0 && id <= OPT_DESCRIPTION; id++)
        if (o->set[id]) rc = cli_ctx_set(&c, add_keys[id], o->set[id]);
    if (rc != 0) snprintf(err, sizeof err, "out of memory");
    if (rc == 0) rc = cli_ctx_save(&c, err);
    cli_ctx_release(&c);
    if (rc != 0) {
        cli_error(self, "%s", err);
        return CLI_EXIT_FAIL;
    }
    return o->select ? select_ctx(self, name) : show(self, name);
}

static int
list(const struct cli_cmd *self, bool names_only)
{
    char **names, sel[CLI_CTX_NAMELEN], err[CLI_CTX_ERRLEN];
    if (cli_ctx_list(&names, err) != 0 || cli_ctx_selected(sel, err) != 0) {
        cli_error(self, "%s", err);
        return CLI_EXIT_FAIL;
    }
    if (!names[0] && !names_only) fprintf(stderr, "No known contexts\n");
    int width = 0;
    for (char **p = names; *p; p++)
        if ((int)strlen(*p) > width) width = (int)strlen(*p);
    for (char **p = names; *p; p++) {
        if (names_only) {
            printf("%s\n", *p);
            continue;
        }
        struct cli_ctx c;
        const char *desc = NULL;
        /* A context that does not load is still listed: ls is how one finds it. */
        if (cli_ctx_load(&c, *p, err) == 0) desc = cli_ctx_get(&c, "description");
        char label[CLI_CTX_NAMELEN + 1];
        snprintf(label, sizeof label, "%s%s", *p, strcmp(*p, sel) == 0 ? "*" : "");
        if (desc)
            printf("%-*s  %s\n", width + 1, label, desc);
        else
            printf("%s\n", label);
        cli_ctx_release(&c);
    }
    cli_ctx_free_list(names);
    return CLI_EXIT_OK;
}

/* Asks on the terminal; false for anything but y/yes, and for no terminal at all. */
static bool
confirm(const char *name)
{
    char line[16];
    fprintf(stderr, "Really delete context \"%s\"? [y/N] ", name);
    fflush(stderr);
    if (cli_host_wait_input(STDIN_FILENO) != 0 || !fgets(line, sizeof line, stdin)) return false;
    return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0;
}

static int
rm(const struct cli_cmd *self, const char *name, bool force)
{
    char err[CLI_CTX_ERRLEN], sel[CLI_CTX_NAMELEN], path[CLI_CTX_PATHLEN];
    if (cli_ctx_path(name, path, err) != 0 || cli_ctx_selected(sel, err) != 0)
        return cli_usage(self, "%s", err);
    if (access(path, F_OK) != 0) return cli_usage(self, "unknown context '%s'", name);
    bool selected = strcmp(sel, name) == 0;
    if (selected && !force)
        return cli_usage(self,
                         "'%s' is the selected context: select another one first, or use "
                         "--force",
                         name);
    if (!force) {
        if (isatty(STDIN_FILENO) != 1)
            return cli_usage(self, "not removing '%s' without confirmation: use --force", name);
        if (!confirm(name)) return CLI_EXIT_OK;
    }
    if ((selected && cli_ctx_select(NULL, err) != 0) || cli_ctx_remove(name, err) != 0) {
        cli_error(self, "%s", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Runs $EDITOR on path, through the shell so that EDITOR may carry arguments ("code -w"). */
static int
run_editor(const struct cli_cmd *self, const char *path)
{
    const char *editor = getenv("EDITOR");
    if (!editor || !*editor) return cli_usage(self, "set EDITOR to edit a context");
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(self, "cannot start the editor: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "$EDITOR \"$1\"", "sh", path, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return CLI_EXIT_FAIL;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error(self, "the editor failed (%s); the context is unchanged", editor);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Reads the edited copy back and saves it over the context if it is a valid context. */
static int
take_edit(const struct cli_cmd *self, struct cli_ctx *c, const char *tmp)
{
    char err[CLI_CTX_ERRLEN];
    struct cli_ctx edited;
    if (cli_ctx_load(&edited, tmp, err) != 0)
        return cli_usage(self, "context '%s' not changed: %s", c->name, err);
    cJSON_Delete(c->json);
    c->json = edited.json;
    if (cli_ctx_save(c, err) != 0) {
        cli_error(self, "%s", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/*
 * Edits a copy, so that a half-written or invalid file never replaces a working context. The copy
 * is in $TMPDIR (mode 0600, as natscli's), where `context ls` cannot mistake it for a context, and
 * is removed afterwards.
 */
static int
edit(const struct cli_cmd *self, const char *name)
{
    char err[CLI_CTX_ERRLEN];
    struct cli_ctx c;
    if (cli_ctx_load(&c, name, err) != 0) return cli_usage(self, "%s", err);
    struct cli_ctx copy = c;
    const char *tmp = copy.path;
    const char *dir = getenv("TMPDIR");
    int n = snprintf(copy.path, sizeof copy.path, "%s/natsctl-context-%s-%ld.json",
                     dir && *dir ? dir : "/tmp", c.name, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof copy.path) {
        cli_ctx_release(&c);
        return cli_usage(self, "context path too long");
    }
    int rc = cli_ctx_save(&copy, err) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (rc != 0) cli_error(self, "%s", err);
    if (rc == 0) rc = run_editor(self, tmp);
    if (rc == 0) rc = take_edit(self, &c, tmp);
    unlink(tmp);
    cli_ctx_release(&c);
    return rc == 0 ? show(self, name) : rc;
}

/* Checks the positional arguments against what the subcommand takes. */
static int
check_args(const struct cli_cmd *self, const char *sub, int nargs, const struct ctx_opts *o)
{
    bool takes_name = strcmp(sub, "ls") != 0 && strcmp(sub, "unselect") != 0;
    bool needs_name = takes_name && strcmp(sub, "show") != 0;
    if (needs_name && nargs < 2) return cli_usage(self, "'context %s' needs a context name", sub);
    if (nargs > 1 + takes_name) return cli_usage(self, "too many arguments for 'context %s'", sub);
    if (o->any_add && strcmp(sub, "add") != 0)
        return cli_usage(self, "those options only apply to 'context add'");
    if (o->force && strcmp(sub, "rm") != 0)
        return cli_usage(self, "--force only applies to 'context rm'");
    if (o->names && strcmp(sub, "ls") != 0)
        return cli_usage(self, "--names only applies to 'context ls'");
    return 0;
}

int
cmd_context(int argc, char **argv, const struct cli_cmd *self)
{
    struct ctx_opts o = {0};
    int first = 0;
    int rc = cli_opt_parse(self, argc, argv, on_opt, &o, &first);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    int nargs = argc - first;
    char **args = argv + first;
    const char *sub = nargs > 0 ? canonical(args[0]) : "ls";
    if (nargs == 0) nargs = 1;
    bool known = false;
    for (const char *const *k = cmd_context_subcommands; *k; k++)
        known = known || strcmp(sub, *k) == 0;
    if (!known)
        return cli_usage(self,
                         "'%s' is not a context subcommand (add, ls, select, unselect, "
                         "show, edit, rm)",
                         args[0]);
    rc = check_args(self, sub, nargs, &o);
    if (rc != 0) return rc;
    const char *name = nargs > 1 ? args[1] : NULL;
    if (strcmp(sub, "add") == 0) return add(self, name, &o);
    if (strcmp(sub, "ls") == 0) return list(self, o.names);
    if (strcmp(sub, "select") == 0) return select_ctx(self, name);
    if (strcmp(sub, "show") == 0) return show(self, name);
    if (strcmp(sub, "edit") == 0) return edit(self, name);
    if (strcmp(sub, "rm") == 0) return rm(self, name, o.force);
    char err[CLI_CTX_ERRLEN];
    if (cli_ctx_select(NULL, err) == 0) return CLI_EXIT_OK;
    cli_error(self, "%s", err);
    return CLI_EXIT_FAIL;
}
