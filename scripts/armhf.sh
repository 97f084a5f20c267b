#!/usr/bin/env bash
# The flight target (32-bit ARM, Cortex-A9 with NEON) built with Debian's
# cross toolchain and run under qemu-arm user mode (no binfmt here: every
# armhf binary is started through qemu-arm, ctest included).
#
#   scripts/armhf.sh build              install what is missing, build the presets
#   scripts/armhf.sh test               run their ctests under qemu-arm
#   scripts/armhf.sh run BINARY ARGS... run one armhf binary of the build under qemu-arm
#
# Presets (CMakePresets.json): armhf-core (core, kernels, inference and their
# tests, conformance included; NEON), armhf-core-vfp (the same without NEON,
# -mfpu=vfpv3-d16) and armhf (everything the flight needs: triage-flight,
# triage-infer, triage-supervisor, triage-faultinject and their tests, linked
# against a sysroot of Debian's armhf packages, scripts/armhf-sysroot.sh).
# ARMHF_PRESETS overrides the list. Build folders: build/<preset>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
presets=${ARMHF_PRESETS:-armhf-core armhf-core-vfp armhf}
jobs=${JOBS:-$(nproc)}
libc_root=/usr/arm-linux-gnueabihf
sysroot=$root/build/armhf-sysroot/root   # scripts/armhf-sysroot.sh (preset armhf)

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
case $cmd in
  build)
    "$root/scripts/install-deps.sh" --with-armhf
    native=""
    case " $presets " in
      *" armhf "*)
        "$root/scripts/armhf-sysroot.sh" "$(dirname "$sysroot")" >/dev/null
        # The cross-architecture test flies the same orbit on a native
        # triage-flight: $TRIAGE_NATIVE_FLIGHT, or build/release's.
        native=${TRIAGE_NATIVE_FLIGHT:-}
        if [ -z "$native" ]; then
          echo "== armhf: native triage-flight (build/release) for the cross-architecture test"
          (cd "$root" && cmake --preset release -DTRIAGE_SHARED_DIR="$shared" >/dev/null)
          cmake --build "$root/build/release" -j "$jobs" --target triage-flight
          native=$root/build/release/app/triage-flight
        fi
        ;;
    esac
    for p in $presets; do
      echo "== armhf: configure and build $p"
      extra=()
      [ "$p" = armhf ] && extra=(-DTRIAGE_NATIVE_FLIGHT="$native")
      (cd "$root" && cmake --preset "$p" -DTRIAGE_SHARED_DIR="$shared" "${extra[@]}" >/dev/null)
      cmake --build "$root/build/$p" -j "$jobs"
    done
    ;;
  test)
    for p in $presets; do
      [ -f "$root/build/$p/CTestTestfile.cmake" ] || { echo "armhf: build/$p is not built (scripts/armhf.sh build)" >&2; exit 1; }
      echo "== armhf: ctest $p under qemu-arm"
      (cd "$root/build/$p" && ctest -j "$jobs" --output-on-failure --timeout 900) | tee "$root/build/$p/ctest.log"
    done
    ;;
  run)
    shift
    [ $# -ge 1 ] || { echo "armhf: run needs a binary" >&2; exit 2; }
    bin=$1; shift
    if [ ! -x "$bin" ]; then
      for p in $presets; do
        found=$(find "$root/build/$p" -type f -name "$(basename "$bin")" -perm -u+x 2>/dev/null | head -n 1)
        [ -n "$found" ] && { bin=$found; break; }
      done
    fi
    [ -x "$bin" ] || { echo "armhf: no such binary: $bin" >&2; exit 1; }
    file -b "$bin" | grep -q "ARM" || { echo "armhf: $bin is not an ARM binary" >&2; exit 1; }
    exec qemu-arm -L "$libc_root" -E "LD_LIBRARY_PATH=$sysroot/usr/lib/arm-linux-gnueabihf:$sysroot/lib/arm-linux-gnueabihf" \
      "$bin" "$@"
    ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
