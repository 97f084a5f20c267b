#!/bin/sh
# LiteRT.js peer runner: runs bench/litert/run.mjs under node with relaxed
# wasm SIMD enabled (Node 20 needs --experimental-wasm-relaxed-simd; the flag
# is passed only when this node accepts it). See ./run.sh --help.
here=$(cd "$(dirname "$0")" && pwd)
if node --experimental-wasm-relaxed-simd -e '' >/dev/null 2>&1; then
  exec node --experimental-wasm-relaxed-simd "$here/run.mjs" "$@"
fi
exec node "$here/run.mjs" "$@"
