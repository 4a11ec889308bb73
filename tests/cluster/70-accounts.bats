#!/usr/bin/env bats
# Accounts across routes: two natsctl servers and a nats-server, each with accounts A and B. A
# message published in A on one server reaches A's subscribers on the others and nobody in B or
# $G there: the route protocol carries the account's name in RS+, RS- and RMSG. The system
# account's $SYS.REQ.SERVER.PING reaches every server, whichever one the client is on.

load lib

setup_file() {
    local conf=$BATS_FILE_TMPDIR/accounts.conf a
    printf 'accounts {\n  A { users = [ {user: a, password: a} ] }\n  B { users = [ {user: b, password: b} ] }\n  SYS { users = [ {user: s, password: s} ] }\n}\nauthorization { users = [ {user: g, password: g} ] }\nsystem_account: SYS\n' >"$conf"
    start_node natsctl N1 -c "$conf"
    a=$(route_url N1)
    start_node natsctl N2 -c "$conf" --routes "$a"
    if [[ -x $NATS_SERVER_BIN ]]; then
        start_node nats-server S -c "$conf" --routes "$a"
    fi
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

teardown() {
    stop_all_bg
}

# as USER NODE: the node's URL with USER's credentials.
as() {
    local u
    u=$(url "$2")
    echo "nats://$1:$1@${u#nats://}"
}

nodes() {
    if [[ -x $NATS_SERVER_BIN ]]; then echo N1 N2 S; else echo N1 N2; fi
}

# has_interest NODE SUBJECT N: NODE's routes announced SUBJECT at least N times (once per
# account that has a subscriber on the peer).
has_interest() {
    [[ $(routez "$1" subs=detail | python3 -c '
import json, sys
print(sum(s["subject"] == sys.argv[1] for r in json.load(sys.stdin)["routes"]
          for s in r.get("subscriptions_list_detail") or []))' "$2") -ge $3 ]]
}

@test "a message in account A crosses the routes to A only, in both directions" {
    local peers
    peers=$(nodes)
    wait_mesh "$(wc -w <<<"$peers")" $peers
    bg subA2 sub -s "$(as a N2)" acc.x
    bg subB2 sub -s "$(as b N2)" acc.x
    bg subG2 sub -s "$(as g N2)" acc.x
    bg subB1 sub -s "$(as b N1)" acc.x
    # N1 hears of three interests in acc.x from N2, one per account
    until_true 10 has_interest N1 acc.x 3
    if [[ $peers == *S* ]]; then
        bg subAS sub -s "$(as a S)" acc.x
        until_true 10 has_interest N1 acc.x 4
    fi
    pub_many "$(as a N1)" acc.x 20
    wait_lines subA2 20
    [[ $peers == *S* ]] && wait_lines subAS 20
    # B on N1 publishes too: only B's subscribers see it
    "$NATSCTL" pub -s "$(as b N1)" acc.x from-b >/dev/null
    until_true 10 grep -qx from-b "$BATS_FILE_TMPDIR/subB2.out"
    "$NATSCTL" pub -s "$(as g N2)" acc.x from-g >/dev/null
    sleep 0.3
    exactly_once 20 subA2
    [[ $peers == *S* ]] && exactly_once 20 subAS
    [ "$(out subB2)" = from-b ]
    [ "$(out subB1)" = from-b ]
    [ "$(out subG2)" = from-g ]
}

@test "a nats-server peer's B subscriber gets B's messages from natsctl, and only those" {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server"
    wait_mesh 3 N1 N2 S
    bg subBS sub -s "$(as b S)" acc.y
    until_true 10 has_interest N1 acc.y 1
    "$NATSCTL" pub -s "$(as a N1)" acc.y from-a >/dev/null
    "$NATSCTL" pub -s "$(as b N1)" acc.y from-b >/dev/null
    until_true 10 has_lines subBS 1
    sleep 0.3
    [ "$(out subBS)" = from-b ]
}

# names_answering NODE: the server names that answer a PING asked on NODE, sorted, one line.
names_answering() {
    "$NATSCTL" -s "$(as s "$1")" request --replies 0 --reply-gap 700ms --timeout 3s --raw \
        '$SYS.REQ.SERVER.PING' '' | python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l)["server"]["name"] for l in sys.stdin if l.strip())))'
}

answered_by() { [[ "$(names_answering "$1") " == "$2" ]]; }

@test "\$SYS.REQ.SERVER.PING from the system account is answered by every server of the cluster" {
    local peers
    peers=$(nodes)
    wait_mesh "$(wc -w <<<"$peers")" $peers
    local want
    want=$(tr ' ' '\n' <<<"$peers" | sort | tr '\n' ' ')
    # the peers' interest in the PING subject may still be on its way
    until_true 10 answered_by N1 "$want"
    [ "$(names_answering N2) " = "$want" ]
    [[ $peers == *S* ]] && [ "$(names_answering S) " = "$want" ]
    # another account's client reaches none of them
    run "$NATSCTL" -s "$(as a N1)" request --timeout 1s '$SYS.REQ.SERVER.PING' ''
    [ "$status" -ne 0 ]
}
