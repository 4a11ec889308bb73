#!/usr/bin/env bats
# Configuration reload (SIGHUP, --signal reload): users added and removed, a password and
# permissions changed under connected clients, invalid files and options that cannot change refused
# with the running configuration kept, the TLS certificate replaced for new connections, and debug
# logging switched on. The wire-visible scenarios run against the Debian nats-server and natsctl
# (on_both, from helpers.bash) and must give the same bytes and the same errors in the log.

load helpers

teardown() {
    client_teardown
    stop_server
}

setup() {
    client_setup
}

CONF=

# conf TEXT: writes printf-style TEXT to the configuration file (CONF, its path).
conf() {
    CONF=$BATS_TEST_TMPDIR/reload.conf
    printf "$1" >"$CONF"
}

# reload TEXT: rewrites the configuration with printf-style TEXT, sends SIGHUP and waits until
# the server has logged the outcome.
reload() {
    local before i
    before=$(grep -cE 'Reloaded server configuration|Failed to reload' "$SERVER_LOG" || true)
    printf "$1" >"$CONF"
    kill -HUP "$SERVER_PID"
    for ((i = 0; i < 100; i++)); do
        (($(grep -cE 'Reloaded server configuration|Failed to reload' "$SERVER_LOG" || true) > before)) &&
            return 0
        sleep 0.05
    done
    echo "no reload logged" >&2
    return 1
}

# reload_both FIRST SCENARIO: on_both (helpers.bash) from the configuration text FIRST, written
# anew before each server because SCENARIO reloads other texts into it.
reload_both() {
    FIRST=$1
    on_both "$BATS_TEST_TMPDIR/reload.conf" "$2"
}

on_both_setup() {
    conf "$FIRST"
}

# say TEXT: one connection's session (printf TEXT), its output after INFO, then a separator.
say() {
    session_body "$1"
    echo --
}

# open FD: connects file descriptor FD to the server and reads past its INFO line.
open() {
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
    local info
    IFS= read -r -t 2 -u "$1" info
}

# send FD TEXT: writes printf-style TEXT on FD, then prints what the server sent up to its PONG,
# without CRs and the server's own PINGs, or "(closed)" when the server closed the connection.
send() {
    # In a subshell: writing to a connection the server closed raises SIGPIPE.
    (printf "$2" >&"$1") 2>/dev/null || true
    local line
    while IFS= read -r -t 3 -u "$1" line; do
        line=${line%$'\r'}
        [[ $line == PING ]] && continue
        printf '%s\n' "$line"
        [[ $line == PONG ]] && return 0
    done
    echo "(closed)"
}

USERS1='authorization {\n  users = [\n    {user: alice, password: a}\n    {user: bob, password: b, permissions: {publish: ">"}}\n    {user: carol, password: c}\n  ]\n}\n'
USERS2='authorization {\n  users = [\n    {user: bob, password: b, permissions: {publish: "y", subscribe: "y"}}\n    {user: carol, password: c2}\n    {user: dave, password: d}\n  ]\n}\n'

users_scenario() {
    say 'CONNECT {"verbose":false,"user":"dave","pass":"d"}\r\nPING\r\n'
    open 5
    send 5 'CONNECT {"verbose":false,"user":"alice","pass":"a"}\r\nPING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"user":"bob","pass":"b"}\r\nSUB x 1\r\nSUB y 2\r\nPING\r\n'
    open 7
    send 7 'CONNECT {"verbose":false,"user":"carol","pass":"c"}\r\nPING\r\n'
    reload "$USERS2"
    echo "-- alice, removed:"
    send 5 'PING\r\n'
    echo "-- bob, new permissions:"
    send 6 'PUB x 1\r\nq\r\nPUB y 1\r\nz\r\nPING\r\n'
    echo "-- carol, new password:"
    send 7 'PING\r\n'
    echo "-- dave, added:"
    say 'CONNECT {"verbose":false,"user":"dave","pass":"d"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"carol","pass":"c2"}\r\nPING\r\n'
    exec 5>&- 6>&- 7>&-
}

@test "reload adding and removing a user, a password and permissions changed under connected clients" {
    reload_both "$USERS1" users_scenario
    [[ $OUT == *"-- alice, removed:"$'\n''(closed)'* ]]
    [[ $OUT == *"-ERR 'Permissions Violation for Subscription to \"x\" (sid \"1\")'"$'\n'"-ERR 'Permissions Violation for Publish to \"x\"'"$'\n''MSG y 2 1'* ]]
    [[ $OUT == *"-- carol, new password:"$'\n'"-ERR 'Authorization Violation'"$'\n''(closed)'* ]]
    [[ $OUT == *"-- dave, added:"$'\n''PONG'* ]]
    [[ $OUT == *'[ERR] authentication error - User "carol"'* ]]
    grep -qF '[INF] Removed sub "x" (sid "1") for User "bob" - not authorized' "$SERVER_LOG"
    grep -qF '[INF] Reloaded: authorization users' "$SERVER_LOG"
    grep -qF '[INF] Reloaded server configuration' "$SERVER_LOG"
}

token_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false}\r\nPING\r\n'
    reload 'authorization { token: t1 }\n'
    send 5 'PING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"auth_token":"t1"}\r\nPING\r\n'
    reload 'authorization { token: t2, timeout: 3 }\n'
    send 6 'PING\r\n'
    say 'CONNECT {"verbose":false,"auth_token":"t2"}\r\nPING\r\n'
    exec 5>&- 6>&-
}

@test "a token required, then changed: clients without the new one are cut" {
    reload_both '' token_scenario
    local cut="-ERR 'Authorization Violation'"$'\n''(closed)'
    [[ $OUT == "PONG"$'\n'"$cut"$'\n''PONG'$'\n'"$cut"$'\n''PONG'$'\n''--'* ]]
    grep -qF '[INF] Reloaded: authorization token' "$SERVER_LOG"
    grep -qF '[INF] Reloaded: authorization timeout = 3' "$SERVER_LOG"
}

refused_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false,"user":"alice","pass":"a"}\r\nPING\r\n'
    reload 'authorization { users = [ {user: bob, password: b} ] }\nhttp_port: 8222\n'
    reload 'authorization { users = [ {user: bob, password: b} ] }\nno_such_option: 1\n'
    send 5 'PING\r\n'
    say 'CONNECT {"verbose":false,"user":"alice","pass":"a"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"bob","pass":"b"}\r\nPING\r\n'
    exec 5>&-
}

@test "an unsupported change or an invalid file is refused and the running configuration stays" {
    reload_both 'authorization { users = [ {user: alice, password: a} ] }\n' refused_scenario
    [[ $OUT == *'[ERR] Failed to reload server configuration: config reload not supported for HTTPPort: old=0, new=8222'* ]]
    [[ $OUT == *"[ERR] Failed to reload server configuration: $CONF:2:1: unknown field \"no_such_option\""* ]]
    [[ $OUT != *'Reloaded server configuration'* ]]
}

DEFAULTS1='authorization {\n  default_permissions = { publish: ">" }\n  users = [ {user: guest, password: g}, {user: admin, password: a, permissions: {}} ]\n}\nno_auth_user: guest\n'
DEFAULTS2='authorization {\n  default_permissions = { publish: "ok.>", subscribe: "ok.>" }\n  users = [ {user: guest, password: g}, {user: admin, password: a, permissions: {}} ]\n}\nno_auth_user: guest\n'

defaults_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false}\r\nSUB no.x 1\r\nSUB ok.x 2\r\nPING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"user":"admin","pass":"a"}\r\nSUB no.x 1\r\nPING\r\n'
    reload "${DEFAULTS1/no_auth_user: guest/no_auth_user: admin}"
    reload "$DEFAULTS2"
    send 5 'PUB no.x 1\r\n1\r\nPUB ok.x 1\r\n2\r\nPING\r\n'
    send 6 'PUB no.x 1\r\n3\r\nPING\r\n'
    exec 5>&- 6>&-
}

@test "default_permissions changed: the no_auth_user client takes them; no_auth_user itself cannot change" {
    reload_both "$DEFAULTS1" defaults_scenario
    [[ $OUT == *'[ERR] Failed to reload server configuration: config reload not supported for NoAuthUser: old=guest, new=admin'* ]]
    [[ $OUT == *"-ERR 'Permissions Violation for Subscription to \"no.x\" (sid \"1\")'"$'\n'"-ERR 'Permissions Violation for Publish to \"no.x\"'"$'\n''MSG ok.x 2 1'* ]]
    [[ $OUT == *'MSG no.x 1 1'$'\n''3'$'\n''PONG'* ]]
}

@test "a syntax error or a missing file is refused, logged, and the old users still work" {
    conf 'authorization { users = [ {user: alice, password: a} ] }\n'
    start_server -c "$CONF"
    reload 'authorization { users = [ {user: bob, password: b} \n'
    grep -qF "[ERR] Failed to reload server configuration: $CONF:" "$SERVER_LOG"
    rm "$CONF"
    kill -HUP "$SERVER_PID"
    wait_for_text "$SERVER_LOG" "Failed to reload server configuration: $CONF: "
    run session 'CONNECT {"verbose":false,"user":"alice","pass":"a"}\r\nPING\r\n'
    [[ $output == *PONG* ]]
    run session 'CONNECT {"verbose":false,"user":"bob","pass":"b"}\r\nPING\r\n'
    [[ $output == *"-ERR 'Authorization Violation'"* ]]
    ! grep -qF 'Reloaded server configuration' "$SERVER_LOG"
}

@test "command-line flags still win over the reloaded file" {
    conf 'authorization { token: file1 }\n'
    start_server -c "$CONF" --auth flagtok
    reload 'authorization { token: file2 }\nport: 4999\n'
    grep -qF '[INF] Reloaded server configuration' "$SERVER_LOG"
    ! grep -qF 'Reloaded: authorization token' "$SERVER_LOG"
    run session 'CONNECT {"verbose":false,"auth_token":"flagtok"}\r\nPING\r\n'
    [[ $output == *PONG* ]]
}

@test "reload with bcrypt users: connected clients stay without a new comparison, a changed hash cuts" {
    local h1='$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq' # s3cret
    local h2='$2a$04$tokentokentokentokentuWhU8yxRtk0P2yt1vD3/C0zyqor9YHAS'  # t0ken
    conf "authorization { users = [ {user: bob, password: \"$h1\"} ] }\n"
    start_server -c "$CONF"
    open 5
    run send 5 'CONNECT {"verbose":false,"user":"bob","pass":"s3cret"}\r\nPING\r\n'
    [ "$output" = PONG ]
    reload "authorization { users = [ {user: bob, password: \"$h1\"} ] }\ndebug: true\n"
    run send 5 'PING\r\n'
    [ "$output" = PONG ]
    reload "authorization { users = [ {user: bob, password: \"$h2\"} ] }\ndebug: true\n"
    run send 5 'PING\r\n'
    [ "$output" = "-ERR 'Authorization Violation'"$'\n''(closed)' ]
    exec 5>&-
}

@test "debug switched on by a reload: debug lines follow and the change is logged" {
    conf 'debug: false\n'
    start_server -c "$CONF"
    reload 'debug: true\n'
    grep -qF '[INF] Reloaded: debug = true' "$SERVER_LOG"
    run session 'PING\r\n'
    wait_for_text "$SERVER_LOG" '[DBG] 127.0.0.1:'
    reload 'debug: true\n'
    grep -qF '[DBG] Trapped "hangup" signal' "$SERVER_LOG"
}

@test "log_file and logtime changed: the log moves to the new file, without timestamps" {
    local dir=$BATS_TEST_TMPDIR
    conf "log_file: \"$dir/one.log\"\n"
    start_server -c "$CONF"
    SERVER_LOG=$dir/one.log
    grep -qE '^\[[0-9]+\] [0-9/]+ [0-9:.]+ \[INF\] Server is ready$' "$dir/one.log"
    printf 'log_file: "%s"\nlogtime: false\n' "$dir/two.log" >"$CONF"
    kill -HUP "$SERVER_PID"
    wait_for_text "$dir/two.log" 'Reloaded server configuration'
    grep -qF "[INF] Reloaded: logtime = false" "$dir/one.log"
    grep -qF "[INF] Reloaded: log_file = $dir/two.log" "$dir/one.log"
    ! grep -qF 'Reloaded server configuration' "$dir/one.log"
    grep -qE '^\[[0-9]+\] \[INF\] Reloaded server configuration$' "$dir/two.log"
    SERVER_LOG=$dir/two.log
    # -l on the command line wins over the file, at the start as on a reload.
    stop_server
    start_server -c "$CONF" -l "$dir/three.log"
    SERVER_LOG=$dir/three.log
    reload "log_file: \"$dir/four.log\"\n"
    grep -qF 'Reloaded: logtime = true' "$dir/three.log"
    ! grep -qF 'Reloaded: log_file' "$dir/three.log"
    [ ! -e "$dir/four.log" ]
}

@test "natsctl server --signal reload=PID reloads as SIGHUP does" {
    conf 'authorization { token: one }\n'
    start_server -c "$CONF"
    printf 'authorization { token: two }\n' >"$CONF"
    run "$NATSCTL" server --signal "reload=$SERVER_PID"
    [ "$status" -eq 0 ]
    wait_for_text "$SERVER_LOG" 'Reloaded server configuration'
    run session 'CONNECT {"verbose":false,"auth_token":"two"}\r\nPING\r\n'
    [[ $output == *PONG* ]]
}

# The TLS test makes two CAs and a server certificate from each.
tls_certs() {
    local d=$BATS_TEST_TMPDIR/certs ca
    mkdir -p "$d"
    for ca in ca1 ca2; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$ca.key" 2>/dev/null
        openssl req -x509 -new -key "$d/$ca.key" -days 2 -subj "/CN=$ca" -out "$d/$ca.pem" 2>/dev/null
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$ca-srv.key" 2>/dev/null
        openssl req -new -key "$d/$ca-srv.key" -subj /CN=localhost -out "$d/$ca-srv.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
        openssl x509 -req -in "$d/$ca-srv.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
            -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/$ca-srv.pem" 2>/dev/null
    done
    CERTS=$d
}

@test "a replaced TLS certificate serves new connections; the connected client keeps its session" {
    tls_certs
    cp "$CERTS/ca1-srv.pem" "$BATS_TEST_TMPDIR/cur.pem"
    cp "$CERTS/ca1-srv.key" "$BATS_TEST_TMPDIR/cur.key"
    conf "tls { cert_file: \"$BATS_TEST_TMPDIR/cur.pem\", key_file: \"$BATS_TEST_TMPDIR/cur.key\" }\n"
    start_server -c "$CONF"
    URL=tls://127.0.0.1:$PORT
    sub_bg s greet --count 1 --tlsca "$CERTS/ca1.pem"
    reload "tls { cert_file: \"$BATS_TEST_TMPDIR/cur.pem\", key_file: \"$BATS_TEST_TMPDIR/cur.key\" }\n"
    ! grep -qF 'Reloaded: tls' "$SERVER_LOG"
    cp "$CERTS/ca2-srv.pem" "$BATS_TEST_TMPDIR/cur.pem"
    cp "$CERTS/ca2-srv.key" "$BATS_TEST_TMPDIR/cur.key"
    reload "tls { cert_file: \"$BATS_TEST_TMPDIR/cur.pem\", key_file: \"$BATS_TEST_TMPDIR/cur.key\" }\n"
    grep -qF '[INF] Reloaded: tls = enabled' "$SERVER_LOG"
    run --separate-stderr "$NATSCTL" pub -s "$URL" --tlsca "$CERTS/ca1.pem" greet old
    [ "$status" -eq 3 ]
    run "$NATSCTL" pub -s "$URL" --tlsca "$CERTS/ca2.pem" greet 'after reload'
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [[ $(bg_out s) == *'after reload'* ]]
}

ACCTS1='accounts {\n  A { users = [ {user: a, password: a} ] }\n  B { users = [ {user: b, password: b} ] }\n}\n'

@test "accounts: a user moved to another account takes its subscriptions along; a new account is refused" {
    conf "$ACCTS1"
    start_server -c "$CONF"
    open 5
    send 5 'CONNECT {"verbose":false,"user":"a","pass":"a"}\r\nSUB x 1\r\nPING\r\n'
    reload 'accounts {\n  A { users = [ ] }\n  B { users = [ {user: b, password: b}, {user: a, password: a} ] }\n}\n'
    grep -qF 'Reloaded server configuration' "$SERVER_LOG"
    run session 'CONNECT {"verbose":false,"user":"b","pass":"b"}\r\nPUB x 2\r\nhi\r\nPING\r\n'
    [[ $output == *PONG* ]]
    run send 5 'PING\r\n'
    [[ $output == *'MSG x 1 2'* ]]
    reload "${ACCTS1%\}\\n}  C { users = [ {user: c, password: c} ] }\n}\n"
    grep -qF '[ERR] Failed to reload server configuration: config reload not supported for accounts' "$SERVER_LOG"
    run session 'CONNECT {"verbose":false,"user":"c","pass":"c"}\r\nPING\r\n'
    [[ $output == *"-ERR 'Authorization Violation'"* ]]
    exec 5>&-
}

@test "/varz config_load_time moves on an applied reload, not on a refused one" {
    conf 'authorization { users = [ {user: alice, password: a} ] }\n'
    start_server -c "$CONF" -m -1
    local mon t0 t1 t2
    mon=$(jq -r '.monitoring[0]' "$(dirname "$SERVER_LOG")"/*.ports)
    t0=$(curl -s "$mon/varz" | jq -r .config_load_time)
    [[ $t0 == "$(curl -s "$mon/varz" | jq -r .start)" ]]
    sleep 0.01
    reload 'authorization { users = [ {user: bob, password: b} ] }\n'
    t1=$(curl -s "$mon/varz" | jq -r .config_load_time)
    [[ $t1 > $t0 ]]
    reload 'authorization { users = [ {user: bob, password: b} ] }\nmax_payload: 100\n'
    t2=$(curl -s "$mon/varz" | jq -r .config_load_time)
    [[ $t2 == "$t1" ]]
}
