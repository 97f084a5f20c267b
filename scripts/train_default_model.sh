#!/usr/bin/env bash
# Rebuilds the default flight model in models/ from scratch:
#   dataset -> train (libtorch) -> export (float, checked against libtorch)
#   -> quantize (int8) -> evaluate (validation: real images, h/m confidence).
# Usage: scripts/train_default_model.sh [WORK_DIR]   (default /tmp/triage-model)
# Needs libtorch-dev (scripts/install-deps.sh --with-training) and ../shared.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/triage-model}
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
seed=${SEED:-1}
build=$root/build/model
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIAGE_BUILD_TESTS=OFF -DTRIAGE_BUILD_BENCH=OFF ${TRIAGE_CMAKE_ARGS:-} >/dev/null
ninja -C "$build" triage-ground >/dev/null
tg=$build/ground/triage-ground
mkdir -p "$work"
[ -d "$work/data/train" ] || "$tg" dataset --real "$shared/datasets/real" --out "$work/data" \
  --per-class "${PER_CLASS:-1200}" --seed "$seed"
start=$(date +%s)
"$tg" train --data "$work/data" --out "$work/ckpt" --alpha 0.25 --resolution 128 \
  --epochs "${EPOCHS:-20}" --patience "${PATIENCE:-6}" --seed "$seed" --threads "${THREADS:-2}"
echo "training wall time: $(( $(date +%s) - start )) s"
"$tg" export --checkpoint "$work/ckpt/best.tckp" --out "$work/triage_float.tflite" --check "$work/data/val"
"$tg" quantize --checkpoint "$work/ckpt/best.tckp" --calibration "$work/data/train" --samples 300 \
  --out "$work/triage_int8.tflite" --float-out "$work/triage_float.tflite" --val "$work/data/val"
"$tg" evaluate --model "$work/triage_int8.tflite" --data "$work/data/val" | tee "$work/eval_int8.txt"
"$tg" evaluate --model "$work/triage_float.tflite" --data "$work/data/val" > "$work/eval_float.txt"
if [ "${INSTALL:-1}" = 1 ]; then
  cp "$work/triage_int8.tflite" "$work/triage_float.tflite" "$root/models/"
  printf 'black\ncloud\ndistorted\nland\nwhite\n' > "$root/models/labels.txt"
  echo "installed into $root/models/"
fi
