#!/usr/bin/env bats
# Shell completion: the scripts come from the binary, the candidates from the command table.

load helpers

@test "the committed completion scripts match what the binary prints" {
    for shell in bash zsh fish; do
        case $shell in
        bash) file=natsctl.bash ;;
        zsh) file=_natsctl ;;
        fish) file=natsctl.fish ;;
        esac
        run "$NATSCTL" completion "$shell"
        [ "$status" -eq 0 ]
        [ "$output" = "$(cat "$REPO/completions/$file")" ] || {
            echo "completions/$file is stale: run make completions"
            return 1
        }
    done
}

@test "completion rejects an unknown shell with a usage error" {
    run --separate-stderr "$NATSCTL" completion tcsh
    [ "$status" -eq 2 ]
    [[ $stderr == *"unknown shell 'tcsh'"* ]]
}

@test "the first word completes to the visible commands, with descriptions" {
    run "$NATSCTL" __complete 1 natsctl ""
    [ "$status" -eq 0 ]
    [[ $output == *$'server\trun a NATS broker in the foreground'* ]]
    [[ $output != *"__complete"* ]]
}

@test "an option prefix completes to the command's options" {
    run "$NATSCTL" __complete 2 natsctl server --
    [[ $output == *$'--port\t'* ]]
    [[ $output == *$'--ports_file_dir\t'* ]]
    [[ $output == *$'--help\t'* ]]
}

@test "after an option that takes a file nothing is offered, so the shell completes files" {
    run "$NATSCTL" __complete 3 natsctl server -c ""
    [ -z "$output" ]
}

@test "completion and help complete their arguments" {
    run "$NATSCTL" __complete 2 natsctl completion ""
    [ "$output" = $'bash\nfish\nzsh' ]
    run "$NATSCTL" __complete 2 natsctl help ""
    [[ $output == *"server"* ]]
}

@test "bash completion works end to end" {
    run bash -c "source '$REPO/completions/natsctl.bash'
        PATH='$(dirname "$NATSCTL")':\$PATH
        COMP_WORDS=(natsctl se); COMP_CWORD=1; _natsctl; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(natsctl server --po); COMP_CWORD=2; _natsctl; echo \"\${COMPREPLY[*]}\""
    [ "${lines[0]}" = "server" ]
    [ "${lines[1]}" = "--port --ports_file_dir" ]
}
