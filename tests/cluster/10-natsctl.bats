#!/usr/bin/env bats
# Three natsctl servers in one cluster, the second and third configured with the first (the seed)
# only: they must find each other, and deliver across routes exactly once.

load lib

setup_file() {
    start_node natsctl A
    start_node natsctl B --routes "$(route_url A)"
    start_node natsctl C --routes "$(route_url A)"
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

teardown() {
    stop_all_bg
}

@test "three servers started from one seed become a full mesh" {
    wait_mesh 3 A B C
    # B and C were told about each other by A: each has a route to the other
    local b c
    b=$(curl -sf "http://127.0.0.1:$(mon B)/varz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server_id"])')
    c=$(curl -sf "http://127.0.0.1:$(mon C)/varz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server_id"])')
    [[ $(routez B) == *"\"remote_id\": \"$c\""* ]]
    [[ $(routez C) == *"\"remote_id\": \"$b\""* ]]
    run cat "$(node_log B)"
    [[ $output == *"rid:"*" - Route connection created"* ]]
    [[ $output == *"[INF] Cluster name is ct"* ]]
    # clients learn the other servers
    run curl -sf "http://127.0.0.1:$(mon A)/varz"
    [[ $output == *'"routes": 2'* ]]
    local info a b c
    a=$(url A) b=$(url B) c=$(url C)
    info=$(printf 'CONNECT {"protocol":1}\r\nPING\r\n' | timeout 5 nc -N 127.0.0.1 "${a##*:}" | head -1)
    [[ $info == *"\"connect_urls\":[\"${a#nats://}\","* ]]
    [[ $info == *"\"${b#nats://}\""* && $info == *"\"${c#nats://}\""* ]]
}

@test "a message published on A reaches subscribers on B and C exactly once" {
    wait_mesh 3 A B C
    bg subA sub -s "$(url A)" d.x
    bg subB sub -s "$(url B)" 'd.>'
    bg subC sub -s "$(url C)" 'd.*'
    bg subC2 sub -s "$(url C)" d.x
    wait_interest A d.x 1
    wait_interest A 'd.>' 1
    wait_interest A 'd.*' 1
    pub_many "$(url A)" d.x 50
    wait_lines subA 50
    wait_lines subB 50
    wait_lines subC 50
    wait_lines subC2 50
    sleep 0.3
    exactly_once 50 subA
    exactly_once 50 subB
    exactly_once 50 subC
    exactly_once 50 subC2
    # C has two matching subscriptions but got one RMSG per message
    run routez A
    [[ $output == *'"out_msgs": 50'* ]]
}

@test "a queue group spread over three servers gets each message exactly once" {
    wait_mesh 3 A B C
    bg qB sub -s "$(url B)" --queue g q.x
    bg qB2 sub -s "$(url B)" --queue g q.x
    bg qC sub -s "$(url C)" --queue g q.x
    # a plain subscriber on C too: its RMSGs must not reach the members on C a second time
    bg pC sub -s "$(url C)" q.x
    wait_interest A q.x 2
    until_true 10 has_route_entries A q.x 3
    sleep 0.2
    pub_many "$(url A)" q.x 60
    until_true 10 has_total_lines 60 qB qB2 qC
    wait_lines pC 60
    sleep 0.3
    exactly_once 60 qB qB2 qC
    exactly_once 60 pC
    # both servers took a share: B announced weight 2, C weight 1
    [ "$(nlines qC)" -gt 0 ]
    [ "$(($(nlines qB) + $(nlines qB2)))" -gt 0 ]
    # a member on the publishing server is preferred to members on routes
    bg qA sub -s "$(url A)" --queue g q.x
    until_true 10 local_sub A q.x
    pub_many "$(url A)" q.x 20 n
    wait_lines qA 20
    sleep 0.2
    [ "$(nlines qA)" -eq 20 ]
    [ "$(($(nlines qB) + $(nlines qB2) + $(nlines qC)))" -eq 60 ]
    wait_lines pC 80
}

@test "unsubscribing on B stops traffic to B" {
    wait_mesh 3 A B C
    bg uB sub -s "$(url B)" u.x
    bg uC sub -s "$(url C)" u.x
    wait_interest A u.x 2
    pub_many "$(url A)" u.x 5
    wait_lines uB 5
    stop_bg uB
    wait_interest A u.x 1
    local before
    before=$(routez A | python3 -c '
import json, sys
print(sum(r["out_msgs"] for r in json.load(sys.stdin)["routes"]))')
    pub_many "$(url A)" u.x 10 n
    wait_lines uC 15
    local after
    after=$(routez A | python3 -c '
import json, sys
print(sum(r["out_msgs"] for r in json.load(sys.stdin)["routes"]))')
    # the 10 messages went to C only
    [ "$((after - before))" -eq 10 ]
    [ "$(nlines uB)" -eq 5 ]
}

@test "request-reply and no-responders across servers" {
    wait_mesh 3 A B C
    bg rC reply -s "$(url C)" svc.c "from C"
    wait_interest A svc.c 1
    run --separate-stderr "$NATSCTL" request -s "$(url A)" svc.c hi
    [ "$status" -eq 0 ]
    [ "$output" = "from C" ]
    run --separate-stderr "$NATSCTL" request -s "$(url B)" svc.c hi
    [ "$status" -eq 0 ]
    [ "$output" = "from C" ]
    run --separate-stderr "$NATSCTL" request -s "$(url A)" svc.none hi
    [ "$status" -eq 5 ]
    stop_bg rC
    wait_interest A svc.c 0
    run --separate-stderr "$NATSCTL" request -s "$(url A)" svc.c hi
    [ "$status" -eq 5 ]
}

@test "a configuration listing every server, this one too, and a seed that starts late" {
    wait_mesh 3 A B C
    bg early sub -s "$(url C)" e.x
    wait_interest A e.x 1
    local own seed
    own=$(free_port)
    seed=$(free_port)
    # E lists itself (as a file shared by every server would) and a seed that is not up yet
    start_node natsctl E --cluster "nats://127.0.0.1:$own" \
        --routes "nats://127.0.0.1:$own,nats://127.0.0.1:$seed"
    sleep 1.5
    [ "$(num_routes E)" -eq 0 ]
    start_node natsctl F --cluster "nats://127.0.0.1:$seed" --routes "$(route_url A)"
    # E keeps dialing its configured seed, then learns the rest of the cluster from it
    wait_mesh 5 A B C E F
    run grep -c "Error trying to connect to route (attempt" "$(node_log E)"
    [ "$output" -eq 1 ] # nats-server's connect_error_reports: the first, then every 3600th
    [[ $(routez E) != *"\"port\": $own"* ]]
    # E got C's interest when it connected (the snapshot)
    pub_many "$(url E)" e.x 3
    wait_lines early 3
    exactly_once 3 early
    stop_node E
    stop_node F
    wait_mesh 3 A B C
}

@test "a route to a server of another cluster name is refused, as nats-server refuses it" {
    CLUSTER=other start_node natsctl X --routes "$(route_url A)"
    until_true 10 grep -qF 'Rejecting connection, cluster name "other" does not match "ct"' "$(node_log A)"
    until_true 10 grep -qF 'Router connection closed: Cluster Name Conflict' "$(node_log X)"
    [ "$(num_routes X)" -eq 0 ]
    stop_node X
    wait_mesh 3 A B C
}

# next_info: the next INFO line on fd 4, answering the server's PINGs meanwhile (10 s at most).
next_info() {
    local line i
    for ((i = 0; i < 20; i++)); do
        read -r -t 10 line <&4 || return 1
        [[ $line == PING* ]] && printf 'PONG\r\n' >&4 && continue
        echo "$line"
        return 0
    done
    return 1
}

@test "generated cluster names give way to each other and to a configured one" {
    CLUSTER='' start_node natsctl G
    CLUSTER='' start_node natsctl H --routes "$(route_url G)"
    wait_mesh 2 G H
    grep -qF "Cluster name updated to" "$(node_log G)" "$(node_log H)"
    CLUSTER=zz start_node natsctl I --routes "$(route_url G)"
    wait_mesh 3 G H I
    run curl -sf "http://127.0.0.1:$(mon H)/varz"
    [[ $output == *'"name": "zz"'* ]]
    stop_node I
    stop_node H
    stop_node G
}

@test "clients that finished their handshake hear of servers joining and leaving (async INFO)" {
    wait_mesh 3 A B C
    local a line d
    a=$(url A)
    exec 4<>/dev/tcp/127.0.0.1/"${a##*:}"
    read -r -t 5 line <&4
    [[ $line == INFO* ]]
    printf 'CONNECT {"protocol":1,"verbose":false}\r\nPING\r\n' >&4
    read -r -t 5 line <&4
    [[ $line == PONG* ]]
    start_node natsctl D --routes "$(route_url A)"
    d=$(url D)
    line=$(next_info)
    [[ $line == "INFO {"*"\"${d#nats://}\""* ]]
    stop_node D
    line=$(next_info)
    [[ $line == "INFO {"*"\"connect_urls\":["* && $line != *"\"${d#nats://}\""* ]]
    exec 4<&-
    wait_mesh 3 A B C
}

@test "a client of a killed server reconnects to another and keeps its subscriptions" {
    wait_mesh 3 A B C
    bg fB sub -s "$(url B)" f.x
    wait_interest A f.x 1
    stop_node B KILL
    until_true 10 grep -q reconnected "$BATS_FILE_TMPDIR/fB.err"
    wait_mesh 2 A C
    until_true 10 interest_at A f.x
    pub_many "$(url A)" f.x 3
    wait_lines fB 3
    exactly_once 3 fB
    run cat "$(node_log A)"
    [[ $output == *"Router connection closed: "* ]]
}
