#!/usr/bin/env bats
# Connection failures say why and with what: refused, name not resolved and timed out are three
# different messages, each naming the server (redacted) and where the server list came from (-s,
# NATS_URL, a context, the default). All of them exit 3.

load helpers

setup() {
    client_setup
}

teardown() {
    client_teardown
}

# silent_listener: accepts TCP connections and never says anything; sets SILENT_PORT.
silent_listener() {
    local base=$BATS_TEST_TMPDIR/silent
    sleep 30 | nc -v -l 127.0.0.1 0 >/dev/null 2>"$base.err" 3>&- &
    BG_PIDS+=($!)
    wait_for_text "$base.err" "Listening on"
    SILENT_PORT=$(grep -oE '[0-9]+$' "$base.err" | head -1)
}

# exit3_one_line EXPECTED: the command exited 3 with exactly the EXPECTED line on stderr.
exit3_one_line() {
    [ "$status" -eq 3 ] || { echo "exit $status: $stderr"; return 1; }
    one_line "$stderr"
    [ "$stderr" = "$1" ] || { echo "got: $stderr"; return 1; }
}

@test "a refused connection says so and names the server and -s" {
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 x y
    exit3_one_line "natsctl pub: cannot connect to nats://127.0.0.1:1 (from -s): connection refused"
}

@test "a name that does not resolve says so and names NATS_URL" {
    NATS_URL=nats://no-such-host.invalid:4222 run --separate-stderr timeout 20 "$NATSCTL" sub x
    exit3_one_line "natsctl sub: cannot connect to nats://no-such-host.invalid:4222 (from NATS_URL): name not resolved"
}

@test "a server that never answers times out, with the timeout, and the password stays hidden" {
    silent_listener
    run --separate-stderr "$NATSCTL" request --timeout 300ms \
        -s "nats://alice:s3cret@127.0.0.1:$SILENT_PORT" x y
    exit3_one_line "natsctl request: cannot connect to nats://alice:***@127.0.0.1:$SILENT_PORT (from -s): timed out after 300ms"
    [[ $stderr != *s3cret* ]]
}

@test "with a list, each server gets its own reason" {
    run --separate-stderr timeout 20 "$NATSCTL" pub -s "nats://127.0.0.1:1, tok@no-such-host.invalid:2" x y
    exit3_one_line "natsctl pub: cannot connect to any server (from -s): nats://127.0.0.1:1: connection refused; ***@no-such-host.invalid:2: name not resolved"
}

@test "without -s, NATS_URL or a context the message says the default was used" {
    if nc -z 127.0.0.1 4222 2>/dev/null; then skip "something listens on 127.0.0.1:4222"; fi
    run --separate-stderr "$NATSCTL" reply x
    exit3_one_line "natsctl reply: cannot connect to nats://127.0.0.1:4222 (the default): connection refused"
}

@test "a server list from a context names the context" {
    mkdir -p "$XDG_CONFIG_HOME/nats/context"
    printf '{\n  "description": "",\n  "url": "nats://127.0.0.1:1",\n  "token": "t0ken"\n}' \
        >"$XDG_CONFIG_HOME/nats/context/lab.json"
    run --separate-stderr "$NATSCTL" --context lab pub x y
    exit3_one_line "natsctl pub: cannot connect to nats://127.0.0.1:1 (from context lab): connection refused"
}

@test "a refused login names the server and where it came from" {
    client_serve --user u --pass p
    run --separate-stderr "$NATSCTL" pub -s "nats://u:wrong@127.0.0.1:$PORT" x y
    [ "$status" -eq 3 ]
    one_line "$stderr"
    [[ $stderr == "natsctl pub: refused by nats://u:***@127.0.0.1:$PORT (from -s): "* ]]
    [[ $stderr != *wrong* ]]
}
