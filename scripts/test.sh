#!/usr/bin/env bash
# The whole test suite: install what is missing, then
#   1. build everything and run every ctest (unit, kernel, conformance, integration, fuzz replay);
#   2. rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run the same tests;
#   3. build the libFuzzer targets with clang-14 and fuzz each for FUZZ_SECONDS (default 30);
#   4. cross-build the flight core for armhf (NEON, and without NEON) and run its
#      tests, conformance included, under qemu-arm (scripts/armhf.sh).
# Stages can be chosen with TEST_STAGES="build asan fuzz armhf". Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
out=${TRIAGE_BUILD_DIR:-$root/build}
stages=${TEST_STAGES:-build asan fuzz armhf}
fuzz_seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}
"$root/scripts/install-deps.sh" --with-training --with-armhf --with-browser
# vega for triage-ground report's browser test; without it (no network) that
# one test skips with a message and the rest runs.
"$root/scripts/report-assets.sh" || echo "test: WARNING: report assets not fetched; the report browser test will skip" >&2

passed=0
configure_and_test() {  # <dir> <extra cmake args...>
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DTRIAGE_SHARED_DIR="$shared" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 900) | tee "$dir/ctest.log"
  local n
  n=$(grep -oE 'tests passed, 0 tests failed out of [0-9]+' "$dir/ctest.log" | grep -oE '[0-9]+$' || echo 0)
  passed=$((passed + n))
}

for stage in $stages; do
  case $stage in
    build)
      echo "== [1/4] build and test (RelWithDebInfo)"
      configure_and_test "$out/test" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIAGE_BUILD_BENCH=ON
      ;;
    asan)
      echo "== [2/4] AddressSanitizer + UndefinedBehaviorSanitizer"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        configure_and_test "$out/asan" -DCMAKE_BUILD_TYPE=Debug -DTRIAGE_SANITIZE=ON -DTRIAGE_BUILD_BENCH=OFF \
          -DCMAKE_CXX_FLAGS="-O1"
      ;;
    fuzz)
      echo "== [3/4] libFuzzer (clang-14), ${fuzz_seconds}s per target"
      cmake -S "$root" -B "$out/fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
        -DCMAKE_CXX_COMPILER=clang++-14 -DTRIAGE_FUZZ=ON -DTRIAGE_BUILD_TESTS=ON -DTRIAGE_BUILD_BENCH=OFF \
        -DTRIAGE_SHARED_DIR="$shared" >/dev/null
      fuzz_targets=$(cut -d' ' -f1 "$out/fuzz/fuzz_targets.txt" | sort -u)
      [ -n "$fuzz_targets" ] || { echo "test: no fuzz targets configured" >&2; exit 1; }
      # shellcheck disable=SC2086
      cmake --build "$out/fuzz" -j "$jobs" --target $fuzz_targets
      "$root/scripts/fuzz.sh" "$out/fuzz" "$fuzz_seconds"
      passed=$((passed + $(grep -c . "$out/fuzz/fuzz_targets.txt")))
      ;;
    armhf)
      echo "== [4/4] armhf cross build, tests under qemu-arm"
      native=""
      [ -x "$out/test/app/triage-flight" ] && native=$out/test/app/triage-flight  # stage 1's, if it ran
      TRIAGE_SHARED_DIR="$shared" JOBS="$jobs" TRIAGE_NATIVE_FLIGHT="$native" "$root/scripts/armhf.sh" build
      TRIAGE_SHARED_DIR="$shared" JOBS="$jobs" "$root/scripts/armhf.sh" test
      for p in ${ARMHF_PRESETS:-armhf-core armhf-core-vfp armhf}; do
        n=$(grep -oE 'tests passed, 0 tests failed out of [0-9]+' "$root/build/$p/ctest.log" | grep -oE '[0-9]+$' || echo 0)
        passed=$((passed + n))
      done
      ;;
    *) echo "test: unknown stage $stage" >&2; exit 2 ;;
  esac
done
echo "== all stages passed: $stages"
echo "total: $passed passed, 0 failed"
