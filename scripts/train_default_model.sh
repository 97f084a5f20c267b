#!/usr/bin/env bash
# Rebuilds the default flight model in models/ from scratch, with the recipe
# chosen by cross-validation (models/README.md):
#   dataset (every real labelled image, no hold-out) -> train (--init from the
#   ImageNet MobileNet v1, staged fine-tuning) -> export (float, checked
#   against libtorch) -> quantize (int8, the temperature folded in).
# The temperature comes from `triage-ground thresholds` on the recipe's
# out-of-fold predictions (CV=WORK_DIR_OF_CV to recompute it, or TEMPERATURE).
# Usage: scripts/train_default_model.sh [WORK_DIR]   (default /tmp/triage-model)
# Needs libtorch-dev (scripts/install-deps.sh --with-training) and ../shared.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/triage-model}
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
seed=${SEED:-1}
stages=${STAGES:-head:2:3e-3,all:10:1e-3}
build=$root/build/model
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIAGE_BUILD_TESTS=OFF -DTRIAGE_BUILD_BENCH=OFF ${TRIAGE_CMAKE_ARGS:-} >/dev/null
ninja -C "$build" triage-ground >/dev/null
tg=$build/ground/triage-ground
mkdir -p "$work"
start=$(date +%s)
[ -d "$work/data/train" ] || "$tg" dataset --real "$shared/datasets/real" --real "$shared/datasets/extra" \
  --out "$work/data" --val-fraction 0 --sim-val 0 --per-class "${PER_CLASS:-800}" --real-share "${REAL_SHARE:-1.0}" \
  --resolution "${RESOLUTION:-128}" \
  --cloud-composite "${CLOUD_COMPOSITE:-0.4}" --optics "${OPTICS:-0}" --seed "$seed"
"$tg" train --data "$work/data" --out "$work/ckpt" --alpha "${ALPHA:-0.25}" --resolution "${RESOLUTION:-128}" \
  --init "$shared/models/${INIT:-mobilenet_v1_0.25_128_quant.tflite}" --stages "$stages" --seed "$seed" \
  --threads "${THREADS:-1}"
echo "dataset + training wall time: $(( $(date +%s) - start )) s"
temperature=${TEMPERATURE:-1}
if [ -n "${CV:-}" ]; then
  temperature=$("$tg" thresholds --oof "$CV/oof.csv" --config "$root/config/mission.yaml" \
    | sed -n 's/^temperature \([0-9.]*\) .*/\1/p')
fi
"$tg" export --checkpoint "$work/ckpt/last.tckp" --out "$work/check_float.tflite" --check "$shared/datasets/real"
"$tg" quantize --checkpoint "$work/ckpt/last.tckp" --calibration "$work/data/train" --samples 300 \
  --temperature "$temperature" --out "$work/triage_int8.tflite" --float-out "$work/triage_float.tflite"
if [ "${INSTALL:-1}" = 1 ]; then
  cp "$work/triage_int8.tflite" "$work/triage_float.tflite" "$root/models/"
  printf 'black\ncloud\ndistorted\nland\nwhite\n' > "$root/models/labels.txt"
  echo "installed into $root/models/ (temperature $temperature folded in)"
fi
