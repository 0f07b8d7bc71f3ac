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
# Sanitizer: none by default. kovan's crates forbid unsafe code and the C
# parts (SQLite, Opus) are built by `cc`, which cargo-fuzz does not
# instrument, so AddressSanitizer finds little here and costs much (with
# it, fully optimised: a 12.6 min build and relay_api at 442 exec/s; without
# it at opt-level 1: 6.0 min and 2,186 exec/s, on two cores).
# KOVAN_FUZZ_SANITIZER=address brings it back.
sanitizer="${KOVAN_FUZZ_SANITIZER:-none}"
# The test command's short runs build at opt-level 1 without debug info
# (half the build time); a campaign builds fully optimised.
if [ "${KOVAN_FUZZ_QUICK_BUILD:-0}" = 1 ]; then
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0
fi
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
for case in json.loads((vec / "community-actions.json").read_text())["cases"]:
    seed("spec_decoders", "community-" + case["kind"], case["tbs"] + case["signature"])
for case in json.loads((vec / "app-envelope.json").read_text())["cases"]:
    seed("spec_decoders", "app-" + case["name"], case["encoding"])
friends = json.loads((vec / "friend-message.json").read_text())
for case in friends["cases"]:
    seed("spec_decoders", "friend-" + case["name"], case["encoding"])
seed("spec_decoders", "card", friends["card"])
seed("spec_decoders", "delivery", json.loads((vec / "direct-delivery.json").read_text())["request"])
group = json.loads((vec / "group.json").read_text())
seed("spec_decoders", "group-meta", group["meta"]["encoding"])
for case in group["cases"]:
    seed("spec_decoders", "group-" + case["name"], case["encoding"])
files = json.loads((vec / "file.json").read_text())
seed("spec_decoders", "file-fetch", files["fetch"])
seed("spec_decoders", "file-fetch-reply", files["fetch_reply"])
# Interaction scripts (kovan_node::sim::script): a header byte, then ops.
seed("interaction", "in-order", "00" + "0000" + "0001" + "0201" + "0200")
seed("interaction", "mixed", "01" + "0000" + "0102" + "8700" + "0401" + "0501" + "0601ab12" + "0701" + "0201" + "0202" + "0200" + "0002")
# The relay: a route byte, an auth byte (1: the fuzzer's own token), a
# parameter length, then the parameter and the body.
def raw(target, name, data):
    d = pathlib.Path("corpus") / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)
raw("relay_api", "login", bytes([2, 0, 0]) + b'{"username":"fuzzer","password":"a long password"}')
raw("relay_api", "settings", bytes([7, 1, 0]) + b'{"display_name":"F","discoverable":false}')
raw("relay_api", "ack", bytes([16, 1, 0]) + b'{"seqs":[1,2,3]}')
raw("relay_api", "mailbox-put", bytes([17, 1, 1, 0]) + bytes.fromhex(env["envelope"]))
raw("relay_api", "keypackages", bytes([13, 1, 0]) + b'{"key_packages":["AAAA"]}')
# WebSocket frames: a kind byte (0 text, 1 binary, 2 ping, 3 pong), a
# length byte, the payload.
ack = b'{"type":"ack","seqs":[1,2]}'
raw("relay_ws", "ack", bytes([0, len(ack)]) + ack + bytes([2, 1, 0x70]))
# The control socket: one request per line.
d = pathlib.Path("corpus") / "control_socket"
d.mkdir(parents=True, exist_ok=True)
(d / "requests").write_text("\n".join([
    '{"id":1,"method":"status","params":{}}',
    '{"id":2,"method":"contacts"}',
    '{"id":3,"method":"send","params":{"to":"bob","text":"hi :wave:"}}',
    '{"id":4,"method":"history","params":{"with":"bob","limit":5,"before":10}}',
    '{"id":5,"method":"friend_accept","params":{"who":"00"}}',
    '{"id":6,"method":"react","params":{"with":"bob","message":"00112233445566778899aabbccddeeff","emoji":"x"}}',
]) + "\n")
PY
# One build for every target first, so each run below only runs.
echo "== building the fuzz targets (sanitizer: $sanitizer)"
build_log="$(mktemp)"
if ! cargo fuzz build -s "$sanitizer" >"$build_log" 2>&1; then
  tail -40 "$build_log"
  exit 1
fi
rm -f "$build_log"
for target in $(cargo fuzz list); do
  echo "== fuzzing $target for ${secs}s"
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  if ! cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1; then
    tail -60 "$log"
    rm -f "$log"
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E '^(Done|#[0-9]+[[:space:]]+DONE)' "$log" | tail -2
  rm -f "$log"
done
