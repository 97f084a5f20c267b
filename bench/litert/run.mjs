#!/usr/bin/env node
// LiteRT.js peer runner (bench only, optional). See bench/README.md, "LiteRT.js peer".
//
// Times TFLite models under LiteRT.js (@litertjs/core: the TensorFlow Lite /
// LiteRT WebAssembly build with XNNPACK) on its wasm CPU backend with one
// thread, and prints ONE JSON object on stdout. Everything else goes to stderr.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SHARED = process.env.TRIAGE_SHARED_DIR || '/work/shared';
const REEXEC_ENV = 'TRIAGE_LITERT_REEXEC';
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

const DEFAULT_MODELS = [
  'triage_int8',
  'person_detect',
  'mobilenet_v1_0.25_128_quant',
  'mobilenet_v1_0.5_160_quant',
  'mobilenet_v2_1.0_224_quant',
  'tf2_mobilenet_v2_1.0_224_ptq',
];

const USAGE = `usage: bench/litert/run.sh [options] [MODEL ...]
       node ${RELAXED_FLAG} bench/litert/run.mjs [options] [MODEL ...]

Times each model with LiteRT.js (@litertjs/core, wasm CPU backend, XNNPACK,
one thread) and prints one JSON object on stdout; progress goes to stderr.
Needs "npm ci" in bench/litert first.

MODEL is NAME, NAME=PATH or PATH.tflite. A bare NAME is looked up in
<repo>/models/NAME.tflite, then in $TRIAGE_SHARED_DIR/models/NAME.tflite
(TRIAGE_SHARED_DIR defaults to /work/shared). Default models:
  ${DEFAULT_MODELS.join('\n  ')}

options:
  --repetitions R   timed repetitions per model (default 5)
  --min-time S      each repetition runs at least S seconds (default 1.0) ...
  --min-iters N     ... and at least N runs (default 10)
  --warmup S        untimed warm-up per model, seconds (default 1.5)
  --compat          load the compat wasm build (SIMD, no relaxed SIMD)
  --verbose         pass LiteRT's own log lines through to stderr
  -h, --help        this text

Per model: real_time is the median over repetitions of the mean run time,
min_time the smallest repetition mean, both in ms. A model that cannot be
loaded or run gets "error" (and error_occurred/error_message) instead.
Without relaxed SIMD support the script re-executes node with ${RELAXED_FLAG}.`;

function die(msg, code = 2) {
  process.stderr.write(`litert: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opt = {repetitions: 5, minTime: 1.0, minIters: 10, warmup: 1.5, compat: false, verbose: false, models: []};
  const num = (name, v, integer) => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < 0 || (integer && !Number.isInteger(x))) {
      die(`${name} needs a ${integer ? 'non-negative integer' : 'non-negative number'}, got ${v}`);
    }
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const take = () => (val !== undefined ? val : argv[++i]);
    switch (a) {
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      case '--repetitions': opt.repetitions = Math.max(1, num(a, take(), true)); break;
      case '--min-time': opt.minTime = num(a, take(), false); break;
      case '--min-iters': opt.minIters = Math.max(1, num(a, take(), true)); break;
      case '--warmup': opt.warmup = num(a, take(), false); break;
      case '--compat': opt.compat = true; break;
      case '--verbose': opt.verbose = true; break;
      default:
        if (a.startsWith('-')) die(`unknown option ${argv[i]} (see --help)`);
        opt.models.push(argv[i]);
    }
  }
  if (opt.models.length === 0) opt.models = DEFAULT_MODELS.slice();
  return opt;
}

function resolveModel(spec) {
  const eq = spec.indexOf('=');
  if (eq > 0) return {name: spec.slice(0, eq), file: spec.slice(eq + 1)};
  if (spec.endsWith('.tflite') || spec.includes('/')) {
    return {name: path.basename(spec).replace(/\.tflite$/, ''), file: spec};
  }
  const inRepo = path.join(REPO, 'models', spec + '.tflite');
  if (fs.existsSync(inRepo)) return {name: spec, file: inRepo};
  return {name: spec, file: path.join(SHARED, 'models', spec + '.tflite')};
}

// Same bytes as bench/interpreter_bench.cc FillDeterministic: a fixed LCG
// seeded 0x7153 + input index; floats in [-1, 1), raw bytes for integers.
function fillDeterministic(typedArray, seed) {
  let x = seed >>> 0;
  const next = () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x; };
  if (typedArray instanceof Float32Array) {
    for (let i = 0; i < typedArray.length; i++) typedArray[i] = (next() >>> 8) / 8388608 - 1;
  } else {
    const bytes = new Uint8Array(typedArray.buffer, typedArray.byteOffset, typedArray.byteLength);
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() >>> 24;
  }
}

const TYPED = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array};

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim().slice(0, 300);
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));

  // --- is @litertjs/core installed? -------------------------------------
  const require = createRequire(import.meta.url);
  let corePkgPath;
  try {
    corePkgPath = require.resolve('@litertjs/core/package.json');
  } catch {
    die('@litertjs/core is not installed: run npm ci in bench/litert');
  }
  const coreDir = path.dirname(corePkgPath);
  const wasmDir = path.join(coreDir, 'wasm');
  const litertVersion = JSON.parse(fs.readFileSync(corePkgPath, 'utf8')).version;

  // --- shims for running the browser/worker loader under Node -----------
  // LiteRT.js's loader (@litertjs/wasm-utils) calls importScripts(url) when
  // it exists, then reads self.ModuleFactory. The Emscripten glue is a UMD
  // script (module.exports = ModuleFactory) but the package is "type":
  // "module", so require() of the .js fails: copy it to a .cjs in a temp dir.
  // Its .wasm is then found through Module.locateFile.
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triage-litert-'));
  process.on('exit', () => fs.rmSync(tmpDir, {recursive: true, force: true}));
  const wasmLog = [];  // LiteRT's own log lines since the last reset
  const logLine = (line) => {
    wasmLog.push(String(line));
    if (opt.verbose) process.stderr.write(`  [litert] ${line}\n`);
  };
  let wasmBuild = null;
  globalThis.self = globalThis;
  if (typeof globalThis.navigator === 'undefined') globalThis.navigator = {};
  try { if (!globalThis.navigator.hardwareConcurrency) globalThis.navigator.hardwareConcurrency = 1; } catch {}
  globalThis.importScripts = (url) => {
    const src = String(url).startsWith('file:') ? fileURLToPath(String(url)) : String(url);
    wasmBuild = path.basename(src);
    const dst = path.join(tmpDir, wasmBuild.replace(/\.js$/, '.cjs'));
    fs.copyFileSync(src, dst);
    globalThis.ModuleFactory = require(dst);
    globalThis.Module = {
      locateFile: (p) => path.join(path.dirname(src), p),
      print: logLine,     // keep the wasm's stdout off our stdout
      printErr: logLine,
    };
  };
  // The library's own console.log/warn (e.g. "Failed to create default
  // WebGPU device") must not reach stdout either.
  console.log = console.info = console.warn = console.debug = (...a) => logLine(a.map(String).join(' ').split('\n')[0]);

  let lrt;
  try {
    lrt = await import('@litertjs/core');
  } catch (e) {
    die(`cannot import @litertjs/core (${oneLine(e.message)}): run npm ci in bench/litert`);
  }

  let relaxedSimd = await lrt.supportsFeature('relaxedSimd');
  if (!relaxedSimd && !opt.compat && !process.env[REEXEC_ENV]) {
    process.stderr.write(`litert: no relaxed SIMD; re-running node with ${RELAXED_FLAG}\n`);
    const r = spawnSync(process.execPath,
        [RELAXED_FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
        {stdio: 'inherit', env: {...process.env, [REEXEC_ENV]: '1'}});
    process.exit(r.status === null ? 1 : r.status);
  }

  const loadPath = opt.compat ? path.join(wasmDir, 'litert_wasm_compat_internal.js') : wasmDir + '/';
  try {
    await lrt.loadLiteRt(loadPath);
  } catch (e) {
    die(`loadLiteRt(${loadPath}) failed: ${oneLine(e.message)}`);
  }
  process.stderr.write(`litert: @litertjs/core ${litertVersion}, ${wasmBuild}, node ${process.version}\n`);

  const benchmarks = [];
  for (const spec of opt.models) {
    const {name, file} = resolveModel(spec);
    const benchName = `LiteRT/${name}/1T`;
    const entry = {name: benchName, run_name: benchName, run_type: 'iteration'};
    let model = null;
    const inputs = [];
    wasmLog.length = 0;
    try {
      if (!fs.existsSync(file)) throw new Error(`model not found: ${file}`);
      const bytes = new Uint8Array(fs.readFileSync(file));
      model = await lrt.loadAndCompile(bytes, {accelerator: 'wasm', cpuOptions: {numThreads: 1}});
      const inDetails = model.getInputDetails();
      entry.inputs = inDetails.map((d) => `${d.dtype}[${Array.from(d.shape).join(',')}]`).join(' ');
      entry.outputs = model.getOutputDetails().map((d) => `${d.dtype}[${Array.from(d.shape).join(',')}]`).join(' ');
      inDetails.forEach((d, i) => {
        const Ctor = TYPED[d.dtype];
        if (!Ctor) throw new Error(`input ${i} has unsupported dtype ${d.dtype}`);
        const data = new Ctor(Array.from(d.shape).reduce((a, b) => a * b, 1));
        fillDeterministic(data, 0x7153 + i);
        inputs.push(new lrt.Tensor(data, Array.from(d.shape)));
      });
      const runOnce = async () => {
        const t0 = performance.now();
        const outs = await model.run(inputs);
        const dt = performance.now() - t0;
        for (const o of outs) o.delete();
        return dt;
      };

      process.stderr.write(`litert: ${name}: ${entry.inputs} -> ${entry.outputs}; warm-up ${opt.warmup} s\n`);
      // Warm-up: XNNPACK / the wasm tier-up need time before runs mean anything.
      const w0 = performance.now();
      let warmRuns = 0;
      do { await runOnce(); warmRuns++; } while (performance.now() - w0 < opt.warmup * 1000);

      const repMeans = [];
      let iterations = 0;
      let fastest = Infinity;
      for (let r = 0; r < opt.repetitions; r++) {
        let sum = 0;
        let n = 0;
        while (n < opt.minIters || sum < opt.minTime * 1000) {
          const dt = await runOnce();
          sum += dt;
          n++;
          if (dt < fastest) fastest = dt;
        }
        repMeans.push(sum / n);
        iterations += n;
      }
      Object.assign(entry, {
        real_time: median(repMeans),
        min_time: Math.min(...repMeans),
        fastest_run_time: fastest,
        time_unit: 'ms',
        repetitions: opt.repetitions,
        iterations,
        warmup_runs: warmRuns,
        repetition_means: repMeans,
      });
      process.stderr.write(`litert: ${name}: median ${entry.real_time.toFixed(3)} ms, min ${entry.min_time.toFixed(3)} ms ` +
          `(${opt.repetitions} reps, ${iterations} runs)\n`);
    } catch (e) {
      // The exception often only names source lines ("ERROR: [file.cc:245]");
      // LiteRT's own ERROR log lines say why (e.g. invalid quantization).
      let msg = oneLine(e && e.message ? e.message : e).replace(/ERROR: \[[^\]]*\]/g, '').replace(/[\u2514\s]+/g, ' ').trim();
      const why = [...new Set(wasmLog.filter((l) => /^ERROR:/.test(l))
          .map((l) => oneLine(l.replace(/^ERROR:\s*(\[[^\]]*\]\s*)?/, ''))).filter((l) => l && !msg.includes(l)))];
      if (!msg) msg = model ? 'run failed' : 'load/compile failed';
      let error = msg;
      if (why.length) error += ': ' + why.slice(0, 2).join(' / ') + (why.length > 2 ? ` (+${why.length - 2} more LiteRT errors)` : '');
      for (const k of Object.keys(entry)) if (!['name', 'run_name', 'inputs', 'outputs'].includes(k)) delete entry[k];
      Object.assign(entry, {error, error_occurred: true, error_message: error});
      process.stderr.write(`litert: ${name}: ERROR ${error}\n`);
    } finally {
      for (const t of inputs) { try { t.delete(); } catch {} }
      if (model) { try { model.delete(); } catch {} }
    }
    benchmarks.push(entry);
  }

  const context = {
    date: new Date().toISOString(),
    executable: 'bench/litert/run.mjs',
    litert_version: litertVersion,
    node: process.version,
    v8: process.versions.v8,
    wasm_build: wasmBuild,
    relaxed_simd: await lrt.supportsFeature('relaxedSimd'),
    accelerator: 'wasm',
    num_threads: 1,
    num_cpus: os.cpus().length,
    load_avg: os.loadavg(),
    warmup_s: opt.warmup,
    min_time_s: opt.minTime,
    min_iters: opt.minIters,
    shared_dir: SHARED,
  };
  process.stdout.write(JSON.stringify({context, benchmarks}, null, 2) + '\n');
  try { lrt.unloadLiteRt(); } catch {}
  process.exit(0);
}

main().catch((e) => die(`unexpected failure: ${oneLine(e && e.stack ? e.stack : e)}`, 1));
