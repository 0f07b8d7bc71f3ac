#!/usr/bin/env bash
# Tests the Debian packages that scripts/package.sh built in target/debian/:
# lintian finds no error in them; they install into an empty root (their
# maintainer scripts run too, against that root) where the binaries carry
# no debug info and their -dbgsym packages hold it, `kovan --version` names
# the commit, `kovan demo` runs, the completions complete in bash, zsh and
# fish, the desktop entry validates and claims kovan: links, the relay's
# unit is hardened and its binary serves with the packaged config as the
# service's user; then they are purged and leave nothing behind. This
# machine's own system is not touched. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "check-packages: $*" >&2
  exit 1
}

target="${CARGO_TARGET_DIR:-$PWD/target}"
shopt -s nullglob
debs=("$target"/debian/*.deb)
ddebs=("$target"/debian/*.ddeb)
shopt -u nullglob
((${#debs[@]} == 3 && ${#ddebs[@]} == 3)) || fail "expected 3 .deb and 3 .ddeb files in $target/debian (run scripts/package.sh)"

work="$(mktemp -d)"
relay_pid=""
cleanup() {
  if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# The relay runs as its own user below, who must be able to reach the root.
chmod 755 "$work"

echo "== lintian (errors fail; warnings are shown)"
status=0
lintian --fail-on error "${debs[@]}" >"$work/lintian.log" 2>&1 || status=$?
grep -v '^running with root privileges' "$work/lintian.log" || true
((status == 0)) || fail "lintian found errors"

echo "== installing into an empty root"
# The root has no libc of its own: the binaries run on this machine's
# libraries, so dependencies are not checked here (lintian checks they are
# declared). Maintainer scripts run outside a chroot with DPKG_ROOT set, as
# Debian's tools expect: the user and the unit's links land in the root.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
: >"$root/var/lib/dpkg/status"
dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends)
[ "$(id -u)" -eq 0 ] || dpkg_root+=(--force-not-root)
"${dpkg_root[@]}" -i "${debs[@]}" "${ddebs[@]}" >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log"
  fail "dpkg -i failed"
}
bin="$root/usr/bin"

echo "== stripped binaries, debug info in the -dbgsym packages"
for b in kovan kovan-relay kovan-desktop; do
  [ -x "$bin/$b" ] || fail "$b is not installed"
  ! readelf -S "$bin/$b" | grep -q '\.debug_line' || fail "$b still carries its line tables"
  id="$(readelf -n "$bin/$b" | sed -n 's/.*Build ID: *//p')"
  [ -s "$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] || fail "no debug file for $b (build id $id)"
done

echo "== --version"
for b in kovan kovan-relay kovan-desktop; do
  v="$("$bin/$b" --version)"
  echo "$v"
  [[ "$v" =~ ^$b\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ ([0-9a-f]{12}|unknown)\)$ ]] || fail "$b --version: $v"
done
# The desktop is registered for kovan: links; one on its command line is
# no argument error.
"$bin/kovan-desktop" 'kovan:add?check' --version >/dev/null || fail "kovan-desktop refused a kovan: link"

echo "== kovan demo"
timeout 300 "$bin/kovan" demo >"$work/demo.log" 2>&1 || {
  cat "$work/demo.log"
  fail "kovan demo failed"
}
tail -n 1 "$work/demo.log"

echo "== completions"
share="$root/usr/share"
for b in kovan kovan-relay; do
  want=friend
  [ "$b" = kovan-relay ] && want=serve
  word="${want:0:3}"
  got="$(bash -c '
    source "$1"
    COMP_WORDS=("$2" "$3"); COMP_CWORD=1; COMP_LINE="$2 $3"; COMP_POINT=${#COMP_LINE}
    "$(complete -p "$2" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")" "$2" "$3" "$2"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$share/bash-completion/completions/$b" "$b" "$word")"
  grep -qx "$want" <<<"$got" || fail "bash does not complete '$b $word' to $want (got: $got)"
  got="$(fish --no-config -c "source '$share/fish/vendor_completions.d/$b.fish'; complete -C '$b $word'")"
  grep -q "^$want"$'\t' <<<"$got" || fail "fish does not complete '$b $word' to $want (got: $got)"
  zsh -n "$share/zsh/vendor-completions/_$b" || fail "zsh cannot parse _$b"
  zsh -f -c "fpath=('$share/zsh/vendor-completions' \$fpath); autoload -Uz +X _$b" ||
    fail "zsh cannot load _$b"
  echo "$b $word -> $want in bash and fish; zsh loads _$b"
done

echo "== desktop entry"
desktop="$share/applications/kovan.desktop"
desktop-file-validate "$desktop" || fail "desktop-file-validate: $desktop"
grep -qx 'MimeType=x-scheme-handler/kovan;' "$desktop" || fail "the desktop entry does not claim kovan: links"
# What desktop-file-utils' dpkg trigger does on a real system (the cache
# is its, not the package's: it goes before the purge below).
update-desktop-database "$share/applications"
grep -qx 'x-scheme-handler/kovan=kovan.desktop;' "$share/applications/mimeinfo.cache" ||
  fail "kovan: links do not resolve to kovan.desktop"
rm "$share/applications/mimeinfo.cache"
for size in 16 24 32 48 64 128 256 512; do
  [ -s "$share/icons/hicolor/${size}x${size}/apps/kovan.png" ] || fail "no ${size}x${size} icon"
done
[ -s "$share/icons/hicolor/scalable/apps/kovan.svg" ] || fail "no scalable icon"

echo "== the relay's unit and its user"
unit="$root/usr/lib/systemd/system/kovan-relay.service"
grep -q '^kovan-relay:' "$root/etc/passwd" || fail "the kovan-relay user was not created"
[ -L "$root/etc/systemd/system/multi-user.target.wants/kovan-relay.service" ] || fail "the relay's unit is not enabled"
# Exposure 0 (locked down) to 10 (not at all), times ten; unknown keys fail.
systemd-analyze security --offline=yes --root="$root" --threshold=20 kovan-relay.service >"$work/security.log" 2>&1 || {
  cat "$work/security.log"
  fail "the relay's unit is not hardened enough"
}
! grep -E '\.service:[0-9]+:' "$work/security.log" || fail "the relay's unit has keys systemd does not know"
grep 'Overall exposure' "$work/security.log"

echo "== the relay's binary with the packaged config, as the service's user"
# The unit's command line, every absolute path in it taken inside the root;
# the data directory and listen address are moved for the test.
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
read -ra cmd <<<"$exec_start"
for i in "${!cmd[@]}"; do
  [[ "${cmd[$i]}" == /* ]] && cmd[i]="$root${cmd[$i]}"
done
[ -f "$root/etc/kovan-relay/relay.toml" ] || fail "no /etc/kovan-relay/relay.toml"
grep -q "$root/etc/kovan-relay/relay.toml" <<<"${cmd[*]}" || fail "the unit does not use /etc/kovan-relay/relay.toml"
data="$root/var/lib/kovan-relay"
mkdir -p "$data"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  # What StateDirectory= does, then drop to the user's ids (the host does
  # not know its name).
  uid="$(awk -F: '$1 == "kovan-relay" { print $3 }' "$root/etc/passwd")"
  gid="$(awk -F: '$1 == "kovan-relay" { print $4 }' "$root/etc/passwd")"
  chown "$uid:$gid" "$data"
  chmod 750 "$data"
  as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs)
fi
"${as_user[@]}" env -i PATH=/usr/bin:/bin RUST_LOG=warn "${cmd[@]}" --data-dir "$data" --listen 127.0.0.1:0 \
  >"$work/relay.out" 2>"$work/relay.err" &
relay_pid=$!
url=""
for _ in $(seq 1 300); do
  url="$(sed -n 's/^kovan-relay listening on //p' "$work/relay.out")"
  [ -n "$url" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || {
  cat "$work/relay.err"
  fail "the relay did not start"
}
curl -fsS "$url/v1/info" >"$work/info.json" || fail "the relay does not answer at $url"
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "the relay did not stop cleanly on SIGTERM"
relay_pid=""
[ -s "$data/relay.sqlite3" ] || fail "the relay kept no database in its data directory"
echo "served $url/v1/info: $(head -c 120 "$work/info.json")"

echo "== purge"
"${dpkg_root[@]}" --purge kovan-dbgsym kovan-relay-dbgsym kovan-desktop-dbgsym kovan kovan-relay kovan-desktop \
  >>"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log"
  fail "dpkg --purge failed"
}
left="$(find "$root/usr" "$root/etc/kovan-relay" "$root/etc/systemd" -type f -o -type l 2>/dev/null || true)"
[ -z "$left" ] || fail "purge left: $left"
echo "packages: 3 installed, checked and purged"
