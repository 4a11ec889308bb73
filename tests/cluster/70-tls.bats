#!/usr/bin/env bats
# Routes over TLS (cluster { tls {} }), as nats-server 2.9.10 has them: both ends handshake before
# anything is said, each verifies the other's certificate against ca_file (a dialed peer's also
# against the address dialed), and a failed handshake is logged as "TLS route handshake error".
# Three natsctl servers and a Debian nats-server form one cluster; servers with a certificate from
# another CA, or without TLS, are refused by both implementations with the same log line.

load lib

setup_file() {
    local d=$BATS_FILE_TMPDIR/certs
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
        for ca in ca other-ca; do
            key "$ca"
            openssl req -x509 -new -key "$ca.key" -days 2 -subj "/CN=natsctl route $ca" \
                -out "$ca.pem" 2>/dev/null
        done
        # A route certificate serves both ends: the acceptor's and the dialer's.
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >route.ext
        # ... and one of the right CA for another address
        printf 'subjectAltName=IP:10.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >misnamed.ext
        for c in node:ca:route stranger:other-ca:route misnamed:ca:misnamed; do
            IFS=: read -r name ca ext <<<"$c"
            key "$name"
            openssl req -new -key "$name.key" -subj "/CN=route" -out "$name.csr" 2>/dev/null
            openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
                -days 2 -extfile "$ext.ext" -out "$name.pem" 2>/dev/null
        done
        for c in node stranger misnamed; do
            printf 'cluster {\n  tls {\n    cert_file: "%s"\n    key_file: "%s"\n    ca_file: "%s"\n    timeout: 2\n  }\n}\n' \
                "$d/$c.pem" "$d/$c.key" "$d/ca.pem" >"$c.conf"
        done
        [[ -s node.pem && -s stranger.pem && -s misnamed.pem ]]
    ) || return 1
    start_node natsctl A -c "$d/node.conf"
    start_node natsctl B -c "$d/node.conf" --routes "$(peer A)"
    start_node natsctl C -c "$d/node.conf" --routes "$(peer B)"
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

teardown() {
    stop_all_bg
}

CERTS() { echo "$BATS_FILE_TMPDIR/certs"; }

# peer NAME: NAME's route URL as a nats:// URL. The ports file says tls:// for a TLS cluster port,
# as nats-server's does; natsctl takes that as a route URL too, nats-server 2.9.10 not everywhere.
peer() {
    local u
    u=$(route_url "$1")
    echo "nats://${u#*://}"
}

# each_to_each N NAME...: subscribers on every NAME get the N messages published on every NAME.
each_to_each() {
    local n=$1 from to
    shift
    for from in "$@"; do
        for to in "$@"; do
            bg "t-$from-$to" sub -s "$(url "$to")" "t.$from"
        done
        for to in "$@"; do
            [[ $to == "$from" ]] || wait_interest "$from" "t.$from" $(($# - 1)) || return 1
        done
        pub_many "$(url "$from")" "t.$from" "$n"
        for to in "$@"; do
            wait_lines "t-$from-$to" "$n" || return 1
        done
    done
    for from in "$@"; do
        for to in "$@"; do
            exactly_once "$n" "t-$from-$to" || return 1
        done
    done
    stop_all_bg
}

# routed NAME: NAME has a route.
routed() { (($(num_routes "$1") > 0)); }

# logged NAME TEXT: NAME's log has a line with TEXT (5 s at most).
has_log() { grep -qF "$2" "$(node_log "$1")"; }
logged() { until_true 5 has_log "$1" "$2"; }

# route_info PORT [s_client options...]: the first line a route acceptor sends over TLS to a peer
# with the route certificate.
route_info() {
    local port=$1
    shift
    # stdin stays open a while: at its end s_client may close before the INFO line has come
    sleep 2 | timeout 4 openssl s_client -connect "127.0.0.1:$port" -cert "$(CERTS)/node.pem" \
        -key "$(CERTS)/node.key" -CAfile "$(CERTS)/ca.pem" -quiet "$@" 2>/dev/null | head -1
}

# cluster_port NAME
cluster_port() {
    local u
    u=$(route_url "$1")
    u=${u##*:}
    echo "${u%/}"
}

# tls_conf NAME EXTRA: a configuration with the route certificate and EXTRA in cluster.tls.
tls_conf() {
    printf 'cluster {\n  tls {\n    cert_file: "%s"\n    key_file: "%s"\n    ca_file: "%s"\n%s  }\n}\n' \
        "$(CERTS)/node.pem" "$(CERTS)/node.key" "$(CERTS)/ca.pem" "$2" >"$BATS_FILE_TMPDIR/$1.conf"
    echo "$BATS_FILE_TMPDIR/$1.conf"
}

@test "three natsctl servers over TLS routes form a mesh and exchange messages" {
    wait_mesh 3 A B C
    each_to_each 10 A B C
    run cat "$(node_log C)"
    [[ $output != *"[ERR]"* ]]
    [[ $output == *"Route connection created"* ]]
    run curl -sf "http://127.0.0.1:$(mon A)/varz"
    [ "$(jq -c '.cluster | [.tls_required, .tls_verify, .tls_timeout]' <<<"$output")" = '[true,true,2]' ]
}

@test "the route INFO comes over TLS and says tls_required and tls_verify" {
    run route_info "$(cluster_port A)"
    [[ $output == "INFO {"* ]]
    [[ $output == *'"tls_required":true'* ]]
    [[ $output == *'"tls_verify":true'* ]]
}

@test "mixed: nats-server joins the natsctl servers over TLS routes" {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server at $NATS_SERVER_BIN"
    start_node nats-server S -c "$(CERTS)/node.conf" --routes "$(peer C)"
    wait_mesh 4 A B C S
    each_to_each 10 A C S
    run cat "$(node_log S)"
    [[ $output != *"[ERR]"* ]]
}

@test "a route with a certificate from another CA is refused with a clear log line" {
    local routes
    routes=$(peer A)
    [[ -x $NATS_SERVER_BIN ]] && routes+=",$(peer S)"
    start_node natsctl X -c "$(CERTS)/stranger.conf" --routes "$routes"
    logged A "TLS route handshake error: tls: failed to verify client certificate: x509: certificate signed by unknown authority"
    if [[ -x $NATS_SERVER_BIN ]]; then
        logged S "TLS route handshake error: tls: failed to verify client certificate: x509: certificate signed by unknown authority"
    fi
    [ "$(num_routes X)" = 0 ]
    stop_node X
    [ "$(num_routes A)" = "$(num_routes B)" ]
}

@test "a plaintext route to a TLS cluster port is refused" {
    local routes
    routes=$(peer A)
    [[ -x $NATS_SERVER_BIN ]] && routes+=",$(peer S)"
    start_node natsctl P --routes "$routes"
    logged A "TLS route handshake error: tls: first record does not look like a TLS handshake"
    [[ -x $NATS_SERVER_BIN ]] &&
        logged S "TLS route handshake error: tls: first record does not look like a TLS handshake"
    [ "$(num_routes P)" = 0 ]
    stop_node P
}

@test "a TLS route to a plaintext cluster port fails the handshake on the dialing side" {
    start_node natsctl Q
    start_node natsctl T -c "$(CERTS)/node.conf" --routes "$(peer Q)"
    logged T "TLS route handshake error: tls: first record does not look like a TLS handshake"
    if [[ -x $NATS_SERVER_BIN ]]; then
        start_node nats-server U -c "$(CERTS)/node.conf" --routes "$(peer Q)"
        logged U "TLS route handshake error: tls: first record does not look like a TLS handshake"
        stop_node U
    fi
    [ "$(num_routes Q)" = 0 ]
    stop_node T
    stop_node Q
}

@test "a peer whose certificate names another address is refused by the dialer, in Go's words" {
    start_node natsctl M -c "$(CERTS)/misnamed.conf"
    start_node natsctl D -c "$(CERTS)/node.conf" --routes "$(peer M)"
    logged D "TLS route handshake error: x509: certificate is valid for 10.0.0.1, not 127.0.0.1"
    if [[ -x $NATS_SERVER_BIN ]]; then
        start_node nats-server E -c "$(CERTS)/node.conf" --routes "$(peer M)"
        logged E "TLS route handshake error: x509: certificate is valid for 10.0.0.1, not 127.0.0.1"
        stop_node E
    fi
    [ "$(num_routes M)" = 0 ]
    stop_node D
    stop_node M
}

@test "a bad route certificate is refused at startup with file:line:col and exit 2" {
    local f=$BATS_TEST_TMPDIR/bad.conf
    printf 'cluster {\n  port: -1\n  tls {\n    cert_file: "%s"\n    key_file: "%s"\n  }\n}\n' \
        "$(CERTS)/none.pem" "$(CERTS)/node.key" >"$f"
    run --separate-stderr "$NATSCTL" server -p -1 -c "$f"
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl server: $f:3:3: error parsing X509 certificate/key pair: open $(CERTS)/none.pem: no such file or directory" ]
    printf 'cluster {\n  port: -1\n  tls {\n    cert_file: "%s"\n    key_file: "%s"\n    verify_and_map: true\n  }\n}\n' \
        "$(CERTS)/node.pem" "$(CERTS)/node.key" >"$f"
    run --separate-stderr "$NATSCTL" server -p -1 -c "$f"
    [ "$status" -eq 2 ]
    [[ $stderr == *"$f:6:5: field \"cluster.tls.verify_and_map\" (mapping route certificates to the cluster user) is not supported"* ]]
}

@test "route TLS honours min_version, cipher_suites and timeout" {
    local port start out
    start_node natsctl V -c "$(tls_conf v $'    min_version: "1.3"\n    timeout: 0.5\n')"
    port=$(cluster_port V)
    run route_info "$port" -tls1_2
    [ -z "$output" ]
    run route_info "$port" -tls1_3
    [[ $output == "INFO {"* ]]
    # a peer that never starts the handshake is cut after the timeout
    start=$SECONDS
    out=$(timeout 5 nc -d 127.0.0.1 "$port" | wc -c)
    ((SECONDS - start < 3))
    [ "$out" = 0 ]
    logged V "TLS handshake timeout"
    stop_node V
    start_node natsctl W -c "$(tls_conf w $'    cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n')"
    port=$(cluster_port W)
    run route_info "$port" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
    [ -z "$output" ]
    run route_info "$port" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
    [[ $output == "INFO {"* ]]
    stop_node W
}

@test "route pinned_certs: a peer whose key is not pinned is refused" {
    local pin
    pin=$(openssl x509 -in "$(CERTS)/node.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
        sha256sum | cut -d' ' -f1)
    start_node natsctl K -c "$(tls_conf k $'    pinned_certs: ["'"$pin"$'"]\n')" --routes "$(peer A)"
    start_node natsctl L -c "$(tls_conf l $'    pinned_certs: ["'"${pin//?/0}"$'"]\n')" --routes "$(peer A)"
    until_true 10 routed K
    logged L "TLS route handshake error: certificate not pinned"
    [ "$(num_routes L)" = 0 ]
    stop_node K
    stop_node L
}
