#!/usr/bin/env bats
# natscli's other names for the same commands (publish, subscribe, req, ctx) work, run the command
# under its own name, and show in help and completion.

load helpers

setup() {
    client_setup
}

teardown() {
    client_teardown
}

@test "req, publish and subscribe run request, pub and sub" {
    client_serve
    reply_bg rep --count 1 q
    run --separate-stderr "$NATSCTL" req -s "$URL" --raw q hello
    [ "$status" -eq 0 ]
    [ "$output" = hello ]
    natsctl_bg s subscribe -s "$URL" --count 1 --raw x
    wait_for_text "$BATS_TEST_TMPDIR/s.err" "Subscribing on"
    run "$NATSCTL" publish -s "$URL" x body
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = body ]
}

@test "messages name the command, not the alias" {
    run --separate-stderr "$NATSCTL" req -s nats://127.0.0.1:1 x y
    [ "$status" -eq 3 ]
    [[ $stderr == "natsctl request: "* ]]
}

@test "help shows the aliases and accepts them" {
    run "$NATSCTL" --help
    [[ $output == *"send a request and print the replies (also req)"* ]]
    [[ $output == *"publish messages (also publish)"* ]]
    [[ $output == *"(also subscribe)"* ]]
    [[ $output == *"(also ctx)"* ]]
    run "$NATSCTL" help req
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Usage: natsctl request "* ]]
    [[ $output == *"Also: natsctl req"* ]]
    run "$NATSCTL" ctx --help
    [[ ${lines[0]} == "Usage: natsctl context "* ]]
}

@test "completion offers the aliases and completes their options" {
    run "$NATSCTL" __complete 1 natsctl ""
    [[ $output == *$'\nreq\t'* && $output == *$'\npublish\t'* && $output == *$'\nsubscribe\t'* ]]
    [[ $output == *$'\nctx\t'* ]]
    run "$NATSCTL" __complete 2 natsctl req --rep
    [[ $output == *"--replies"* ]]
    run "$NATSCTL" __complete 2 natsctl ctx ""
    [[ $output == *$'add\n'* ]]
}

@test "server check is a command of its own, also with global options before it" {
    run "$NATSCTL" help server check
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Usage: natsctl server check connection [options]" ]]
    run "$NATSCTL" --help
    [[ $output == *"server check "* ]]
    run "$NATSCTL" __complete 2 natsctl server ""
    [ "$output" = check ]
    run "$NATSCTL" __complete 3 natsctl server check ""
    [ "$output" = connection ]
    run "$NATSCTL" -s nats://127.0.0.1:1 server check connection
    [ "$status" -eq 2 ]
    [[ $output == "CRITICAL Connection Crit:connection failed: nats://127.0.0.1:1 (from -s): connection refused" ]]
}
