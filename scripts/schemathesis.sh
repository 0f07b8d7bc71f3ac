#!/usr/bin/env bash
# Installs schemathesis (a schema-driven HTTP fuzzer, from PyPI) at a pinned
# version into a virtual environment of its own, outside the repository,
# and prints the path of its command. The relay's conformance test
# (relay/tests/it/schema.rs) runs it when KOVAN_SCHEMATHESIS names it:
#   export KOVAN_SCHEMATHESIS=$(bash scripts/schemathesis.sh)
set -euo pipefail
version=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/kovan/schemathesis-$version"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" >&2
fi
echo "$venv/bin/schemathesis"
