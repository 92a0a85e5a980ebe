#!/usr/bin/env bash
# The Unified Communication Model at a million contacts: import of a local CSV,
# merge, published and served (wall time, from the command line as an admin runs it);
# then LDAP latency while idle and during a merge, and how fast `sop server status`
# answers during a merge.
#
# usage: tests/bench/ucm.sh [COUNT]        (default: 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-1000000}
cargo build --release --quiet
sop=$PWD/target/release/sop
work=$(mktemp -d)
trap '"$sop" --home "$work/node" server stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
now() { date +%s.%N; }

"$sop" bench phonebook --count "$n" > "$work/book.csv"
home="$work/node"
"$sop" --home "$home" init > /dev/null
port=$(free_port)
sed -i "s/^listen = .*/listen = [\"127.0.0.1:$port\"]/; s/^access_log = true/access_log = false/" "$home/config.toml"
"$sop" --home "$home" ucm set --url "$work/book.csv" > /dev/null
"$sop" --home "$home" server start > /dev/null

t0=$(now)
"$sop" --home "$home" ucm import > /dev/null
t1=$(now)
"$sop" --home "$home" ucm merge > /dev/null
t2=$(now)
served=$("$sop" --home "$home" server status --json | json '["status"]["contacts"]')
printf "%s contacts: import %.1f s + merge, publish and serve %.1f s = %.1f s (served: %s)\n" \
    "$n" "$(echo "$t1-$t0" | bc -l)" "$(echo "$t2-$t1" | bc -l)" "$(echo "$t2-$t0" | bc -l)" "$served"

base="dc=phonebook,dc=local"
idle=$("$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections 4 --seconds 5 --json)
printf "LDAP idle:          %6.0f searches/s, p50 %s us, p99 %s us\n" \
    "$(echo "$idle" | json '["per_second"]')" "$(echo "$idle" | json '["p50_us"]')" "$(echo "$idle" | json '["p99_us"]')"

# Merges one after the other while the load runs; status is timed meanwhile.
touch "$work/merging"
( while [ -e "$work/merging" ]; do "$sop" --home "$home" ucm merge > /dev/null; done ) &
merger=$!
( sleep 1; for _ in $(seq 1 20); do
    s=$(now); "$sop" --home "$home" server status > /dev/null; e=$(now)
    echo "($e-$s)*1000" | bc -l; sleep 0.2
  done > "$work/status-ms" ) &
timer=$!
sleep 1
busy=$("$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections 4 --seconds 5 --json)
wait $timer || true
rm -f "$work/merging"
wait $merger || true
printf "LDAP during merges: %6.0f searches/s, p50 %s us, p99 %s us\n" \
    "$(echo "$busy" | json '["per_second"]')" "$(echo "$busy" | json '["p50_us"]')" "$(echo "$busy" | json '["p99_us"]')"
printf "sop server status during merges: slowest of 20 answers %.0f ms\n" "$(sort -g "$work/status-ms" | tail -1)"
