#!/usr/bin/env bats
# One server of the cluster runs JetStream; a client of another server uses its streams through
# the route: API requests, publishes, and a consumer's deliveries and acks.

load lib

setup_file() {
    start_node natsctl J -js -sd "$BATS_FILE_TMPDIR/store"
    start_node natsctl P --routes "$(route_url J)"
}

teardown_file() {
    stop_all_bg
    stop_all_nodes
}

@test "a stream on one server serves the clients of another" {
    wait_mesh 2 J P
    # shellcheck disable=SC2016 # the subject, not an expansion
    until_true 10 has_route_subs P '$JS.API.>' 1
    run --separate-stderr "$NATSCTL" -s "$(url P)" stream add ORDERS --subjects 'orders.>' --defaults
    [ "$status" -eq 0 ]
    until_true 10 has_route_subs P 'orders.>' 1
    run --separate-stderr "$NATSCTL" pub -s "$(url P)" orders.new hi -J
    [ "$status" -eq 0 ]
    [[ $output == *"stream ORDERS seq 1"* ]]
    # the consumer's delivery crosses the route to the inbox on P, and the ack comes back
    run --separate-stderr timeout 10 "$NATSCTL" sub -s "$(url P)" --stream ORDERS --durable d1 \
        --count 1 orders.new
    [ "$status" -eq 0 ]
    [ "$output" = hi ]
    run --separate-stderr "$NATSCTL" -s "$(url P)" consumer info ORDERS d1
    [[ $output == *"Acknowledgment floor: consumer seq 1, stream seq 1"* ]]
}

@test "a nats-server peer with JetStream too is refused, not left to answer the API twice" {
    [[ -x $NATS_SERVER_BIN ]] || skip "no nats-server at $NATS_SERVER_BIN"
    wait_mesh 2 J P
    start_node nats-server S -js -sd "$BATS_FILE_TMPDIR/ns-store" --routes "$(route_url J)"
    until_true 10 grep -qF 'JetStream is enabled there too' "$(node_log J)"
    run cat "$(node_log J)"
    [[ $output == *"[WRN] JetStream is not clustered"* ]]
    [[ $output == *"Router connection closed: JetStream Conflict"* ]]
    [ "$(num_routes J)" -eq 1 ]
    stop_node S
}

@test "a second natsctl server with JetStream is refused on both sides" {
    wait_mesh 2 J P
    start_node natsctl K -js -sd "$BATS_FILE_TMPDIR/k-store" --routes "$(route_url J)"
    until_true 10 grep -qF 'JetStream is enabled there too' "$(node_log J)"
    until_true 10 grep -qF 'JetStream is enabled there too' "$(node_log K)"
    run cat "$(node_log K)"
    [[ $output == *"Router connection closed: JetStream Conflict"* ]]
    [ "$(num_routes J)" -eq 1 ]
    stop_node K
}
