#!/usr/bin/env bash
# The main job, end to end on embedded defaults: install what is missing,
# build (Release), and run triage on a sample.
# Until the flight application lands, this classifies a sample image with
# triage-infer on a shared MobileNet.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIAGE_SHARED_DIR:-$root/../shared}
build=${TRIAGE_BUILD_DIR:-$root/build/release}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIAGE_BUILD_TESTS=OFF \
  -DTRIAGE_SHARED_DIR="$shared" >/dev/null
cmake --build "$build" --target triage-infer
model="$shared/models/mobilenet_v2_1.0_224_quant.tflite"
image="$shared/models/grace_hopper.bmp"
if [ ! -f "$model" ] || [ ! -f "$image" ]; then
  echo "run: sample model or image missing under $shared (set TRIAGE_SHARED_DIR)" >&2
  exit 1
fi
echo "== triage-infer: $(basename "$model") on $(basename "$image")"
"$build/app/triage-infer" --model "$model" --image "$image" \
  --labels "$shared/models/imagenet_labels.txt" --top 5 --repeat 3
