#!/usr/bin/env bats
# The monitoring port's life cycle: connections that are open when the server stops. Run under
# ASan (make asan-test), a use after free at shutdown makes the server's exit status non-zero.

load helpers

teardown() {
    stop_server
}

@test "monitoring connections open at shutdown do not outlive the server's memory" {
    [[ $WIRE_SERVER == natsctl ]] || skip "natsctl's shutdown only"
    local mport=$((20000 + RANDOM % 30000))
    start_server -m "$mport"
    # Two HTTP connections that never finish a request are open when the server stops.
    exec 8<>"/dev/tcp/127.0.0.1/$mport"
    exec 9<>"/dev/tcp/127.0.0.1/$mport"
    printf 'GET /healthz HTTP/1.1\r\n' >&9
    stop_server
    exec 8<&- 9<&-
}
