#!/usr/bin/env bats
# Users, permissions, no_auth_user and bcrypt (issue 14), compared with the reference: each
# scenario runs against the Debian nats-server and then natsctl, started from the same
# configuration, and what the clients saw plus the errors and warnings each server logged must be
# the same bytes. The few places where natsctl refuses more than nats-server 2.9.10 are tests of
# their own that say so (docs/security.md).

load helpers

teardown() {
    stop_server
}

# "s3cret" at cost 4 in three bcrypt versions, and a token; checked by both servers below.
HASH_2A='$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq'
HASH_2B='$2b$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq'
HASH_2Y='$2y$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq'
TOKEN_HASH='$2a$04$tokentokentokentokentuWhU8yxRtk0P2yt1vD3/C0zyqor9YHAS' # "t0ken"

# conf TEXT: writes printf-style TEXT to a file and prints its path.
conf() {
    printf "$1" >"$BATS_TEST_TMPDIR/auth.conf"
    echo "$BATS_TEST_TMPDIR/auth.conf"
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

# send FD TEXT: writes printf-style TEXT (which should end with a PING) on FD, then prints what
# the server sent up to its PONG, without CRs and without the server's own PINGs.
send() {
    printf "$2" >&"$1"
    local line
    while IFS= read -r -t 3 -u "$1" line; do
        line=${line%$'\r'}
        [[ $line == PING ]] && continue
        printf '%s\n' "$line"
        [[ $line == PONG ]] && return 0
    done
    echo "(no PONG on $1)"
}

users_scenario() {
    jq -c '[.auth_required, .nonce]' <<<"$(info_json)"
    say 'CONNECT {"verbose":false,"user":"alice","pass":"secret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"alice","pass":"Secret","version":"1.2","lang":"c","name":"me"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"nobody","pass":"secret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"pass":"secret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"auth_token":"secret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false}\r\nPING\r\n'
    say 'PING\r\n'
    say 'CONNECT {"verbose":false,"user":"bob","pass":"s3cret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"bob","pass":"s3cret!"}\r\nPING\r\n'
    say "CONNECT {\"verbose\":false,\"user\":\"bob\",\"pass\":\"$HASH_2A\"}\r\nPING\r\n"
    say 'CONNECT {"verbose":false,"user":"carol","pass":"s3cret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"dave","pass":"s3cret"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"eve"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"web","pass":"w"}\r\nPING\r\n'
}

@test "users with plain and bcrypt passwords: right, wrong, unknown and missing credentials" {
    on_both "$(conf "authorization {\n  users = [\n    {user: alice, password: secret}\n    {user: bob, password: \"$HASH_2A\"}\n    {user: carol, password: \"$HASH_2B\"}\n    {user: dave, password: \"$HASH_2Y\"}\n    {user: eve}\n    {user: web, password: w, allowed_connection_types: [\"WEBSOCKET\"]}\n  ]\n}\n")" users_scenario
    [[ $OUT == '[true,null]'$'\n''PONG'$'\n''--'$'\n'"-ERR 'Authorization Violation'"* ]]
    [[ $OUT == *'[WRN] Plaintext passwords detected, use nkeys or bcrypt'* ]]
    [[ $OUT == *'[ERR] "v1.2:c:me" - authentication error - User "alice"'* ]]
    [[ $OUT == *'[ERR] authentication error - User "nobody"'* ]]
    [[ $OUT == *'[ERR] authentication error - User ""'* ]]
}

token_scenario() {
    say 'CONNECT {"verbose":false,"auth_token":"t0ken"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"auth_token":"t0ken "}\r\nPING\r\n'
    say "CONNECT {\"verbose\":false,\"auth_token\":\"$TOKEN_HASH\"}\r\nPING\r\n"
    say 'CONNECT {"verbose":false,"user":"u","pass":"t0ken"}\r\nPING\r\n'
}

@test "a bcrypt token: the secret is checked, the hash itself is no password" {
    on_both "$(conf "authorization { token: \"$TOKEN_HASH\" }\n")" token_scenario
    [[ $OUT == 'PONG'$'\n''--'$'\n'"-ERR 'Authorization Violation'"* ]]
    [[ $OUT != *Plaintext* ]]
}

held_scenario() {
    say 'CONNECT {"verbose":false,"user":"bob","pass":"s3cret"}\r\nSUB x 1\r\nPUB x 2\r\nhi\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"bob","pass":"wrong"}\r\nSUB x 1\r\nPUB x 2\r\nhi\r\nPING\r\n'
}

@test "operations sent behind a bcrypt CONNECT run after its verdict, and only if it passed" {
    on_both "$(conf "authorization { users = [ {user: bob, password: \"$HASH_2A\"} ] }\n")" held_scenario
    [[ $OUT == $'MSG x 1 2\nhi\nPONG\n--\n'"-ERR 'Authorization Violation'"$'\n--'* ]]
}

@test "a bcrypt check does not hold up other clients (natsctl runs it on a worker thread)" {
    local slow='$2a$13$slowslowslowslowslowsub3kPB9eV6MHKt7alh./jo4KTnzcYJzu' # "slow", cost 13
    start_server -c "$(conf "authorization { users = [ {user: s, password: \"$slow\"}, {user: f, password: f} ] }\n")"
    open 5
    printf 'CONNECT {"verbose":false,"user":"s","pass":"slow"}\r\nPING\r\n' >&5
    open 6
    run send 6 'CONNECT {"verbose":false,"user":"f","pass":"f"}\r\nPING\r\n'
    [ "$output" = PONG ]
    # the fast client is through while the slow one still waits for its verdict
    run timeout 0.01 cat <&5
    [ -z "$output" ]
    run send 5 ''
    exec 5<&- 6<&-
    [ "$output" = PONG ]
}

no_auth_scenario() {
    jq -c '[.auth_required]' <<<"$(info_json)"
    say 'CONNECT {"verbose":false}\r\nSUB sub.x 1\r\nSUB other 2\r\nPUB pub.x 1\r\na\r\nPUB other 1\r\nb\r\nPING\r\n'
    say 'SUB other 1\r\nSUB sub.> 2\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"admin","pass":"pw"}\r\nPUB other 1\r\na\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"user":"admin","pass":"wrong"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"pass":"pw"}\r\nPING\r\n'
    say 'CONNECT {"verbose":false,"auth_token":"x"}\r\nPING\r\n'
    # no_auth_user does not stop the timer: a client that says nothing is still cut
    timeout 5 nc 127.0.0.1 "$PORT" < <(sleep 1.5) | tr -d '\r' | sed 1d
}

@test "no_auth_user: clients without credentials become that user, with its permissions" {
    on_both "$(conf 'authorization {\n  users = [\n    {user: guest, password: g, permissions: {publish: "pub.>", subscribe: "sub.>"}}\n    {user: admin, password: pw}\n  ]\n  timeout: 0.5\n}\nno_auth_user: guest\n')" no_auth_scenario
    [[ $OUT == '[null]'$'\n'"-ERR 'Permissions Violation for Subscription to \"other\"'"* ]]
    [[ $OUT == *"-ERR 'Authentication Timeout'"* ]]
    [[ $OUT == *'[ERR] Publish Violation - User "guest", Subject "other"'* ]]
}

no_auth_bcrypt_scenario() {
    say 'CONNECT {"verbose":false}\r\nPING\r\n'
    say 'PING\r\n'
    say 'CONNECT {"verbose":false,"user":"bob","pass":"s3cret"}\r\nPING\r\n'
}

@test "no_auth_user with a bcrypt password admits only clients that skip CONNECT, as in nats-server" {
    on_both "$(conf "authorization { users = [ {user: bob, password: \"$HASH_2A\"} ] }\nno_auth_user: bob\n")" no_auth_bcrypt_scenario
    [ "${OUT%%$'\n'[*}" = "-ERR 'Authorization Violation'"$'\n--\nPONG\n--\nPONG\n--' ]
}

publish_scenario() {
    local u
    for u in s l m d; do
        say "CONNECT {\"verbose\":true,\"user\":\"$u\",\"pass\":\"p\"}\r\nPUB a.b 0\r\n\r\nPUB b 0\r\n\r\nPUB c 0\r\n\r\nPUB a.secret 0\r\n\r\nPUB a.q.x 0\r\n\r\nPUB x.y 0\r\n\r\nPING\r\n"
    done
    # a refused request gets no no-responders status; an allowed one that nobody takes does
    say 'CONNECT {"verbose":false,"headers":true,"no_responders":true,"user":"s","pass":"p"}\r\nSUB _INBOX.s.* 1\r\nPUB c _INBOX.s.1 0\r\n\r\nPUB a.nobody _INBOX.s.2 0\r\n\r\nPING\r\n'
}

@test "publish permissions as a string, a list, and allow with deny (deny wins)" {
    on_both "$(conf 'authorization {\n  users = [\n    {user: s, password: p, permissions: {publish: "a.>"}}\n    {user: l, password: p, permissions: {pub: ["a.>", "b"]}}\n    {user: m, password: p, permissions: {publish: {allow: ["a.>", "x.y"], deny: ["a.secret", "a.*.x", "x.>"]}}}\n    {user: d, password: p, permissions: {publish: {deny: "x.>"}}}\n  ]\n}\n')" publish_scenario
    [[ $OUT == "+OK"$'\n'"+OK"$'\n'"-ERR 'Permissions Violation for Publish to \"b\"'"* ]]
    [[ $OUT == *"-ERR 'Permissions Violation for Publish to \"c\"'"$'\nHMSG _INBOX.s.2 1 16 16\n'* ]]
}

subscribe_scenario() {
    say 'CONNECT {"user":"a","pass":"a"}\r\nSUB x 1\r\nPUB x 1\r\na\r\nSUB w.a q3 2\r\nSUB w.b q1 3\r\nSUB w.b 4\r\nSUB w.a 5\r\nSUB w.a q2 6\r\nSUB w.a q1 7\r\nSUB z.x _sys_ 9\r\nSUB z.x q9 10\r\nSUB z.> q9 11\r\nSUB foo..x 12\r\nSUB svc.secret 13\r\nSUB svc.* 14\r\nPING\r\n'
    say 'CONNECT {"user":"b","pass":"b"}\r\nSUB foo..x 1\r\nSUB x 2\r\nSUB x.y work 3\r\nPING\r\n'
}

@test "subscribe permissions: allow and deny, queue groups in entries, _sys_, default_permissions" {
    on_both "$(conf 'authorization {\n  default_permissions = {\n    publish: ["svc.>", "_INBOX.>"]\n    subscribe: {allow: ["svc.*", "_INBOX.>", "w.* q1", "w.a", "z.>"], deny: ["svc.secret", "w.a q2", "z.* q9"]}\n  }\n  users = [ {user: a, password: a}, {user: b, password: b, permissions: {}} ]\n}\n')" subscribe_scenario
    [[ $OUT == *"-ERR 'Permissions Violation for Subscription to \"w.a\" using queue \"q3\"'"* ]]
    [[ $OUT == *'[ERR] Subscription Violation - User "a", Subject "w.a", Queue: "q3", SID 2'* ]]
}

@test "natsctl refuses a subscription wider than its allow entry, which nats-server 2.9.10 admits" {
    local file
    file=$(conf 'authorization { users = [ {user: a, permissions: {subscribe: "foo.*"}} ] }\nno_auth_user: a\n')
    for WIRE_SERVER in nats-server natsctl; do
        start_server -c "$file"
        run session_body 'CONNECT {"verbose":false}\r\nSUB foo.> 1\r\nSUB > 2\r\nSUB foo.* 3\r\nPING\r\n'
        stop_server
        if [[ $WIRE_SERVER == nats-server ]]; then
            [ "$output" = $'-ERR \'Permissions Violation for Subscription to ">"\'\nPONG' ]
        else
            [ "$output" = $'-ERR \'Permissions Violation for Subscription to "foo.>"\'\n-ERR \'Permissions Violation for Subscription to ">"\'\nPONG' ]
        fi
    done
}

filter_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false,"user":"a","pass":"a"}\r\nSUB svc.* 1\r\nSUB x.> 2\r\nPING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"headers":true,"no_responders":true,"user":"b","pass":"b"}\r\nSUB _INBOX.b.* 9\r\nPUB svc.secret _INBOX.b.1 1\r\nq\r\nPUB svc.open _INBOX.b.2 1\r\nq\r\nPUB x.hidden 1\r\nh\r\nPUB x.a.hidden 1\r\nh\r\nPUB x.seen 1\r\ns\r\nPING\r\n'
    echo --
    send 5 'PING\r\n'
    exec 5<&- 6<&-
}

@test "a subscribe deny filters what wildcard subscriptions receive; nobody receiving means a 503" {
    on_both "$(conf 'authorization { users = [\n  {user: a, password: a, permissions: {subscribe: {deny: ["svc.secret", "*.hidden"]}}}\n  {user: b, password: b}\n] }\n')" filter_scenario
    [ "${OUT%%$'\n'[*}" = "PONG
HMSG _INBOX.b.1 9 16 16
NATS/1.0 503


PONG
--
MSG svc.open 1 _INBOX.b.2 1
q
MSG x.a.hidden 2 1
h
MSG x.seen 2 1
s
PONG" ]
}

responses_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false,"user":"svc","pass":"p"}\r\nSUB req 1\r\nSUB one 2\r\nPING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"user":"cli","pass":"p"}\r\nSUB r.* 1\r\nPUB req r.1 1\r\nx\r\nPUB req r.2 1\r\ny\r\nPUB req r.3 1\r\nz\r\nPUB one r.9 1\r\nw\r\nPING\r\n'
    send 5 'PUB r.1 2\r\nok\r\nPUB r.1 2\r\nok\r\nPUB r.1 2\r\nok\r\nPUB r.4 2\r\nno\r\nPUB r.3 2\r\nok\r\nPING\r\n'
    sleep 0.7
    send 5 'PUB r.2 4\r\nlate\r\nPUB r.9 4\r\nlate\r\nPING\r\n'
    echo --
    send 6 'PING\r\n'
    exec 5<&- 6<&-
}

@test "allow_responses: replies only to a received reply subject, at most max times, until expires" {
    on_both "$(conf 'authorization { users = [\n  {user: svc, password: p, permissions: {subscribe: ["req", "one"], publish: {deny: "r.3"}, allow_responses: {max: 2, expires: "500ms"}}}\n  {user: cli, password: p}\n] }\n')" responses_scenario
    [[ $OUT == *"-ERR 'Permissions Violation for Publish to \"r.1\"'"* ]]
    [[ $OUT == *"-ERR 'Permissions Violation for Publish to \"r.2\"'"* ]]
    [[ $OUT == *$'MSG r.1 1 2\nok\nMSG r.1 1 2\nok\nMSG r.3 1 2\nok\nPONG'* ]]
}

reconnect_scenario() {
    say 'CONNECT {"verbose":false,"user":"a","pass":"a"}\r\nSUB foo.* 1\r\nPUB foo.no 1\r\nx\r\nPUB foo.yes 1\r\ny\r\nCONNECT {"verbose":false,"user":"admin","pass":"p"}\r\nPUB foo.no 1\r\nz\r\nCONNECT {"verbose":false,"user":"a","pass":"a"}\r\nPUB foo.no 1\r\nw\r\nPUB foo.yes 1\r\nv\r\nPING\r\n'
}

@test "a second CONNECT changes the user, and the permissions, under existing subscriptions" {
    on_both "$(conf 'authorization { users = [\n  {user: a, password: a, permissions: {subscribe: {deny: "foo.no"}, publish: "foo.yes"}}\n  {user: admin, password: p}\n] }\n')" reconnect_scenario
    [[ $OUT == *$'MSG foo.no 1 1\nz\n'*$'MSG foo.yes 1 1\nv\nPONG'* ]]
}

long_scenario() {
    local subject
    subject=a$(printf '.%s' $(seq 200))\"x\\
    say "CONNECT {\"verbose\":false}\r\nPUB $subject 0\r\n\r\nSUB $subject q 1\r\nPING\r\n"
}

@test "permission errors quote long and odd subjects completely, as Go's %%q does" {
    on_both "$(conf 'authorization { users = [ {user: a, permissions: {publish: "ok", subscribe: "ok"}} ] }\nno_auth_user: a\n')" long_scenario
    [[ $OUT == *'.200\"x\\" using queue "q"'"'"* ]]
}

# The message of a refused start, without program name and position.
start_error() {
    local msg
    if [[ $1 == nats-server ]]; then
        msg=$(timeout 5 "$NATS_SERVER_BIN" -c "$2" -p -1 2>&1 >/dev/null | head -1)
        msg=${msg#nats-server: }
    else
        msg=$("$NATSCTL" server -c "$2" -p -1 2>&1 >/dev/null | head -1)
        msg=${msg#natsctl server: }
    fi
    sed -E "s|^$2:[0-9]+:[0-9]+: ||" <<<"$msg"
}

@test "configurations nats-server refuses are refused with its words" {
    local text file ns ours
    local -a cases=(
        'authorization {\n  user: a\n  password: b\n  users: [{user: x, password: y}]\n}\n'
        'authorization {\n  token: a\n  users: [{user: x, password: y}]\n}\n'
        'authorization {\n  token: a\n  user: b\n}\n'
        'authorization {\n  users: [{user: x, password: y}]\n}\nno_auth_user: z\n'
        'no_auth_user: z\n'
        'authorization {\n  users: [{user: x, password: y}, {user: x, password: z}]\n}\n'
        'authorization {\n  users: [{password: y}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {publish: "foo..bar"}}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {subscribe: {allow: "a b c"}}}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {publish: {allow: "a", nope: "b"}}}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {bogus: 1}}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {allow_responses: "yes"}}]\n}\n'
        'authorization {\n  users: [{user: x, permissions: {allow_responses: {expires: 5}}}]\n}\n'
        'authorization {\n  users: [{user: x, bogus: 1}]\n}\n'
        'authorization {\n  default_permissions: {publish: ["a", "b..c"]}\n}\n'
    )
    for text in "${cases[@]}"; do
        file=$(conf "$text")
        ns=$(start_error nats-server "$file")
        ours=$(start_error natsctl "$file")
        [ "$ours" = "$ns" ] || { echo "$text: nats-server: $ns; natsctl: $ours"; return 1; }
        run "$NATSCTL" server -c "$file" -p -1
        [ "$status" -eq 2 ]
    done
}

varz_scenario() {
    curl -s "127.0.0.1:$MPORT/varz" | jq -c '{auth_required, auth_timeout}'
    jq -c '[.auth_required]' <<<"$(info_json)"
}

@test "/varz says auth is required where a client's INFO, under no_auth_user, does not" {
    MPORT=$((20000 + RANDOM % 30000))
    on_both "$(conf "http: $MPORT\nauthorization { users = [ {user: a, password: a} ], timeout: 1.5 }\nno_auth_user: a\n")" varz_scenario
    [[ $OUT == $'{"auth_required":true,"auth_timeout":1.5}\n[null]\n'* ]]
}
