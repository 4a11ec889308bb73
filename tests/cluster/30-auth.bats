#!/usr/bin/env bats
# Route authorization as nats-server has it: an accepted route presents the cluster user and
# password in its CONNECT or is refused; a server dialing a gossiped peer that asks for them
# presents its own.

load lib

# with_creds URL USER PASS: URL with userinfo.
with_creds() { echo "nats://$2:$3@${1#nats://}"; }

setup_file() {
    local a
    start_node natsctl A --cluster nats://ru:rp@127.0.0.1:-1
    a=$(with_creds "$(route_url A)" ru rp)
    start_node natsctl B --cluster nats://ru:rp@127.0.0.1:-1 --routes "$a"
    if [[ -x $NATS_SERVER_BIN ]]; then
        start_node nats-server S --cluster nats://ru:rp@127.0.0.1:-1 --routes "$a"
    fi
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

teardown() {
    stop_all_bg
}

@test "routes with the cluster credentials form a mesh, gossiped ones too" {
    if [[ -x $NATS_SERVER_BIN ]]; then
        wait_mesh 3 A B S
    else
        wait_mesh 2 A B
    fi
    bg sB sub -s "$(url B)" a.x
    wait_interest A a.x 1
    "$NATSCTL" pub -s "$(url A)" a.x hello >/dev/null
    wait_lines sB 1
    [ "$(out sB)" = hello ]
}

@test "a route without the credentials, or with wrong ones, is refused" {
    CLUSTER=ct start_node natsctl X --routes "$(route_url A)"
    until_true 10 grep -qF "Router connection closed: Authentication Failure" "$(node_log A)"
    until_true 10 grep -qF "Route Error 'Authorization Violation'" "$(node_log X)"
    [ "$(num_routes X)" -eq 0 ]
    stop_node X
    start_node natsctl Y --routes "$(with_creds "$(route_url A)" ru wrong)"
    until_true 10 grep -qF "Route Error 'Authorization Violation'" "$(node_log Y)"
    [ "$(num_routes Y)" -eq 0 ]
    stop_node Y
}

@test "a route that sends nothing is dropped after the authorization timeout" {
    exec 4<>/dev/tcp/127.0.0.1/"$(route_url A | sed 's/.*://')"
    local line
    read -r -t 5 line <&4
    [[ $line == "INFO {"*'"auth_required":true'* ]]
    # a PING may come first: the route's first one is due after a second, as in nats-server
    read -r -t 5 line <&4
    [[ $line == PING* ]] && read -r -t 5 line <&4
    [[ $line == "-ERR 'Authentication Timeout'"* ]]
    exec 4<&-
}

@test "a client on the route port is told it is on the wrong port" {
    run bash -c "printf 'CONNECT {\"lang\":\"go\",\"user\":\"ru\",\"pass\":\"rp\"}\r\n' | timeout 5 nc -N 127.0.0.1 $(route_url A | sed 's/.*://') | tr -d '\r'"
    [[ $output == *"-ERR 'attempted to connect to route port'"* ]]
}
