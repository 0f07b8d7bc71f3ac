#!/usr/bin/env bash
# The main job: build kovan and run the node's CLI. With no arguments it
# creates your identity on first run (asking for a passphrase) and shows it
# afterwards; any arguments are passed to `kovan` (try `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cargo build --locked --release -p kovan-node --bin kovan
kovan=target/release/kovan
if [ "$#" -gt 0 ]; then
  exec "$kovan" "$@"
fi
home="${KOVAN_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/kovan}"
if [ -f "$home/keystore.kovan" ]; then
  exec "$kovan" whoami
else
  exec "$kovan" init
fi
