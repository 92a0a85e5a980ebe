#!/usr/bin/env bash
# Cluster Replication over loopback SSH: an import of COUNT contacts pushed to one
# node, then to 3 other nodes at once, timed end to end until every node serves it
# (`sop cluster push` returns when each node has merged and serves it; the count
# served is checked), then how long a node that was away during an import takes to
# be in sync once it is back (the origin's server retries it on its own; RETRY_SECS,
# default 10), then `sop cluster status` for 10 nodes (the 3 nodes, each
# named several times), through the shared ssh connection, with it closed first,
# and with new ones; and what ssh alone costs for the same 10 sessions.
# Each push is timed once the nodes the push before reached are done: a node saves
# its directory's image in the background after it merged.
# All nodes share this machine's CPUs; each push also prints the machine's busy CPU
# time meanwhile (every process), steadier than the wall time when the machine drifts.
# Needs OpenSSH's server (/usr/sbin/sshd); it runs on a free port as this user.
#
# usage: tests/bench/cluster.sh [COUNT]        (default: 100000)
#        SOP_BIN=path/to/sop tests/bench/cluster.sh [COUNT]   (that binary, no build)
#        KEEP=1 ...: the nodes' homes (logs, histories) are kept and named at the end
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-100000}
if [ -n "${SOP_BIN:-}" ]; then
    sop=$(realpath "$SOP_BIN")
else
    cargo build --release --quiet
    sop=${CARGO_TARGET_DIR:-$PWD/target}/release/sop
fi
work=$(mktemp -d)
sshd_pid=""
cleanup() {
    for node in a b c d e; do "$sop" --home "$work/$node" server stop >/dev/null 2>&1 || true; done
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# The machine's busy CPU time so far, in seconds (every process, from /proc/stat):
# with every node on this machine, a push's CPU time says what it costs even when
# the machine's speed drifts.
busy() { awk '/^cpu /{printf "%.2f", ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# sshd on loopback with keys made here.
ssh_port=$(free_port)
for key in host_key client_key; do ssh-keygen -q -t ed25519 -N "" -f "$work/$key"; done
cp "$work/client_key.pub" "$work/authorized_keys"
cat > "$work/sshd_config" <<CONF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 100
LogLevel ERROR
CONF
echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$work/host_key.pub")" > "$work/known_hosts"
[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2> "$work/sshd.log" &
sshd_pid=$!

node() {
    "$sop" --home "$work/$1" init > /dev/null
    sed -i "s/^listen = .*/listen = [\"127.0.0.1:$(free_port)\"]/; s/^access_log = true/access_log = false/; s/^name = \"sop\"/name = \"sop-$1\"/" "$work/$1/config.toml"
    "$sop" --home "$work/$1" module install cluster > /dev/null
}
node a
for r in b c d e; do node "$r"; "$sop" --home "$work/$r" server start > /dev/null; done
add() {
    "$sop" --home "$work/a" cluster add "$1" 127.0.0.1 --port "$ssh_port" \
        --identity-file "$work/client_key" --sop-path "$sop" --remote-home "$work/$2" \
        "--ssh-option=-oUserKnownHostsFile=$work/known_hosts" --ssh-option=-oIdentitiesOnly=yes \
        --ssh-option=-F/dev/null > /dev/null
}
for r in b c d e; do add "$r" "$r"; done

"$sop" bench phonebook --count "$n" > "$work/book.csv"
"$sop" --home "$work/a" ucm set --url "$work/book.csv" > /dev/null
"$sop" --home "$work/a" ucm import > /dev/null

# A node that merged saves its directory's image afterwards, in the background (at
# the lowest priority): each push is timed once the nodes it reached are done.
settled() {
    local give_up=$(( $(date +%s) + 120 ))
    for node in "$@"; do
        local gens="$work/$node/data/generations"
        until [ -f "$gens/gen-$(printf %08d "$(cat "$gens/current")").dir" ]; do
            [ "$(date +%s)" -lt "$give_up" ] || { echo "node $node saved no image" >&2; break; }
            sleep 0.2
        done
    done
}

t0=$(now)
b0=$(busy)
"$sop" --home "$work/a" cluster push e > /dev/null
t1=$(now)
b1=$(busy)
printf "push of %s contacts to 1 node, until it serves it: %.2f s (CPU busy %.1f s)\n" "$n" "$(echo "$t1-$t0" | bc -l)" "$(echo "$b1-$b0" | bc -l)"
settled e

t0=$(now)
b0=$(busy)
"$sop" --home "$work/a" cluster push b c d > "$work/push.log"
t1=$(now)
b1=$(busy)
cat "$work/push.log"
for r in b c d; do
    served=$("$sop" --home "$work/$r" server status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["contacts"])')
    echo "node $r serves $served contacts"
done
printf "push of %s contacts to 3 nodes, until each serves it: %.2f s (CPU busy %.1f s)\n" "$n" "$(echo "$t1-$t0" | bc -l)" "$(echo "$b1-$b0" | bc -l)"

# The next import changes little (one contact more): each node gets only the changes.
"$sop" bench phonebook --count "$((n + 1))" > "$work/book.csv"
"$sop" --home "$work/a" ucm import > /dev/null
settled b c d
t0=$(now)
b0=$(busy)
"$sop" --home "$work/a" cluster push b c d > "$work/push.log"
t1=$(now)
b1=$(busy)
cat "$work/push.log"
printf "push of a change (1 contact more) to %s contacts, to 3 nodes, until each serves it: %.2f s (CPU busy %.1f s)\n" "$n" "$(echo "$t1-$t0" | bc -l)" "$(echo "$b1-$b0" | bc -l)"

# Catch-up: with the origin's server running (push_after_import, retry_secs), node b
# is away while the list changes; once back, it is in sync at the next retry, with
# no command. Timed from b's return until the origin's status says it is in sync.
retry=${RETRY_SECS:-10}
sed -i "s/^push_after_import = .*/push_after_import = true/; s/^retry_secs = .*/retry_secs = $retry/" "$work/a/config.toml"
"$sop" --home "$work/a" server start > /dev/null
"$sop" --home "$work/b" server stop > /dev/null
mv "$work/b" "$work/b.away"
"$sop" bench phonebook --count "$((n + 2))" > "$work/book.csv"
"$sop" --home "$work/a" ucm import > /dev/null
in_sync() {
    "$sop" --home "$work/a" cluster status --json | python3 -c '
import json, sys
nodes = {n["name"]: n for n in json.load(sys.stdin)["nodes"]}
print(nodes[sys.argv[1]]["sync"])' "$1"
}
# The background push reaches c and d; b fails and waits for its retry.
give_up=$(( $(date +%s) + 600 ))
waited() { [ "$(date +%s)" -lt "$give_up" ] || { echo "gave up waiting: $1" >&2; exit 1; }; }
until waited "b's failed push" && [ "$("$sop" --home "$work/a" cluster status --json | python3 -c '
import json, sys
nodes = {n["name"]: n for n in json.load(sys.stdin)["nodes"]}
print(bool(nodes["b"].get("next_retry")))')" = True ]; do sleep 0.5; done
mv "$work/b.away" "$work/b"
"$sop" --home "$work/b" server start > /dev/null
t0=$(now)
until waited "b in sync" && [ "$(in_sync b)" = in_sync ]; do sleep 0.5; done
t1=$(now)
printf "node back after an import it missed, in sync without a command after: %.1f s (retry_secs = %s; the first retry is due at most %s s after the failure)\n" \
    "$(echo "$t1-$t0" | bc -l)" "$retry" "$retry"
"$sop" --home "$work/a" server stop > /dev/null
sed -i "s/^push_after_import = .*/push_after_import = false/" "$work/a/config.toml"

i=0
"$sop" --home "$work/a" cluster remove e > /dev/null
for extra in 4 5 6 7 8 9 10; do add "n$extra" "$(echo b c d | cut -d' ' -f$((i % 3 + 1)))"; i=$((i + 1)); done
status_runs() {
    for run in 1 2 3 4 5; do
        [ "$1" != "default, cold" ] || close_shared
        s=$(now)
        "$sop" --home "$work/a" cluster status > "$work/status.log"
        e=$(now)
        printf "sop cluster status, 10 nodes, %s, run %s: %.2f s (%s in sync)\n" "$1" "$run" "$(echo "$e-$s" | bc -l)" "$(grep -c 'IN SYNC' "$work/status.log")"
    done
}
# Ends the connections kept open ([cluster] share_connections).
close_shared() {
    for socket in "$work"/a/run/ssh/*; do
        [ -S "$socket" ] && ssh -o "ControlPath=$socket" -O exit x 2>/dev/null || true
    done
}
# What ssh alone costs here: 10 sessions at once that run `true` on the node, through
# one shared connection and with a connection each. The node's login shell counts:
# sshd runs the command through it, and bash reads ~/.bashrc when sshd starts it.
floor_runs() {
    local args=(-T -o BatchMode=yes -p "$ssh_port" -i "$work/client_key" -o IdentitiesOnly=yes
        -F /dev/null -o "UserKnownHostsFile=$work/known_hosts")
    [ "$1" = "new connections" ] || args+=(-o ControlMaster=auto -o "ControlPath=$work/floor.sock" -o ControlPersist=60)
    ssh "${args[@]}" 127.0.0.1 true 2>> "$work/floor.err"
    for run in 1 2 3; do
        s=$(now)
        local pids=()
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            ssh "${args[@]}" 127.0.0.1 true 2>> "$work/floor.err" &
            pids+=($!)
        done
        wait "${pids[@]}"
        e=$(now)
        printf "ssh alone, 10 sessions running true, %s, run %s: %.2f s\n" "$1" "$run" "$(echo "$e-$s" | bc -l)"
    done
    [ "$1" = "new connections" ] || ssh -o "ControlPath=$work/floor.sock" -O exit x 2>/dev/null || true
}
# Through the connection the pushes left open (the default: [cluster]
# share_connections = 60), then with that connection closed before each run, then
# with no sharing (a new connection for each node each time).
status_runs "default, open connection"
status_runs "default, cold"
sed -i 's/^share_connections = .*/share_connections = 0/' "$work/a/config.toml"
status_runs "new connections"
floor_runs "shared connection"
floor_runs "new connections"
