#!/usr/bin/env bash
# The monitoring endpoints against nats-server 2.9.10's (make monitor-test).
#
# usage: tests/monitor/compare.sh NATSCTL [NATS_SERVER]
#
# Starts `natsctl server -js -m` and `nats-server -js -m` on free loopback ports and gives both the
# same traffic (natsctl's own client commands): a named subscriber on foo.>, a queue subscriber, a
# publisher of 100 messages of 10 B that then disconnects, a stream with a consumer. Then, on each:
# 1. counters after that known traffic (/varz, /connz per connection, /subsz) and /connz's sort,
#    limit, offset, cid and state parameters, with the same expectations for both servers, which
#    proves the expectations as much as natsctl;
# 2. every endpoint fetched from both and compared shape by shape: for each field present in both
#    (recursively; an array by the union of its elements' fields) the JSON types must match, and the fields listed
#    in required_fields must be present in natsctl's answer. Fields only nats-server has are listed,
#    for information.
# Exit status 0 when every check passed, 1 otherwise, 2 on usage.
set -uo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
    echo "usage: $0 NATSCTL [NATS_SERVER]" >&2
    exit 2
fi
natsctl=$(realpath "$1")
cd "$(dirname "$0")/../.." || exit 2
ref=${2:-$PWD/.deps/nats-server/usr/sbin/nats-server}
[[ -x $ref ]] || { echo "monitor-test: no nats-server at $ref (run scripts/deps.sh)" >&2; exit 2; }
for tool in curl jq; do
    command -v "$tool" >/dev/null || { echo "monitor-test: $tool is missing (scripts/deps.sh)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/monitor-test.XXXXXX")
pids=()
passed=0
failed=0

cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
    passed=$((passed + 1))
}

bad() {
    failed=$((failed + 1))
    echo "monitor-test: FAIL: $*" >&2
}

# check DESCRIPTION ACTUAL EXPECTED
check() {
    if [[ $2 == "$3" ]]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# start SIDE: starts SIDE's server and sets url_SIDE and mon_SIDE. A port that looked free may be
# taken by the time the server binds it, so a few are tried.
start() {
    local side=$1 dir=$work/$1 mport i try pid url="" cmd=("$ref")
    [[ $side == natsctl ]] && cmd=("$natsctl" server)
    for ((try = 0; try < 5; try++)); do
        [[ -n $url ]] && break
        rm -rf "$dir" && mkdir -p "$dir/store"
        mport=$(free_port)
        "${cmd[@]}" -a 127.0.0.1 -p -1 -m "$mport" -js -sd "$dir/store" --ports_file_dir "$dir" \
            >"$dir/log" 2>&1 &
        pid=$!
        pids+=("$pid")
        for ((i = 0; i < 200; i++)); do
            url=$(grep -o 'nats://[^"]*' "$dir"/*.ports 2>/dev/null | head -n 1)
            [[ -n $url ]] && curl -sf -o /dev/null "http://127.0.0.1:$mport/healthz" && break
            url=
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    done
    [[ -n $url ]] || { echo "monitor-test: $side did not start:" >&2; cat "$dir/log" >&2; exit 1; }
    printf -v "url_${side//-/_}" '%s' "$url"
    printf -v "mon_${side//-/_}" '%s' "http://127.0.0.1:$mport"
}

# get SIDE PATH: the body of GET PATH on SIDE's monitoring port.
get() {
    local mon=mon_${1//-/_}
    curl -s --max-time 5 "${!mon}$2"
}

# traffic SIDE: the same clients and messages on either server.
traffic() {
    local side=$1 url=url_${1//-/_} i
    url=${!url}
    "$natsctl" sub -s "$url" --name subber --count 1000 'foo.>' >/dev/null 2>&1 &
    pids+=($!)
    "$natsctl" sub -s "$url" --name qsub --queue grp --count 1000 q.x >/dev/null 2>&1 &
    pids+=($!)
    # Both subscriptions must be in place before anything is published.
    for ((i = 0; i < 100; i++)); do
        [[ $(get "$side" '/subsz?subs=1&test=foo.bar' | jq '.total // 0') == 1 &&
            $(get "$side" '/subsz?subs=1&test=q.x' | jq '.total // 0') == 1 ]] && break
        sleep 0.05
    done
    "$natsctl" pub -s "$url" --name pubber --count 100 foo.bar 0123456789 >/dev/null ||
        bad "$side: natsctl pub failed"
    for ((i = 0; i < 100; i++)); do
        [[ $(get "$side" /varz | jq .out_msgs) -ge 100 ]] && break
        sleep 0.05
    done
}

counters() {
    local side=$1 v c
    v=$(get "$side" /varz)
    check "$side /varz in_msgs" "$(jq .in_msgs <<<"$v")" 100
    check "$side /varz in_bytes" "$(jq .in_bytes <<<"$v")" 1000
    check "$side /varz out_msgs" "$(jq .out_msgs <<<"$v")" 100
    check "$side /varz out_bytes" "$(jq .out_bytes <<<"$v")" 1000
    check "$side /varz connections" "$(jq .connections <<<"$v")" 2
    check "$side /varz total_connections" "$(jq .total_connections <<<"$v")" 3
    c=$(get "$side" '/connz?state=closed')
    check "$side closed pubber in_msgs" "$(jq '[.connections[] | select(.name == "pubber")][0].in_msgs' <<<"$c")" 100
    check "$side closed pubber in_bytes" "$(jq '[.connections[] | select(.name == "pubber")][0].in_bytes' <<<"$c")" 1000
    check "$side closed pubber reason" "$(jq -r '[.connections[] | select(.name == "pubber")][0].reason' <<<"$c")" "Client Closed"
    c=$(get "$side" '/connz?subs=1')
    check "$side subber out_msgs" "$(jq '[.connections[] | select(.name == "subber")][0].out_msgs' <<<"$c")" 100
    check "$side subber out_bytes" "$(jq '[.connections[] | select(.name == "subber")][0].out_bytes' <<<"$c")" 1000
    check "$side subber subscriptions_list" "$(jq -c '[.connections[] | select(.name == "subber")][0].subscriptions_list' <<<"$c")" '["foo.>"]'
    check "$side subsz test=foo.bar" "$(get "$side" '/subsz?subs=1&test=foo.bar' | jq -c '[.total, .subscriptions_list[0].subject, .subscriptions_list[0].msgs]')" '[1,"foo.>",100]'
    check "$side subsz qgroup" "$(get "$side" '/subsz?subs=1&test=q.x' | jq -r '.subscriptions_list[0].qgroup')" grp
    # acc keeps one account's subscriptions: the clients' are in $G, none in $SYS or an unknown one.
    # shellcheck disable=SC2016 # $G and $SYS are account names, not variables
    check "$side subsz acc=\$G" "$(get "$side" '/subsz?subs=1&acc=$G&test=foo.bar' | jq -c '[.total, .subscriptions_list[0].account]')" '[1,"$G"]'
    # shellcheck disable=SC2016
    check "$side subsz acc=\$SYS" "$(get "$side" '/subsz?subs=1&acc=$SYS&test=foo.bar' | jq 'has("subscriptions_list")')" false
    check "$side subsz acc=nope" "$(get "$side" '/subsz?subs=1&acc=nope' | jq -c '[.num_subscriptions, .num_inserts, has("subscriptions_list")]')" '[0,0,false]'
}

connz_params() {
    local side=$1 c sub_cid q_cid
    c=$(get "$side" /connz)
    check "$side connz num_connections" "$(jq '[.num_connections, .total, .offset, .limit]' -c <<<"$c")" '[2,2,0,1024]'
    sub_cid=$(jq '[.connections[] | select(.name == "subber")][0].cid' <<<"$c")
    q_cid=$(jq '[.connections[] | select(.name == "qsub")][0].cid' <<<"$c")
    check "$side connz sorted by cid" "$(jq -c '[.connections[].cid] | . == sort' <<<"$c")" true
    c=$(get "$side" '/connz?limit=1&offset=1')
    check "$side connz limit+offset" "$(jq -c '[.num_connections, .total, .offset, .limit, .connections[0].cid]' <<<"$c")" \
        "[1,2,1,1,$((sub_cid > q_cid ? sub_cid : q_cid))]"
    c=$(get "$side" "/connz?cid=$q_cid")
    check "$side connz cid" "$(jq -c '[.num_connections, .limit, .connections[0].name]' <<<"$c")" '[1,1,"qsub"]'
    c=$(get "$side" '/connz?sort=msgs_to')
    check "$side connz sort=msgs_to" "$(jq -r '.connections[0].name' <<<"$c")" subber
    c=$(get "$side" '/connz?sort=bytes_to&limit=1&subs=detail')
    check "$side connz subs=detail" "$(jq -c '.connections[0].subscriptions_list_detail[0] | [.subject, .sid, .msgs]' <<<"$c")" '["foo.>","1",100]'
    c=$(get "$side" '/connz?state=all')
    check "$side connz state=all" "$(jq '.total' <<<"$c")" 3
    c=$(get "$side" '/connz?state=closed&sort=reason')
    check "$side connz state=closed" "$(jq '.num_connections' <<<"$c")" 1
    check "$side connz sort=bogus" "$(curl -s -o /dev/null -w '%{http_code}' "$(mon_of "$side")/connz?sort=bogus")" 400
    connz_filters "$side"
}

# connz_filters SIDE: acc, user and mqtt_client (no auth=1 needed: nats-server 2.9.10 never
# enforced it). Every client is in $G, but a closed one in $G keeps no account name, so acc never
# matches closed connections; none is MQTT or, here, sent a user name. The user and MQTT filters
# leave total unfiltered, and an unknown account is answered before the server's id is set.
# shellcheck disable=SC2016 # $G and $SYS are account names, not variables
connz_filters() {
    local side=$1 f='[.num_connections, .total]'
    check "$side connz acc=\$G" "$(get "$side" '/connz?acc=$G' | jq -c "$f")" '[2,2]'
    check "$side connz acc=\$G state=all" "$(get "$side" '/connz?acc=$G&state=all' | jq -c "$f")" '[2,2]'
    check "$side connz acc=\$SYS" "$(get "$side" '/connz?acc=$SYS&state=all' | jq -c "$f + [.connections]")" '[0,0,[]]'
    check "$side connz acc=nope" "$(get "$side" '/connz?acc=nope' | jq -c "[.server_id] + $f + [.connections]")" '["",0,0,null]'
    check "$side connz user=nobody" "$(get "$side" '/connz?user=nobody&state=all&auth=1' | jq -c "$f")" '[0,3]'
    check "$side connz mqtt_client" "$(get "$side" '/connz?mqtt_client=x' | jq -c "$f")" '[0,2]'
}

# accounts SIDE: the accounts a default configuration has, $G for clients and the system account.
# shellcheck disable=SC2016 # $G and $SYS are account names, not variables
accounts() {
    local side=$1 a
    check "$side /varz system_account" "$(get "$side" /varz | jq -r .system_account)" '$SYS'
    a=$(get "$side" /accountz)
    check "$side /accountz" "$(jq -c '[.system_account, (.accounts | sort)]' <<<"$a")" '["$SYS",["$G","$SYS"]]'
    a=$(get "$side" '/accountz?acc=$SYS')
    check "$side /accountz?acc=\$SYS" \
        "$(jq -c '.account_detail | [.account_name, .is_system, .client_connections, .jetstream_enabled]' <<<"$a")" \
        '["$SYS",true,0,false]'
    check "$side /accountz?acc=\$G is_system" "$(get "$side" '/accountz?acc=$G' | jq .account_detail.is_system)" null
}

# unclustered SIDE: the endpoints of what neither server has configured (leaf nodes, gateways),
# the per-account figures after the known traffic, and the index page that links them.
# shellcheck disable=SC2016 # $G and $SYS are account names, not variables
unclustered() {
    local side=$1 s
    check "$side /leafz" "$(get "$side" '/leafz?subs=1' | jq -c '[.leafnodes, .leafs]')" '[0,null]'
    check "$side /gatewayz" "$(get "$side" '/gatewayz?accs=1' | jq -c '[.outbound_gateways, .inbound_gateways]')" '[{},{}]'
    check "$side /ipqueuesz" "$(get "$side" '/ipqueuesz?all=1' | jq -r type)" object
    s=$(get "$side" /accstatz)
    check "$side /accstatz accounts in use" "$(jq -c '[.account_statz[].acc]' <<<"$s")" '["$G"]'
    check "$side /accstatz \$G" "$(jq -c '.account_statz[0] | [.conns, .leafnodes, .total_conns, .received.msgs, .received.bytes, .sent.msgs, .sent.bytes, .slow_consumers]' <<<"$s")" \
        '[2,0,2,100,1000,100,1000,0]'
    check "$side /accstatz?unused=1" "$(get "$side" '/accstatz?unused=1' | jq -c '[.account_statz[].acc] | sort')" '["$G","$SYS"]'
    for s in leafz?subs gatewayz?accs accstatz?unused ipqueuesz?all; do
        check "$side /$s=x" "$(curl -s -w ' %{http_code}' "$(mon_of "$side")/$s=x")" \
            "Error decoding boolean for '${s#*\?}': strconv.ParseBool: parsing \"x\": invalid syntax 400"
    done
    check "$side http_req_stats" "$(get "$side" /varz | jq -c '.http_req_stats | [has("/leafz"), has("/gatewayz"), has("/accstatz"), has("/ipqueuesz")]')" \
        '[true,true,true,false]'
    check "$side / links" "$(get "$side" / | grep -o 'href=\./[a-z]*' | tr '\n' ' ')" \
        'href=./varz href=./jsz href=./connz href=./accountz href=./accstatz href=./subsz href=./routez href=./leafz href=./gatewayz href=./healthz '
}

mon_of() {
    local mon=mon_${1//-/_}
    echo "${!mon}"
}

streams() {
    local side=$1 url=url_${1//-/_}
    url=${!url}
    "$natsctl" stream add -s "$url" ORDERS --subjects 'orders.>' --storage file --defaults >/dev/null ||
        bad "$side: stream add failed"
    "$natsctl" consumer add -s "$url" ORDERS C1 --pull --defaults >/dev/null 2>&1 ||
        "$natsctl" consumer add -s "$url" ORDERS C1 --pull >/dev/null || bad "$side: consumer add failed"
    "$natsctl" pub -s "$url" --count 5 orders.new hello >/dev/null || bad "$side: stream pub failed"
    # acc names the account to detail; offset pages the accounts (here only $G, so 1 leaves none).
    # shellcheck disable=SC2016 # $G is the account's name, not a variable
    check "$side /jsz?acc=\$G" "$(get "$side" '/jsz?acc=$G' | jq -c '[.account_details[] | [.name, .stream_detail]]')" '[["$G",null]]'
    # shellcheck disable=SC2016
    check "$side /jsz?acc=\$G&streams=1" "$(get "$side" '/jsz?acc=$G&streams=1' | jq -c '[.account_details[].stream_detail[].name]')" '["ORDERS"]'
    check "$side /jsz?accounts=1&offset=1" "$(get "$side" '/jsz?accounts=1&offset=1' | jq 'has("account_details")')" false
    check "$side /jsz?acc=nope" "$(get "$side" '/jsz?acc=nope' | jq 'has("account_details")')" false
}

# shape: every path of a JSON document and its type, one "path<TAB>type" a line; an array's
# elements share the path "array[]", so a field any element has is compared.
shape() {
    jq -r 'def walkt($p): (if $p != "" then "\($p)\t\(type)" else empty end),
        (if type == "object" then to_entries[] as $e | ($e.value | walkt("\($p).\($e.key)"))
         elif type == "array" then .[] | walkt("\($p)[]")
         else empty end);
        walkt("")' | sort -u
}

# shellcheck disable=SC2016 # $G is the account's name, not a variable
# Fields natsctl must answer with, per endpoint (beyond matching types where both have a field).
declare -A required_fields=(
    [/varz]=".server_id .server_name .version .proto .go .host .port .max_connections .ping_interval .ping_max .http_host .http_port .auth_timeout .max_control_line .max_payload .max_pending .tls_timeout .write_deadline .start .now .uptime .mem .cores .cpu .connections .total_connections .routes .remotes .leafnodes .in_msgs .out_msgs .in_bytes .out_bytes .slow_consumers .subscriptions .http_req_stats .config_load_time .system_account .jetstream.config.max_memory .jetstream.stats.api.total"
    ['/connz?subs=detail']=".server_id .now .num_connections .total .offset .limit .connections[].cid .connections[].kind .connections[].ip .connections[].port .connections[].start .connections[].last_activity .connections[].rtt .connections[].uptime .connections[].idle .connections[].pending_bytes .connections[].in_msgs .connections[].out_msgs .connections[].in_bytes .connections[].out_bytes .connections[].subscriptions .connections[].name .connections[].lang .connections[].version .connections[].subscriptions_list_detail[].subject .connections[].subscriptions_list_detail[].sid .connections[].subscriptions_list_detail[].msgs"
    ['/connz?state=closed']=".connections[].stop .connections[].reason"
    [/subsz]=".num_subscriptions .num_cache .num_inserts .num_removes .num_matches .cache_hit_rate .max_fanout .avg_fanout"
    ['/subsz?subs=1']=".server_id .now .total .offset .limit .subscriptions_list[].account .subscriptions_list[].subject .subscriptions_list[].sid .subscriptions_list[].msgs .subscriptions_list[].cid"
    [/routez]=".server_id .now .num_routes .routes"
    [/jsz]=".server_id .now .config .memory .storage .reserved_memory .reserved_storage .accounts .ha_assets .api.total .api.errors .streams .consumers .messages .bytes"
    ['/jsz?acc=$G']=".account_details[].name .account_details[].memory .account_details[].api.total"
    ['/jsz?accounts=true&streams=true&consumers=true&config=true']=".account_details[].name .account_details[].stream_detail[].name .account_details[].stream_detail[].state.messages .account_details[].stream_detail[].consumer_detail[].name"
    [/healthz]=".status"
    ['/leafz?subs=1']=".server_id .now .leafnodes .leafs"
    ['/gatewayz?accs=1']=".server_id .now .outbound_gateways .inbound_gateways"
    [/accstatz]=".server_id .now .account_statz[].acc .account_statz[].conns .account_statz[].leafnodes .account_statz[].total_conns .account_statz[].sent.msgs .account_statz[].sent.bytes .account_statz[].received.msgs .account_statz[].received.bytes .account_statz[].slow_consumers"
    ['/accstatz?unused=1']=".account_statz[].acc .account_statz[].received.msgs"
    ['/healthz?js-enabled-only=true']=".status"
    [/accountz]=".server_id .now .system_account .accounts"
    ['/accountz?acc=$G']=".system_account .account_detail.account_name .account_detail.subscriptions .account_detail.sublist_stats.num_subscriptions"
    ['/accountz?acc=$SYS']=".system_account .account_detail.account_name .account_detail.is_system .account_detail.sublist_stats.num_subscriptions"
)

compare() {
    local path=$1 p t ours_t missing=() mismatched=0
    get natsctl "$path" | shape >"$work/ours" || { bad "$path: natsctl's answer is not JSON"; return; }
    get nats-server "$path" | shape >"$work/theirs" || { bad "$path: nats-server's answer is not JSON"; return; }
    while IFS=$'\t' read -r p t; do
        ours_t=$(awk -F'\t' -v p="$p" '$1 == p { print $2 }' "$work/ours")
        if [[ -z $ours_t ]]; then
            missing+=("$p")
        elif [[ $ours_t != "$t" ]]; then
            bad "$path: $p is $ours_t in natsctl, $t in nats-server"
            mismatched=1
        fi
    done <"$work/theirs"
    ((mismatched)) || ok
    for p in ${required_fields[$path]:-}; do
        if grep -q "^${p//[/\\[}"$'\t' "$work/ours"; then ok; else bad "$path: natsctl lacks $p"; fi
    done
    if ((${#missing[@]})); then
        printf 'monitor-test: %s: only nats-server has: %s\n' "$path" "${missing[*]}"
    fi
}

start natsctl
start nats-server
for side in natsctl nats-server; do
    traffic "$side"
    counters "$side"
    connz_params "$side"
    accounts "$side"
    unclustered "$side"
    streams "$side"
done

# shellcheck disable=SC2016 # $G is the account's name, not a variable
for path in /varz '/connz?subs=detail' '/connz?subs=1' '/connz?state=closed' '/connz?state=all&sort=uptime' \
    /subsz '/subsz?subs=1' /routez /jsz '/jsz?acc=$G' '/jsz?accounts=true&streams=true&consumers=true&config=true' \
    /healthz '/healthz?js-enabled-only=true' /accountz '/accountz?acc=$G' '/accountz?acc=$SYS' \
    /leafz '/leafz?subs=1' /gatewayz '/gatewayz?accs=1' /accstatz '/accstatz?unused=1' /ipqueuesz \
    '/ipqueuesz?all=1'; do
    compare "$path"
done

echo "monitor-test: $passed passed, $failed failed"
((failed == 0))
