#!/usr/bin/env bash
# Fetches the plot runtime that `triage-ground report` inlines into its HTML:
# vega, vega-lite and vega-embed, at the exact versions of
# ground/report/package-lock.json, with `npm ci` into ground/report/node_modules
# (git-ignored; one copy serves every build directory, and CMake compiles that
# path in as triage-ground report's default --assets).
# Idempotent: does nothing when the three build/*.min.js files are present and
# were installed from the current lock file. Usage: scripts/report-assets.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/ground/report
modules=$dir/node_modules
stamp=$modules/.triage-report-assets
files=(vega/build/vega.min.js vega-lite/build/vega-lite.min.js vega-embed/build/vega-embed.min.js)
lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)

present=1
for f in "${files[@]}"; do [ -s "$modules/$f" ] || present=0; done
if [ $present = 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock_sum" ]; then
  echo "report-assets: present in $modules"
  exit 0
fi
command -v npm >/dev/null || { echo "report-assets: npm not found (install Node.js and npm)" >&2; exit 1; }
echo "report-assets: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
for f in "${files[@]}"; do
  [ -s "$modules/$f" ] || { echo "report-assets: npm ci did not install $f" >&2; exit 1; }
done
echo "$lock_sum" >"$stamp"
echo "report-assets: installed $(cd "$dir" && node -p "['vega','vega-lite','vega-embed'].map(n => n + ' ' + require('./node_modules/' + n + '/package.json').version).join(', ')")"
