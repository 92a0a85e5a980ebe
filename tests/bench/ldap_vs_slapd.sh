#!/usr/bin/env bash
# Loads the same generated phone book into OpenLDAP's slapd (back-mdb, eq and sub
# indexes on every attribute the filters name) and into sop, then runs every class
# of `sop bench filters` (every shape phones send x every served attribute x typed
# lengths 1 to 6 x finds entries / finds none, and each phone preset's own name,
# number and incoming-call filters) against both, class by class, with several
# connections and a size limit of 50. It prints, per class, the server CPU per
# search (from the scheduler's counters of every server thread), searches per
# second and p99 latency for sop and slapd side by side; then the worst classes,
# the classes where sop spends more CPU than slapd, resident memory per contact and
# the time to load the directory at a start (from the image the merge saved, and
# built from the generation without it).
#
# usage: tests/bench/ldap_vs_slapd.sh [COUNT...]        (default: 100000 1000000)
# env:   CLASS_SECONDS (0.1), CONNECTIONS (4), PER_CLASS (6), SKIP_SLAPD_ABOVE (no
#        limit), OUT (a directory to keep the per-class JSON in), SLAPD_RESULTS (an
#        earlier run's OUT: its slapd-COUNT.jsonl is used instead of running slapd),
#        SOP (a sop binary to use instead of building one), SLAPD_ONLY (1: no sop)
set -euo pipefail
cd "$(dirname "$0")/../.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)
class_secs=${CLASS_SECONDS:-0.1}
conns=${CONNECTIONS:-4}
per_class=${PER_CLASS:-6}
skip_slapd_above=${SKIP_SLAPD_ABOVE:-0}
base="dc=phonebook,dc=local"

if [ -z "${SOP:-}" ]; then
    cargo build --release --quiet
fi
sop=${SOP:-${CARGO_TARGET_DIR:-$PWD/target}/release/sop}
work=$(mktemp -d)
out=${OUT:-$work/out}
mkdir -p "$out"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
load() { # addr pid file
    "$sop" bench load --addr "$1" --base-dn "$base" --connections "$conns" --size-limit 50 \
        --filters "$filters" --class-seconds "$class_secs" --server-pid "$2" --json > "$3"
}

schema=/etc/ldap/schema
for n in "${counts[@]}"; do
    echo "== $n contacts"
    "$sop" bench phonebook --count "$n" > "$work/book.csv"
    filters="$work/filters-$n.tsv"
    "$sop" bench filters --count "$n" --per-class "$per_class" > "$filters"
    echo "$(cut -f1 "$filters" | sort -u | wc -l) classes, $(wc -l < "$filters") filters"

    slapd_json=""
    if [ -n "${SLAPD_RESULTS:-}" ] && [ -f "$SLAPD_RESULTS/slapd-$n.jsonl" ]; then
        slapd_json="$SLAPD_RESULTS/slapd-$n.jsonl"
    elif [ "$skip_slapd_above" = 0 ] || [ "$n" -le "$skip_slapd_above" ]; then
        "$sop" bench phonebook --count "$n" --ldif "$base" > "$work/book.ldif"
        "$sop" bench phonebook --schema > "$work/extra.schema"
        rm -rf "$work/slapd" && mkdir -p "$work/slapd/db"
        cat > "$work/slapd/slapd.conf" <<CONF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
include $work/extra.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $work/slapd/slapd.pid
sizelimit 500
database mdb
maxsize 17179869184
suffix "$base"
directory $work/slapd/db
index objectClass eq
index uid,cn,sn,givenName,displayName,o,ou,title,mail eq,sub
index telephoneNumber,mobile,homePhone,ipPhone,otherTelephone,pager eq,sub
CONF
        t0=$(date +%s.%N)
        /usr/sbin/slapadd -q -f "$work/slapd/slapd.conf" -l "$work/book.ldif"
        t1=$(date +%s.%N)
        port=$(free_port)
        /usr/sbin/slapd -f "$work/slapd/slapd.conf" -h "ldap://127.0.0.1:$port/"
        wait_port "$port"
        sleep 0.5
        pid=$(cat "$work/slapd/slapd.pid")
        slapd_json="$out/slapd-$n.jsonl"
        load "127.0.0.1:$port" "$pid" "$slapd_json"
        echo "slapd: rss $(( $(rss_kib "$pid") / 1024 )) MiB, slapadd $(echo "$t1 - $t0" | bc) s"
        kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi

    [ "${SLAPD_ONLY:-0}" = 1 ] && continue
    home="$work/sop-$n"
    "$sop" --home "$home" init > /dev/null
    port=$(free_port)
    sed -i "s/^listen = .*/listen = [\"127.0.0.1:$port\"]/; s/^access_log = true/access_log = false/" "$home/config.toml"
    "$sop" --home "$home" contacts import "$work/book.csv" --replace > /dev/null
    t0=$(date +%s.%N)
    "$sop" --home "$home" ucm merge > /dev/null
    t1=$(date +%s.%N)
    "$sop" --home "$home" server start > /dev/null
    st=$("$sop" --home "$home" server status --json)
    pid=$(echo "$st" | json '["status"]["pid"]')
    load_s=$(echo "$st" | json '["status"]["generation_load_ms"]/1000')
    sop_json="$out/sop-$n.jsonl"
    load "127.0.0.1:$port" "$pid" "$sop_json"
    rss=$(rss_kib "$pid")
    "$sop" --home "$home" server stop > /dev/null
    rm "$home"/data/generations/*.dir
    "$sop" --home "$home" server start > /dev/null
    build_s=$("$sop" --home "$home" server status --json | json '["status"]["generation_load_ms"]/1000')
    "$sop" --home "$home" server stop > /dev/null
    echo "sop: rss $((rss / 1024)) MiB = $(echo "scale=3; $rss * 1.024 / $n" | bc) KB/contact; merge $(echo "$t1 - $t0" | bc) s; load $load_s s from the image, $build_s s built"

    python3 - "$sop_json" "$slapd_json" <<'PY'
import json, sys
def read(path):
    if not path:
        return {}
    return {r["class"]: r for r in map(json.loads, open(path))}
sop, slapd = read(sys.argv[1]), read(sys.argv[2])
print(f'{"class":<40} {"sop cpu us":>10} {"slapd cpu us":>12} {"sop/s":>8} {"slapd/s":>8} {"sop p99":>8} {"slapd p99":>9}')
def cpu(r):
    return r.get("cpu_us_per_search") or 0.0
for name, r in sop.items():
    s = slapd.get(name, {})
    print(f'{name:<40} {cpu(r):>10.1f} {cpu(s) if s else float("nan"):>12.1f} {r["per_second"]:>8.0f} '
          f'{s.get("per_second", float("nan")):>8.0f} {r["p99_us"]:>8} {s.get("p99_us", "-"):>9}')
worst = sorted(sop.values(), key=cpu, reverse=True)[:10]
print("\nworst classes for sop (server CPU per search):")
for r in worst:
    s = slapd.get(r["class"])
    print(f'  {r["class"]:<40} {cpu(r):8.1f} us   p99 {r["p99_us"]} us' + (f'   slapd {cpu(s):.1f} us' if s else ''))
print(f'worst p99 of any class: {max(r["p99_us"] for r in sop.values())} us')
failed = sum(r["failed"] for r in sop.values())
print(f'failed searches: {failed}')
incoming = [r for n, r in sop.items() if "incoming-call" in n]
if incoming:
    print(f'incoming call: {max(cpu(r) for r in incoming):.1f} us of server CPU per search at most')
if slapd:
    worse = [(n, cpu(r), cpu(slapd[n])) for n, r in sop.items() if n in slapd and cpu(r) > cpu(slapd[n])]
    print(f'classes where sop spends more CPU than slapd: {len(worse)} of {len(sop)}')
    for n, a, b in sorted(worse, key=lambda w: w[1] - w[2], reverse=True)[:15]:
        print(f'  {n:<40} sop {a:.1f} us, slapd {b:.1f} us')
    ws = max(slapd.values(), key=cpu)
    print(f'worst class for slapd: {ws["class"]} {cpu(ws):.0f} us')
PY
    rm -rf "$home" "$work/slapd"
done
