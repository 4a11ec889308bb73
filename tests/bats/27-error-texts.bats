#!/usr/bin/env bats
# What the clients say when the server address itself is wrong: which part of the URL, and never
# the C library's text for a code it does not know (musl's "No error information").

load helpers

@test "a port out of range is named as such, with exit 2" {
    local cmd
    for cmd in "pub x y" "sub x" "request x y"; do
        # shellcheck disable=SC2086
        run --separate-stderr "$NATSCTL" $cmd -s nats://127.0.0.1:70000
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl ${cmd%% *}: port out of range (1-65535)" ]
    done
}

@test "each way a server URL can be wrong has its own one-line message" {
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:4x22 x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"port is not a number"* ]]
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:4222/path x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"a server URL takes no path"* ]]
    run --separate-stderr "$NATSCTL" pub -s 'nats://u%zz:p@127.0.0.1' x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"bad %-escape"* ]]
}

@test "a host that does not resolve is a connection failure with a real reason" {
    run --separate-stderr timeout 60 "$NATSCTL" pub -s nats://no-such-host.invalid:4222 x y
    [ "$status" -eq 3 ]
    [ "${#stderr}" -gt 0 ]
    [[ $stderr != *"No error information"* && $stderr != *"nknown error"* ]]
}
