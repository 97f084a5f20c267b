#!/usr/bin/env bash
# Runs every libFuzzer target of a TRIAGE_FUZZ build (listed with its
# checked-in corpus in <build>/fuzz_targets.txt) for a bounded time.
# New inputs go to a scratch copy; crashes are kept in build/fuzz-artifacts
# and fail the run (turn each into a regression seed in the corpus).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: fuzz.sh <fuzz build dir> [seconds]}
seconds=${2:-60}
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
found=0
failed=0
manifest="$build/fuzz_targets.txt"
[ -f "$manifest" ] || { echo "fuzz: $manifest missing (configure with -DTRIAGE_FUZZ=ON)" >&2; exit 1; }
while read -r name corpus; do
  [ -n "$name" ] || continue
  bin=$(find "$build" -type f -perm -u+x -name "$name" | head -n 1)
  if [ -z "$bin" ]; then echo "   $name: binary not built" >&2; failed=$((failed + 1)); continue; fi
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  found=$((found + 1))
  echo "-- $name: ${seconds}s from $(ls "$work" | wc -l) seed(s) in ${corpus#"$root"/}"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name-" "$work" > "$artifacts/$name.log" 2>&1; then
    echo "   FAILED: see $artifacts/$name.log"; tail -n 30 "$artifacts/$name.log"; failed=$((failed + 1))
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$artifacts/$name.log" | sed 's/^/   /'
  fi
  rm -rf "$work"
done < "$manifest"
[ "$found" -gt 0 ] || { echo "fuzz: no fuzz targets in $build" >&2; exit 1; }
echo "fuzz: $found targets, $failed failed"
[ "$failed" -eq 0 ]
