#!/usr/bin/env bash
# Installs the Debian (bookworm) packages triage needs, only those missing.
# Needs root or sudo. Usage: scripts/install-deps.sh [--with-training] [--with-armhf] [--with-browser] [--with-npm]
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git python3
  libflatbuffers-dev flatbuffers-compiler
  libopencv-dev libturbojpeg0-dev libpng-dev zlib1g-dev libssl-dev libsodium-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxnnpack-dev libpthreadpool-dev
  clang-14 libclang-rt-14-dev
)
for arg in "$@"; do
  case $arg in
    --with-training)
      # Ground-side training (libtorch) and the independent .tflite reader check (Arm NN).
      # The CpuRef backend is a separate package that --no-install-recommends never
      # brings in: without it pyarmnn loads but offers no backend at all.
      packages+=(libtorch-dev python3-pyarmnn libarmnn-cpuref-backend22 python3-numpy) ;;
    --with-armhf)
      # The flight target: the armhf cross toolchain and qemu user mode
      # (GoogleTest is built from libgtest-dev's sources with it).
      packages+=(g++-arm-linux-gnueabihf qemu-user) ;;
    --with-browser)
      # triage-ground report's browser test (headless Chromium) and its plot
      # runtime fetched by scripts/report-assets.sh (npm; Debian's only when
      # no Node.js/npm is on the PATH already).
      packages+=(chromium)
      command -v npm >/dev/null || packages+=(npm) ;;
    --with-npm)
      # Only npm, for the report's plot runtime (scripts/report-assets.sh).
      command -v npm >/dev/null || packages+=(npm) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
