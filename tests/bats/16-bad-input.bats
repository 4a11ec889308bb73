#!/usr/bin/env bats
# Hostile and broken clients: each gets what nats-server gives it, and the server keeps serving
# everyone else. Run under ASan (make asan-test), stop_server also proves nothing leaked.

load helpers

setup() {
    start_server
}

teardown() {
    stop_server
}

still_serving() {
    run session_body 'CONNECT {"verbose":false}\r\nSUB ok 1\r\nPUB ok 2\r\nok\r\nPING\r\n'
    [ "$output" = $'MSG ok 1 2\nok\nPONG' ]
}

@test "a flood of random bytes is refused and the server serves the next client" {
    head -c 2000000 /dev/urandom | timeout 10 nc -N 127.0.0.1 "$PORT" >/dev/null || true
    still_serving
}

@test "a 10 MB control line is refused after 4 KiB, without buffering the rest" {
    run bash -c "{ printf 'PUB '; head -c 10000000 /dev/zero | tr '\\\\0' a; } | timeout 10 nc -N 127.0.0.1 $PORT | tr -d '\\r' | sed 1d"
    [ "$output" = "-ERR 'maximum control line exceeded'" ]
    still_serving
}

@test "a client that vanishes halfway through a payload leaves no trace" {
    for i in $(seq 20); do
        printf 'CONNECT {"verbose":false}\r\nSUB a 1\r\nPUB ok 1000\r\nabc' | timeout 5 nc -N 127.0.0.1 "$PORT" >/dev/null
    done
    still_serving
}

@test "a subscriber that never reads is cut, others keep receiving" {
    printf 'max_pending: 1MB\nmax_payload: 64KB\nwrite_deadline: "2s"\n' >"$BATS_TEST_TMPDIR/s.conf"
    stop_server
    start_server -c "$BATS_TEST_TMPDIR/s.conf"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n' >&5
    sleep 0.2
    local payload
    payload=$(head -c 60000 /dev/zero | tr '\0' x)
    {
        printf 'CONNECT {"verbose":false}\r\n'
        for i in $(seq 200); do printf 'PUB big 60000\r\n%s\r\n' "$payload"; done
        printf 'PING\r\n'
    } | timeout 20 nc -N 127.0.0.1 "$PORT" >/dev/null
    exec 5<&-
    still_serving
    grep -q 'Slow Consumer Detected' "$SERVER_LOG"
}

@test "hundreds of connections opened and dropped mid-handshake are all cleaned up" {
    for i in $(seq 200); do
        exec 6<>"/dev/tcp/127.0.0.1/$PORT"
        printf 'CONN' >&6
        exec 6<&-
    done
    still_serving
}
