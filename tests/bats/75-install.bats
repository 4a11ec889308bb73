#!/usr/bin/env bats
# make install and make uninstall into a DESTDIR: the layout packagers expect, PREFIX honoured, and
# the installed bash completion working in an interactive bash without natsctl on PATH.

load helpers

setup() {
    DEST=$BATS_TEST_TMPDIR/dest
}

# make_in TARGET ARGS...: runs make TARGET in the repository without rebuilding anything already
# built (the binary under test is installed as it is).
make_in() {
    make -C "$REPO" --no-print-directory -o "$NATSCTL" NATSCTL="$NATSCTL" "$@"
}

@test "make install DESTDIR=... lays out the binary, the man page and three completion scripts" {
    run make_in install DESTDIR="$DEST"
    [ "$status" -eq 0 ]
    run find "$DEST" -type f
    [ "$(sort <<<"$output")" = "$DEST/usr/local/bin/natsctl
$DEST/usr/local/share/bash-completion/completions/natsctl
$DEST/usr/local/share/fish/vendor_completions.d/natsctl.fish
$DEST/usr/local/share/man/man1/natsctl.1
$DEST/usr/local/share/zsh/vendor-completions/_natsctl" ]
    [ -x "$DEST/usr/local/bin/natsctl" ]
    [ "$("$DEST/usr/local/bin/natsctl" version)" = "$("$NATSCTL" version)" ]
    cmp "$REPO/docs/natsctl.1" "$DEST/usr/local/share/man/man1/natsctl.1"
    cmp "$REPO/completions/natsctl.bash" "$DEST/usr/local/share/bash-completion/completions/natsctl"
    cmp "$REPO/completions/_natsctl" "$DEST/usr/local/share/zsh/vendor-completions/_natsctl"
    cmp "$REPO/completions/natsctl.fish" "$DEST/usr/local/share/fish/vendor_completions.d/natsctl.fish"
    [ "$(stat -c %a "$DEST/usr/local/share/man/man1/natsctl.1")" = 644 ]
}

@test "make install honours PREFIX, and make uninstall removes every installed file" {
    run make_in install DESTDIR="$DEST" PREFIX=/usr
    [ "$status" -eq 0 ]
    [ -x "$DEST/usr/bin/natsctl" ]
    [ -f "$DEST/usr/share/man/man1/natsctl.1" ]
    [ -f "$DEST/usr/share/bash-completion/completions/natsctl" ]
    run make_in uninstall DESTDIR="$DEST" PREFIX=/usr
    [ "$status" -eq 0 ]
    [ -z "$(find "$DEST" -type f)" ]
}

@test "the installed bash completion completes 'natsctl s<TAB>' in an interactive bash without natsctl on PATH" {
    make_in install DESTDIR="$DEST"
    local bin=$DEST/usr/local/bin/natsctl
    cat >"$BATS_TEST_TMPDIR/rc" <<RC
PATH=/usr/bin:/bin
source '$DEST/usr/local/share/bash-completion/completions/natsctl'
COMP_WORDS=('$bin' s); COMP_CWORD=1; _natsctl; echo "installed: \${COMPREPLY[*]}"
COMP_WORDS=(natsctl s); COMP_CWORD=1
complete -p '$bin' 2>/dev/null || echo "by name: \$(complete -p natsctl)"
RC
    run bash --norc --noprofile -i <"$BATS_TEST_TMPDIR/rc"
    [[ $output == *"installed: server shell stream sub subscribe"* ]]
    [[ $output == *"by name: complete -o default -F _natsctl natsctl"* ]]
}

@test "completion from a checkout works through the path it was run from, with natsctl not on PATH" {
    run bash --norc --noprofile -c "PATH=/usr/bin:/bin
        source <('$NATSCTL' completion bash)
        COMP_WORDS=('$NATSCTL' s); COMP_CWORD=1; _natsctl; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=('$NATSCTL' bench p); COMP_CWORD=2; _natsctl; echo \"\${COMPREPLY[*]}\""
    [ "${lines[0]}" = "server shell stream sub subscribe" ]
    [ "${lines[1]}" = "pub pubsub" ]
}

@test "a binary under another name registers its completion under that name too" {
    ln -s "$NATSCTL" "$BATS_TEST_TMPDIR/natsctl2"
    run "$BATS_TEST_TMPDIR/natsctl2" completion bash
    [ "${lines[-1]}" = "complete -o default -F _natsctl natsctl2" ]
    [ "${lines[-2]}" = "complete -o default -F _natsctl natsctl" ]
    run "$NATSCTL" completion bash
    [ "${lines[-1]}" = "complete -o default -F _natsctl natsctl" ]
}

@test "a real TAB in an interactive bash (tmux) completes the installed natsctl" {
    command -v tmux >/dev/null || skip "tmux is not installed"
    make_in install DESTDIR="$DEST"
    local bin=$DEST/usr/local/bin/natsctl sock=$BATS_TEST_TMPDIR/tmux.sock i
    printf "PS1='$ '\nPATH=/usr/bin:/bin\nsource '%s'\n" \
        "$DEST/usr/local/share/bash-completion/completions/natsctl" >"$BATS_TEST_TMPDIR/rc"
    tmux -S "$sock" new-session -d -x 250 -y 20 "bash --rcfile '$BATS_TEST_TMPDIR/rc' -i" 3>&-
    # keys typed before readline is up would be taken by the terminal, not completed
    for ((i = 0; i < 100; i++)); do
        [[ $(tmux -S "$sock" capture-pane -p) == '$ '* ]] && break
        sleep 0.05
    done
    tmux -S "$sock" send-keys "$bin ser" Tab
    for ((i = 0; i < 100; i++)); do
        tmux -S "$sock" capture-pane -p | grep -qF "$bin server" && break
        sleep 0.05
    done
    run tmux -S "$sock" capture-pane -p
    tmux -S "$sock" kill-server
    [[ $output == *"$bin server"* ]]
}
