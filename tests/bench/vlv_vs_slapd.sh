#!/usr/bin/env bash
# Browsing with virtual list views, sop beside OpenLDAP's slapd with its sssvlv
# overlay, on the same generated phone book: each kind of browse a Poly phone does
# (the whole book window by window from the first entry to the last, a jump to a
# typed value, some of the book (names starting with M) window by window), sorted
# by sn then givenName, windows of 20, each window one `ldapsearch -E sss -E vlv`.
# Prints, per kind and server, the server's CPU per window (from /proc, every
# thread) and the wall time per window, then the worst kind of each.
#
# usage: tests/bench/vlv_vs_slapd.sh [COUNT...]      (default: 100000)
# env:   WINDOWS (windows per kind, 50), SOP (a sop binary instead of building one)
set -euo pipefail
cd "$(dirname "$0")/../.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000)
windows=${WINDOWS:-50}
base="dc=phonebook,dc=local"

if [ -z "${SOP:-}" ]; then
    cargo build --release --quiet
fi
sop=${SOP:-${CARGO_TARGET_DIR:-$PWD/target}/release/sop}
work=$(mktemp -d)
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# browse NAME PORT PID COUNT: one line per kind: kind, windows, CPU ms and wall ms per window.
browse() {
    python3 - "$1" "$2" "$3" "$4" "$windows" "$base" <<'PY'
import os, subprocess, sys, time
name, port, pid, count, windows, base = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    # utime + stime of the whole process (every thread), in seconds.
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def window(filt, vlv):
    # ldapsearch then asks on stdin for the next window: one it cannot read ends it.
    out = subprocess.run(
        ["ldapsearch", "-x", "-H", f"ldap://127.0.0.1:{port}", "-b", base,
         "-E", "!sss=sn:caseIgnoreOrderingMatch/givenName:caseIgnoreOrderingMatch",
         "-E", f"!vlv={vlv}", filt, "sn", "givenName", "telephoneNumber"],
        input=b"end\n", capture_output=True).stdout.decode()
    if "vlvResult: pos=" not in out:
        sys.exit(f"{name}: no list view answer for {vlv} {filt}:\n{out[-500:]}")
whole, some = "(objectClass=person)", "(|(sn=m*)(givenName=m*))"
letters = [c + s for s in ("", "e", "ri") for c in "abcdefghijklmnopqrstuvwxyz"]
kinds = [
    ("whole book, offset, first to last", whole,
     [f"0/19/{1 + k * (count - 20) // max(windows - 1, 1)}/{count}" for k in range(windows)]),
    ("whole book, typed value", whole, [f"2/17:{v}" for v in letters[:windows]]),
    ("names M*, offset", some, [f"0/19/{1 + k * 20}/0" for k in range(windows)]),
]
window(whole, "0/19/1/0")  # the first: the sort of the whole book, in neither figure
for kind, filt, views in kinds:
    c0, t0 = cpu(), time.monotonic()
    for v in views:
        window(filt, v)
    c1, t1 = cpu(), time.monotonic()
    n = len(views)
    print(f"{kind}\t{n}\t{(c1 - c0) * 1000 / n:.2f}\t{(t1 - t0) * 1000 / n:.2f}")
PY
}

schema=/etc/ldap/schema
for n in "${counts[@]}"; do
    echo "== $n contacts, $windows windows of 20 per kind"
    "$sop" bench phonebook --count "$n" > "$work/book.csv"
    "$sop" bench phonebook --count "$n" --ldif "$base" > "$work/book.ldif"
    "$sop" bench phonebook --schema > "$work/extra.schema"
    mkdir -p "$work/slapd/db"
    cat > "$work/slapd/slapd.conf" <<CONF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
include $work/extra.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload sssvlv
pidfile $work/slapd/slapd.pid
sizelimit unlimited
database mdb
maxsize 17179869184
suffix "$base"
directory $work/slapd/db
index objectClass eq
index uid,cn,sn,givenName,displayName,o,ou,title,mail eq,sub
overlay sssvlv
CONF
    /usr/sbin/slapadd -q -f "$work/slapd/slapd.conf" -l "$work/book.ldif"
    port=$(free_port)
    /usr/sbin/slapd -f "$work/slapd/slapd.conf" -h "ldap://127.0.0.1:$port/"
    wait_port "$port"
    pid=$(cat "$work/slapd/slapd.pid")
    browse slapd "$port" "$pid" "$n" > "$work/slapd.tsv"
    kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done

    home="$work/sop-$n"
    "$sop" --home "$home" init > /dev/null
    port=$(free_port)
    sed -i "s/^listen = .*/listen = [\"127.0.0.1:$port\"]/; s/^access_log = true/access_log = false/; s/^size_limit = .*/size_limit = 500/; s/^max_sort_candidates = .*/max_sort_candidates = $n/" "$home/config.toml"
    "$sop" --home "$home" contacts import "$work/book.csv" --replace > /dev/null
    "$sop" --home "$home" ucm merge > /dev/null
    "$sop" --home "$home" server start > /dev/null
    pid=$("$sop" --home "$home" server status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["pid"])')
    browse sop "$port" "$pid" "$n" > "$work/sop.tsv"
    "$sop" --home "$home" server stop > /dev/null

    python3 - "$work/sop.tsv" "$work/slapd.tsv" <<'PY'
import sys
read = lambda p: {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(p)}
sop, slapd = read(sys.argv[1]), read(sys.argv[2])
print(f'{"browse":<36} {"windows":>7} {"sop cpu ms":>11} {"slapd cpu ms":>13} {"sop wall ms":>12} {"slapd wall ms":>14}')
for kind, (n, cpu, wall) in sop.items():
    _, scpu, swall = slapd[kind]
    print(f"{kind:<36} {n:>7} {float(cpu):>11.2f} {float(scpu):>13.2f} {float(wall):>12.2f} {float(swall):>14.2f}")
worst = lambda d: max(d.items(), key=lambda kv: float(kv[1][1]))
for name, d in (("sop", sop), ("slapd", slapd)):
    kind, (_, cpu, _) = worst(d)
    print(f"worst kind for {name}: {kind}, {float(cpu):.2f} ms of server CPU per window")
PY
done
