#!/usr/bin/env bats
# natsctl rtt (natscli's `nats rtt`) and natsctl server check connection (natscli's monitoring
# check: its flags, its Nagios output line, and the monitoring-plugin exit codes 0 OK, 1 WARNING,
# 2 CRITICAL, 3 UNKNOWN).

load helpers

setup() {
    client_setup
}

teardown() {
    client_teardown
}

# pings_seen: how many PINGs the server traced (the handshake's one included).
pings_seen() {
    grep -c '<<- \[PING' "$SERVER_LOG" || true
}

@test "rtt prints the average round trip per server, natscli's layout" {
    client_serve
    run --separate-stderr "$NATSCTL" rtt -s "$URL"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$URL:" ]
    [[ ${lines[1]} =~ ^\ \ \ nats://127\.0\.0\.1:$PORT:\ [0-9.]+(µs|ms|s)$ ]]
    [ -z "$stderr" ]
}

@test "rtt makes --iterations round trips, or as many as its argument says" {
    [[ $WIRE_SERVER == natsctl ]] || skip "counts PINGs in natsctl's trace"
    client_serve -V
    run "$NATSCTL" rtt -s "$URL" --iterations 7
    [ "$status" -eq 0 ]
    sleep 0.2
    [ "$(pings_seen)" -eq 8 ]
    run "$NATSCTL" rtt -s "$URL" 2
    [ "$status" -eq 0 ]
    sleep 0.2
    [ "$(pings_seen)" -eq 11 ]
    run "$NATSCTL" rtt -s "$URL"
    sleep 0.2
    [ "$(pings_seen)" -eq 17 ]
}

@test "rtt reports a server it cannot reach, measures the others, and exits 3" {
    client_serve
    run --separate-stderr "$NATSCTL" rtt -s "nats://127.0.0.1:1,$URL"
    [ "$status" -eq 3 ]
    [ "$stderr" = "natsctl rtt: cannot connect to nats://127.0.0.1:1 (from -s): connection refused" ]
    [[ $output == *"nats://127.0.0.1:1: failed"* ]]
    [[ $output =~ nats://127\.0\.0\.1:$PORT:\ [0-9.]+(µs|ms|s) ]]
}

@test "rtt rejects a bad iteration count" {
    run --separate-stderr "$NATSCTL" rtt --iterations 0
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" rtt many
    [ "$status" -eq 2 ]
}

@test "server check connection: OK line with natscli's perfdata, exit 0" {
    client_serve
    run --separate-stderr "$NATSCTL" server check connection -s "$URL"
    [ "$status" -eq 0 ]
    one_line "$output"
    [[ $output =~ ^OK\ Connection\ OK:connected\ to\ $URL\ in\ [0-9.]+(ns|µs|ms|s)\ OK:rtt\ time\ [0-9.]+(ns|µs|ms|s)\ OK:round\ trip\ took\ [0-9]+\.[0-9]{6}s\ \|\ connect_time=[0-9]+\.[0-9]{4}s\;0\.5000\;1\.0000\ rtt=[0-9]+\.[0-9]{4}s\;0\.5000\;1\.0000\ request_time=[0-9]+\.[0-9]{4}s\;0\.5000\;1\.0000$ ]]
    [ -z "$stderr" ]
}

@test "server check connection: a threshold reached is WARNING (1) or CRITICAL (2)" {
    client_serve
    run "$NATSCTL" server check conn -s "$URL" --rtt-warn 0s
    [ "$status" -eq 1 ]
    [[ $output == "WARNING Connection Warn:rtt time exceeded 0 OK:connected to "* ]]
    [[ $output == *" rtt="*"s;;1.0000 "* ]]
    run "$NATSCTL" server check conn -s "$URL" --connect-critical 0 --req-warn 0
    [ "$status" -eq 2 ]
    [[ $output == "CRITICAL Connection Crit:connected to $URL, connect time exceeded 0 Warn:round trip request took "* ]]
    run "$NATSCTL" server check conn -s "$URL" --connect-warn 2s --connect-critical 3s
    [ "$status" -eq 0 ]
    [[ $output == *"connect_time="*"s;2.0000;3.0000 "* ]]
}

@test "server check connection: no server is CRITICAL, saying why, with the password hidden" {
    run --separate-stderr "$NATSCTL" server check connection -s nats://u:pw@127.0.0.1:1
    [ "$status" -eq 2 ]
    [ "$output" = "CRITICAL Connection Crit:connection failed: nats://u:***@127.0.0.1:1 (from -s): connection refused" ]
    NATS_URL=nats://no-such-host.invalid:4222 run "$NATSCTL" server check connection
    [ "$status" -eq 2 ]
    [ "$output" = "CRITICAL Connection Crit:connection failed: nats://no-such-host.invalid:4222 (from NATS_URL): name not resolved" ]
}

@test "server check connection: a check that cannot run is UNKNOWN (3)" {
    run --separate-stderr "$NATSCTL" server check connection --rtt-warn soon
    [ "$status" -eq 3 ]
    [[ $output == "UNKNOWN Connection "* ]]
    [[ $stderr == *"invalid value 'soon' for --rtt-warn"* ]]
    run --separate-stderr "$NATSCTL" server check
    [ "$status" -eq 3 ]
    run --separate-stderr "$NATSCTL" server check stream
    [ "$status" -eq 3 ]
    mkdir -p "$XDG_CONFIG_HOME/nats/context"
    printf '{"url": "nats://127.0.0.1:1", "nsc": "nsc://op/acc/u"}' >"$XDG_CONFIG_HOME/nats/context/c.json"
    run --separate-stderr "$NATSCTL" server check connection --context c
    [ "$status" -eq 3 ]
    [[ $output == "UNKNOWN Connection Unknown:context 'c' sets \"nsc\""* ]]
    run "$NATSCTL" server check --help
    [ "$status" -eq 0 ]
    [[ $output == *"0 OK, 1 WARNING"* ]]
}
