#!/usr/bin/env bash
# Side-by-side browser benchmark (issue 6): @dojoengine/reactive vs @dojoengine/torii-wasm and the
# Dojo SDK's state store, in one headless Chromium session against one mock-torii world.
#   bash benches/browser/run.sh                    # 100,000 entities
#   bash benches/browser/run.sh --entities 5000    # a quick proof of the harness
# Other flags go to bench.js (--contenders raw,sdk,ours --rate 1000 --markers 200 ...).
# Builds what it needs: mock-torii (release), the package (js/build.sh: release wasm + tsc), and
# `npm ci` here. Prints a markdown table and appends it to benches/.results/browser.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

echo "[run] cargo build --release -p dojo-reactive-mock-torii" >&2
cargo build --release -p dojo-reactive-mock-torii
target_dir="$(cargo metadata --format-version 1 --no-deps --offline |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).target_directory))')"

echo "[run] bash js/build.sh" >&2
bash js/build.sh

cd "$here"
if [[ ! -d node_modules/playwright-core || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "[run] npm ci (benches/browser)" >&2
    npm ci --no-audit --no-fund --loglevel=error
fi
echo "[run] machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec node bench.js --mock-bin "$target_dir/release/mock-torii" "$@"
