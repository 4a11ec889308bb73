#!/usr/bin/env bats
# Accounts, no_auth_user into an account and the system account (issue 14), compared with the
# reference: each scenario runs against the Debian nats-server and then natsctl started from the
# same configuration, and what the clients saw plus the errors and warnings each server logged
# must be the same bytes. The system account's answers differ in values (ids, times, memory), so
# their key sets are compared instead.

load helpers

teardown() {
    stop_server
}

# conf TEXT: writes printf-style TEXT to a file and prints its path.
conf() {
    printf "$1" >"$BATS_TEST_TMPDIR/acct.conf"
    echo "$BATS_TEST_TMPDIR/acct.conf"
}

# open FD: connects file descriptor FD to the server and reads past its INFO line.
open() {
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
    local info
    IFS= read -r -t 2 -u "$1" info
}

# send FD TEXT: writes printf-style TEXT (ending with a PING) on FD, then prints what the server
# sent up to its PONG, without CRs and without the server's own PINGs, after "FD:".
send() {
    printf "$2" >&"$1"
    local line
    while IFS= read -r -t 3 -u "$1" line; do
        line=${line%$'\r'}
        [[ $line == PING ]] && continue
        printf '%s: %s\n' "$1" "$line"
        [[ $line == PONG ]] && return 0
    done
    echo "(no PONG on $1)"
}

# login FD USER: opens FD as USER (password USER-pw; "-" for no credentials).
login() {
    open "$1"
    if [[ $2 == - ]]; then
        send "$1" 'CONNECT {"verbose":false}\r\nPING\r\n'
    else
        send "$1" "CONNECT {\"verbose\":false,\"user\":\"$2\",\"pass\":\"$2-pw\"}\r\nPING\r\n"
    fi
}

ACCOUNTS='accounts {\n  A: { users: [ {user: a, password: a-pw}, {user: a2, password: a2-pw} ] }\n  B { users = [ {user: b, password: b-pw} ] }\n}\nauthorization { users = [ {user: g, password: g-pw} ] }\n'

isolation_scenario() {
    login 5 a
    login 6 b
    login 7 g
    login 8 a2
    send 5 'SUB foo 1\r\nSUB *.x 2\r\nPING\r\n'
    send 6 'SUB foo 1\r\nPING\r\n'
    send 7 'SUB foo 1\r\nPING\r\n'
    send 8 'PUB foo 2\r\nhA\r\nPING\r\n'
    send 5 'PING\r\n'
    send 6 'PING\r\n'
    send 7 'PING\r\n'
    send 6 'PUB foo 2\r\nhB\r\nPING\r\n'
    send 7 'PUB foo 2\r\nhG\r\nPING\r\n'
    send 5 'PING\r\n'
    send 6 'PING\r\n'
    send 7 'PING\r\n'
    # a request from A finds no responder although B and $G listen on the subject
    send 6 'SUB bar 3\r\nPING\r\n'
    send 7 'SUB bar 3\r\nPING\r\n'
    open 9
    send 9 'CONNECT {"verbose":false,"user":"a2","pass":"a2-pw","protocol":1,"headers":true,"no_responders":true}\r\nSUB _INBOX.x 9\r\nPUB bar _INBOX.x 0\r\n\r\nPING\r\n'
    send 9 'PING\r\n'
    exec 5>&- 6>&- 7>&- 8>&- 9>&-
}

@test "accounts: the same subject in two accounts and \$G, isolated both ways" {
    on_both "$(conf "$ACCOUNTS")" isolation_scenario
    [[ $OUT == *'5: MSG foo 1 2'$'\n''5: hA'* ]]
    [[ $OUT != *'6: MSG foo 1 2'$'\n''6: hA'* && $OUT != *'7: hA'* && $OUT != *'5: hB'* ]]
    [[ $OUT == *'6: MSG foo 1 2'$'\n''6: hB'* && $OUT == *'7: MSG foo 1 2'$'\n''7: hG'* ]]
    [[ $OUT == *'9: HMSG _INBOX.x 9 16 16'$'\n''9: NATS/1.0 503'* ]] # though B and $G listen on bar
}

no_auth_scenario() {
    login 5 -
    login 6 a
    login 7 g
    send 5 'SUB foo 1\r\nPING\r\n'
    send 6 'PUB foo 4\r\nfrom\r\nPING\r\n'
    send 7 'PUB foo 3\r\nnot\r\nPING\r\n'
    send 5 'PING\r\n'
    exec 5>&- 6>&- 7>&-
    # a connection without CONNECT is the default user too, in its account
    open 8
    send 8 'SUB foo 1\r\nPING\r\n'
    login 9 a2
    send 9 'PUB foo 2\r\nok\r\nPING\r\n'
    send 8 'PING\r\n'
    exec 8>&- 9>&-
}

@test "no_auth_user names a user of an account: clients without credentials join that account" {
    on_both "$(conf "${ACCOUNTS}no_auth_user: a\n")" no_auth_scenario
    [[ $OUT == *'5: MSG foo 1 4'$'\n''5: from'* && $OUT != *'5: not'* ]]
    [[ $OUT == *'8: MSG foo 1 2'$'\n''8: ok'* ]]
}

wrong_password_scenario() {
    open 5
    send 5 'CONNECT {"verbose":false,"user":"a","pass":"b-pw"}\r\nPING\r\n'
    open 6
    send 6 'CONNECT {"verbose":false,"user":"b","pass":"a-pw"}\r\nPING\r\n'
    open 7
    send 7 'CONNECT {"verbose":false}\r\nPING\r\n'
    exec 5>&- 6>&- 7>&-
}

@test "a wrong password, or another account's, is an authorization violation" {
    on_both "$(conf "$ACCOUNTS")" wrong_password_scenario
    [[ $OUT == "5: -ERR 'Authorization Violation'"* ]]
    [[ $OUT == *'[ERR] authentication error - User "a"'* ]]
}

perms_scenario() {
    login 5 a
    login 6 a2
    send 5 'SUB x.1 1\r\nSUB y 2\r\nPING\r\n'
    send 6 'PUB x.1 1\r\n1\r\nPUB y 1\r\n2\r\nSUB y 3\r\nPING\r\n'
    send 5 'PUB y 1\r\n3\r\nPING\r\n'
    send 6 'PING\r\n'
    exec 5>&- 6>&-
}

@test "permissions inside an account, and the account's default_permissions" {
    on_both "$(conf 'accounts {\n  A {\n    users = [\n      {user: a, password: a-pw}\n      {user: a2, password: a2-pw, permissions: {publish: "x.>", subscribe: "x.>"}}\n    ]\n    default_permissions: { publish: "y", subscribe: ">" }\n  }\n}\n')" perms_scenario
    [[ $OUT == *"6: -ERR 'Permissions Violation for Publish to \"y\"'"* ]]
    [[ $OUT == *"6: -ERR 'Permissions Violation for Subscription to \"y\"'"* ]]
    [[ $OUT == *'5: MSG x.1 1 1'* ]]
}

# The system account's answers: the keys of each level, sorted, and the error, without values.
SYS_CONF='accounts {\n  SYS { users = [ {user: sys, password: sys-pw} ] }\n  A { users = [ {user: a, password: a-pw} ] }\n}\nsystem_account: SYS\n'

keys_of() {
    jq -c '[paths(type != "array") | map(select(type == "string")) | join(".")] | unique |
        map(select(test("^data\\.(connections|cluster|gateway|leaf|mqtt|websocket|jetstream|http_req_stats)\\.") | not))'
}

sys_req() {
    "$NATSCTL" -s "nats://$1@127.0.0.1:$PORT" request --timeout 2s --raw "$2" "${3:-}" 2>&1
}

sys_scenario() {
    local id
    id=$(info_json | jq -r .server_id)
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING' | keys_of
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.STATSZ' | keys_of
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.CONNZ' '{"auth":true}' | keys_of
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.CONNZ' '{"auth":true}' |
        jq -c '.data.connections | map({account, authorized_user})'
    sys_req sys:sys-pw "\$SYS.REQ.SERVER.$id.CONNZ" '{"acc":"A"}' | jq -c '.data.total'
    sys_req sys:sys-pw "\$SYS.REQ.SERVER.$id.VARZ" | jq -c '[.data.system_account, .data.auth_required]'
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.VARZ' | jq -c '.data | keys | length > 30'
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.CONNZ' '{"sort":"nope"}' | jq -c '[.data, .error]'
    sys_req sys:sys-pw '$SYS.REQ.SERVER.PING.CONNZ' '{"server_name":"no-such-server"}'
    echo "exit $?"
    sys_req a:a-pw '$SYS.REQ.SERVER.PING'
    echo "exit $?"
}

@test "system account: PING, STATSZ, VARZ and CONNZ answer its users, with nats-server's shape" {
    on_both "$(conf "$SYS_CONF")" sys_scenario
    [[ $OUT == *'["SYS",true]'* ]]
    [[ $OUT == *'[{"account":"SYS","authorized_user":"sys"}]'* ]]
    [[ $OUT == *'[null,{"code":500,"description":"invalid sorting option: nope"}]'* ]]
    [[ $OUT == *"no responders on '\$SYS.REQ.SERVER.PING'"* ]]
}

monitor_scenario() {
    login 5 a
    login 6 g
    curl -s "http://127.0.0.1:$MPORT/connz?auth=1" | jq -c '.connections | map({account, authorized_user})'
    curl -s "http://127.0.0.1:$MPORT/connz" | jq -c '.connections | map({account, authorized_user})'
    curl -s "http://127.0.0.1:$MPORT/connz?acc=A" | jq -c '[.num_connections, .total]'
    curl -s "http://127.0.0.1:$MPORT/accountz" | jq -c '[.system_account, (.accounts | sort)]' # nats-server's order is a Go map's
    curl -s "http://127.0.0.1:$MPORT/accountz?acc=A" | jq -c '.account_detail | [.account_name, .client_connections]'
    send 5 'SUB q 1\r\nPUB q 3\r\none\r\nPUB q 3\r\ntwo\r\nPING\r\n'
    send 6 'PUB q 5\r\nthree\r\nPING\r\n'
    curl -s "http://127.0.0.1:$MPORT/accstatz" |
        jq -c '.account_statz | sort_by(.acc) | map([.acc, .conns, .received.msgs, .received.bytes, .sent.msgs])'
    curl -s "http://127.0.0.1:$MPORT/accstatz?unused=1" | jq -c '[.account_statz[].acc] | sort'
    exec 5>&- 6>&-
}

@test "/connz shows account and authorized_user with auth=1, /accountz the configured accounts" {
    MPORT=$((20000 + RANDOM % 30000))
    on_both "$(conf "${ACCOUNTS}system_account: A\n")" monitor_scenario -m "$MPORT"
    [[ $OUT == *'[{"account":"A","authorized_user":"a"},{"account":null,"authorized_user":"g"}]'* ]]
    [[ $OUT == *'["A",["$G","A","B"]]'* ]]
    [[ $OUT == *'[["$G",1,1,5,0],["A",1,2,6,2]]'* ]] # /accstatz: each account's own traffic
}

js_scenario() {
    "$NATSCTL" -s "nats://g:g-pw@127.0.0.1:$PORT" request --timeout 2s --raw '$JS.API.INFO' '' |
        jq -c '[.type, .error, .streams]'
}

@test "JetStream lives in \$G beside the system account; beside other accounts it is refused" {
    on_both "$(conf "${SYS_CONF/A \{ users = \[ \{user: a, password: a-pw\} \] \}/}authorization { users = [ {user: g, password: g-pw} ] }\njetstream { store_dir: \"$BATS_TEST_TMPDIR/js\" }\n")" js_scenario
    [[ $OUT == '["io.nats.jetstream.api.v1.account_info_response",null,0]'* ]]
    run "$NATSCTL" server -p -1 -c "$(conf "${ACCOUNTS}jetstream: enabled\n")"
    [ "$status" -eq 2 ]
    [[ $output == *'jetstream with account "A": JetStream per account is not supported by natsctl (refusing to start without it)' ]]
}

@test "accounts errors: reserved, duplicate accounts and users, system_account missing" {
    run "$NATSCTL" server -p -1 -c "$(conf 'accounts { $G: {} }\n')"
    [ "$status" -eq 2 ]
    [[ $output == *'acct.conf:1:12: "$G" is a Reserved Account' ]]
    run "$NATSCTL" server -p -1 -c "$(conf 'accounts {\n  A { users = [ {user: x} ] }\n  B { users = [ {user: x} ] }\n}\n')"
    [ "$status" -eq 2 ]
    [[ $output == *'acct.conf:3:7: Duplicate user "x" detected' ]]
    run "$NATSCTL" server -p -1 -c "$(conf 'accounts [A, B, A]\n')"
    [[ $output == *'Duplicate Account Entry: A' ]]
    run "$NATSCTL" server -p -1 -c "$(conf 'accounts { A {} }\nsystem_account: B\n')"
    [ "$status" -eq 2 ]
    [[ $output == *'error resolving system account: account missing' ]]
    "$NATS_SERVER_BIN" -p -1 -c "$BATS_TEST_TMPDIR/acct.conf" >"$BATS_TEST_TMPDIR/ns.out" 2>&1 || true
    grep -q 'error resolving system account: account missing' "$BATS_TEST_TMPDIR/ns.out"
}
