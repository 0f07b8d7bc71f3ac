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
# (scripts/audio.sh).
pkgs=(pkg-config libwayland-dev libxkbcommon-dev libopus-dev mesa-vulkan-drivers
  libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins)
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
