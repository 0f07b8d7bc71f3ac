#!/usr/bin/env bash
# The test command: formatting, lints, the whole test suite, and the check
# that the committed spec vectors are current, the Debian packages, fuzzing.
# CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The relay's tests run against SQLite and a real PostgreSQL.
KOVAN_TEST_POSTGRES="${KOVAN_TEST_POSTGRES:-$(bash scripts/postgres.sh)}"
export KOVAN_TEST_POSTGRES
# The desktop client's voice-note test records from a private PulseAudio
# server's virtual microphone (a 440 Hz tone) and plays to its null speaker.
PULSE_SERVER="${PULSE_SERVER:-$(bash scripts/audio.sh)}"
export PULSE_SERVER
# The relay's schema conformance test (relay/tests/it/schema.rs) runs
# schemathesis against a real relay on SQLite and on PostgreSQL; it adds
# about a minute to the suite.
KOVAN_SCHEMATHESIS="${KOVAN_SCHEMATHESIS:-$(bash scripts/schemathesis.sh)}"
export KOVAN_SCHEMATHESIS
export CARGO_TERM_COLOR=never
# A clean build gains nothing from incremental caches, which take gigabytes.
export CARGO_INCREMENTAL=0
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
# The Debian packages, made from the binaries the test build just made
# (stripped, the debug info split off, like a release), then linted,
# installed into an empty root, run and purged.
echo "== packages"
bash scripts/package.sh --ci
bash scripts/check-packages.sh
# Every fuzz target for a short, bounded time (a longer campaign:
# bash fuzz/run.sh 3600). KOVAN_FUZZ_SECONDS=0 leaves it out, and says so.
fuzz_secs="${KOVAN_FUZZ_SECONDS:-20}"
if [ "$fuzz_secs" = "0" ]; then
  echo "== fuzzing left out (KOVAN_FUZZ_SECONDS=0)"
else
  echo "== fuzzing every target for ${fuzz_secs}s"
  KOVAN_FUZZ_QUICK_BUILD=1 bash fuzz/run.sh "$fuzz_secs"
fi
