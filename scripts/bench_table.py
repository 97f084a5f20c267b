#!/usr/bin/env python3
"""Markdown tables of the interpreter benchmarks and their peers (XNNPACK, LiteRT.js).

Builds nothing. SOURCE is either the triage_bench_interpreter binary
(bench/interpreter_bench.cc), which is run with --benchmark_repetitions
(default 5) and --benchmark_report_aggregates_only=true, or a JSON file the
binary wrote with --benchmark_format=json (or --benchmark_out=FILE
--benchmark_out_format=json). Printed: the run's context, one row per
benchmark (median and min times, MACs, arena / op-data / packed / weight
bytes, peak RSS) and the TFLite Micro / TFLite reference points.

Peers (optional; with any of them a comparison table is printed too):
  --xnnpack X    the triage_bench_xnnpack binary (bench/xnnpack_bench.cc; run
                 like SOURCE, same repetitions, filter and extra flags) or its
                 JSON output
  --litert F     the JSON object that bench/litert/run.mjs prints
                 ({"benchmarks": [{"name": "LiteRT/<model>/1T",
                 "real_time": ms, "time_unit": "ms", ...}]}, medians)
  --run-litert   run `node bench/litert/run.mjs --repetitions R MODEL...`
                 (needs bench/litert/node_modules, i.e. npm ci there)

The comparison table has one row per model: ours with reference kernels
(Invoke/<model>/reference), ours optimized on 1 and 2 threads
(Invoke/<model>/optimized, Invoke/<model>/optimized/2T), XNNPACK on 1 and 2
threads (XNNPACK/<model>/1T, /2T) and LiteRT.js (LiteRT/<model>/1T), each as
median ms with its ratio to XNNPACK 1T, next to our memory counters. A
missing benchmark shows "—". A second table lists the XNNPACK runs with their
correctness counters (max_diff against our reference interpreter).

  scripts/bench_table.py build/bench/triage_bench_interpreter
  scripts/bench_table.py build/bench/triage_bench_interpreter --filter person
  scripts/bench_table.py results.json
  scripts/bench_table.py BINARY -- --benchmark_min_time=3   # extra binary flags
  scripts/bench_table.py BINARY --xnnpack build/bench/triage_bench_xnnpack --run-litert
  scripts/bench_table.py ours.json --xnnpack xnn.json --litert litert.json
  scripts/bench_table.py --xnnpack build/bench/triage_bench_xnnpack   # peers only

The benchmarks' own console output goes to stderr; the tables go to stdout.
Python 3 standard library only.
"""

import argparse
import json
import os
import re
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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LITERT_DIR = os.path.join(REPO, "bench", "litert")

# Counters taken as the highest repetition rather than the median.
MAX_COUNTERS = ("peak_rss_bytes", "max_diff", "boundary_max_diff", "mismatches")
COUNTERS = ("macs", "arena_bytes", "op_data_bytes", "packed_bytes", "weight_bytes", "runtime_rss_bytes",
            "threads") + MAX_COUNTERS

DASH = "—"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Arguments after '--' are passed to the benchmark binaries (ours and XNNPACK) unchanged.",
    )
    parser.add_argument("source", nargs="?",
                        help="triage_bench_interpreter binary, or a Google Benchmark JSON file")
    parser.add_argument("--xnnpack", metavar="X",
                        help="triage_bench_xnnpack binary, or its Google Benchmark JSON file")
    parser.add_argument("--litert", metavar="FILE", help="JSON printed by bench/litert/run.mjs")
    parser.add_argument("--run-litert", action="store_true",
                        help="run node bench/litert/run.mjs (needs bench/litert/node_modules)")
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions when running a binary (default 5)")
    parser.add_argument("--filter", default="",
                        help="--benchmark_filter regex when running a binary (also applied to LiteRT.js rows)")
    parser.add_argument("--json-out", help="also keep the interpreter binary's JSON output in this file")
    parser.add_argument("--xnnpack-json-out", help="also keep the XNNPACK binary's JSON output in this file")
    parser.add_argument("--litert-json-out", help="with --run-litert, also keep the runner's JSON in this file")
    parser.add_argument("--time", choices=("real", "cpu"), default="real",
                        help="which time to tabulate (default: real, i.e. wall-clock latency)")
    if "--" in argv:
        split = argv.index("--")
        args = parser.parse_args(argv[:split])
        args.extra = argv[split + 1:]
    else:
        args = parser.parse_args(argv)
        args.extra = []
    if not (args.source or args.xnnpack or args.litert or args.run_litert):
        parser.error("give SOURCE, --xnnpack, --litert or --run-litert")
    if args.litert and args.run_litert:
        parser.error("--litert reads a saved run, --run-litert makes one; give one of them")
    return args


def looks_like_json(path):
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return head.startswith(b"{")


def run_binary(path, args, keep_path, what):
    binary = os.path.abspath(path)
    if not os.access(binary, os.X_OK):
        sys.exit("bench_table: %s is neither a JSON file nor an executable" % path)
    if keep_path:
        out_path, cleanup = keep_path, False
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
            sys.exit("bench_table: %s benchmark exited with status %d" % (what, proc.returncode))
        if os.path.getsize(out_path) == 0:  # nothing matched the filter
            return {"benchmarks": []}
        with open(out_path) as f:
            return json.load(f)
    finally:
        if cleanup and os.path.exists(out_path):
            os.remove(out_path)


def load_source(path, args, keep_path, what):
    if not os.path.exists(path):
        sys.exit("bench_table: %s does not exist" % path)
    if looks_like_json(path):
        with open(path) as f:
            return json.load(f)
    return run_binary(path, args, keep_path, what)


def run_litert(args, models):
    script = os.path.join(LITERT_DIR, "run.mjs")
    if not os.path.isfile(script) or not os.path.isdir(os.path.join(LITERT_DIR, "node_modules")):
        sys.exit("bench_table: --run-litert needs %s and %s/node_modules (run npm ci there)" % (script, LITERT_DIR))
    cmd = ["node", script, "--repetitions", str(args.repetitions)] + list(models)
    print("bench_table: running " + " ".join(cmd), file=sys.stderr)
    sys.stderr.flush()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit("bench_table: LiteRT.js runner exited with status %d" % proc.returncode)
    if args.litert_json_out:
        with open(args.litert_json_out, "wb") as f:
            f.write(proc.stdout)
    try:
        return json.loads(proc.stdout.decode("utf-8"))
    except ValueError as e:
        sys.exit("bench_table: LiteRT.js runner printed no JSON object: %s" % e)


def split_name(run_name):
    """'Invoke/<model>/<kernel set>[/2T]/min_time:1.000/real_time' -> (engine, model, variant).

    Benchmark-argument components (with ':') and the timing suffixes are dropped:
    'XNNPACK/m/1T/real_time' -> ('XNNPACK', 'm', '1T').
    """
    parts = [p for p in run_name.split("/")
             if ":" not in p and p not in ("real_time", "process_time", "manual_time")]
    if len(parts) >= 3:
        return parts[0], parts[1], "/".join(parts[2:])
    return "?", run_name, "?"


def summarize(data, time_key):
    """One row per benchmark, in the order the binary ran them."""
    groups = {}
    for entry in data.get("benchmarks", []):
        run_name = entry.get("run_name", entry.get("name", "?"))
        group = groups.setdefault(run_name, {"iterations": [], "aggregates": {}, "error": None})
        if entry.get("error_occurred") or entry.get("error"):
            group["error"] = entry.get("error_message") or entry.get("error") or "error"
        elif entry.get("run_type") == "aggregate":
            group["aggregates"][entry["aggregate_name"]] = entry
        else:
            group["iterations"].append(entry)

    rows = []
    for run_name, group in groups.items():
        engine, model, kernel_set = split_name(run_name)
        row = {"engine": engine, "model": model, "kernel_set": kernel_set, "error": group["error"]}
        aggs, its = group["aggregates"], group["iterations"]
        if group["error"] is None and not aggs and not its:
            row["error"] = "no results"
        if row["error"] is not None:
            rows.append(row)
            continue

        def ms(entry):
            value = entry.get(time_key)
            if value is None:  # e.g. a LiteRT.js entry without cpu_time
                value = entry["real_time"]
            return value * TO_MS[entry.get("time_unit", "ns")]

        # Median and min over repetitions: the binary's "median"/"min"
        # aggregates when present, else computed from the per-repetition runs.
        row["median_ms"] = ms(aggs["median"]) if "median" in aggs else statistics.median(ms(e) for e in its)
        if "min" in aggs:
            row["min_ms"] = ms(aggs["min"])
        elif engine == "LiteRT" and time_key == "real_time" and its and all("min_time" in e for e in its):
            row["min_ms"] = min(e["min_time"] * TO_MS[e["time_unit"]] for e in its)  # LiteRT.js
        else:
            row["min_ms"] = min(ms(e) for e in its)
        row["repetitions"] = (aggs.get("median") or its[0]).get("repetitions", len(its) or 1)
        source = aggs.get("median") or its[0]
        row["label"] = source.get("label") or next((e.get("label") for e in its if e.get("label")), None)
        for key in COUNTERS:
            row[key] = source.get(key)
        # Peak RSS and the correctness counters: the highest repetition, not the median.
        for key in MAX_COUNTERS:
            if "max" in aggs:
                row[key] = aggs["max"].get(key)
            elif its and any(key in e for e in its):
                row[key] = max(e.get(key, 0) for e in its)
        macs = row["macs"]
        row["gmacs"] = macs / (row["median_ms"] * 1e-3) / 1e9 if macs and row["median_ms"] > 0 else None
        rows.append(row)
    return rows


def fmt_int(value):
    return "-" if value is None else "{:,}".format(int(round(value)))


def fmt_float(value, digits):
    return "-" if value is None else "{:,.{}f}".format(value, digits)


def fmt_mb(value):
    return fmt_float(None if value is None else value / 2**20, 1)


def print_context(data, time_key, source, what=None):
    ctx = data.get("context", {})
    print("Source%s: `%s`  " % (" (%s)" % what if what else "", source))
    print("Host: %s CPU(s) @ %s MHz, load average %s; run %s  " % (
        ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
        ", ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?", ctx.get("date", "?")))
    print("Build: triage %s, Google Benchmark library %s; times: %s  " % (
        ctx.get("triage_build_type", "?"), ctx.get("library_build_type", "?"),
        "wall clock (real_time)" if time_key == "real_time" else "process CPU time (cpu_time)"))
    if ctx.get("triage_peer"):
        print("Peer: %s  " % ctx["triage_peer"])
    print("Peak RSS: %s" % ctx.get("triage_peak_rss", "?"))
    if ctx.get("triage_build_type", "Release") not in ("Release", "RelWithDebInfo", "MinSizeRel"):
        print("\n**Warning: triage was not built in Release; timings are not representative.**")
    print()


def has_packed(rows):
    return any(r.get("packed_bytes") is not None for r in rows if r["error"] is None)


def print_table(rows):
    packed = has_packed(rows)
    header = ["model", "kernel set", "median ms", "min ms", "MACs", "GMAC/s", "arena bytes", "op-data bytes"]
    header += ["packed bytes"] if packed else []
    header += ["weight bytes", "peak RSS MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    skipped = []
    for r in rows:
        if r["error"] is not None:
            skipped.append(r)
            print("| %s | %s | skipped |%s" % (r["model"], r["kernel_set"], " |" * (len(header) - 3)))
            continue
        cells = [
            r["model"], r["kernel_set"],
            fmt_float(r["median_ms"], 2), fmt_float(r["min_ms"], 2),
            fmt_int(r["macs"]), fmt_float(r["gmacs"], 3),
            fmt_int(r["arena_bytes"]), fmt_int(r["op_data_bytes"]),
        ]
        cells += [fmt_int(r.get("packed_bytes"))] if packed else []
        cells += [fmt_int(r["weight_bytes"]), fmt_mb(r["peak_rss_bytes"])]
        print("| " + " | ".join(cells) + " |")
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


# Columns of the comparison table: (header, engine, variant).
PEER_COLUMNS = [
    ("ours reference", "Invoke", "reference"),
    ("ours optimized 1T", "Invoke", "optimized"),
    ("ours optimized 2T", "Invoke", "optimized/2T"),
    ("XNNPACK 1T", "XNNPACK", "1T"),
    ("XNNPACK 2T", "XNNPACK", "2T"),
    ("LiteRT.js 1T", "LiteRT", "1T"),
]


def print_peer_table(ours, xnn, litert):
    all_rows = ours + xnn + litert
    index = {(r["engine"], r["model"], r["kernel_set"]): r for r in all_rows}
    models = []
    for r in all_rows:
        if r["model"] not in models and r["engine"] in ("Invoke", "XNNPACK", "LiteRT"):
            models.append(r["model"])
    packed = has_packed(ours)
    print("\n### Peers: median ms (ratio to XNNPACK 1T)\n")
    header = ["model"] + [c[0] for c in PEER_COLUMNS] + ["arena bytes", "op-data bytes"]
    header += ["packed bytes"] if packed else []
    header += ["weight bytes", "peak RSS MB (ours)", "peak RSS MB (XNNPACK 1T)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    skipped = []
    for model in models:
        base = index.get(("XNNPACK", model, "1T"))
        base_ms = base["median_ms"] if base and base["error"] is None else None
        cells = [model]
        for _, engine, variant in PEER_COLUMNS:
            r = index.get((engine, model, variant))
            if r is None:
                cells.append(DASH)
            elif r["error"] is not None:
                cells.append("skipped")
                skipped.append((engine, model, variant, r["error"]))
            elif base_ms:
                cells.append("%s (%.2f×)" % (fmt_float(r["median_ms"], 2), r["median_ms"] / base_ms))
            else:
                cells.append(fmt_float(r["median_ms"], 2))
        # Memory: our optimized 1T run (its op data holds any packed weights),
        # else the reference run.
        mem = next((r for r in (index.get(("Invoke", model, "optimized")), index.get(("Invoke", model, "reference")))
                    if r is not None and r["error"] is None), None)
        cells += [fmt_int(mem["arena_bytes"]) if mem else DASH, fmt_int(mem["op_data_bytes"]) if mem else DASH]
        cells += [fmt_int(mem.get("packed_bytes")) if mem else DASH] if packed else []
        weight = mem["weight_bytes"] if mem else (base or {}).get("weight_bytes")
        cells += [fmt_int(weight) if weight is not None else DASH,
                  fmt_mb(mem["peak_rss_bytes"]) if mem else DASH,
                  fmt_mb(base.get("peak_rss_bytes")) if base_ms else DASH]
        print("| " + " | ".join(cells) + " |")
    print("\nEach time is the median over repetitions of the benchmark's mean inference time (LiteRT.js: the "
          "runner's own median), with its ratio to XNNPACK on one thread (below 1: faster than XNNPACK). "
          "%s: not run. Memory columns are ours (optimized run, else reference); XNNPACK's peak RSS is "
          "baseline + model file + its runtime (packed weights and activations)." % DASH)
    for engine, model, variant, error in skipped:
        print("- skipped %s/%s/%s: %s" % (engine, model, variant, error))


def print_xnnpack_table(xnn):
    print("\n### XNNPACK runs\n")
    print("| model | threads | median ms | min ms | GMAC/s | max_diff | mismatches | boundary max_diff "
          "| runtime RSS MB | peak RSS MB | stages |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    skipped = []
    for r in xnn:
        if r["error"] is not None:
            skipped.append(r)
            print("| %s | %s | skipped | | | | | | | | |" % (r["model"], r["kernel_set"]))
            continue
        print("| " + " | ".join([
            r["model"], r["kernel_set"], fmt_float(r["median_ms"], 2), fmt_float(r["min_ms"], 2),
            fmt_float(r["gmacs"], 3), fmt_int(r["max_diff"]), fmt_int(r["mismatches"]),
            fmt_int(r["boundary_max_diff"]), fmt_mb(r["runtime_rss_bytes"]), fmt_mb(r["peak_rss_bytes"]),
            (r.get("label") or "-").replace("|", "\\|"),
        ]) + " |")
    print("\nmax_diff: largest |XNNPACK - ours| over the output elements (quantized units, highest repetition), "
          "ours = our interpreter with reference kernels on the same input; mismatches: output elements that "
          "differ; boundary max_diff: the same over tensors passed between stages (e.g. the logits before "
          "SOFTMAX, which the 2022 XNNPACK subgraph API cannot express and runs as a standalone operator). "
          "A few units are expected (XNNPACK rounds differently); a large value is a mapping bug. "
          "Runtime RSS: VmRSS growth while XNNPACK packed the weights and ran once (approximate).")
    for r in skipped:
        print("- skipped XNNPACK/%s/%s: %s" % (r["model"], r["kernel_set"], r["error"]))


def main(argv):
    args = parse_args(argv)
    time_key = args.time + "_time"
    ours_data = load_source(args.source, args, args.json_out, "interpreter") if args.source else None
    xnn_data = load_source(args.xnnpack, args, args.xnnpack_json_out, "XNNPACK") if args.xnnpack else None
    if xnn_data is not None and not xnn_data.get("benchmarks"):
        print("bench_table: no XNNPACK results (did --filter match any XNNPACK/<model>/<n>T?)", file=sys.stderr)
        xnn_data = None
    ours = summarize(ours_data, time_key) if ours_data else []
    xnn = summarize(xnn_data, time_key) if xnn_data else []

    litert_data, litert_source = None, None
    if args.litert:
        with open(args.litert) as f:
            litert_data, litert_source = json.load(f), args.litert
    elif args.run_litert:
        models = []
        for r in ours + xnn:
            if r["model"] not in models and r["engine"] in ("Invoke", "XNNPACK"):
                models.append(r["model"])
        litert_data, litert_source = run_litert(args, models), "node bench/litert/run.mjs"
    litert = summarize(litert_data, time_key) if litert_data else []
    if args.filter:
        pattern = re.compile(args.filter)
        litert = [r for r in litert if pattern.search("LiteRT/%s/%s" % (r["model"], r["kernel_set"]))]

    if not ours and not xnn and not litert:
        sys.exit("bench_table: no benchmark results in the input")
    if ours_data:
        print_context(ours_data, time_key, args.source, "ours" if xnn_data or litert_data else None)
    if xnn_data:
        print_context(xnn_data, time_key, args.xnnpack, "XNNPACK")
    if litert_data:
        ctx = litert_data.get("context", {})
        print("Source (LiteRT.js): `%s`%s  " % (
            litert_source, "" if time_key == "real_time" else " (wall-clock times: the runner reports no CPU time)"))
        print("LiteRT.js: %s, %s, node %s, %s thread(s), load average %s; run %s\n" % (
            ctx.get("litert_version", "?"), ctx.get("wasm_build", "?"), ctx.get("node", "?"),
            ctx.get("num_threads", "?"), ", ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?",
            ctx.get("date", "?")))
    if ours:
        print_table(ours)
        print_reference_points(ours)
    if xnn or litert:
        print_peer_table(ours, xnn, litert)
        if time_key == "cpu_time":
            print("\nWith --time cpu, multi-threaded runs count only the calling thread's CPU time.")
    if xnn:
        print_xnnpack_table(xnn)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
