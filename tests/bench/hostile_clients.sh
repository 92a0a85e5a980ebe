#!/usr/bin/env bash
# Hostile clients against the real server, in release: the attacks of
# tests/hostile_clients/ one after the other, each against a node serving a
# generated phone book of 20,000 contacts while four phones search (two on
# connections they keep, two on a new connection per search, one search every 5 ms
# each). For each attack: the server's resident memory once loaded and at its peak,
# the phones' latencies during the attack (and their p99 before it, "quiet"), the
# bytes added to the server's logs, and the TCP buffer memory added in the kernel
# (the whole machine's: where answers wait that clients do not read). Targets: peak
# RSS under twice the idle RSS, phones' p99 under 10 ms.
#
# usage: tests/bench/hostile_clients.sh            (every attack)
#        tests/bench/hostile_clients.sh NAME       (the tests whose name holds NAME)
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo build --release --quiet
cargo test --release --quiet --test hostile_clients -- --nocapture --test-threads=1 "$@" | tee "$out"

echo
echo "| attack | idle RSS | peak RSS | others: searches | p50 | p99 | max | quiet p99 | log | TCP buffers |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# Test names and dots may share a line with the figures (cargo test --quiet).
grep -o 'hostile: .*' "$out" | grep 'peak RSS' | sed 's/^hostile: //' | awk -F' [|] ' '{
    attack = $1
    idle = $2; sub(/idle RSS /, "", idle)
    peak = $3; sub(/peak RSS /, "", peak)
    split($4, o, ", ")
    n = o[1]; sub(/others: /, "", n); sub(/ searches/, "", n)
    p50 = o[2]; sub(/p50 /, "", p50)
    p99 = o[3]; sub(/p99 /, "", p99)
    max = o[4]; sub(/max /, "", max)
    quiet = max; sub(/.*quiet p99 /, "", quiet); sub(/\).*/, "", quiet)
    sub(/ \(.*/, "", max)
    if (o[5] != "") attack = attack " (" o[5] ")"
    log_ = $5; sub(/log /, "", log_)
    tcp = $6; sub(/TCP buffers /, "", tcp)
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", attack, idle, peak, n, p50, p99, max, quiet, log_, tcp
}'
grep -o 'hostile: .*' "$out" | grep -v 'peak RSS' | sed 's/^hostile: //' || true
