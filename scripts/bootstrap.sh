#!/usr/bin/env bash
# Installs what building and testing kovan needs on a fresh Debian/Ubuntu
# machine that has Rust (rustup) installed. Safe to run again: it installs
# only what is missing.
set -euo pipefail

# Debian packages: pkg-config and the Wayland/xkbcommon headers for the
# desktop client (eframe/winit); libopus for voice notes (the `opus` crate
# links the system library); Mesa's Vulkan drivers give the desktop
# client's snapshot tests a software wgpu adapter; ALSA's headers for its
# sound (cpal), and PulseAudio with ALSA's plugin for it, whose virtual
# microphone and speaker the voice-note UI test records from and plays to
# (scripts/audio.sh). For the Debian packages (scripts/package.sh and their
# test, scripts/check-packages.sh): dpkg-dev (dpkg-shlibdeps finds their
# library dependencies), binutils (objcopy splits off the debug info),
# lintian, desktop-file-utils (desktop-file-validate), and zsh and fish to
# run the completions in; iproute2 (`ip netns`) for the test whose nodes
# can reach only the relay's network namespace (calls through TURN);
# libvpx for calls' VP8 video (the `env-libvpx-sys` crate links it); Xvfb,
# the X server the screen-sharing tests draw on and capture.
pkgs=(pkg-config libwayland-dev libxkbcommon-dev libopus-dev libvpx-dev mesa-vulkan-drivers
  libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins
  dpkg-dev binutils lintian desktop-file-utils zsh fish iproute2 xvfb)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Rust components used by the checks.
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# cargo-deb builds the Debian packages; pinned, so that a new release cannot
# change the packages (or refuse the --ci build's dev profile) unasked.
cargo_deb_version=3.8.0
if ! cargo deb --version 2>/dev/null | grep -qF "$cargo_deb_version"; then
  echo "bootstrap: installing cargo-deb $cargo_deb_version"
  env -u CARGO_TARGET_DIR cargo install --locked --quiet "cargo-deb@$cargo_deb_version"
fi
