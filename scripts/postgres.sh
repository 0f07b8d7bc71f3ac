#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the relay's
# tests: starts the local cluster if it is down, installs Debian's
# postgresql package if there is none. Prints the URL tests should use.
set -euo pipefail
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

if ! ready; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "postgres: installing postgresql" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    installed_here=1
  fi
  for version in $(ls /etc/postgresql); do
    echo "postgres: starting cluster $version/main" >&2
    $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do ready && break; sleep 1; done
  if [ "${installed_here:-0}" = 1 ]; then
    # A fresh Debian cluster wants a password over TCP: give the test user one.
    $sudo -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  fi
fi
ready || { echo "postgres: no server on 127.0.0.1:5432" >&2; exit 1; }
echo "postgres://postgres:postgres@127.0.0.1:5432/postgres"
