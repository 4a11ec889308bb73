#!/usr/bin/env bats
# natsctl server against configurations and flags written for nats-server: what it refuses (fail
# closed), what it ignores with a warning, unknown fields, -t, and Go-style flag spelling.

load helpers

teardown() {
    stop_server
}

# conf TEXT: writes printf-style TEXT to a file and prints its path.
conf() {
    printf "$1" >"$BATS_TEST_TMPDIR/t.conf"
    echo "$BATS_TEST_TMPDIR/t.conf"
}

# refused TEXT FIELD WHAT LINE:COL: the server must not start from TEXT, and says why in one line.
refused() {
    local file
    file=$(conf "$1")
    run --separate-stderr "$NATSCTL" server -p -1 --ports_file_dir "$BATS_TEST_TMPDIR" -c "$file"
    [ "$status" -eq 2 ] || { echo "exit $status for: $1"; return 1; }
    [ "${#stderr_lines[@]}" -eq 1 ]
    [ "$stderr" = "natsctl server: $file:$4: field \"$2\" ($3) is not supported by natsctl (refusing to start without it)" ]
    [ -z "$(ls "$BATS_TEST_TMPDIR"/*.ports 2>/dev/null)" ]
}

@test "TLS beyond what natsctl implements is refused instead of serving without it" {
    refused 'tls {\n  connection_rate_limit: 5\n}\n' tls.connection_rate_limit \
        "a limit on TLS handshakes per second" 2:3
    refused 'allow_non_tls: true\n' allow_non_tls "plaintext clients beside TLS ones" 1:1
    refused 'cluster {\n  name: c\n  tls { verify_and_map: true }\n}\n' cluster.tls.verify_and_map \
        "mapping route certificates to the cluster user" 3:9
}

@test "every access-related nats-server option is refused" {
    refused 'accounts { A { exports = [ {stream: a} ] } }\n' accounts.A.exports "account exports" 1:16
    refused 'accounts {\n  A: { imports: [] }\n}\n' accounts.A.imports "account imports" 2:8
    refused 'accounts { A { nkey: ABC } }\n' accounts.A.nkey "account nkeys" 1:16
    refused 'accounts { A { jetstream: enabled } }\n' accounts.A.jetstream \
        'JetStream in an account other than $G' 1:16
    refused 'accounts { A { mappings: { a: b } } }\n' accounts.A.mappings "subject mappings" 1:16
    refused 'accounts { A { limits: { max_conn: 1 } } }\n' accounts.A.limits "account limits" 1:16
    refused 'authorization { auth_callout { issuer: x } }\n' authorization.auth_callout \
        "auth callout" 1:17
    refused 'operator: op.jwt\n' operator "JWT operator mode" 1:1
    refused 'resolver: MEMORY\n' resolver "an account resolver" 1:1
    refused 'trusted: [ OABC ]\n' trusted "trusted operator keys" 1:1
    refused 'ocsp: { mode: always }\n' ocsp "OCSP stapling" 1:1
    refused 'cluster {\n  pool_size: 3\n}\n' \
        cluster.pool_size "route pooling (nats-server 2.10's pool_size)" 2:3
    refused 'gateway { name: g, tls { cert_file: x } }\n' gateway.tls TLS 1:20
    refused 'leafnodes {\n  authorization { token: t }\n}\n' leafnodes.authorization authorization 2:3
    refused 'websocket {\n  tls { cert_file: x }\n}\n' websocket.tls TLS 2:3
}

@test "a bcrypt password or token is taken as a hash, from the file or from a flag" {
    local hash='$2a$10$LoRPzN3GtF2pNX5QgCBBHeUr6/zVN./RVGOu5U8SpHyg2sfzvfXji' # "bar"
    start_server --user a --pass "$hash"
    run session_body 'CONNECT {"verbose":false,"user":"a","pass":"bar"}\r\nPING\r\n'
    [ "$output" = PONG ]
    run session_body "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"$hash\"}\r\nPING\r\n"
    [ "$output" = "-ERR 'Authorization Violation'" ]
    stop_server
    printf 'authorization { token: "%s" }\n' "$hash" >"$BATS_TEST_TMPDIR/b.conf"
    start_server -c "$BATS_TEST_TMPDIR/b.conf"
    run session_body 'CONNECT {"verbose":false,"auth_token":"bar"}\r\nPING\r\n'
    [ "$output" = PONG ]
}

@test "an unknown field is an error with file, line and column, as in nats-server" {
    local file
    file=$(conf 'port: -1\nmax_paylod: 5\n')
    run --separate-stderr "$NATSCTL" server -c "$file"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: $file:2:1: unknown field \"max_paylod\"" ]
    file=$(conf 'authorization {\n  token: t\n  tokne: u\n}\n')
    run --separate-stderr "$NATSCTL" server -c "$file"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: $file:3:3: unknown field \"tokne\"" ]
}

@test "options without security meaning are ignored with a warning and the server serves" {
    start_server -c "$(conf 'websocket { port: 8080 }\nleafnodes {\n  port: 7422\n  remotes: [ { url: nats://127.0.0.1:7422 } ]\n}\nprof_port: 6060\n')"
    run cat "$SERVER_LOG"
    [[ $output == *'t.conf:1:1: field "websocket" (WebSocket clients) is not supported by natsctl and is ignored'* ]]
    [[ $output == *'t.conf:2:1: field "leafnodes" (leaf nodes) is not supported by natsctl and is ignored'* ]]
    [[ $output == *'t.conf:6:1: field "prof_port" (profiling) is not supported'* ]]
    run session 'CONNECT {}\r\nPING\r\n'
    [[ $output == *PONG* ]]
}

@test "-t says a good configuration is valid and exits 0 without listening" {
    local file
    file=$(conf 'port: -1\nmqtt: { port: 1883 }\n')
    run --separate-stderr timeout 5 "$NATSCTL" server -t -c "$file"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "${stderr_lines[0]}" = "natsctl server: warning: $file:2:1: field \"mqtt\" (MQTT clients) is not supported by natsctl and is ignored" ]
    [ "${stderr_lines[1]}" = "natsctl server: configuration file $file is valid" ]
    [ "${#stderr_lines[@]}" -eq 2 ]
}

@test "-t fails with exit 2 on a bad configuration, and without -c" {
    run --separate-stderr "$NATSCTL" server -t -c "$(conf 'tls {}\n')"
    [ "$status" -eq 2 ]
    [[ $stderr == *'t.conf:1:1: a TLS listener needs a certificate: set cert_file and key_file' ]]
    run --separate-stderr "$NATSCTL" server -t -c "$(conf 'max_pending: 1KB\n')"
    [ "$status" -eq 2 ]
    [[ $stderr == *"max_payload"* ]]
    run --separate-stderr "$NATSCTL" server -t
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: must specify [-c, --config] option to check configuration file syntax" ]
}

@test "nats-server flags natsctl lacks are named in one line, never split into letters" {
    local args
    for args in "--help_tls" "-s" "--profile 6060"; do
        run --separate-stderr "$NATSCTL" server $args
        [ "$status" -eq 2 ] || { echo "$args -> $status"; return 1; }
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ $stderr == "natsctl server: ${args%%[ =]*}: "* ]] || { echo "$args -> $stderr"; return 1; }
    done
    run --separate-stderr "$NATSCTL" server --help_tls
    [ "$stderr" = "natsctl server: --help_tls: natsctl has no TLS help page; docs/security.md lists the TLS options" ]
    run --separate-stderr "$NATSCTL" server -cid x
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: unknown option '-cid' (see 'natsctl server --help')" ]
}

@test "Go flag spellings work: one or two dashes, =value, multi-letter names" {
    start_server -port=-1 --addr=127.0.0.1 -name goflags -DVV -T=false --max_payload=2KB
    local info
    info=$(info_json)
    [ "$(jq -r .server_name <<<"$info")" = goflags ]
    [ "$(jq .max_payload <<<"$info")" = 2048 ]
    session 'CONNECT {}\r\nSUB goflags 1\r\nPING\r\n' >/dev/null
    wait_for_text "$SERVER_LOG" "<<- [SUB goflags 1]"
    run grep -F "<<- [SUB goflags 1]" "$SERVER_LOG"
    [[ $output =~ ^\[[0-9]+\]\ \[TRC\]\  ]] # -T=false: no timestamp
}

@test "-VV traces and a bad boolean value is a usage error" {
    start_server -VV -l "$BATS_TEST_TMPDIR/v.log"
    session 'CONNECT {}\r\nSUB vv 1\r\nPING\r\n' >/dev/null
    wait_for_text "$BATS_TEST_TMPDIR/v.log" "<<- [SUB vv 1]"
    run --separate-stderr "$NATSCTL" server -D=maybe
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: invalid value 'maybe' for -D" ]
}

@test "cluster flags are checked before anything listens, with nats-server's words" {
    run --separate-stderr "$NATSCTL" server -p -1 --routes nats://127.0.0.1:6222
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: solicited routes require cluster capabilities, e.g. --cluster" ]
    run --separate-stderr "$NATSCTL" server -p -1 --cluster nats://ruser@127.0.0.1:-1
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: expected cluster password to be set" ]
    run --separate-stderr "$NATSCTL" server -p -1 --cluster nats://127.0.0.1:-1 --routes nats://h
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: invalid route URL 'nats://h': a route URL needs a port" ]
    run --separate-stderr "$NATSCTL" server -p -1 --cluster nats://127.0.0.1:-1 --connect_retries x
    [ "$status" -eq 2 ]
    run --separate-stderr "$NATSCTL" server -t -c "$(conf 'cluster {\n  listen: 127.0.0.1:-1\n  authorization { user: r, password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG" }\n}\n')"
    [ "$status" -eq 2 ]
    [[ $stderr == *"the cluster password is a bcrypt hash"* ]]
}

@test "a cluster listener is named in the log and in the ports file" {
    start_server --cluster nats://127.0.0.1:-1 --cluster_name c9
    wait_for_text "$SERVER_LOG" "Listening for route connections on 127.0.0.1:"
    run cat "$SERVER_LOG"
    [[ $output == *"[INF] Cluster name is c9"* ]]
    run cat "$(dirname "$SERVER_LOG")"/*.ports
    [[ $output == *'"cluster":["nats://127.0.0.1:'* ]]
    stop_server
}
