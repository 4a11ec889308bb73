#!/usr/bin/env bash
# Runs the libnats interop suite against natsctl or the reference nats-server.
# Usage: run.sh natsctl|nats-server INTEROP_BINARY
#
# One server per configuration (default, token auth, user/password auth, users with permissions,
# small max_pending, JetStream, TLS with client certificates). Each test group runs in its own
# process under a time limit (tests/lib/suite.sh).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/suite.sh"
suite_init interop 30 "$@"

export INTEROP_TOKEN=interop-s3cret-token INTEROP_USER=alice INTEROP_PASS=interop-pa55

# The tls group's certificates: a CA, the server's (localhost, 127.0.0.1), a client's, an expired
# client's, and one from another CA.
make_certs() (
    local d=$1 ca name days ext
    mkdir -p "$d" && cd "$d" || return 1
    for ca in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=interop $ca" -keyout "$ca.key" -out "$ca.pem" 2>/dev/null || return 1
    done
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    for name in server:ca:2 client:ca:2 expired:ca:-1 stranger:other-ca:2; do
        IFS=: read -r name ca days <<<"$name"
        ext=()
        [[ $name == server ]] && ext=(-extfile server.ext)
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
            -keyout "$name.key" -out "$name.csr" 2>/dev/null &&
            openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
                -days "$days" "${ext[@]}" -out "$name.pem" 2>/dev/null ||
            return 1
    done
)

# max_payload may not exceed max_pending, so the slow-consumer server needs a smaller one.
printf 'max_pending: 262144\nwrite_deadline: "2s"\nmax_payload: 65536\n' >"$work/slow.conf"

if start_server default; then
    for group in pubsub request limits; do
        run_group "$group" "$URL"
    done
fi
start_server slow -c "$work/slow.conf" && run_group slow "$URL"
start_server token --auth "$INTEROP_TOKEN" && run_group token "$URL"
start_server userpass --user "$INTEROP_USER" --pass "$INTEROP_PASS" && run_group userpass "$URL"
# bob's password is "s3cret" as bcrypt; tests/interop/test_users.c knows the rest. The nkey
# user's seed (RFC 8032's first key, as in tests/unit/test_nkey.c) goes in a file for libnats.
export INTEROP_NKEY_SEED=$work/user.nk
printf 'SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA\n' >"$INTEROP_NKEY_SEED"
cat >"$work/users.conf" <<'EOF'
authorization {
  users = [
    {nkey: UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL, permissions: {publish: "nk.>", subscribe: "nk.>"}}
    {user: alice, password: alice-pw}
    {user: bob, password: "$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq"}
    {user: guest, permissions: {publish: "public.>", subscribe: ["public.>", "_INBOX.>"]}}
    {user: svc, password: svc-pw, permissions: {
      subscribe: {allow: "svc.>", deny: "svc.private"}, publish: {deny: ">"}, allow_responses: true}}
    {user: worker, password: worker-pw, permissions: {subscribe: "jobs workers"}}
  ]
}
no_auth_user: guest
EOF
start_server users -c "$work/users.conf" && run_group users "$URL"
export INTEROP_CERTS=$work/certs
if make_certs "$INTEROP_CERTS"; then
    start_server tls --tlsverify --tlscert "$INTEROP_CERTS/server.pem" \
        --tlskey "$INTEROP_CERTS/server.key" --tlscacert "$INTEROP_CERTS/ca.pem" &&
        run_group tls "$URL"
else
    echo "$suite: cannot make the tls group's certificates (is openssl installed?)" >&2
    failed=$((failed + 1))
fi
# JetStream with a file store in the work directory. Until natsctl's server has -js, its refusal
# of the flag skips the group (said on stderr) instead of failing the whole suite; any other
# failure to start still counts.
if start_server js -js -sd "$work/js/store"; then
    run_group js "$URL"
    # Consumers come after streams in natsctl: while its server refuses them with this text, the
    # jsc group is skipped (said on stderr); once it takes them, every failure counts.
    before=("$passed" "$failed")
    run_group jsc "$URL"
    if grep -q 'consumers are not available in natsctl yet' "$work/jsc.out"; then
        passed=${before[0]} failed=${before[1]}
        echo "$suite: jsc group skipped: this $server has no consumers yet" >&2
    fi
elif grep -q 'JetStream is not available' "$work/js/log"; then
    failed=$((failed - 1))
    echo "$suite: js group skipped: this $server has no JetStream yet" >&2
fi
suite_finish
