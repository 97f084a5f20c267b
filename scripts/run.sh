#!/usr/bin/env bash
# The main job, end to end on embedded defaults: install what is missing,
# build (Release), and fly triage-flight over a simulated orbit with the
# default model and the embedded config/mission.yaml, until the second
# ground pass ends (about 1.4 orbits: 383 frames of 2448x2050 at 20 s).
# Prints progress on stderr and the summary table on stdout. Then the ground
# side: triage-ground receives the flight's radio capture (every product
# verified), replays the flight bit for bit, and writes the HTML report.
#
# Environment: TRIAGE_BUILD_DIR (default build/release), TRIAGE_OUT_DIR
# (default out/flight; a previous run there is replaced; the ground side
# writes beside it: out/ground, out/report.html), TRIAGE_SHARED_DIR.
# Extra arguments go to triage-flight (e.g. --frames 50).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
build=${TRIAGE_BUILD_DIR:-$root/build/release}
out=${TRIAGE_OUT_DIR:-$root/out/flight}
"$root/scripts/install-deps.sh" --with-npm
assets_ok=1
"$root/scripts/report-assets.sh" || assets_ok=0
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIAGE_BUILD_TESTS=OFF \
  -DTRIAGE_BUILD_BENCH=OFF -DTRIAGE_SHARED_DIR="$shared" >/dev/null
cmake --build "$build" --target triage-flight triage-ground

model="$root/models/triage_int8.tflite"
if [ ! -f "$model" ]; then
  echo "run: the default model $model is missing (models/ is trained separately)" >&2
  exit 1
fi
# A rerun on an existing output directory would resume after the frames it
# already recorded; the demo starts a fresh mission instead. Only a previous
# flight output (or an empty directory) is removed.
if [ -e "$out" ]; then
  if [ -f "$out/summary.json" ] || [ -d "$out/downlink" ] || [ -z "$(ls -A "$out")" ]; then
    rm -rf -- "$out"
  else
    echo "run: $out exists and is not a triage-flight output directory; set TRIAGE_OUT_DIR" >&2
    exit 1
  fi
fi
echo "== triage-flight: simulated orbit, embedded config/mission.yaml, $(basename "$model"), output $out"
"$build/app/triage-flight" --out "$out" --until-pass 1 "$@"

ground=$(dirname "$out")/ground
report=$(dirname "$out")/report.html
if [ -e "$ground" ]; then  # only a previous receive folder is replaced
  if [ -f "$ground/receive.json" ] || [ -z "$(ls -A "$ground")" ]; then
    rm -rf -- "$ground"
  else
    echo "run: $ground exists and is not a triage-ground receive folder; set TRIAGE_OUT_DIR" >&2
    exit 1
  fi
fi
echo "== triage-ground receive: $out/radio.bin into $ground"
"$build/ground/triage-ground" receive "$out/radio.bin" --out "$ground"
echo "== triage-ground replay: the flight again, through the same code, compared bit for bit"
"$build/ground/triage-ground" replay "$out"
if [ $assets_ok = 1 ]; then
  echo "== triage-ground report"
  "$build/ground/triage-ground" report "$out" "$ground" --out "$report"
  echo "run: open $report (one self-contained file, works offline)"
else
  echo "run: no report: the plot runtime could not be fetched (scripts/report-assets.sh needs npm and the network)" >&2
fi
