#!/usr/bin/env bash
# Loads the same generated phone book into OpenLDAP's slapd (back-mdb, eq and sub
# indexes on names and numbers) and into sop, drives both with the same phone-like
# load (`sop bench load`: prefix and contains searches of 2 to 4 typed characters on
# names and numbers, size limit 50, several connections), and prints for each:
# searches per second, p50 and p99 latency, server CPU per search, resident memory,
# the time to load the directory at a start (for sop: read from the image the merge
# saved; "build s": built from the generation when there is no image), and the ratios.
#
# usage: tests/bench/ldap_vs_slapd.sh [COUNT...]        (default: 10000 100000 1000000)
# env:   SECONDS_PER_RUN (10), CONNECTIONS (8), SKIP_SLAPD_ABOVE (no limit)
set -euo pipefail
cd "$(dirname "$0")/../.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000 1000000)
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-8}
skip_slapd_above=${SKIP_SLAPD_ABOVE:-0}
base="dc=phonebook,dc=local"

cargo build --release --quiet
sop=$PWD/target/release/sop
work=$(mktemp -d)
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

schema=/etc/ldap/schema
printf "%-8s %-6s %12s %9s %9s %12s %10s %10s %10s %10s\n" contacts server "searches/s" "p50 us" "p99 us" "cpu us/srch" "rss MiB" "KB/contact" "load s" "build s"
for n in "${counts[@]}"; do
    "$sop" bench phonebook --count "$n" > "$work/book.csv"

    slapd_line="" ; s_rate=0 ; s_cpu=0
    if [ "$skip_slapd_above" = 0 ] || [ "$n" -le "$skip_slapd_above" ]; then
        "$sop" bench phonebook --count "$n" --ldif "$base" > "$work/book.ldif"
        rm -rf "$work/slapd" && mkdir -p "$work/slapd/db"
        cat > "$work/slapd/slapd.conf" <<CONF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $work/slapd/slapd.pid
sizelimit 500
database mdb
maxsize 8589934592
suffix "$base"
directory $work/slapd/db
index objectClass eq
index cn,sn,givenName,telephoneNumber,mobile,homePhone eq,sub
CONF
        load_start=$(date +%s.%N)
        /usr/sbin/slapadd -q -f "$work/slapd/slapd.conf" -l "$work/book.ldif"
        load_end=$(date +%s.%N)
        port=$(free_port)
        /usr/sbin/slapd -f "$work/slapd/slapd.conf" -h "ldap://127.0.0.1:$port/"
        wait_port "$port"
        sleep 0.5
        pid=$(cat "$work/slapd/slapd.pid")
        "$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections "$conns" --seconds 2 > /dev/null
        r=$("$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections "$conns" --seconds "$secs" --server-pid "$pid" --json)
        kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        s_rate=$(echo "$r" | json '["per_second"]'); s_cpu=$(echo "$r" | json '["server_cpu_us_per_search"]')
        rss=$(echo "$r" | json '["server_rss_kib"]')
        printf "%-8s %-6s %12.0f %9s %9s %12.1f %10.0f %10.2f %10.1f\n" "$n" slapd "$s_rate" \
            "$(echo "$r" | json '["p50_us"]')" "$(echo "$r" | json '["p99_us"]')" "$s_cpu" \
            "$(echo "$rss/1024" | bc -l)" "$(echo "$rss*1.024/$n" | bc -l)" "$(echo "$load_end-$load_start" | bc -l)"
    fi

    home="$work/sop-$n"
    "$sop" --home "$home" init > /dev/null
    port=$(free_port)
    sed -i "s/^listen = .*/listen = [\"127.0.0.1:$port\"]/; s/^access_log = true/access_log = false/" "$home/config.toml"
    "$sop" --home "$home" contacts import "$work/book.csv" --replace > /dev/null
    "$sop" --home "$home" ucm merge > /dev/null
    "$sop" --home "$home" server start > /dev/null
    st=$("$sop" --home "$home" server status --json)
    pid=$(echo "$st" | json '["status"]["pid"]')
    load_s=$(echo "$st" | json '["status"]["generation_load_ms"]/1000')
    "$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections "$conns" --seconds 2 > /dev/null
    r=$("$sop" bench load --addr "127.0.0.1:$port" --base-dn "$base" --connections "$conns" --seconds "$secs" --server-pid "$pid" --json)
    # The start above read the directory's image, saved by the merge; without it, a
    # start builds the directory from the generation.
    "$sop" --home "$home" server stop > /dev/null
    rm "$home"/data/generations/*.dir
    "$sop" --home "$home" server start > /dev/null
    build_s=$("$sop" --home "$home" server status --json | json '["status"]["generation_load_ms"]/1000')
    "$sop" --home "$home" server stop > /dev/null
    rate=$(echo "$r" | json '["per_second"]'); cpu=$(echo "$r" | json '["server_cpu_us_per_search"]')
    rss=$(echo "$r" | json '["server_rss_kib"]')
    printf "%-8s %-6s %12.0f %9s %9s %12.1f %10.0f %10.2f %10.1f %10.1f\n" "$n" sop "$rate" \
        "$(echo "$r" | json '["p50_us"]')" "$(echo "$r" | json '["p99_us"]')" "$cpu" \
        "$(echo "$rss/1024" | bc -l)" "$(echo "$rss*1.024/$n" | bc -l)" "$load_s" "$build_s"
    if [ "$s_rate" != 0 ]; then
        printf "%-8s ratio  %11.1fx %42.1fx less CPU\n" "$n" "$(echo "$rate/$s_rate" | bc -l)" "$(echo "$s_cpu/$cpu" | bc -l)"
    fi
    rm -rf "$home" "$work/slapd"
done
