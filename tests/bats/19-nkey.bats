#!/usr/bin/env bats
# NKey users and the client tools' --nkey and --creds (issue 14). Server scenarios run against the
# Debian nats-server and then natsctl, started from the same configuration, and what the clients
# saw plus the errors each server logged must be the same bytes (as in 19-auth.bats). Signatures
# are made here with the openssl command, independently of natsctl's code.

load helpers

teardown() {
    client_teardown
}

setup() {
    client_setup
}

# RFC 8032's first key written as an nkey user, and a key pair from nats-server's own tests.
SEED=SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA
NKEY=UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL
SEED2=SUAEL6RU3BSDAFKOHNTEOK5Q6FTM5FTAMWVIKBET6FHPO4JRII3CYELVNM
NKEY2=UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3
# A valid user key that no configuration below lists.
NKEY3=UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI

conf() {
    printf "$1" >"$BATS_TEST_TMPDIR/nkey.conf"
    echo "$BATS_TEST_TMPDIR/nkey.conf"
}

# sign SEED TEXT: TEXT signed with the nkey seed SEED, in raw URL base64. The seed's base32 holds
# two prefix bytes, the 32-byte Ed25519 seed and a CRC; openssl takes the seed as PKCS#8.
sign() {
    local dir=$BATS_TEST_TMPDIR
    # the PKCS#8 header of an Ed25519 key, then the seed (coreutils only: no xxd on a bare Debian)
    { printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20'
      printf '%s======' "$1" | base32 -d | head -c 34 | tail -c 32
    } >"$dir/k.der"
    openssl pkey -inform DER -in "$dir/k.der" -out "$dir/k.pem"
    printf '%s' "$2" >"$dir/msg"
    openssl pkeyutl -sign -inkey "$dir/k.pem" -rawin -in "$dir/msg" | base64 -w0 | tr '+/' '-_' | tr -d '='
    rm -f "$dir/k.der" "$dir/k.pem"
}

# nk_open FD: connects FD to the server, reads its INFO and sets NONCE from it.
nk_open() {
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
    local info
    IFS= read -r -t 2 -u "$1" info
    NONCE=$(sed -E 's/^INFO //' <<<"${info%$'\r'}" | jq -r '.nonce // empty')
}

# nk_say CONNECT-FIELDS [MORE]: one connection that sends CONNECT {FIELDS}, then MORE and a PING;
# prints what came back up to PONG or the close, then a separator. $SIG in FIELDS is replaced by
# the signature of this connection's nonce made with SIGNER (a seed).
nk_say() {
    nk_open 5
    local sig fields=$1
    sig=$(sign "$SIGNER" "$NONCE")
    fields=${fields//\$SIG/$sig}
    printf 'CONNECT {"verbose":false,%s}\r\n%bPING\r\n' "$fields" "${2:-}" >&5
    local line
    while IFS= read -r -t 3 -u 5 line 2>/dev/null; do
        line=${line%$'\r'}
        printf '%s\n' "$line"
        [[ $line == PONG ]] && break
    done
    exec 5>&-
    echo --
}

nkey_scenario() {
    jq -c '[.auth_required, (.nonce | length)]' <<<"$(info_json)"
    SIGNER=$SEED
    nk_say "\"nkey\":\"$NKEY\",\"sig\":\"\$SIG\""
    # the permissions of the nkey user: publish to a only
    nk_say "\"nkey\":\"$NKEY\",\"sig\":\"\$SIG\"" 'PUB a 1\r\nx\r\nPUB b 1\r\nx\r\n'
    # wrong key: a listed key, but the signature is another key's
    nk_say "\"nkey\":\"$NKEY2\",\"sig\":\"\$SIG\""
    # an unlisted key, even with its own good signature
    SIGNER=$SEED2
    nk_say "\"nkey\":\"$NKEY3\",\"sig\":\"\$SIG\""
    nk_say "\"nkey\":\"$NKEY2\",\"sig\":\"\$SIG\""
    # a signature of something else, one that is not base64, a missing or empty one
    SIGNER=$SEED
    nk_say "\"nkey\":\"$NKEY\",\"sig\":\"$(sign "$SEED" other-nonce)\""
    nk_say "\"nkey\":\"$NKEY\",\"sig\":\"!!not base64!!\""
    nk_say "\"nkey\":\"$NKEY\""
    nk_say "\"nkey\":\"$NKEY\",\"sig\":\"\""
    # a named user beside nkey users; an nkey in its CONNECT wins over its user and password
    nk_say '"user":"alice","pass":"secret"'
    nk_say "\"user\":\"alice\",\"pass\":\"secret\",\"nkey\":\"$NKEY3\",\"sig\":\"\$SIG\""
    # no credentials at all
    nk_say '"name":"anon"'
}

@test "nkey users: good and bad signatures, wrong and unknown keys, permissions, as nats-server" {
    on_both "$(conf "authorization {\n  users = [\n    {nkey: $NKEY, permissions: {publish: a}}\n    {nkey: $NKEY2, allowed_connection_types: [\"STANDARD\"]}\n    {user: alice, password: secret}\n  ]\n}\n")" nkey_scenario
    [[ $OUT == '[true,15]'$'\n''PONG'$'\n''--'$'\n'* ]]
    [[ $OUT == *$'\n'"-ERR 'Permissions Violation for Publish to \"b\"'"$'\n'PONG$'\n'* ]]
    [[ $OUT == *"[ERR] authentication error - Nkey \"$NKEY2\""* ]]
    [[ $OUT == *'[ERR] "anon" - authentication error - Nkey ""'* ]]
    [[ $OUT == *"Publish Violation - Nkey \"$NKEY\", Subject \"b\""* ]]
    [ "$(grep -c "Authorization Violation" <<<"$OUT")" -ge 8 ]
}

# Without nkey users there is no nonce, and a CONNECT's nkey is not looked at.
plain_scenario() {
    jq -c '[.auth_required, .nonce]' <<<"$(info_json)"
    SIGNER=$SEED
    nk_say "\"user\":\"alice\",\"pass\":\"secret\",\"nkey\":\"$NKEY\",\"sig\":\"AAAA\""
}

@test "no nkey users: no nonce in INFO, and an nkey in CONNECT is ignored" {
    on_both "$(conf "authorization {\n  users = [ {user: alice, password: secret} ]\n}\n")" plain_scenario
    [[ $OUT == '[true,null]'$'\n''PONG'$'\n''--'* ]]
}

@test "the nonce differs per connection and only the first INFO carries it" {
    start_server -c "$(conf "authorization { users = [ {nkey: $NKEY} ] }\n")"
    local a b
    a=$(info_json | jq -r .nonce)
    b=$(info_json | jq -r .nonce)
    [[ $a =~ ^[A-Za-z0-9_-]{15}$ ]]
    [ "$a" != "$b" ]
}

# refused_both CONF TEXT: nats-server and natsctl both refuse to start from CONF, saying TEXT.
refused_both() {
    run --separate-stderr timeout 5 "$NATS_SERVER_BIN" -p -1 -c "$1"
    [ "$status" -ne 0 ]
    [[ $stderr == *"$2"* ]] || { echo "nats-server: $stderr"; return 1; }
    run --separate-stderr timeout 5 "$NATSCTL" server -p -1 -c "$1"
    [ "$status" -eq 2 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "natsctl server: "*"$2"* ]] || { echo "natsctl: $stderr"; return 1; }
}

@test "a bad nkey in the configuration is refused with nats-server's texts" {
    local file
    file=$(conf "authorization {\n  users = [\n    {nkey: ${NKEY%?}M}\n  ]\n}\n")
    refused_both "$file" "$file:3:6: Not a valid public nkey for a user"
    file=$(conf "authorization {\n  users = [\n    {nkey: ADRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS}\n  ]\n}\n")
    refused_both "$file" "$file:3:6: Not a valid public nkey for a user"
    # nats-server points at one of the entry's keys, which one depends on Go's map order
    file=$(conf "authorization {\n  users = [\n    {nkey: $NKEY, user: bob}\n  ]\n}\n")
    refused_both "$file" ": Nkey users do not take usernames or passwords"
    file=$(conf "authorization {\n  users = [\n    {nkey: $NKEY, password: pw}\n  ]\n}\n")
    refused_both "$file" ": Nkey users do not take usernames or passwords"
}

@test "an nkey cannot be no_auth_user, in nats-server 2.9.10 as in natsctl" {
    refused_both "$(conf "authorization { users = [ {nkey: $NKEY} ] }\nno_auth_user: $NKEY\n")" \
        "no_auth_user: \"$NKEY\" present, but users are not defined"
    refused_both "$(conf "authorization { users = [ {nkey: $NKEY}, {user: a} ] }\nno_auth_user: $NKEY\n")" \
        "no_auth_user: \"$NKEY\" not present as user in authorization block or account configuration"
}

# --- the client tools ------------------------------------------------------------------------------

# tools_scenario SERVER: pub, sub, request and reply with --nkey and NATS_NKEY against SERVER
# (nats-server or natsctl) configured with an nkey user allowed everything.
tools_scenario() {
    WIRE_SERVER=$1
    client_serve -c "$(conf "authorization {\n  users = [ {nkey: $NKEY} ]\n}\n")"
    printf '%s\n' "$SEED" >"$BATS_TEST_TMPDIR/user.nk"
    chmod 600 "$BATS_TEST_TMPDIR/user.nk"
    sub_bg s greet --count 1 --nkey "$BATS_TEST_TMPDIR/user.nk"
    run --separate-stderr "$NATSCTL" pub -s "$URL" --nkey "$BATS_TEST_TMPDIR/user.nk" greet hello
    [ "$status" -eq 0 ]
    wait_exit "$BG_PID"
    [ "$EXIT" = 0 ]
    [ "$(bg_out s)" = hello ]
    NATS_NKEY=$BATS_TEST_TMPDIR/user.nk reply_bg r svc --count 1 'pong'
    NATS_NKEY=$BATS_TEST_TMPDIR/user.nk run --separate-stderr "$NATSCTL" request -s "$URL" svc ping
    [ "$status" -eq 0 ]
    [ "$output" = pong ]
    # without the key, and with another key: refused by the server
    run --separate-stderr "$NATSCTL" pub -s "$URL" greet x
    [ "$status" -eq 3 ]
    [[ $stderr == *"Authorization Violation"* ]]
    printf '%s\n' "$SEED2" >"$BATS_TEST_TMPDIR/other.nk"
    run --separate-stderr "$NATSCTL" pub -s "$URL" --nkey "$BATS_TEST_TMPDIR/other.nk" greet x
    [ "$status" -eq 3 ]
    [[ $stderr == *"Authorization Violation"* ]]
    client_teardown
}

@test "pub, sub, request and reply sign the nonce with --nkey or NATS_NKEY: nats-server" {
    tools_scenario nats-server
}

@test "pub, sub, request and reply sign the nonce with --nkey or NATS_NKEY: natsctl" {
    tools_scenario natsctl
}

@test "a missing, unreadable or malformed nkey or creds file: one line, exit 2, never the seed" {
    local dir=$BATS_TEST_TMPDIR bad=${SEED:0:20}X${SEED:21}
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 --nkey "$dir/none.nk" x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: nkey file $dir/none.nk: No such file or directory" ]
    printf '# a key with a broken CRC\n%s\n' "$bad" >"$dir/bad.nk"
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 --nkey "$dir/bad.nk" x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: nkey file $dir/bad.nk: not a valid nkey seed" ]
    printf 'not a key\n' >"$dir/empty.nk"
    NATS_NKEY=$dir/empty.nk run --separate-stderr "$NATSCTL" sub -s nats://127.0.0.1:1 x
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl sub: nkey file $dir/empty.nk: no nkey seed found" ]
    # a creds file: the JWT block, then the seed block
    printf -- '-----BEGIN NATS USER JWT-----\neyJ0.eyJ1.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n' "$bad" >"$dir/bad.creds"
    run --separate-stderr "$NATSCTL" request -s nats://127.0.0.1:1 --creds "$dir/bad.creds" x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl request: creds file $dir/bad.creds: not a valid nkey seed" ]
    [[ $stderr != *"${bad:0:12}"* ]]
    printf '' >"$dir/empty.creds"
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 --creds "$dir/empty.creds" x y
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl pub: creds file $dir/empty.creds: no user JWT found" ]
    chmod 000 "$dir/bad.nk"
    if [[ ! -r $dir/bad.nk ]]; then
        run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 --nkey "$dir/bad.nk" x y
        [ "$status" -eq 2 ]
        [ "$stderr" = "natsctl pub: nkey file $dir/bad.nk: Permission denied" ]
    fi
    run --separate-stderr "$NATSCTL" pub -s nats://127.0.0.1:1 --nkey "$dir/x" --creds "$dir/y" x y
    [ "$status" -eq 2 ]
    one_line "$stderr"
}

# nk_keep FD SEED KEY: a connection on FD that logs in as nkey KEY and stays open.
nk_keep() {
    local fd=$1
    nk_open "$fd"
    printf 'CONNECT {"verbose":false,"nkey":"%s","sig":"%s"}\r\nPING\r\n' "$3" \
        "$(sign "$2" "$NONCE")" >&"$fd"
    nk_upto "$fd"
}

# nk_upto FD: what FD got up to its PONG, or "(closed)".
nk_upto() {
    local line
    while IFS= read -r -t 3 -u "$1" line 2>/dev/null; do
        line=${line%$'\r'}
        printf '%s\n' "$line"
        [[ $line == PONG ]] && return 0
    done
    echo "(closed)"
}

RELOAD1="authorization {\n  users = [\n    {nkey: $NKEY, permissions: {publish: a}}\n    {nkey: $NKEY2}\n  ]\n}\n"
RELOAD2="authorization {\n  users = [\n    {nkey: $NKEY, permissions: {publish: b}}\n  ]\n}\n"

reload_scenario() {
    nk_keep 6 "$SEED" "$NKEY"
    nk_keep 7 "$SEED2" "$NKEY2"
    local before
    before=$(grep -c 'Reloaded server configuration' "$SERVER_LOG" || true)
    printf "$RELOAD2" >"$BATS_TEST_TMPDIR/nkey.conf"
    kill -HUP "$SERVER_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        (($(grep -c 'Reloaded server configuration' "$SERVER_LOG" || true) > before)) && break
        sleep 0.05
    done
    (printf 'PUB a 1\r\nx\r\nPUB b 1\r\nx\r\nPING\r\n' >&6) 2>/dev/null
    nk_upto 6
    (printf 'PING\r\n' >&7) 2>/dev/null
    nk_upto 7
    exec 6>&- 7>&-
    # the next server starts from the first file again
    printf "$RELOAD1" >"$BATS_TEST_TMPDIR/nkey.conf"
}

@test "reload: a removed nkey user is cut, a kept one stays with its new permissions, as nats-server" {
    on_both "$(conf "$RELOAD1")" reload_scenario
    [[ $OUT == *"-ERR 'Permissions Violation for Publish to \"a\"'"$'\n'PONG* ]]
    [[ $OUT == *'(closed)'* ]]
}
