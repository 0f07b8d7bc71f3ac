#!/usr/bin/env bash
# Builds and runs every fuzz target for SECONDS each (default 20).
#   bash fuzz/run.sh 600        # a ten-minute campaign per target
# Uses the stable toolchain: cargo-fuzz's nightly-only flags are enabled with
# RUSTC_BOOTSTRAP=1. Crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
secs="${1:-20}"
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
# Seed corpora from the spec's test vectors.
python3 - <<'PY'
import json, pathlib
vec = pathlib.Path("../spec/vectors")
def seed(target, name, hexstr):
    d = pathlib.Path("corpus") / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(bytes.fromhex(hexstr))
cert = json.loads((vec / "device-certificate.json").read_text())
seed("certificate_parse", "vector", cert["certificate"])
seed("spec_decoders", "certificate", cert["certificate"])
env = json.loads((vec / "sealed-envelope.json").read_text())
seed("envelope_open", "vector", env["envelope"])
seed("spec_decoders", "envelope", env["envelope"])
ks = json.loads((vec / "keystore.json").read_text())
seed("keystore_open", "vector", ks["keystore"])
for case in json.loads((vec / "app-envelope.json").read_text())["cases"]:
    seed("spec_decoders", "app-" + case["name"], case["encoding"])
PY
for target in $(cargo fuzz list); do
  echo "== fuzzing $target for ${secs}s"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536
done
