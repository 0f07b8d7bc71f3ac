#!/usr/bin/env bash
# Builds the Debian packages kovan, kovan-relay and kovan-desktop (with
# cargo-deb; their contents are in each crate's [package.metadata.deb] and
# in packaging/) into target/debian/:
#
#   bash scripts/package.sh        the release profile: what a release ships
#   bash scripts/package.sh --ci   the debug binaries the test build made,
#                                  packaged the same way (scripts/test.sh)
#
# The binaries are stripped; their debug info (line tables, for crash
# reports) goes into a -dbgsym .ddeb package beside each package. Completions
# and man pages are generated from the binaries' clap definitions first.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
profile_dir=release
case "${1:-}" in
  "") ;;
  --ci)
    profile=dev
    profile_dir=debug
    ;;
  *)
    echo "usage: bash scripts/package.sh [--ci]" >&2
    exit 2
    ;;
esac

bash scripts/bootstrap.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

target="${CARGO_TARGET_DIR:-$PWD/target}"
bin_dir="$target/$profile_dir"
if [ "$profile" = release ]; then
  echo "== building the release binaries"
  cargo build --locked --release --bin kovan --bin kovan-relay --bin kovan-desktop
else
  # The binaries the test build made (cargo test builds them for the
  # integration tests); after scripts/test.sh's cargo test this is a no-op,
  # where `cargo build` would unify features differently and rebuild.
  echo "== the test build's binaries"
  cargo test --locked --no-run --quiet
fi
for bin in kovan kovan-relay kovan-desktop; do
  [ -x "$bin_dir/$bin" ] || { echo "package: $bin_dir/$bin is missing" >&2; exit 1; }
done

# What the packages install that is written here, not committed: cargo-deb
# reads it from target/release/packaging/ in the crates' asset lists, a
# path it maps to the profile's directory.
generated="$bin_dir/packaging"
rm -rf "$generated"
mkdir -p "$generated/completions" "$generated/man"
for bin in kovan kovan-relay; do
  "$bin_dir/$bin" completions bash >"$generated/completions/$bin.bash"
  "$bin_dir/$bin" completions zsh >"$generated/completions/_$bin"
  "$bin_dir/$bin" completions fish >"$generated/completions/$bin.fish"
  "$bin_dir/$bin" man "$generated/man/$bin"
done
# Debian wants man pages gzipped; cargo-deb compresses only those it does
# not take for build products.
gzip -9n "$generated"/man/*/*.1
# The relay's /etc/kovan-relay/relay.toml: the annotated example with the
# data directory set to the one the service owns.
data_line='data_dir = "/var/lib/kovan-relay"'
{
  echo "# Installed by the kovan-relay package; the kovan-relay service reads it."
  sed -e "s|^# $data_line\$|$data_line|" relay.example.toml
} >"$generated/relay.toml"
grep -qx "$data_line" "$generated/relay.toml" || {
  echo "package: relay.example.toml no longer has the line '# $data_line'" >&2
  exit 1
}

out="$target/debian"
rm -rf "$out"
mkdir -p "$out"
deb_flags=(--no-build --profile "$profile" --dbgsym --compress-debug-symbols --output "$out")
if [ "$profile" = dev ]; then
  # cargo-deb warns that the dev profile is meant for tests only: so it is
  # here. Faster compression, as nobody downloads these.
  deb_flags+=(--fast --quiet)
fi
for crate in kovan-node kovan-relay kovan-desktop; do
  echo "== cargo deb -p $crate"
  cargo deb -p "$crate" "${deb_flags[@]}"
done
echo "== packages in $out"
ls -l "$out"
