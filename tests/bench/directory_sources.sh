#!/usr/bin/env bash
# A directory source at 100,000 entries: pulled page by page from a local OpenLDAP
# slapd, kept as the source's snapshot, merged with the internal contacts, published
# and served, timed from the command line as an admin runs it (sop sources sync).
#
# usage: tests/bench/directory_sources.sh [COUNT] [RUNS]     (default: 100000 3)
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-100000}
runs=${2:-3}
cargo build --release --quiet
sop=${CARGO_TARGET_DIR:-$PWD/target}/release/sop
work=$(mktemp -d)
slapd_pid=""
cleanup() {
    "$sop" --home "$work/node" server stop >/dev/null 2>&1 || true
    [ -n "$slapd_pid" ] && kill "$slapd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
now() { date +%s.%N; }

# The upstream directory: slapd with the generated entries; one search returns at
# most 500 entries (its default), paged searches get them all.
base="o=bench"
mkdir "$work/db"
"$sop" bench phonebook --schema > "$work/extra.schema"
cat > "$work/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include $work/extra.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $work/slapd.pid
database mdb
maxsize 4294967296
suffix "$base"
directory $work/db
index objectClass eq
limits * size.soft=500 size.hard=500 size.prtotal=unlimited
CONF
"$sop" bench phonebook --count "$n" --ldif "$base" > "$work/book.ldif"
/usr/sbin/slapadd -q -f "$work/slapd.conf" -l "$work/book.ldif"
ldap_port=$(free_port)
/usr/sbin/slapd -f "$work/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/" -d 0 >/dev/null 2>&1 &
slapd_pid=$!
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$ldap_port))" 2>/dev/null; do sleep 0.1; done

home="$work/node"
"$sop" --home "$home" init > /dev/null
"$sop" --home "$home" module install directory-sources > /dev/null
port=$(free_port)
sed -i "s/^listen = .*/listen = [\"127.0.0.1:$port\"]/; s/^access_log = true/access_log = false/" "$home/config.toml"
"$sop" --home "$home" sources add bench --uri "ldap://127.0.0.1:$ldap_port" --base-dn "$base" > /dev/null
"$sop" --home "$home" server start > /dev/null

for run in $(seq 1 "$runs"); do
    t0=$(now)
    "$sop" --home "$home" sources sync bench > "$work/sync.out"
    t1=$(now)
    served=$("$sop" --home "$home" server status --json | json '["status"]["contacts"]')
    sync_ms=$(grep -o 'in [0-9]* ms (job' "$work/sync.out" | grep -o '[0-9]*' | head -1)
    merge_ms=$(grep -o 'removed) in [0-9]* ms' "$work/sync.out" | grep -o '[0-9]*' | head -1)
    printf "run %s: %s entries pulled, merged, published and served in %.2f s (sync %s ms, merge %s ms; served: %s contacts; %s)\n" \
        "$run" "$n" "$(echo "$t1-$t0" | bc -l)" "$sync_ms" "$merge_ms" "$served" "$(grep -o 'change: .*' "$work/sync.out")"
done
