#!/usr/bin/env bats
# natscli contexts: natsctl reads and writes natscli's own files ($XDG_CONFIG_HOME/nats/context/
# NAME.json, context.txt), so a user's existing contexts work unchanged. The fixtures below are
# written the way natscli writes them (natscontext's keys in its order, json.MarshalIndent, no
# newline at the end, context.txt without a newline).

load helpers

setup() {
    client_setup
    CTX_DIR=$XDG_CONFIG_HOME/nats/context
}

teardown() {
    client_teardown
}

# natscli_context NAME URL USER PASSWORD TOKEN [CREDS [TLS_FIRST]]: a context file as natscli
# writes it.
natscli_context() {
    mkdir -p "$CTX_DIR"
    printf '{\n  "description": "",\n  "url": "%s",\n  "socks_proxy": "",\n  "token": "%s",\n  "user": "%s",\n  "password": "%s",\n  "creds": "%s",\n  "nkey": "",\n  "cert": "",\n  "key": "",\n  "ca": "",\n  "nsc": "",\n  "jetstream_domain": "",\n  "jetstream_api_prefix": "",\n  "jetstream_event_prefix": "",\n  "inbox_prefix": "",\n  "user_jwt": "",\n  "color_scheme": "",\n  "tls_first": %s\n}' \
        "$2" "$5" "$3" "$4" "${6:-}" "${7:-false}" >"$CTX_DIR/$1.json"
}

natscli_select() {
    printf '%s' "$1" >"$XDG_CONFIG_HOME/nats/context.txt"
}

@test "context add writes the file natscli writes, and --select selects it" {
    run --separate-stderr "$NATSCTL" context add lab --server nats://127.0.0.1:4222 \
        --description "the lab" --user alice --password s3cret --select
    [ "$status" -eq 0 ]
    expected=$(printf '{\n  "description": "the lab",\n  "url": "nats://127.0.0.1:4222",\n  "socks_proxy": "",\n  "token": "",\n  "user": "alice",\n  "password": "s3cret",\n  "creds": "",\n  "nkey": "",\n  "cert": "",\n  "key": "",\n  "ca": "",\n  "nsc": "",\n  "jetstream_domain": "",\n  "jetstream_api_prefix": "",\n  "jetstream_event_prefix": "",\n  "inbox_prefix": "",\n  "user_jwt": "",\n  "color_scheme": "",\n  "tls_first": false\n}')
    [ "$(cat "$CTX_DIR/lab.json")" = "$expected" ]
    [ "$(stat -c %a "$CTX_DIR/lab.json")" = 600 ]
    [ "$(stat -c %a "$CTX_DIR")" = 700 ]
    [ "$(cat "$XDG_CONFIG_HOME/nats/context.txt")" = lab ]
    # what add prints is show's output, password hidden
    [[ $output == *'NATS Configuration Context "lab"'* ]]
    [[ $output == *"Password: ***"* ]]
    [[ $output != *s3cret* ]]
}

@test "a natscli context is used by the client commands, and names itself in errors" {
    client_serve --user alice --pass s3cret
    natscli_context lab "nats://127.0.0.1:$PORT" alice s3cret ""
    natscli_select lab
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 0 ]
    natscli_context lab "nats://127.0.0.1:$PORT" alice wrong ""
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 3 ]
    [[ $stderr == "natsctl pub: refused by nats://127.0.0.1:$PORT (from context lab): "* ]]
    [[ $stderr != *wrong* ]]
}

@test "flags beat the environment, which beats the context; --context beats NATS_CONTEXT" {
    client_serve
    natscli_context good "nats://127.0.0.1:$PORT" "" "" ""
    natscli_context bad "nats://127.0.0.1:1" "" "" ""
    natscli_select bad
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"(from context bad)"* ]]
    NATS_URL=nats://127.0.0.1:$PORT run "$NATSCTL" pub x y
    [ "$status" -eq 0 ]
    NATS_URL=nats://127.0.0.1:1 run "$NATSCTL" pub -s "nats://127.0.0.1:$PORT" x y
    [ "$status" -eq 0 ]
    NATS_CONTEXT=good run "$NATSCTL" pub x y
    [ "$status" -eq 0 ]
    NATS_CONTEXT=good run --separate-stderr "$NATSCTL" --context bad pub x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"(from context bad)"* ]]
    run "$NATSCTL" pub --context "$CTX_DIR/good.json" x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" sub --context good --count 1 --wait 200ms x
    [ "$status" -eq 4 ]
}

@test "a context asking for what natsctl cannot do is refused, never ignored" {
    client_serve
    natscli_context tls "nats://127.0.0.1:$PORT" "" "" "" "" true
    natscli_select tls
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
    [ "$stderr" = "natsctl pub: context 'tls' sets \"tls_first\", which natsctl does not support: refusing to connect without it (--no-context ignores the context)" ]
    # flags that give every connection setting do not make the context go away
    run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$PORT" --user u --password p x y
    [ "$status" -eq 2 ]
    run "$NATSCTL" --no-context pub -s "nats://127.0.0.1:$PORT" x y
    [ "$status" -eq 0 ]
}

@test "a context's creds file is used, and one that cannot be read fails in one line" {
    client_serve
    natscli_context ngs "nats://127.0.0.1:$PORT" "" "" "" /home/u/ngs.creds
    natscli_select ngs
    run --separate-stderr "$NATSCTL" pub x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: creds file /home/u/ngs.creds: No such file or directory" ]
    # credentials come as a set: a user from the flags replaces the context's creds
    run --separate-stderr "$NATSCTL" pub --user u --password p x y
    [ "$status" -eq 0 ]
}

@test "a selected context that is gone or broken is an error" {
    mkdir -p "$CTX_DIR"
    natscli_select gone
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"unknown context 'gone'"* ]]
    # context.txt names a context; it cannot point at a file
    natscli_select ../../../etc/hostname
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"is not a valid context name"* ]]
    run --separate-stderr "$NATSCTL" context show
    [ "$status" -eq 2 ]
    [[ $stderr == *"is not a valid context name"* ]]
    printf '{"url": 4222}' >"$CTX_DIR/broken.json"
    run --separate-stderr "$NATSCTL" --context broken pub x y
    [ "$status" -eq 2 ]
    [[ $stderr == *'"url" must be a string'* ]]
}

@test "without XDG_CONFIG_HOME the contexts live in ~/.config/nats" {
    unset XDG_CONFIG_HOME
    export HOME=$BATS_TEST_TMPDIR/home
    run "$NATSCTL" context add h --server nats://127.0.0.1:1 --select
    [ "$status" -eq 0 ]
    [ -f "$HOME/.config/nats/context/h.json" ]
    [ "$(cat "$HOME/.config/nats/context.txt")" = h ]
}

@test "context show hides passwords and tokens, also inside the URL" {
    natscli_context sec "nats://bob:urlpw@127.0.0.1:4222" bob pw123 tok456 /x/y.creds
    run --separate-stderr "$NATSCTL" context show sec
    [ "$status" -eq 0 ]
    [[ $output != *urlpw* && $output != *pw123* && $output != *tok456* ]]
    [[ $output == *"Server URLs: nats://bob:***@127.0.0.1:4222"* ]]
    [[ $output == *"Username: bob"* ]]
    [[ $output == *"Token: ***"* ]]
    [[ $output == *"Credentials: /x/y.creds"* && $output != *"cannot use"* ]]
    run --separate-stderr "$NATSCTL" context show
    [ "$status" -eq 2 ]
    [[ $stderr == *"no context is selected"* ]]
    natscli_select sec
    run "$NATSCTL" ctx info
    [ "$status" -eq 0 ]
    [[ $output == *'Context "sec"'* ]]
}

@test "context ls lists natscli's contexts, marking the selected one" {
    natscli_context a nats://a "" "" ""
    natscli_context b nats://b "" "" ""
    : >"$CTX_DIR/empty.json" # natscli skips empty files
    natscli_select b
    run "$NATSCTL" context ls --names
    [ "$status" -eq 0 ]
    [ "$output" = $'a\nb' ]
    run "$NATSCTL" context ls
    [ "$output" = $'a\nb*' ]
    run "$NATSCTL" context add a --description first
    run "$NATSCTL" context list
    [ "$output" = $'a   first\nb*' ]
}

@test "context select checks the name and remembers the previous one" {
    natscli_context a nats://a "" "" ""
    natscli_context b nats://b "" "" ""
    natscli_select a
    run "$NATSCTL" context select b
    [ "$status" -eq 0 ]
    [ "$(cat "$XDG_CONFIG_HOME/nats/context.txt")" = b ]
    [ "$(cat "$XDG_CONFIG_HOME/nats/previous-context.txt")" = a ]
    run --separate-stderr "$NATSCTL" context select nope
    [ "$status" -eq 2 ]
    [ "$(cat "$XDG_CONFIG_HOME/nats/context.txt")" = b ]
    run --separate-stderr "$NATSCTL" context select ../x
    [ "$status" -eq 2 ]
    run "$NATSCTL" context unselect
    [ "$status" -eq 0 ]
    [ ! -e "$XDG_CONFIG_HOME/nats/context.txt" ]
}

@test "context add updates an existing context and keeps keys natsctl does not know" {
    mkdir -p "$CTX_DIR"
    printf '{\n  "description": "old",\n  "url": "nats://old:4222",\n  "windows_cert_match": "",\n  "future_key": {"a": [1, 2]}\n}' \
        >"$CTX_DIR/k.json"
    run "$NATSCTL" context add k --server nats://new:4222
    [ "$status" -eq 0 ]
    expected=$(printf '{\n  "description": "old",\n  "url": "nats://new:4222",\n  "windows_cert_match": "",\n  "future_key": {"a":[1,2]}\n}')
    [ "$(cat "$CTX_DIR/k.json")" = "$expected" ]
}

@test "context edit runs EDITOR on a copy and saves it only when it is valid" {
    natscli_context e nats://one:4222 "" "" ""
    printf '#!/bin/sh\nsed -i "s|nats://one:4222|nats://two:4222|" "$1"\n' >"$BATS_TEST_TMPDIR/ed-ok"
    printf '#!/bin/sh\nprintf "{ not json" >"$1"\n' >"$BATS_TEST_TMPDIR/ed-bad"
    chmod +x "$BATS_TEST_TMPDIR/ed-ok" "$BATS_TEST_TMPDIR/ed-bad"
    EDITOR=$BATS_TEST_TMPDIR/ed-ok run --separate-stderr "$NATSCTL" context edit e
    [ "$status" -eq 0 ]
    grep -q '"url": "nats://two:4222"' "$CTX_DIR/e.json"
    [[ $output == *"Server URLs: nats://two:4222"* ]]
    before=$(cat "$CTX_DIR/e.json")
    EDITOR=$BATS_TEST_TMPDIR/ed-bad run --separate-stderr "$NATSCTL" context edit e
    [ "$status" -eq 2 ]
    [[ $stderr == "natsctl context: context 'e' not changed: "* ]]
    [ "$(cat "$CTX_DIR/e.json")" = "$before" ]
    EDITOR= run --separate-stderr "$NATSCTL" context edit e
    [ "$status" -eq 2 ]
    [[ $stderr == *"set EDITOR"* ]]
    EDITOR=false run --separate-stderr "$NATSCTL" context edit e
    [ "$status" -eq 1 ]
    [ "$(cat "$CTX_DIR/e.json")" = "$before" ]
    [ -z "$(ls "$CTX_DIR" | grep -v '^e.json$')" ]
}

@test "context rm asks, refuses without a terminal, and needs --force for the selected one" {
    natscli_context a nats://a "" "" ""
    natscli_context b nats://b "" "" ""
    natscli_select a
    run --separate-stderr "$NATSCTL" context rm a
    [ "$status" -eq 2 ]
    [[ $stderr == *"'a' is the selected context"* ]]
    run --separate-stderr "$NATSCTL" context rm b </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *"use --force"* ]]
    [ -f "$CTX_DIR/b.json" ]
    # on a terminal it asks; no answer is a no
    run on_tty "$NATSCTL context rm b"
    [[ $output == *'Really delete context "b"? [y/N]'* ]]
    [ -f "$CTX_DIR/b.json" ]
    run "$NATSCTL" context rm b --force
    [ "$status" -eq 0 ]
    [ ! -e "$CTX_DIR/b.json" ]
    run "$NATSCTL" context remove -f a
    [ "$status" -eq 0 ]
    [ ! -e "$CTX_DIR/a.json" ]
    [ ! -e "$XDG_CONFIG_HOME/nats/context.txt" ]
    run --separate-stderr "$NATSCTL" context rm a -f
    [ "$status" -eq 2 ]
}

@test "context rejects misplaced options and unknown subcommands" {
    run --separate-stderr "$NATSCTL" context ls --force
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" context show x --server nats://a
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" context frob
    [ "$status" -eq 2 ]
    [[ $stderr == *"'frob' is not a context subcommand"* ]]
    run --separate-stderr "$NATSCTL" context add
    [ "$status" -eq 2 ]
}

@test "completion offers the context names after a context subcommand and after --context" {
    natscli_context prod nats://p "" "" ""
    natscli_context dev nats://d "" "" ""
    run "$NATSCTL" __complete 3 natsctl context select ""
    [ "$output" = $'dev\nprod' ]
    run "$NATSCTL" __complete 3 natsctl sub --context ""
    [ "$output" = $'dev\nprod' ]
    run "$NATSCTL" __complete 2 natsctl context ""
    [[ $output == *$'add\n'* && $output != *prod* ]]
    rm -r "$XDG_CONFIG_HOME"
    run --separate-stderr "$NATSCTL" __complete 3 natsctl ctx show ""
    [ "$status" -eq 0 ]
    [ -z "$output" ] && [ -z "$stderr" ]
}
