#!/usr/bin/env bats
# A mixed cluster: two natsctl servers and one Debian nats-server 2.9 (N1 is the seed, S routes to
# N1, N2 routes to S only, so gossip has to cross both implementations). Delivery, queue groups,
# request-reply and no-responders are checked from every server to every other.

load lib

NODES=(N1 N2 S)

setup_file() {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server at $NATS_SERVER_BIN"
    start_node natsctl N1
    start_node nats-server S --routes "$(route_url N1)"
    start_node natsctl N2 --routes "$(route_url S)"
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

teardown() {
    stop_all_bg
}

@test "mixed: natsctl and nats-server form a full mesh from one seed" {
    wait_mesh 3 N1 N2 S
    run cat "$(node_log S)"
    [[ $output == *"Route connection created"* ]]
    [[ $output != *"[ERR]"* ]]
    run cat "$(node_log N2)"
    [[ $output != *"[ERR]"* ]]
}

@test "mixed: a message from each server reaches subscribers on all three exactly once" {
    wait_mesh 3 N1 N2 S
    local from to
    for from in "${NODES[@]}"; do
        for to in "${NODES[@]}"; do
            bg "d-$from-$to" sub -s "$(url "$to")" "d.$from"
        done
        for to in "${NODES[@]}"; do
            [[ $to == "$from" ]] || wait_interest "$from" "d.$from" 2
        done
        pub_many "$(url "$from")" "d.$from" 20
        for to in "${NODES[@]}"; do
            wait_lines "d-$from-$to" 20
        done
    done
    sleep 0.3
    for from in "${NODES[@]}"; do
        for to in "${NODES[@]}"; do
            exactly_once 20 "d-$from-$to"
        done
    done
}

@test "mixed: a queue group over the other two servers gets each message exactly once" {
    wait_mesh 3 N1 N2 S
    local from to members
    for from in "${NODES[@]}"; do
        members=()
        for to in "${NODES[@]}"; do
            [[ $to == "$from" ]] && continue
            bg "q-$from-$to" sub -s "$(url "$to")" --queue workers "q.$from"
            members+=("q-$from-$to")
        done
        wait_interest "$from" "q.$from" 2
        pub_many "$(url "$from")" "q.$from" 40
        until_true 10 has_total_lines 40 "${members[@]}"
        sleep 0.3
        exactly_once 40 "${members[@]}"
    done
}

@test "mixed: a queue group with a member on every server gets each message exactly once" {
    wait_mesh 3 N1 N2 S
    local to
    # plain subscribers beside the members: every message crosses every route, and only the
    # server a route message names a group for may hand it to that group's member
    for to in "${NODES[@]}"; do
        bg "qa-$to" sub -s "$(url "$to")" --queue all qa
        bg "pa-$to" sub -s "$(url "$to")" qa
    done
    for to in "${NODES[@]}"; do
        wait_interest "$to" qa 2
        until_true 10 has_route_entries "$to" qa 2
    done
    sleep 0.2
    # 30 messages from each server: 90 in all, each to one member only
    "$NATSCTL" pub -s "$(url N1)" qa "m{{Count}}" --count 30 >/dev/null
    "$NATSCTL" pub -s "$(url S)" qa "s{{Count}}" --count 30 >/dev/null
    "$NATSCTL" pub -s "$(url N2)" qa "t{{Count}}" --count 30 >/dev/null
    until_true 10 has_total_lines 90 qa-N1 qa-N2 qa-S
    sleep 0.3
    local all
    all=$(cat "$BATS_FILE_TMPDIR"/qa-*.out | sort)
    [ "$(wc -l <<<"$all")" -eq 90 ]
    [ "$(uniq <<<"$all" | wc -l)" -eq 90 ]
    for to in "${NODES[@]}"; do
        wait_lines "pa-$to" 90
        [ "$(nlines "pa-$to")" -eq 90 ]
    done
}

@test "mixed: request-reply between every pair of servers, and no-responders from each" {
    wait_mesh 3 N1 N2 S
    local from to
    for to in "${NODES[@]}"; do
        bg "r-$to" reply -s "$(url "$to")" "svc.$to" "from $to"
    done
    for from in "${NODES[@]}"; do
        for to in "${NODES[@]}"; do
            [[ $to == "$from" ]] && continue
            wait_interest "$from" "svc.$to" 1
            run --separate-stderr "$NATSCTL" request -s "$(url "$from")" "svc.$to" hi
            [ "$status" -eq 0 ] || { echo "$from -> $to: $status $stderr"; return 1; }
            [ "$output" = "from $to" ]
        done
        run --separate-stderr "$NATSCTL" request -s "$(url "$from")" svc.nobody hi
        [ "$status" -eq 5 ] || { echo "no responders from $from: $status $stderr"; return 1; }
    done
}

@test "mixed: headers cross the routes both ways" {
    wait_mesh 3 N1 N2 S
    bg h-S sub -s "$(url S)" --json h.x
    bg h-N2 sub -s "$(url N2)" --json h.x
    wait_interest N1 h.x 2
    "$NATSCTL" pub -s "$(url N1)" h.x body -H "K:v1" >/dev/null
    wait_lines h-S 1
    wait_lines h-N2 1
    [[ $(out h-S) == *'"K":["v1"]'* && $(out h-S) == *'body'* ]]
    [[ $(out h-N2) == *'"K":["v1"]'* ]]
}

@test "mixed: a client of the killed nats-server fails over to a natsctl server" {
    wait_mesh 3 N1 N2 S
    bg fo sub -s "$(url S)" f.x
    wait_interest N1 f.x 1
    stop_node S KILL
    until_true 10 grep -q reconnected "$BATS_FILE_TMPDIR/fo.err"
    wait_mesh 2 N1 N2
    until_true 10 interest_at N1 f.x
    pub_many "$(url N1)" f.x 3
    wait_lines fo 3
    exactly_once 3 fo
}
