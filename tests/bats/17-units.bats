#!/usr/bin/env bats
# Sizes and durations on the command line are read by the same parser as the config file
# (libproto/np_units.c): a unit a config file accepts, the matching flag accepts too.

load helpers

teardown() {
    stop_server
}

@test "every size suffix a config file takes, --max_payload takes, 1T and 1TB included" {
    local size conf=$BATS_TEST_TMPDIR/size.conf
    for size in 1T 1TB 1tib 1P; do
        printf 'max_payload: %s\n' "$size" >"$conf"
        run --separate-stderr timeout 5 "$NATSCTL" server -p 0 -c "$conf"
        [ "$status" -eq 2 ]
        local from_conf=$stderr
        run --separate-stderr timeout 5 "$NATSCTL" server -p 0 --max_payload "$size"
        [ "$status" -eq 2 ]
        [[ $stderr == *"is too large"* ]]
        [ "$stderr" = "$from_conf" ]
    done
}

@test "a size or duration that is not one is still a one-line usage error" {
    run --separate-stderr "$NATSCTL" server --max_payload 1Q
    [ "$status" -eq 2 ]
    [[ $stderr == *"invalid value '1Q' for --max_payload"* ]]
    run --separate-stderr "$NATSCTL" pub --sleep 1q x y
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -le 1 ]
}

@test "durations take Go's units on the command line, the Greek mu included" {
    start_server
    run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$PORT" --timeout 1m30s x y
    [ "$status" -eq 0 ]
    run --separate-stderr "$NATSCTL" pub -s "nats://127.0.0.1:$PORT" --sleep $'1\xce\xbcs' x y
    [ "$status" -eq 0 ]
}
