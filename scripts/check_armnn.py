#!/usr/bin/python3
"""Independent-reader check of an exported .tflite: Arm NN's TfLiteParser
(Debian python3-pyarmnn, CpuRef backend) runs the model on the same input
bytes as triage-infer, and the outputs must agree.

Usage: check_armnn.py TRIAGE_INFER MODEL [IMAGE_DIR] [--tolerance T]
Float models must agree to 1e-5. Arm NN's CpuRef requantizes int8 in float,
not with TensorFlow Lite's fixed-point multipliers, so int8 outputs may differ
by a few quantization steps, which can flip a near-tie (--allow-top1-ties).
Exit 0 on agreement, 1 on disagreement or a missing CpuRef backend (one line
naming the package), 77 when pyarmnn itself is absent (ctest skip).
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import pyarmnn as ann
except ImportError:
    print("SKIP: python3-pyarmnn (and numpy) not installed; apt-get install python3-pyarmnn")
    sys.exit(77)


CPUREF_PACKAGE = "libarmnn-cpuref-backend22"


class MissingBackend(Exception):
    pass


def armnn_runtime(model_path):
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model_path)
    graph = 0
    in_name = parser.GetSubgraphInputTensorNames(graph)[0]
    out_name = parser.GetSubgraphOutputTensorNames(graph)[0]
    in_info = parser.GetNetworkInputBindingInfo(graph, in_name)
    out_info = parser.GetNetworkOutputBindingInfo(graph, out_name)
    runtime = ann.IRuntime(ann.CreationOptions())
    try:
        opt, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    except RuntimeError as e:
        if "backends" not in str(e):
            raise
        # pyarmnn loads without any backend: the reference backend is its own
        # package, which --no-install-recommends never brings in.
        raise MissingBackend(CPUREF_PACKAGE) from None
    net_id, _ = runtime.LoadNetwork(opt)
    return runtime, net_id, in_info, out_info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("infer")
    ap.add_argument("model")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    ap.add_argument("--allow-top1-ties", action="store_true",
                    help="do not fail on top-1 disagreements (int8: near-ties flip with a few LSB)")
    args = ap.parse_args()
    try:
        runtime, net_id, in_info, out_info = armnn_runtime(args.model)
    except MissingBackend as e:
        print(f"FAIL: Arm NN has no CpuRef backend: Debian package {e} is not installed "
              f"(scripts/install-deps.sh --with-training installs it)")
        return 1
    shape = tuple(in_info[1].GetShape()[i] for i in range(in_info[1].GetNumDimensions()))
    dtype = ann.TensorInfo(in_info[1]).GetDataType()
    is_float = dtype == ann.DataType_Float32
    rng = np.random.default_rng(1)
    worst = 0.0
    top1_mismatch = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.samples):
            # Smooth random images, normalized like the flight preprocessing.
            y, x = np.mgrid[0:shape[1], 0:shape[2]]
            img = np.stack([np.sin(x * rng.uniform(0.01, 0.3) + c) * np.cos(y * rng.uniform(0.01, 0.3) - c)
                            for c in range(3)], axis=-1)
            pixels = np.clip((img * 0.5 + 0.5) * 255, 0, 255).round()
            if is_float:
                data = ((pixels - 128.0) / 128.0).astype(np.float32).reshape(shape)
            else:
                data = (pixels - 128).astype(np.int8).reshape(shape)
            raw_in = os.path.join(tmp, "in.raw")
            raw_out = os.path.join(tmp, "out.raw")
            data.tofile(raw_in)
            subprocess.run([args.infer, "--model", args.model, "--input-raw", raw_in, "--output-raw", raw_out],
                           check=True, stdout=subprocess.DEVNULL)
            ours = np.fromfile(raw_out, dtype=np.float32 if is_float else np.int8)
            inputs = ann.make_input_tensors([in_info], [data])
            outputs = ann.make_output_tensors([out_info])
            runtime.EnqueueWorkload(net_id, inputs, outputs)
            theirs = ann.workload_tensors_to_ndarray(outputs)[0].reshape(-1)
            diff = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
            worst = max(worst, diff)
            top1_mismatch += int(np.argmax(ours) != np.argmax(theirs))
    ok = worst <= args.tolerance and (top1_mismatch == 0 or args.allow_top1_ties)
    print(f"Arm NN {ann.ARMNN_VERSION} vs triage-infer on {args.samples} inputs: max |diff| = {worst:.3g} "
          f"(tolerance {args.tolerance}), top-1 disagreements {top1_mismatch}: {'ok' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
