#!/usr/bin/env bash
# Builds sop and installs it as a system service:
#   - the binary in $PREFIX/bin (default /usr/local/bin)
#   - the config template in $PREFIX/share/sop/sop.toml (the reference of every key)
#   - the node's home in $SOP_HOME (default /var/lib/sop), owned by the system user "sop";
#     its config.toml is created from the template only when missing: an admin's
#     config is never overwritten
#   - the systemd unit sop.service, which binds port 389 through CAP_NET_BIND_SERVICE
#     and never runs as root
# Run as root: sudo ./install.sh
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=${PREFIX:-/usr/local}
SOP_HOME=${SOP_HOME:-/var/lib/sop}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo ./install.sh)" >&2
    exit 1
fi

echo "building (release)..."
cargo build --release --locked

install -d "$PREFIX/bin" "$PREFIX/share/sop" "$PREFIX/share/doc/sop"
install -m 0755 target/release/sop "$PREFIX/bin/sop"
install -m 0644 config/sop.toml "$PREFIX/share/sop/sop.toml"
install -m 0644 README.md "$PREFIX/share/doc/sop/README.md"

if ! id sop >/dev/null 2>&1; then
    useradd --system --home-dir "$SOP_HOME" --shell /usr/sbin/nologin --user-group sop
fi
install -d -o sop -g sop -m 0755 "$SOP_HOME"
if [ -e "$SOP_HOME/config.toml" ]; then
    echo "keeping the existing $SOP_HOME/config.toml"
fi
# Creates what is missing (config from the template, store, sample phone book); keeps the rest.
runuser -u sop -- "$PREFIX/bin/sop" --home "$SOP_HOME" init

if [ -d "$(dirname "$UNIT_DIR")" ]; then
    sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@HOME@|$SOP_HOME|g" assets/sop.service \
        > "$UNIT_DIR/sop.service"
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
fi

cat <<MSG
installed sop in $PREFIX/bin/sop, home $SOP_HOME.
next:
  sudo systemctl enable --now sop        # start the application server now and at boot
  sop server status                      # as root or the sop user
  ldapsearch -x -H ldap://127.0.0.1 -b dc=phonebook,dc=local '(cn=*)'
MSG
