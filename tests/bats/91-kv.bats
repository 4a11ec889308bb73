#!/usr/bin/env bats
# natsctl kv add, put, get, del and ls on the KV conventions: the bucket's stream configuration,
# values read back by direct get and by STREAM.MSG.GET, delete and purge markers, and the exit
# codes for a missing bucket or key, bad names and a delete without -f.

load helpers

setup() {
    client_setup
    start_js_server
}

teardown() {
    client_teardown
}

kv() {
    run --separate-stderr "$NATSCTL" kv "$@" -s "$URL"
}

@test "kv add creates the bucket's stream the way nats.c does" {
    kv add cfg --history 5 --ttl 1m --max-value-size 1KiB --storage memory
    [ "$status" -eq 0 ]
    [ "$output" = "Created bucket cfg: history 5, ttl 1m0s, storage memory" ]
    run --separate-stderr "$NATSCTL" stream info KV_cfg -s "$URL" --json
    jq -e '.config.subjects == ["$KV.cfg.>"] and .config.max_msgs_per_subject == 5
        and .config.max_age == 60000000000 and .config.duplicate_window == 60000000000
        and .config.max_msg_size == 1024 and .config.discard == "new"
        and .config.allow_rollup_hdrs and .config.deny_delete and .config.allow_direct
        and .config.storage == "memory"' <<<"$output"
}

@test "kv add --json prints the create response; bad names and values exit 2" {
    kv add cfg --json
    [ "$status" -eq 0 ]
    jq -e '.config.name == "KV_cfg" and .config.duplicate_window == 120000000000' <<<"$output"
    kv add 'bad.name'
    [ "$status" -eq 2 ]
    kv add cfg2 --history 65
    [ "$status" -eq 2 ]
}

@test "kv put stores values and get reads the latest back" {
    "$NATSCTL" kv add cfg -s "$URL" >/dev/null
    kv put cfg app.color blue
    [ "$status" -eq 0 ]
    [ "$output" = blue ]
    kv put cfg app.color red --json
    jq -e '.stream == "KV_cfg" and .seq == 2' <<<"$output"
    kv get cfg app.color
    [ "$status" -eq 0 ]
    [ "$output" = red ]
    kv get cfg app.color --json
    jq -e '.bucket == "cfg" and .key == "app.color" and .revision == 2 and .value == "red"
        and (.created | startswith("20"))' <<<"$output"
}

@test "kv put reads the value from stdin; a binary value comes back as value_b64" {
    "$NATSCTL" kv add cfg -s "$URL" >/dev/null
    run --separate-stderr bash -c "printf 'from\npipe' | '$NATSCTL' kv put cfg k -s '$URL'"
    [ "$status" -eq 0 ]
    kv get cfg k
    [ "$output" = $'from\npipe' ]
    run --separate-stderr bash -c "printf '\\xff\\x00' | '$NATSCTL' kv put cfg bin - -s '$URL'"
    kv get cfg bin --json
    jq -e '.value_b64 == "/wA="' <<<"$output"
}

@test "kv get of a missing key or bucket exits 6" {
    "$NATSCTL" kv add cfg -s "$URL" >/dev/null
    kv get cfg nothing
    [ "$status" -eq 6 ]
    [ "$stderr" = "natsctl kv get: key 'nothing' not found in bucket 'cfg'" ]
    kv get nope k
    [ "$status" -eq 6 ]
    [ "$stderr" = "natsctl kv get: bucket 'nope' not found" ]
    kv put nope k v
    [ "$status" -eq 6 ]
    [ "$stderr" = "natsctl kv put: bucket 'nope' not found" ]
}

@test "kv del leaves a delete marker, --purge a purge marker alone; both read as not found" {
    "$NATSCTL" kv add cfg --history 5 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 1 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 2 -s "$URL" >/dev/null
    kv del cfg a -f
    [ "$status" -eq 0 ]
    kv get cfg a
    [ "$status" -eq 6 ]
    run --separate-stderr "$NATSCTL" stream get KV_cfg --last-for '$KV.cfg.a' -s "$URL"
    [[ $output == *"KV-Operation: DEL"* ]]
    "$NATSCTL" kv put cfg b 1 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg b 2 -s "$URL" >/dev/null
    kv del cfg b --purge -f --json
    jq -e '.stream == "KV_cfg"' <<<"$output"
    run --separate-stderr "$NATSCTL" stream view KV_cfg --subject '$KV.cfg.b' -s "$URL"
    [[ $output == *"KV-Operation: PURGE"* ]]
    [ "$(grep -c Subject: <<<"$output")" -eq 1 ]
    kv get cfg b
    [ "$status" -eq 6 ]
}

@test "kv del without -f and without a terminal exits 2 and deletes nothing" {
    "$NATSCTL" kv add cfg -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 1 -s "$URL" >/dev/null
    kv del cfg a </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *"use -f"* ]]
    kv get cfg a
    [ "$output" = 1 ]
}

@test "kv get reads through STREAM.MSG.GET when the bucket's stream has no direct get" {
    "$NATSCTL" stream add KV_plain -s "$URL" --subjects '$KV.plain.>' --defaults >/dev/null
    "$NATSCTL" kv put plain k v1 -s "$URL" >/dev/null
    kv get plain k --json
    [ "$status" -eq 0 ]
    jq -e '.value == "v1" and .revision == 1' <<<"$output"
    kv get plain other
    [ "$status" -eq 6 ]
    [[ $stderr == *"key 'other' not found"* ]]
}

@test "kv ls lists the buckets and not the other streams" {
    "$NATSCTL" kv add one -s "$URL" >/dev/null
    "$NATSCTL" kv add two -s "$URL" >/dev/null
    "$NATSCTL" stream add ORDERS -s "$URL" --subjects 'orders.>' --defaults >/dev/null
    kv ls
    [ "$status" -eq 0 ]
    [ "$output" = $'one\ntwo' ]
    kv ls --json
    jq -e '. == ["one","two"]' <<<"$output"
}

@test "kv with a bad key, no value or an unknown subcommand exits 2" {
    kv put cfg '.bad' v
    [ "$status" -eq 2 ]
    [[ $stderr == *"invalid key"* ]]
    kv put cfg k </dev/null
    [ "$status" -eq 2 ]
    kv frob
    [ "$status" -eq 2 ]
}

@test "kv history prints every revision kept of a key and exits; a key without any exits 6" {
    "$NATSCTL" kv add cfg --history 5 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 1 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg b x -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 2 -s "$URL" >/dev/null
    "$NATSCTL" kv del cfg a -f -s "$URL" >/dev/null
    kv history cfg a
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '[1] PUT a: 1\n[3] PUT a: 2\n[4] DEL a')" ]
    kv history cfg a --json
    [ "$(jq -r '"\(.revision) \(.operation) \(.key)"' <<<"$output" | tr '\n' ,)" = "1 PUT a,3 PUT a,4 DEL a," ]
    kv history cfg nope
    [ "$status" -eq 6 ]
    run --separate-stderr "$NATSCTL" consumer ls KV_cfg -s "$URL"
    [ "$output" = "" ]
}

@test "kv watch prints the latest value of each key, then the updates" {
    "$NATSCTL" kv add cfg --history 5 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 1 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 2 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg b x -s "$URL" >/dev/null
    natsctl_bg watch kv watch cfg --count 4 -s "$URL"
    local pid=$BG_PID
    wait_for_text "$BATS_TEST_TMPDIR/watch.out" "[3] PUT b: x"
    "$NATSCTL" kv put cfg a 3 -s "$URL" >/dev/null
    "$NATSCTL" kv del cfg b -f -s "$URL" >/dev/null
    wait_exit "$pid"
    [ "$EXIT" -eq 0 ]
    [ "$(bg_out watch)" = "$(printf '[2] PUT a: 2\n[3] PUT b: x\n[4] PUT a: 3\n[5] DEL b')" ]
}

@test "kv watch of one key with --json" {
    "$NATSCTL" kv add cfg -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg a 1 -s "$URL" >/dev/null
    "$NATSCTL" kv put cfg b 1 -s "$URL" >/dev/null
    kv watch cfg a --count 1 --json
    [ "$status" -eq 0 ]
    jq -e '.key == "a" and .revision == 1 and .operation == "PUT" and .value == "1"' <<<"$output"
}
