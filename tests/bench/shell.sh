#!/usr/bin/env bash
# The shell's speed with a large directory served: the first frame after start,
# each key press until its frame is drawn, and each search as typed until its
# results are drawn. The shell measures these itself and logs them on exit; this
# drives it in tmux like an admin typing, then prints the figures.
#
# usage: tests/bench/shell.sh [COUNT]        (default: 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-1000000}
cargo build --release --quiet
sop=$PWD/target/release/sop
work=$(mktemp -d)
tmux="tmux -L sop-bench-$$"
trap '$tmux kill-server 2>/dev/null || true; "$sop" --home "$work/node" server stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

home="$work/node"
"$sop" --home "$home" init > /dev/null
sed -i "s/^listen = .*/listen = [\"127.0.0.1:$(free_port)\"]/; s/^access_log = true/access_log = false/" "$home/config.toml"
"$sop" bench phonebook --count "$n" > "$work/book.csv"
"$sop" --home "$home" ucm set --url "$work/book.csv" > /dev/null
"$sop" --home "$home" server start > /dev/null
"$sop" --home "$home" ucm import > /dev/null
"$sop" --home "$home" ucm merge > /dev/null
echo "served: $("$sop" --home "$home" server status | grep -i -m1 contacts)"

screen() { $tmux capture-pane -t bench -p; }
wait_for() {
    for _ in $(seq 1 400); do screen | grep -q -- "$1" && return 0; sleep 0.05; done
    echo "the shell never showed: $1" >&2; screen >&2; exit 1
}
key() { $tmux send-keys -t bench "$@"; sleep "${PAUSE:-0.12}"; }

for run in 1 2 3; do
    $tmux new-session -d -x 120 -y 40 -s bench "SOP_LOG=${SOP_LOG:-info} $sop --home $home"
    wait_for "Main menu"
    if [ "$run" = 1 ]; then
        key c; key Enter
        wait_for "matches"
        key /
        # Typing names and numbers, one character at a time, as at a keyboard.
        for word in maria jose "+49 30" wang 0049; do
            for ((i = 0; i < ${#word}; i++)); do key -l "${word:i:1}"; done
            for ((i = 0; i < ${#word}; i++)); do key BSpace; done
        done
        key Escape
        # Moving through the results and the menus.
        for _ in $(seq 1 60); do PAUSE=0.03 key Down; done
        key Escape
        for _ in $(seq 1 20); do PAUSE=0.03 key Down; done
    fi
    key q
    for _ in $(seq 1 100); do $tmux has-session -t bench 2>/dev/null || break; sleep 0.05; done
done
grep 'shell closed' "$home/log/shell.log" | sed 's/.*shell closed; //'
# With SOP_LOG=debug: the slowest searches, with the filter sent.
grep -h 'total_us=' "$home/log/shell.log" 2>/dev/null \
    | sed 's/.*filter=\(.*\) server_us=\([0-9]*\) total_us=\([0-9]*\) matched=\([0-9]*\).*/\3 us (server \2 us, \4 matched): \1/' \
    | sort -n | tail -5 || true
