#!/usr/bin/env bash
# Installs the Debian packages livevent and its tests need, when any is missing.
set -euo pipefail

PACKAGES=(
    postgresql          # the production store; the tests run against it
    redis-server        # the production bus; the tests run against it
    espeak-ng           # text-to-speech engine; the tests make their speech with it
    apertium            # machine translation engine
    apertium-eng-spa    # its English <-> Spanish pair
    apertium-eng-cat    # its English <-> Catalan pair
    apertium-spa-cat    # its Spanish <-> Catalan pair
    apertium-fr-es      # Spanish <-> French: French from an English floor through Spanish
    apertium-es-pt      # Spanish <-> Portuguese
    apertium-es-it      # Spanish <-> Italian
    apertium-es-gl      # Spanish <-> Galician
    apertium-en-gl      # English <-> Galician
    apertium-fra-cat    # French <-> Catalan
    apertium-cat-ita    # Catalan <-> Italian
    festival            # text-to-speech with warm voices (Catalan "ona")
    festival-ca         # its Catalan text analysis
    festvox-ca-ona-hts  # its Catalan voice, far clearer than espeak-ng's
    build-essential     # gcc for ttspico (SVOX Pico), built from its source on install
    sox                 # measures and converts test audio
    libportaudio2       # sounddevice's capture from local sound devices
    pulseaudio          # a null sink whose monitor is a real capture device in tests
    pulseaudio-utils    # paplay / pactl for that test
    libasound2-plugins  # the ALSA "pulse" device PortAudio captures through
    chromium            # the browser tests of the web pages (driven by playwright)
    nginx               # the shipped deploy/nginx.conf, run in front of instances in tests
    ffmpeg              # ffprobe checks every HLS segment and playlist the tests make
    libnginx-mod-rtmp   # an RTMP server, as a streaming platform's ingest, in the tests
    fonts-dejavu-core   # readable text in their screenshots
)

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "missing system packages (${missing[*]}) and no apt-get to install them" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
