#!/usr/bin/env bats
# Lame duck mode: a server told to go away (--signal ldm=PID, SIGUSR2) stops accepting clients,
# tells them and its routes with an INFO carrying "ldm": true, closes them after the grace period,
# and exits; its clients carry on at another server of the cluster. The INFOs are compared with
# the Debian nats-server's. lame_duck_duration cannot be under 30 s (as in nats-server), but with
# a few clients the closes are at most a second apart, so a grace period of 1 s keeps this fast.

load lib

setup_file() {
    printf 'lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"\n' >"$BATS_FILE_TMPDIR/ldm.conf"
}

teardown() {
    stop_all_bg
    stop_all_nodes
}

pid_of() { cat "$(node_dir "$1")/pid"; }
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# refused URL: a TCP connection to URL's port is refused.
refused() { ! (exec 9<>"/dev/tcp/127.0.0.1/${1##*:}") 2>/dev/null; }
err_has() { grep -qF "$2" "$BATS_FILE_TMPDIR/$1.err"; }

@test "lame duck moves the clients of a server to another one, which keeps delivering to them" {
    start_node natsctl A -c "$BATS_FILE_TMPDIR/ldm.conf"
    start_node natsctl B --routes "$(route_url A)"
    wait_mesh 2 A B
    bg s1 sub -s "$(url A)" ldm.x
    bg s2 sub -s "$(url A)" ldm.x
    until_true 10 local_sub A ldm.x
    wait_interest B ldm.x 1
    "$NATSCTL" pub -s "$(url B)" ldm.x before
    wait_lines s1 1
    wait_lines s2 1
    local a
    a=$(pid_of A)
    run "$NATSCTL" server --signal "ldm=$a"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # no new clients from now on, while the old ones are still served
    until_true 5 refused "$(url A)"
    alive "$a"
    until_true 5 err_has s1 "server entering lame duck mode"
    until_true 5 err_has s2 "server entering lame duck mode"
    # after the grace period (1 s) the clients are closed, at most a second apart, then A exits
    until_true 10 gone "$a"
    until_true 10 err_has s1 reconnected
    until_true 10 err_has s2 reconnected
    until_true 10 has_route_subs B ldm.x 0
    "$NATSCTL" pub -s "$(url B)" ldm.x after
    wait_lines s1 2
    wait_lines s2 2
    [ "$(out s1)" = $'before\nafter' ]
    [ "$(out s2)" = $'before\nafter' ]
    run cat "$(node_log A)"
    [[ $output == *"[INF] Entering lame duck mode, stop accepting new clients"*"[INF] Closing existing clients"*"[INF] Initiating Shutdown..."*"[INF] Server Exiting.."* ]]
}

# ldm_infos KIND: A (KIND, lame duck config) and B (natsctl) with one raw protocol-1 client each;
# A goes lame duck. Prints A's INFO to its client and B's next INFO to its client, with what varies
# between servers and runs (ids, ports, versions) replaced by names.
ldm_infos() {
    start_node "$1" A -c "$BATS_FILE_TMPDIR/ldm.conf"
    start_node natsctl B --routes "$(route_url A)"
    wait_mesh 2 B
    local ready=$BATS_FILE_TMPDIR/ready.$1
    python3 - "$(url A)" "$(url B)" "$ready" >"$BATS_FILE_TMPDIR/infos.$1" 2>&1 3>&- <<'EOF' &
import json, socket, sys, time
a_url, b_url, ready = sys.argv[1][len("nats://"):], sys.argv[2][len("nats://"):], sys.argv[3]
def dial(hostport):
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b'CONNECT {"protocol":1,"verbose":false}\r\nPING\r\n')
    return s.makefile("rb")
def lines(f):
    while True:
        line = f.readline()
        if not line:
            return
        yield line.rstrip(b"\r\n").decode()
a, b = dial(a_url), dial(b_url)
for f in (a, b):
    for line in lines(f):
        if line == "PONG":
            break
    else:
        sys.exit("no PONG")
open(ready, "w").close()
names = {a_url: "A", b_url: "B"}
def shown(line):
    info = json.loads(line[len("INFO "):])
    for k in ("server_id", "server_name", "version", "go", "host", "port", "client_id", "client_ip", "cluster"):
        if k in info:
            info[k] = k
    if "connect_urls" in info:
        info["connect_urls"] = [names.get(u, u) for u in info["connect_urls"]]
    return json.dumps(info, separators=(",", ":"))
for who, f in (("A", a), ("B", b)):
    for line in lines(f):
        if line.startswith("INFO "):
            print(who, shown(line))
            break
EOF
    until_true 10 test -e "$ready"
    run "$NATSCTL" server -sl "ldm=$(pid_of A)"
    [ "$status" -eq 0 ]
    wait
    cat "$BATS_FILE_TMPDIR/infos.$1"
    stop_all_nodes
    rm -rf "$(node_dir A)" "$(node_dir B)"
}

@test "the lame duck INFOs have nats-server's bytes, and a peer drops the leaving server's URL" {
    local ours theirs
    ours=$(ldm_infos natsctl)
    theirs=$(ldm_infos nats-server)
    echo "natsctl:     $ours"
    echo "nats-server: $theirs"
    [ "$ours" = "$theirs" ]
    [[ $ours == *'A {"server_id":"server_id","server_name":"server_name","version":"version","proto":1,"go":"go","host":"host","port":"port","headers":true,"max_payload":1048576,"client_id":"client_id","client_ip":"client_ip","cluster":"cluster","connect_urls":["B"],"ldm":true}'* ]]
    [[ $ours == *'B {'*'"connect_urls":["B"]}'* ]]
}

@test "a nats-server peer takes natsctl's lame duck INFO: its clients stop hearing of the server" {
    start_node natsctl A -c "$BATS_FILE_TMPDIR/ldm.conf"
    start_node nats-server B --routes "$(route_url A)"
    wait_mesh 2 A
    local info
    info=$(printf 'CONNECT {"protocol":1}\r\nPING\r\n' | timeout 5 nc -N 127.0.0.1 "$(url B | sed 's/.*://')" | head -1)
    [[ $info == *"\"$(url A | sed 's|nats://||')\""* ]]
    bg s1 sub -s "$(url A)" ldm.y
    until_true 10 local_sub A ldm.y
    "$NATSCTL" server --signal "ldm=$(pid_of A)"
    until_true 5 err_has s1 "server entering lame duck mode"
    # the peer withdrew A's URL at once, long before A closes its clients
    info=$(printf 'CONNECT {"protocol":1}\r\nPING\r\n' | timeout 5 nc -N 127.0.0.1 "$(url B | sed 's/.*://')" | head -1)
    [[ $info != *"\"$(url A | sed 's|nats://||')\""* ]]
    until_true 10 err_has s1 reconnected
}
