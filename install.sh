#!/usr/bin/env bash
# Installs sop as a system service, or removes it:
#   - the binary in $PREFIX/bin (default /usr/local/bin)
#   - the config template in $PREFIX/share/sop/sop.toml (the reference of every key)
#   - the node's home in $SOP_HOME (default /var/lib/sop), owned by the system user "sop";
#     its config.toml is created from the template only when missing: an admin's
#     config is never overwritten
#   - with systemd: the unit sop.service, which binds port 389 through
#     CAP_NET_BIND_SERVICE and never runs as root; without systemd: the same
#     capability on the binary (setcap), and the command that starts the server as
#     the sop user
#
# Run as root (sudo ./install.sh, or ./install.sh in a root shell). The binary is
# target/release/sop: built here when cargo is on the PATH, else build it first as
# your user (cargo build --release --locked); SOP_BIN=PATH installs another one.
# PREFIX, SOP_HOME and UNIT_DIR choose where things go.
#
#   ./install.sh                        install (again: an upgrade that keeps the home)
#   ./install.sh --uninstall            stop the server and remove the binary, the
#                                       template and the unit; the home stays
#   ./install.sh --uninstall --purge    also remove the home (contacts, jobs, config)
#                                       and the sop user, after asking (--yes: without)
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=${PREFIX:-/usr/local}
SOP_HOME=${SOP_HOME:-/var/lib/sop}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}

uninstall=false
purge=false
yes=false
for arg in "$@"; do
    case "$arg" in
        --uninstall) uninstall=true ;;
        --purge) purge=true ;;
        --yes) yes=true ;;
        -h | --help)
            awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
            exit 0
            ;;
        *)
            echo "install.sh: unknown option $arg (see ./install.sh --help)" >&2
            exit 2
            ;;
    esac
done
if $purge && ! $uninstall; then
    echo "install.sh: --purge goes with --uninstall" >&2
    exit 2
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (for example: sudo ./install.sh $*)" >&2
    exit 1
fi

systemd=false
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemd=true
fi

if $uninstall; then
    if $systemd && [ -e "$UNIT_DIR/sop.service" ]; then
        systemctl disable --now sop || true
    elif [ -x "$PREFIX/bin/sop" ] && [ -d "$SOP_HOME" ]; then
        runuser -u sop -- "$PREFIX/bin/sop" --home "$SOP_HOME" server stop || true
    fi
    rm -f "$UNIT_DIR/sop.service" "$PREFIX/bin/sop"
    rm -rf "$PREFIX/share/sop" "$PREFIX/share/doc/sop"
    if $systemd; then
        systemctl daemon-reload
    fi
    echo "removed $PREFIX/bin/sop, $PREFIX/share/sop and the unit"
    if ! $purge; then
        echo "kept the home $SOP_HOME (contacts, jobs, config) and the sop user;"
        echo "remove them too with: ./install.sh --uninstall --purge"
        exit 0
    fi
    if ! $yes; then
        if [ ! -t 0 ]; then
            echo "install.sh: --purge removes $SOP_HOME: add --yes to confirm without a terminal" >&2
            exit 1
        fi
        read -r -p "Remove $SOP_HOME (every contact, job and setting of this node) and the sop user? [y/N] " answer
        case "$answer" in
            y | Y | yes) ;;
            *)
                echo "kept $SOP_HOME and the sop user"
                exit 0
                ;;
        esac
    fi
    rm -rf "$SOP_HOME"
    if id sop >/dev/null 2>&1; then
        userdel sop || true
    fi
    echo "removed $SOP_HOME and the sop user"
    exit 0
fi

BIN=${SOP_BIN:-target/release/sop}
if [ -n "${SOP_BIN:-}" ]; then
    echo "installing the binary $SOP_BIN"
elif command -v cargo >/dev/null; then
    echo "building (release)..."
    cargo build --release --locked
elif [ ! -x target/release/sop ]; then
    echo "install.sh: cargo is not on root's PATH and target/release/sop is not built;" >&2
    echo "build it as your user first (cargo build --release --locked), then run this again" >&2
    exit 1
else
    echo "installing the binary built before: target/release/sop"
fi

install -d "$PREFIX/bin" "$PREFIX/share/sop" "$PREFIX/share/doc/sop/docs"
install -m 0755 "$BIN" "$PREFIX/bin/sop"
install -m 0644 config/sop.toml "$PREFIX/share/sop/sop.toml"
install -m 0644 README.md "$PREFIX/share/doc/sop/README.md"
install -m 0644 docs/*.md "$PREFIX/share/doc/sop/docs/"

if ! id sop >/dev/null 2>&1; then
    useradd --system --home-dir "$SOP_HOME" --shell /usr/sbin/nologin --user-group sop
fi
install -d -o sop -g sop -m 0755 "$SOP_HOME"
if [ -e "$SOP_HOME/config.toml" ]; then
    echo "keeping the existing $SOP_HOME/config.toml"
fi
# Creates what is missing (config from the template, store, sample phone book); keeps the rest.
runuser -u sop -- "$PREFIX/bin/sop" --home "$SOP_HOME" init

if $systemd; then
    sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@HOME@|$SOP_HOME|g" assets/sop.service \
        > "$UNIT_DIR/sop.service"
    systemctl daemon-reload
    cat <<MSG
installed sop in $PREFIX/bin/sop, home $SOP_HOME, unit sop.service.
next:
  systemctl enable --now sop             # start the application server now and at boot
  sop server status                      # as root or the sop user
  ldapsearch -x -H ldap://127.0.0.1 -b dc=phonebook,dc=local '(cn=*)'
MSG
else
    # No systemd: the binary itself may bind ports below 1024, and the server runs
    # as the sop user, never as root.
    if command -v setcap >/dev/null; then
        setcap cap_net_bind_service=+ep "$PREFIX/bin/sop"
        bind="the binary may bind port 389 (setcap cap_net_bind_service)"
    else
        bind="setcap is missing (Debian: apt install libcap2-bin): until it runs, listen on a port above 1023"
    fi
    cat <<MSG
installed sop in $PREFIX/bin/sop, home $SOP_HOME (no systemd here: no unit installed);
$bind.
next:
  runuser -u sop -- $PREFIX/bin/sop --home $SOP_HOME server start    # and at boot, from your init system
  runuser -u sop -- $PREFIX/bin/sop --home $SOP_HOME server status
  ldapsearch -x -H ldap://127.0.0.1 -b dc=phonebook,dc=local '(cn=*)'
MSG
fi
