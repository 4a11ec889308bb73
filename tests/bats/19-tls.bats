#!/usr/bin/env bats
# TLS: the server's tls block and --tls flags, the client tools over TLS (tls:// URLs, an INFO that
# requires TLS, --tlsca/--tlscert/--tlskey), client certificates when verify is on, a plaintext
# client on a TLS port (compared byte for byte with nats-server), the handshake timeout, bad files
# refused at startup, the https monitoring port, and verify_and_map (compared with nats-server). The
# certificates are made here with the openssl tool: a CA, a server certificate for 127.0.0.1 and
# localhost, a client certificate, an expired one, one from another CA, and three for mapping.

load helpers

setup_file() {
    local d=$BATS_FILE_TMPDIR/certs
    mkdir -p "$d"
    cd "$d" || return 1
    # key NAME: a P-256 key (quick to make).
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
    # sign NAME CA SUBJECT DAYS [EXT]: a certificate for NAME.key signed by CA.
    sign() {
        openssl req -new -key "$1.key" -subj "$3" -out "$1.csr" 2>/dev/null
        openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$4" \
            ${5:+-extfile "$5"} -out "$1.pem" 2>/dev/null
    }
    for ca in ca other-ca; do
        key "$ca"
        openssl req -x509 -new -key "$ca.key" -days 2 -subj "/CN=natsctl test $ca" -out "$ca.pem" 2>/dev/null
    done
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    key server && sign server ca /CN=localhost 2 server.ext
    key client && sign client ca "/CN=alice/O=natsctl" 2
    key expired && sign expired ca /CN=late -1
    key stranger && sign stranger other-ca /CN=stranger 2
    # verify_and_map: a SAN e-mail address, a subject in another RDN order, a subject of nobody
    printf 'subjectAltName=email:bob@example.com\n' >bob.ext
    key bob && sign bob ca /CN=bob 2 bob.ext
    key dave && sign dave ca "/CN=dave/O=natsctl" 2
    key carol && sign carol ca "/CN=carol/O=natsctl" 2
    # a subject attribute nats-server's DN parser does not know, and a comma to escape
    key frank && sign frank ca "/CN=frank/emailAddress=frank@example.com/O=Acme, Inc." 2
    [[ -s server.pem && -s client.pem && -s expired.pem && -s stranger.pem && -s bob.pem ]]
    [[ -s dave.pem && -s carol.pem && -s frank.pem ]]
}

setup() {
    client_setup
    CERTS=$BATS_FILE_TMPDIR/certs
    NS_PID=
}

teardown() {
    client_teardown
    if [[ -n $NS_PID ]]; then
        kill -INT "$NS_PID" 2>/dev/null || true
        wait "$NS_PID" 2>/dev/null || true
    fi
}

# tls_serve [flags...]: natsctl server with the test certificate, URL=tls://127.0.0.1:PORT.
tls_serve() {
    client_serve --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server.key" "$@"
    URL=tls://127.0.0.1:$PORT
}

# reference_serve [flags...]: nats-server alongside, with the same certificate; sets NS_PORT.
reference_serve() {
    local dir i
    dir=$(mktemp -d "$BATS_TEST_TMPDIR/ns.XXXXXX")
    "$NATS_SERVER_BIN" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" --tls \
        --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server.key" "$@" >"$dir/log" 2>&1 3>&- &
    NS_PID=$!
    NS_LOG=$dir/log
    for ((i = 0; i < 100; i++)); do
        NS_PORT=$(grep -o 'tls://[^"]*' "$dir"/*.ports 2>/dev/null | sed 's/.*://')
        [[ -n $NS_PORT ]] && return 0
        sleep 0.05
    done
    cat "$dir/log" >&2
    return 1
}

# plaintext PORT BYTES: what a plaintext client that sends BYTES gets before the server closes, as
# od shows the characters.
plaintext() {
    printf "$2" | timeout 5 nc -N 127.0.0.1 "$1" | od -An -c | tr -s ' \n' ' ' | sed 's/^ //'
}

@test "INFO says tls_required (and tls_verify) and the ports file a tls:// URL" {
    tls_serve --tlsverify --tlscacert "$CERTS/ca.pem"
    run info_json
    [ "$(jq -c '[.tls_required, .tls_verify, has("tls_available")]' <<<"$output")" = '[true,true,false]' ]
    grep -q '"nats":\["tls://127.0.0.1:' "$(dirname "$SERVER_LOG")"/*.ports
    grep -q 'TLS required for client connections' "$SERVER_LOG"
    grep -q "listening on tls://127.0.0.1:$PORT" "$SERVER_LOG"
}

@test "pub, sub, request and reply work over tls:// with --tlsca" {
    tls_serve
    sub_bg s greet --count 1 --tlsca "$CERTS/ca.pem"
    run "$NATSCTL" pub -s "$URL" --tlsca "$CERTS/ca.pem" greet 'over tls'
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [[ $(bg_out s) == *'over tls'* ]]
    reply_bg r svc --tlsca "$CERTS/ca.pem" --command 'echo answered'
    run "$NATSCTL" request -s "$URL" --tlsca "$CERTS/ca.pem" svc question
    [ "$status" -eq 0 ]
    [[ $output == *answered* ]]
}

@test "a nats:// URL upgrades to TLS when INFO requires it, as nats.go does" {
    tls_serve
    run --separate-stderr "$NATSCTL" pub -s "nats://localhost:$PORT" --tlsca "$CERTS/ca.pem" x y
    [ "$status" -eq 0 ]
    NATS_CA=$CERTS/ca.pem run --separate-stderr "$NATSCTL" request -s "127.0.0.1:$PORT" nobody x
    [ "$status" -eq 5 ]
}

@test "the server's certificate must be trusted and name the host" {
    tls_serve -a 0.0.0.0
    run --separate-stderr "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 3 ]
    one_line "$stderr"
    [[ $stderr == *"TLS handshake failed: the server's certificate is not trusted: unable to get local issuer certificate" ]]
    # 127.0.0.2 reaches the same server, but the certificate is for 127.0.0.1 and localhost
    run --separate-stderr "$NATSCTL" pub -s "tls://127.0.0.2:$PORT" --tlsca "$CERTS/ca.pem" x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"the server's certificate is not trusted: IP address mismatch" ]]
}

@test "TLS asked for from a server without TLS: secure connection not available, exit 3" {
    client_serve
    run --separate-stderr "$NATSCTL" pub -s "tls://127.0.0.1:$PORT" x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"secure connection not available: the server does not offer TLS" ]]
    run --separate-stderr "$NATSCTL" pub -s "$URL" --tlsca "$CERTS/ca.pem" x y
    [ "$status" -eq 3 ]
}

@test "TLS files that do not load are a usage error before connecting" {
    run --separate-stderr "$NATSCTL" pub -s tls://127.0.0.1:9 --tlsca "$CERTS/none.pem" x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: $CERTS/none.pem: No such file or directory" ]
    run --separate-stderr "$NATSCTL" pub -s tls://127.0.0.1:9 --tlscert "$CERTS/client.pem" x y
    [ "$status" -eq 2 ]
    [[ $stderr == *"a client certificate needs its key"* ]]
}

@test "verify on: certificate-less and wrong-CA clients are refused with nats-server's log lines" {
    tls_serve --tlsverify --tlscacert "$CERTS/ca.pem"
    local ca=(--tlsca "$CERTS/ca.pem")
    run --separate-stderr "$NATSCTL" pub -s "$URL" "${ca[@]}" x y
    [ "$status" -eq 3 ]
    [[ $stderr == *"TLS handshake failed: refused by the server"* ]]
    wait_for_text "$SERVER_LOG" "[ERR] 127.0.0.1:"
    grep -q -- "- cid:1 - TLS handshake error: tls: client didn't provide a certificate" "$SERVER_LOG"
    run --separate-stderr "$NATSCTL" pub -s "$URL" "${ca[@]}" --tlscert "$CERTS/stranger.pem" \
        --tlskey "$CERTS/stranger.key" x y
    [ "$status" -eq 3 ]
    wait_for_text "$SERVER_LOG" "TLS handshake error: tls: failed to verify client certificate: x509: certificate signed by unknown authority"
    run --separate-stderr "$NATSCTL" pub -s "$URL" "${ca[@]}" --tlscert "$CERTS/expired.pem" \
        --tlskey "$CERTS/expired.key" x y
    [ "$status" -eq 3 ]
    wait_for_text "$SERVER_LOG" "x509: certificate has expired or is not yet valid"
    run --separate-stderr "$NATSCTL" pub -s "$URL" "${ca[@]}" --tlscert "$CERTS/client.pem" \
        --tlskey "$CERTS/client.key" x y
    [ "$status" -eq 0 ]
}

@test "a client certificate from the environment or a natscli context is used" {
    tls_serve --tlsverify --tlscacert "$CERTS/ca.pem"
    NATS_CA=$CERTS/ca.pem NATS_CERT=$CERTS/client.pem NATS_KEY=$CERTS/client.key \
        run "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" context add tlsctx --server "$URL" --tlsca "$CERTS/ca.pem" \
        --tlscert "$CERTS/client.pem" --tlskey "$CERTS/client.key"
    [ "$status" -eq 0 ]
    run --separate-stderr "$NATSCTL" --context tlsctx pub x y
    [ "$status" -eq 0 ]
    run "$NATSCTL" context show tlsctx
    [[ $output == *"CA"*"$CERTS/ca.pem"* ]]
}

@test "a plaintext client on a TLS port gets the INFO line, then the close, as from nats-server" {
    tls_serve -DV
    reference_serve
    local ours theirs
    ours=$(plaintext "$PORT" 'CONNECT {}\r\nPING\r\n')
    theirs=$(plaintext "$NS_PORT" 'CONNECT {}\r\nPING\r\n')
    # Only the INFO line differs (ids, ports, versions); nothing follows it from either server.
    [[ $ours == 'I N F O {'*'} \r \n ' ]]
    [[ $theirs == 'I N F O {'*'} \r \n ' ]]
    wait_for_text "$SERVER_LOG" "TLS handshake error: tls: first record does not look like a TLS handshake"
    wait_for_text "$NS_LOG" "TLS handshake error: tls: first record does not look like a TLS handshake"
    grep -q "Client connection closed: TLS Handshake Failure" "$SERVER_LOG"
}

@test "a client that never starts the handshake is cut after the TLS timeout" {
    printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n  timeout: 0.5\n}\n' \
        "$CERTS/server.pem" "$CERTS/server.key" >"$BATS_TEST_TMPDIR/t.conf"
    client_serve -D -c "$BATS_TEST_TMPDIR/t.conf"
    local start=$SECONDS out
    out=$(timeout 5 nc -d 127.0.0.1 "$PORT" | od -An -c | tr -s ' \n' ' ' | sed 's/^ //')
    ((SECONDS - start < 3))
    [[ $out == 'I N F O {'*'} \r \n ' ]]
    grep -q '\[ERR\] .* - cid:1 - TLS handshake timeout' "$SERVER_LOG"
}

# verify_and_map: each client publishes once with its certificate (none for "-"), some naming a
# user in their CONNECT as well; what it saw.
map_scenario() {
    local entry who subj user
    for entry in client:a.x: client:b.x: client:a.x:intruder bob:b.x: dave:b.x: frank:f.x: \
        frank:b.x: carol:a.x: -:a.x:; do
        IFS=: read -r who subj user <<<"$entry"
        local args=()
        [[ $who == - ]] || args=(--tlscert "$CERTS/$who.pem" --tlskey "$CERTS/$who.key")
        [[ -z $user ]] || args+=(--user "$user")
        run --separate-stderr "$NATSCTL" pub -s "tls://127.0.0.1:$PORT" --tlsca "$CERTS/ca.pem" \
            "${args[@]}" "$subj" hi
        # without a certificate only the exit code: the alert names differ (Go and OpenSSL)
        [[ $who == - ]] && stderr=
        stderr=${stderr//$PORT/PORT}
        echo "$who $subj${user:+ as $user}: $status $stderr"
    done
}

# The errors and warnings of the server log, without pid, time, client address and cid.
log_lines() {
    grep -E '\[(ERR|WRN)\]' "$SERVER_LOG" |
        sed -E 's/^\[[0-9]+\] [0-9/]+ [0-9:.]+ //; s/ [0-9.]+:[0-9]+ - cid:[0-9]+ - / /'
}

@test "verify_and_map: a certificate names its user, as in nats-server (both servers compared)" {
    local f=$BATS_TEST_TMPDIR/map.conf ref out
    printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n  ca_file: "%s"\n  verify_and_map: true\n}\n' \
        "$CERTS/server.pem" "$CERTS/server.key" "$CERTS/ca.pem" >"$f"
    cat >>"$f" <<'EOF'
authorization {
  users = [
    {user: "CN=alice,O=natsctl", permissions: {publish: "a.>"}}
    {user: "bob@example.com"}
    {user: "O=natsctl, CN=dave", permissions: {publish: "d.>"}}
    {user: "CN=frank,O=Acme\\, Inc.", permissions: {publish: "f.>"}}
  ]
}
EOF
    WIRE_SERVER=nats-server
    start_server -c "$f"
    ref=$(map_scenario)$'\n'$(log_lines)
    stop_server
    WIRE_SERVER=natsctl
    start_server -c "$f"
    out=$(map_scenario)$'\n'$(log_lines)
    stop_server
    if [[ $ref != "$out" ]]; then
        diff <(printf '%s\n' "$ref") <(printf '%s\n' "$out") | sed 's/^/  nats-server < > natsctl: /' >&2
        return 1
    fi
    # alice (by her subject) may publish to a.> only; bob (by his e-mail address) anywhere; dave
    # (his subject's RDNs in another order) to d.> only; carol maps to nobody; no certificate at all
    # fails the handshake.
    [[ $out == "client a.x: 0 "$'\n'"client b.x: 6 "*'Permissions Violation for Publish to "b.x"'* ]]
    [[ $out == *$'\n'"client a.x as intruder: 0 "$'\n'* ]]
    [[ $out == *'[WRN] User "intruder" found in connect proto, but user required from cert'* ]]
    [[ $out == *$'\n'"bob b.x: 0 "$'\n'"dave b.x: 6 "*$'\n'"carol a.x: 3 "*"Authorization Violation"* ]]
    [[ $out == *$'\n'"- a.x: 3 "$'\n'* ]]
    [[ $out == *'Publish Violation - User "CN=alice,O=natsctl", Subject "b.x"'* ]]
    [[ $out == *'Publish Violation - User "O=natsctl, CN=dave", Subject "b.x"'* ]]
    # frank by his subject as Go prints it: its e-mail attribute left out, the comma escaped
    [[ $out == *$'\n'"frank f.x: 0 "$'\n'"frank b.x: 6 "* ]]
    [[ $out == *'Publish Violation - User "CN=frank,O=Acme\\, Inc.", Subject "b.x"'* ]] # Go's %q
    [[ $out == *'authentication error - User ""'* ]]
    [[ $out == *"TLS handshake error: tls: client didn't provide a certificate"* ]]
    [[ $out != *Plaintext* ]]
}

@test "bad certificate and key files are refused at startup with file:line:col and exit 2" {
    local f=$BATS_TEST_TMPDIR/t.conf
    printf 'port: -1\ntls {\n  cert_file: "%s"\n  key_file: "%s"\n}\n' "$CERTS/none.pem" "$CERTS/server.key" >"$f"
    run --separate-stderr "$NATSCTL" server -c "$f"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: $f:2:1: error parsing X509 certificate/key pair: open $CERTS/none.pem: no such file or directory" ]
    printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n}\n' "$CERTS/server.pem" "$CERTS/client.key" >"$f"
    run --separate-stderr "$NATSCTL" server -c "$f"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: $f:1:1: error parsing X509 certificate/key pair: tls: private key does not match public key" ]
    printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n  verify_and_map: 1\n}\n' \
        "$CERTS/server.pem" "$CERTS/server.key" >"$f"
    run --separate-stderr "$NATSCTL" server -c "$f"
    [ "$status" -eq 2 ]
    [[ $stderr == *"$f:4:3: "*"verify_and_map"*"expected true or false"* ]]
    run --separate-stderr "$NATSCTL" server --tls
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: TLS Server certificate must be present and valid" ]
    run --separate-stderr "$NATSCTL" server --tlscert "$CERTS/server.pem"
    [ "$stderr" = "natsctl server: TLS Server private key must be present and valid" ]
    run --separate-stderr "$NATSCTL" server --tlscert "$CERTS/server.key" --tlskey "$CERTS/server.key"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: error parsing X509 certificate/key pair: tls: failed to find any PEM data in certificate input" ]
}

@test "--tls=false turns off the file's TLS, as in nats-server" {
    printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n}\n' "$CERTS/server.pem" "$CERTS/server.key" \
        >"$BATS_TEST_TMPDIR/t.conf"
    client_serve -c "$BATS_TEST_TMPDIR/t.conf" --tls=false
    run info_json
    [ "$(jq -c 'has("tls_required")' <<<"$output")" = false ]
    run "$NATSCTL" pub -s "$URL" x y
    [ "$status" -eq 0 ]
}

@test "https_port serves the monitoring endpoints over TLS with the server's certificate" {
    local mport
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    tls_serve -ms "$mport"
    grep -q "Starting https monitor on 127.0.0.1:$mport" "$SERVER_LOG"
    grep -q "\"monitoring\":\[\"https://127.0.0.1:$mport\"\]" "$(dirname "$SERVER_LOG")"/*.ports
    run curl -sf --cacert "$CERTS/ca.pem" "https://localhost:$mport/varz"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.tls_required, .https_port, .http_port, .tls_timeout]' <<<"$output")" = "[true,$mport,0,2]" ]
    run curl -s -o /dev/null "http://127.0.0.1:$mport/varz"
    [ "$status" -ne 0 ]
    run --separate-stderr "$NATSCTL" server -p -1 -m 8222 -ms 8443 --tls \
        --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server.key"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: can't specify both HTTP (8222) and HTTPs (8443) ports" ]
    run --separate-stderr "$NATSCTL" server -p -1 -ms 8443
    [ "$stderr" = "natsctl server: TLS cert and key required for HTTPS" ]
}

# handshake PORT [s_client options...]: whether a TLS handshake with PORT succeeds.
handshake() {
    local port=$1
    shift
    timeout 3 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CERTS/ca.pem" "$@" \
        </dev/null >/dev/null 2>&1
}

@test "min_version and cipher_suites are honoured (on the https port, which shares the block)" {
    local mport f=$BATS_TEST_TMPDIR/v.conf
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'https_port: %s\ntls {\n  cert_file: "%s"\n  key_file: "%s"\n  min_version: "1.3"\n}\n' \
        "$mport" "$CERTS/server.pem" "$CERTS/server.key" >"$f"
    client_serve -c "$f"
    run handshake "$mport" -tls1_2
    [ "$status" -ne 0 ]
    run handshake "$mport" -tls1_3
    [ "$status" -eq 0 ]
    stop_server
    printf 'https_port: %s\ntls {\n  cert_file: "%s"\n  key_file: "%s"\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n}\n' \
        "$mport" "$CERTS/server.pem" "$CERTS/server.key" >"$f"
    client_serve -c "$f"
    run handshake "$mport" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
    [ "$status" -ne 0 ]
    run handshake "$mport" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
    [ "$status" -eq 0 ]
    run handshake "$mport" -tls1_2
    [ "$status" -eq 0 ]
}

@test "connz shows the TLS version and cipher suite of a TLS client" {
    local mport
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    tls_serve -m "$mport"
    sub_bg s watched --tlsca "$CERTS/ca.pem"
    run curl -sf "http://127.0.0.1:$mport/connz"
    [ "$(jq -r '.connections[0] | .tls_version + " " + .tls_cipher_suite' <<<"$output")" = "1.3 TLS_AES_128_GCM_SHA256" ]
}

@test "bench and the shell work over TLS" {
    tls_serve
    run --separate-stderr "$NATSCTL" bench pubsub -s "$URL" --tlsca "$CERTS/ca.pem" --msgs 2000 --size 64
    [ "$status" -eq 0 ]
    [[ $output == *"2,000 msgs"* ]]
    run --separate-stderr "$NATSCTL" shell -s "$URL" --tlsca "$CERTS/ca.pem" <<<'pub shell.x hi'
    [ "$status" -eq 0 ]
}
