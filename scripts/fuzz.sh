#!/usr/bin/env bash
# Runs every libFuzzer binary (*_fuzz) in a TRIAGE_FUZZ build for a bounded
# time, starting from its checked-in corpus (tests/<module>/corpus/<name>).
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
while IFS= read -r bin; do
  name=$(basename "$bin")
  corpus=$(find "$root/tests" -type d -path "*/corpus/$name" | head -n 1)
  work=$(mktemp -d)
  [ -n "$corpus" ] && cp -r "$corpus"/. "$work"/
  found=$((found + 1))
  echo "-- $name: ${seconds}s from ${corpus:-an empty corpus}"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name-" "$work" > "$artifacts/$name.log" 2>&1; then
    echo "   FAILED: see $artifacts/$name.log"; tail -n 30 "$artifacts/$name.log"; failed=$((failed + 1))
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$artifacts/$name.log" | sed 's/^/   /'
  fi
  rm -rf "$work"
done < <(find "$build" -type f -perm -u+x -name '*_fuzz' | sort)
[ "$found" -gt 0 ] || { echo "fuzz: no fuzz targets in $build" >&2; exit 1; }
echo "fuzz: $found targets, $failed failed"
[ "$failed" -eq 0 ]
