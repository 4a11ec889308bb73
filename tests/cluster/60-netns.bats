#!/usr/bin/env bats
# The core cluster tests across network namespaces: every server in a namespace of its own, joined
# by veth pairs to a bridge in a hub namespace on 10.99.1.0/24, and the clients in another one. No
# server sees another's loopback, so routes, gossip and connect_urls have to carry real addresses.
# N1 is the seed; N2 and N3 name only N1; S, the Debian nats-server, joins for the mixed test.
#
# Needs root (or CAP_NET_ADMIN with /run/netns and /sys mounted) and iproute2; skipped otherwise.
# Namespaces are named after this run and deleted in teardown_file whatever happened.

load lib

# One name per run, so that parallel runs and leftovers of a killed one never collide.
NS=nctl$(cksum <<<"$BATS_FILE_TMPDIR" | cut -c1-7)
NET=10.99.1
CLIENT_NS=$NS-cl
PORT=4222
RPORT=6222
MPORT=8222

# Addresses of the servers and of the client namespace (-g: bats loads this file inside a function).
declare -gA ADDR=([N1]=$NET.1 [N2]=$NET.2 [N3]=$NET.3 [S]=$NET.4 [cl]=$NET.10)

# Backgrounded commands use ip netns exec itself, not this function: ip execs the command, so $!
# is the server's or client's PID, where a function would run in a subshell of its own.
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# add_ns NAME: a namespace with a veth pair to the hub's bridge, addressed $NET.x/24.
add_ns() {
    local ns=$NS-$1 addr=${ADDR[$1]}
    ip netns add "$ns" || return 1
    echo "$ns" >>"$BATS_FILE_TMPDIR/namespaces"
    in_ns "$NS-hub" ip link add "v$1" type veth peer name eth0 netns "$ns" &&
        in_ns "$NS-hub" ip link set "v$1" master br0 up &&
        in_ns "$ns" ip addr add "$addr/24" dev eth0 &&
        in_ns "$ns" ip link set eth0 up &&
        in_ns "$ns" ip link set lo up
}

make_network() {
    local name
    ip netns add "$NS-hub" || return 1
    echo "$NS-hub" >>"$BATS_FILE_TMPDIR/namespaces"
    in_ns "$NS-hub" ip link add br0 type bridge &&
        in_ns "$NS-hub" ip link set br0 up || return 1
    for name in N1 N2 N3 S cl; do
        add_ns "$name" || return 1
    done
}

# Stops whatever still runs in our namespaces (by PID), then deletes them.
remove_network() {
    local ns pid
    [[ -f $BATS_FILE_TMPDIR/namespaces ]] || return 0
    while read -r ns; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done <"$BATS_FILE_TMPDIR/namespaces"
    rm -f "$BATS_FILE_TMPDIR/namespaces"
}

# Why namespaces cannot be made here, or nothing when they can.
netns_unavailable() {
    local err
    command -v ip >/dev/null || { echo "iproute2 (ip) is not installed"; return; }
    if ! err=$(ip netns add "$NS-probe" 2>&1); then
        echo "cannot create network namespaces (needs root or CAP_NET_ADMIN, /run/netns, /sys): $err"
        return
    fi
    # ip netns exec remounts /sys, which fails where / is not a mount point (a chroot).
    if ! err=$(ip netns exec "$NS-probe" true 2>&1); then
        echo "cannot run in a network namespace (ip netns exec): $err"
    fi
    ip netns del "$NS-probe"
}

# start_ns_node KIND NAME [--routes URL]: KIND natsctl or nats-server, in namespace $NS-NAME.
start_ns_node() {
    local kind=$1 name=$2 dir a=${ADDR[$2]} pid i
    shift 2
    dir=$(node_dir "$name")
    mkdir -p "$dir"
    local common=(-a "$a" -p "$PORT" -m "$MPORT" -n "$name" --cluster "nats://$a:$RPORT"
        --cluster_name "$CLUSTER")
    if [[ $kind == nats-server ]]; then
        ip netns exec "$NS-$name" "$NATS_SERVER_BIN" "${common[@]}" "$@" >"$dir/log" 2>&1 3>&- &
    else
        ip netns exec "$NS-$name" "$NATSCTL" server "${common[@]}" "$@" >"$dir/log" 2>&1 3>&- &
    fi
    pid=$!
    disown "$pid"
    echo "$pid" >"$dir/pid"
    echo "$kind" >"$dir/kind"
    echo "nats://$a:$PORT" >"$dir/url"
    echo "nats://$a:$RPORT" >"$dir/route"
    for ((i = 0; i < 100; i++)); do
        mon_get "$name" varz >/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$dir/log" >&2
    return 1
}

# mon_get NAME PATH: a monitoring endpoint of NAME, fetched from the client namespace.
mon_get() {
    in_ns "$CLIENT_NS" curl -sf --max-time 2 "http://${ADDR[$1]}:$MPORT/$2"
}

ns_routes() {
    mon_get "$1" routez | jq -r .num_routes
}

has_ns_routes() { [[ $(ns_routes "$1") == "$2" ]]; }

# has_ns_interest NAME SUBJECT N: at least N of NAME's routes announced interest in SUBJECT.
has_ns_interest() {
    [[ $(mon_get "$1" 'routez?subs=1' |
        jq --arg s "$2" '[.routes[] | select((.subscriptions_list // []) | index($s))] | length') \
        -ge $3 ]]
}

# ns_interest_at NAME SUBJECT: a client of NAME or a peer of NAME subscribes to SUBJECT.
ns_interest_at() {
    has_ns_interest "$1" "$2" 1 || mon_get "$1" 'subsz?subs=1' | grep -qF "\"subject\": \"$2\""
}

# wait_ns_mesh N NAME...: every NAME has N-1 routes within 10 s.
wait_ns_mesh() {
    local n=$1 name
    shift
    for name in "$@"; do
        until_true 10 has_ns_routes "$name" $((n - 1)) || return 1
    done
}

# nsbg NAME natsctl-args...: a natsctl client in the client namespace, in the background.
nsbg() {
    local name=$1
    shift
    ip netns exec "$CLIENT_NS" "$NATSCTL" "$@" >"$BATS_FILE_TMPDIR/$name.out" \
        2>"$BATS_FILE_TMPDIR/$name.err" </dev/null 3>&- &
    echo "$!" >"$BATS_FILE_TMPDIR/$name.pid"
}

ns_pub_many() {
    in_ns "$CLIENT_NS" "$NATSCTL" pub -s "$1" "$2" "m{{Count}}" --count "$3" >/dev/null
}

# Without namespaces every test is skipped from setup(): bats 1.8 reports a skip in setup_file as
# a failure when the file has a teardown_file.
setup_file() {
    local why
    why=$(netns_unavailable)
    if [[ -n $why ]]; then
        echo "$why" >"$BATS_FILE_TMPDIR/skip"
        return 0
    fi
    make_network || {
        remove_network
        false
    }
    start_ns_node natsctl N1
    start_ns_node natsctl N2 --routes "$(route_url N1)"
    start_ns_node natsctl N3 --routes "$(route_url N1)"
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
    remove_network
}

setup() {
    if [[ -f $BATS_FILE_TMPDIR/skip ]]; then skip "$(cat "$BATS_FILE_TMPDIR/skip")"; fi
}

teardown() {
    stop_all_bg
}

@test "netns: three servers in three namespaces become a full mesh from one seed" {
    wait_ns_mesh 3 N1 N2 N3
    # Gossip told N2 and N3 each other's real address, not a loopback one.
    mon_get N2 routez | jq -r '.routes[].ip' | grep -qx "${ADDR[N3]}"
    mon_get N3 routez | jq -r '.routes[].ip' | grep -qx "${ADDR[N2]}"
}

@test "netns: a message published on N1 reaches subscribers on N2 and N3 exactly once" {
    wait_ns_mesh 3 N1 N2 N3
    nsbg d2 sub -s "$(url N2)" netns.d
    nsbg d3 sub -s "$(url N3)" netns.d
    until_true 10 has_ns_interest N1 netns.d 2
    ns_pub_many "$(url N1)" netns.d 20
    wait_lines d2 20
    wait_lines d3 20
    sleep 0.3
    exactly_once 20 d2
    exactly_once 20 d3
}

@test "netns: a queue group over N2 and N3 gets each message from N1 exactly once" {
    wait_ns_mesh 3 N1 N2 N3
    nsbg q2 sub -s "$(url N2)" netns.q --queue g
    nsbg q3 sub -s "$(url N3)" netns.q --queue g
    until_true 10 has_ns_interest N1 netns.q 2
    ns_pub_many "$(url N1)" netns.q 40
    until_true 10 has_total_lines 40 q2 q3
    sleep 0.3
    exactly_once 40 q2 q3
}

@test "netns: a client of a killed server fails over to another namespace and keeps its subscription" {
    wait_ns_mesh 3 N1 N2 N3
    nsbg f3 sub -s "$(url N3)" netns.f
    until_true 10 has_ns_interest N1 netns.f 1
    # It learnt the other servers' real addresses from connect_urls, as the only way out of N3.
    stop_node N3
    until_true 10 grep -q reconnected "$BATS_FILE_TMPDIR/f3.err"
    until_true 10 ns_interest_at N1 netns.f
    ns_pub_many "$(url N1)" netns.f 10
    wait_lines f3 10
    exactly_once 10 f3
    start_ns_node natsctl N3 --routes "$(route_url N1)"
    wait_ns_mesh 3 N1 N2 N3
}

@test "netns: nats-server in a fourth namespace joins the natsctl mesh; delivery both ways" {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server at $NATS_SERVER_BIN"
    start_ns_node nats-server S --routes "$(route_url N1)"
    wait_ns_mesh 4 N1 N2 N3 S
    nsbg ms sub -s "$(url S)" netns.m1
    nsbg m2 sub -s "$(url N2)" netns.m2
    until_true 10 has_ns_interest N1 netns.m1 1
    until_true 10 has_ns_interest S netns.m2 1
    ns_pub_many "$(url N1)" netns.m1 20
    ns_pub_many "$(url S)" netns.m2 20
    wait_lines ms 20
    wait_lines m2 20
    sleep 0.3
    exactly_once 20 ms
    exactly_once 20 m2
    nsbg mq2 sub -s "$(url N2)" netns.mq --queue g
    nsbg mq3 sub -s "$(url N3)" netns.mq --queue g
    until_true 10 has_ns_interest S netns.mq 2
    ns_pub_many "$(url S)" netns.mq 40
    until_true 10 has_total_lines 40 mq2 mq3
    sleep 0.3
    exactly_once 40 mq2 mq3
    stop_node S
}
