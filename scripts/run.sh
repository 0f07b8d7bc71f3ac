#!/usr/bin/env bash
# The main job: build kovan and run it. With no arguments it runs
# `kovan demo`: an embedded relay and two nodes in one process become
# friends and chat, and every step is printed (no setup, no display needed).
# Any arguments are passed to `kovan` instead (try `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cargo build --locked --release -p kovan-node --bin kovan
kovan=target/release/kovan
if [ "$#" -gt 0 ]; then
  exec "$kovan" "$@"
fi
exec "$kovan" demo
