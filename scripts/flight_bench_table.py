#!/usr/bin/env python3
"""Markdown table of the flight-loop benchmark (bench/flight_bench.cc).

SOURCE is the triage_bench_flight binary (run with --benchmark_repetitions,
default 3, aggregates only) or a JSON file it wrote (--benchmark_out=F
--benchmark_out_format=json). One row per policy: frames/s, median ms per
loop stage, peak resident memory (VmHWM, shared libraries included) and the
loop's largest anonymous RSS sample.

  scripts/flight_bench_table.py build/release/bench/triage_bench_flight
  scripts/flight_bench_table.py flight.json

Python 3 standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

STAGES = ["capture", "thumbnail", "preprocess", "infer", "decide", "compress", "enqueue", "downlink"]


def load(args):
    with open(args.source, "rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"{"):
        with open(args.source) as f:
            return json.load(f)
    fd, path = tempfile.mkstemp(prefix="triage_flight_bench_", suffix=".json")
    os.close(fd)
    try:
        cmd = [os.path.abspath(args.source), "--benchmark_out=" + path, "--benchmark_out_format=json",
               "--benchmark_repetitions=%d" % args.repetitions, "--benchmark_report_aggregates_only=true"]
        print("flight_bench_table: running " + " ".join(cmd), file=sys.stderr)
        if subprocess.run(cmd, stdout=sys.stderr).returncode != 0:
            sys.exit("flight_bench_table: the benchmark failed")
        with open(path) as f:
            return json.load(f)
    finally:
        os.remove(path)


def rows(data):
    """Median aggregate per benchmark when present, else the single run."""
    picked = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            picked[name] = {"error": b.get("error_message", "error")}
        elif b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                picked[name] = b
        elif name not in picked:
            picked[name] = b
    return picked


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="triage_bench_flight binary or its JSON output")
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args(argv)
    if not os.path.exists(args.source):
        sys.exit("flight_bench_table: %s does not exist" % args.source)
    data = load(args)
    ctx = data.get("context", {})
    print("Host: %s CPU(s), load %s; build %s; model %s\n" % (
        ctx.get("num_cpus", "?"), ", ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?",
        ctx.get("triage_build_type", "?"), ctx.get("triage_flight_model", "?")))
    header = ["benchmark", "frames/s"] + ["%s ms" % s for s in STAGES] + ["peak RSS MB", "anon RSS MB"]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "|".join(["---:"] * (len(header) - 1)) + "|")
    for name, b in rows(data).items():
        if "error" in b:
            print("| %s | skipped: %s |" % (name, b["error"]))
            continue
        cells = [name, "%.1f" % b.get("fps", 0.0)]
        for s in STAGES:
            v = b.get(s + "_ms")
            cells.append("-" if v is None else "%.2f" % v)
        cells.append("%.1f" % (b.get("peak_rss_bytes", 0) / 2**20))
        cells.append("%.1f" % (b.get("anon_rss_bytes", 0) / 2**20))
        print("| " + " | ".join(cells) + " |")
    print("\nStage times are medians over the frames where the stage ran; frames/s is wall clock "
          "(one thread). Peak RSS is VmHWM (shared libraries included); anon RSS is the loop's "
          "largest RssAnon sample (its own heap and buffers).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
