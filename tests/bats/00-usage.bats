#!/usr/bin/env bats
# The multicall front door: overview, help, version, unknown commands.

load helpers

@test "natsctl alone prints the command overview on stderr and exits 2" {
    run --separate-stderr "$NATSCTL"
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == *"Usage: natsctl <command>"* ]]
    [[ $stderr == *"server"*"run a NATS broker"* ]]
}

@test "natsctl --help lists the commands on stdout" {
    run --separate-stderr "$NATSCTL" --help
    [ "$status" -eq 0 ]
    [[ $output == *"server"* ]]
    [[ $output == *"version"* ]]
    [ -z "$stderr" ]
}

@test "natsctl help server equals natsctl server --help" {
    run "$NATSCTL" help server
    [ "$status" -eq 0 ]
    local help=$output
    run "$NATSCTL" server --help
    [ "$status" -eq 0 ]
    [ "$output" = "$help" ]
    [[ $output == *"Usage: natsctl server"* ]]
}

@test "natsctl --version prints the version" {
    run "$NATSCTL" --version
    [ "$status" -eq 0 ]
    [[ $output =~ ^natsctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "an unknown command is a usage error with one line on stderr" {
    run --separate-stderr "$NATSCTL" frobnicate
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == *"'frobnicate' is not a command"* ]]
}

@test "a near miss suggests the closest command" {
    run --separate-stderr "$NATSCTL" sever
    [ "$status" -eq 2 ]
    [ "$stderr" = "natsctl: 'sever' is not a command; did you mean 'server'?" ]
}

@test "help for an unknown command is a usage error" {
    run --separate-stderr "$NATSCTL" help frobnicate
    [ "$status" -eq 2 ]
    [[ $stderr == *"no such command 'frobnicate'"* ]]
}

@test "a binary named natsctl-server runs the server command" {
    ln -s "$NATSCTL" "$BATS_TEST_TMPDIR/natsctl-server"
    run "$BATS_TEST_TMPDIR/natsctl-server" --help
    [ "$status" -eq 0 ]
    [[ $output == *"Usage: natsctl server"* ]]
}

@test "help lists the exit codes" {
    run "$NATSCTL" server --help
    [[ $output == *"Exit codes: 0 ok, 1 runtime failure, 2 usage error"* ]]
}

@test "the committed man page matches the command table" {
    run "$NATSCTL" __man
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat "$REPO/docs/natsctl.1")" ] || { echo "docs/natsctl.1 is stale: run make man"; return 1; }
    [[ $output == *'.SS "natsctl server"'* ]]
    [[ $output == *'\-\-ports_file_dir'* ]]
}
