#!/usr/bin/env bash
# Starts a private PulseAudio server for the desktop client's voice-note
# tests: its microphone is a 440 Hz sine source and its speaker a null
# sink, so the tests record and play through the real ALSA → PulseAudio
# path without touching the machine's own sound devices. Prints the
# server address for PULSE_SERVER; safe to run again (reuses a running one).
set -euo pipefail
dir="${KOVAN_PULSE_DIR:-${TMPDIR:-/tmp}/kovan-pulse-$(id -u)}"
mkdir -p "$dir"
export PULSE_RUNTIME_PATH="$dir" PULSE_STATE_PATH="$dir"
server="unix:$dir/native"
if ! PULSE_SERVER="$server" pactl info >/dev/null 2>&1; then
  # --system=false as root prints a warning; the server still runs.
  pulseaudio -n --daemonize=yes --exit-idle-time=-1 --disallow-exit --use-pid-file=yes \
    --log-target="file:$dir/log" \
    --load="module-native-protocol-unix socket=$dir/native auth-anonymous=1" \
    --load="module-null-sink sink_name=kovan_speaker" \
    --load="module-sine-source source_name=kovan_mic frequency=440" \
    >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do
    PULSE_SERVER="$server" pactl info >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
PULSE_SERVER="$server" pactl set-default-source kovan_mic
PULSE_SERVER="$server" pactl set-default-sink kovan_speaker
PULSE_SERVER="$server" pactl info >/dev/null 2>&1 || { echo "audio: no PulseAudio server at $server" >&2; exit 1; }
echo "$server"
