#!/usr/bin/env python3
"""Markdown table of the interpreter benchmarks (bench/interpreter_bench.cc).

Builds nothing. SOURCE is either the triage_bench_interpreter binary, which is
run with --benchmark_repetitions (default 5) and
--benchmark_report_aggregates_only=true, or a JSON file the binary wrote with
--benchmark_format=json (or --benchmark_out=FILE --benchmark_out_format=json).

  scripts/bench_table.py build/bench/triage_bench_interpreter
  scripts/bench_table.py build/bench/triage_bench_interpreter --filter person
  scripts/bench_table.py results.json
  scripts/bench_table.py BINARY -- --benchmark_min_time=3   # extra binary flags

The benchmark's own console output goes to stderr; the tables go to stdout.
Python 3 standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# TensorFlow Lite Micro / TensorFlow Lite reference points, measured on this
# kind of machine (x86-64, 2 cores, reference kernels, one thread).
REFERENCE_POINTS = {
    "person_detect": {"tflm_arena": 85232, "tflite_arena": 64512, "tflm_ref_ms": 8.6},
    "tf2_mobilenet_v2_1.0_224_ptq": {"tflm_arena": 1665744, "tflite_arena": 1655808, "tflm_ref_ms": 300.0},
}

TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Arguments after '--' are passed to the benchmark binary unchanged.",
    )
    parser.add_argument("source", help="triage_bench_interpreter binary, or a Google Benchmark JSON file")
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions when running the binary (default 5)")
    parser.add_argument("--filter", default="", help="--benchmark_filter regex when running the binary")
    parser.add_argument("--json-out", help="also keep the binary's JSON output in this file")
    parser.add_argument("--time", choices=("real", "cpu"), default="real",
                        help="which time to tabulate (default: real, i.e. wall-clock latency)")
    if "--" in argv:
        split = argv.index("--")
        args = parser.parse_args(argv[:split])
        args.extra = argv[split + 1:]
    else:
        args = parser.parse_args(argv)
        args.extra = []
    return args


def looks_like_json(path):
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return head.startswith(b"{")


def run_binary(args):
    binary = os.path.abspath(args.source)
    if not os.access(binary, os.X_OK):
        sys.exit("bench_table: %s is neither a JSON file nor an executable" % args.source)
    if args.json_out:
        out_path, cleanup = args.json_out, False
    else:
        fd, out_path = tempfile.mkstemp(prefix="triage_bench_", suffix=".json")
        os.close(fd)
        cleanup = True
    cmd = [
        binary,
        "--benchmark_out=" + out_path,
        "--benchmark_out_format=json",
        "--benchmark_repetitions=%d" % args.repetitions,
        "--benchmark_report_aggregates_only=true",
    ]
    if args.filter:
        cmd.append("--benchmark_filter=" + args.filter)
    cmd += args.extra
    print("bench_table: running " + " ".join(cmd), file=sys.stderr)
    sys.stderr.flush()
    try:
        proc = subprocess.run(cmd, stdout=sys.stderr)
        if proc.returncode != 0:
            sys.exit("bench_table: benchmark exited with status %d" % proc.returncode)
        with open(out_path) as f:
            return json.load(f)
    finally:
        if cleanup and os.path.exists(out_path):
            os.remove(out_path)


def split_name(run_name):
    """'Invoke/<model>/<kernel set>/min_time:1.000/real_time' -> (model, kernel set)."""
    parts = run_name.split("/")
    if len(parts) >= 3 and parts[0] == "Invoke":
        return parts[1], parts[2]
    return run_name, "?"


def summarize(data, time_key):
    """One row per benchmark, in the order the binary ran them."""
    groups = {}
    for entry in data.get("benchmarks", []):
        run_name = entry.get("run_name", entry["name"])
        group = groups.setdefault(run_name, {"iterations": [], "aggregates": {}, "error": None})
        if entry.get("error_occurred"):
            group["error"] = entry.get("error_message", "error")
        elif entry.get("run_type") == "aggregate":
            group["aggregates"][entry["aggregate_name"]] = entry
        else:
            group["iterations"].append(entry)

    rows = []
    for run_name, group in groups.items():
        model, kernel_set = split_name(run_name)
        row = {"model": model, "kernel_set": kernel_set, "error": group["error"]}
        aggs, its = group["aggregates"], group["iterations"]
        if group["error"] is None and not aggs and not its:
            row["error"] = "no results"
        if row["error"] is not None:
            rows.append(row)
            continue

        def ms(entry):
            return entry[time_key] * TO_MS[entry.get("time_unit", "ns")]

        # Median and min over repetitions: the binary's "median"/"min"
        # aggregates when present, else computed from the per-repetition runs.
        row["median_ms"] = ms(aggs["median"]) if "median" in aggs else statistics.median(ms(e) for e in its)
        row["min_ms"] = ms(aggs["min"]) if "min" in aggs else min(ms(e) for e in its)
        row["repetitions"] = (aggs.get("median") or its[0]).get("repetitions", len(its) or 1)
        source = aggs.get("median") or its[0]
        for key in ("macs", "arena_bytes", "op_data_bytes", "weight_bytes"):
            row[key] = source.get(key)
        # Peak RSS: the highest of the repetitions, not their median.
        if "max" in aggs:
            row["peak_rss_bytes"] = aggs["max"].get("peak_rss_bytes")
        elif its:
            row["peak_rss_bytes"] = max(e.get("peak_rss_bytes", 0) for e in its)
        else:
            row["peak_rss_bytes"] = source.get("peak_rss_bytes")
        macs = row["macs"]
        row["gmacs"] = macs / (row["median_ms"] * 1e-3) / 1e9 if macs and row["median_ms"] > 0 else None
        rows.append(row)
    return rows


def fmt_int(value):
    return "-" if value is None else "{:,}".format(int(round(value)))


def fmt_float(value, digits):
    return "-" if value is None else "{:,.{}f}".format(value, digits)


def print_context(data, time_key, source):
    ctx = data.get("context", {})
    print("Source: `%s`  " % source)
    print("Host: %s CPU(s) @ %s MHz, load average %s; run %s  " % (
        ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
        ", ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?", ctx.get("date", "?")))
    print("Build: triage %s, Google Benchmark library %s; times: %s  " % (
        ctx.get("triage_build_type", "?"), ctx.get("library_build_type", "?"),
        "wall clock (real_time)" if time_key == "real_time" else "process CPU time (cpu_time)"))
    print("Peak RSS: %s" % ctx.get("triage_peak_rss", "?"))
    if ctx.get("triage_build_type", "Release") not in ("Release", "RelWithDebInfo", "MinSizeRel"):
        print("\n**Warning: triage was not built in Release; timings are not representative.**")
    print()


def print_table(rows):
    header = ["model", "kernel set", "median ms", "min ms", "MACs", "GMAC/s",
              "arena bytes", "op-data bytes", "weight bytes", "peak RSS MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    skipped = []
    for r in rows:
        if r["error"] is not None:
            skipped.append(r)
            print("| %s | %s | skipped | | | | | | | |" % (r["model"], r["kernel_set"]))
            continue
        print("| " + " | ".join([
            r["model"], r["kernel_set"],
            fmt_float(r["median_ms"], 2), fmt_float(r["min_ms"], 2),
            fmt_int(r["macs"]), fmt_float(r["gmacs"], 3),
            fmt_int(r["arena_bytes"]), fmt_int(r["op_data_bytes"]), fmt_int(r["weight_bytes"]),
            fmt_float(None if r["peak_rss_bytes"] is None else r["peak_rss_bytes"] / 2**20, 1),
        ]) + " |")
    reps = sorted({r.get("repetitions") for r in rows if r["error"] is None})
    if reps:
        print("\nMedian and min are over %s repetition(s) of each benchmark's mean Invoke time; "
              "GMAC/s = MACs / median; peak RSS is the process VmHWM (baseline + model file + arena + op data), "
              "highest repetition." % "/".join(str(x) for x in reps))
    if skipped:
        print()
    for r in skipped:
        print("- skipped %s/%s: %s" % (r["model"], r["kernel_set"], r["error"]))


def print_reference_points(rows):
    ours = {r["model"]: r for r in rows if r["error"] is None and r["kernel_set"] == "reference"}
    print("\n### Reference points: TFLite Micro and TFLite\n")
    print("| model | arena bytes (triage) | arena bytes (TFLM) | arena bytes (TFLite) "
          "| reference-kernel ms (triage, median) | reference-kernel ms (TFLM) |")
    print("|---|---:|---:|---:|---:|---:|")
    for model, ref in REFERENCE_POINTS.items():
        r = ours.get(model)
        print("| %s | %s | %s | %s | %s | %s |" % (
            model,
            fmt_int(r["arena_bytes"]) if r else "not run",
            fmt_int(ref["tflm_arena"]), fmt_int(ref["tflite_arena"]),
            fmt_float(r["median_ms"], 2) if r else "not run",
            "~" + fmt_float(ref["tflm_ref_ms"], 1)))
    print("\nTFLM and TFLite figures were measured separately on this kind of machine "
          "(x86-64, one thread, TFLM reference kernels); compare orders of magnitude, not digits.")


def main(argv):
    args = parse_args(argv)
    if not os.path.exists(args.source):
        sys.exit("bench_table: %s does not exist" % args.source)
    if looks_like_json(args.source):
        with open(args.source) as f:
            data = json.load(f)
    else:
        data = run_binary(args)
    time_key = args.time + "_time"
    rows = summarize(data, time_key)
    if not rows:
        sys.exit("bench_table: no benchmark results in the input")
    print_context(data, time_key, args.source)
    print_table(rows)
    print_reference_points(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
