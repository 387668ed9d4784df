#!/usr/bin/env bash
# Builds the consumable package in js/: the wasm module (release, wasm-bindgen --target web) into
# js/wasm/, then the TypeScript into js/dist/. Run from anywhere: `bash js/build.sh`.
set -euo pipefail

js_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$js_dir/.." && pwd)"
cd "$root"

echo "build.sh: cargo build -p dojo-reactive-wasm (release, wasm32)" >&2
cargo build --release -p dojo-reactive-wasm --target wasm32-unknown-unknown

target_dir="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).target_directory))')"
wasm="$target_dir/wasm32-unknown-unknown/release/dojo_reactive_wasm.wasm"

bindgen="wasm-bindgen"
command -v "$bindgen" >/dev/null 2>&1 || bindgen="$HOME/.cargo/bin/wasm-bindgen"
echo "build.sh: $bindgen $("$bindgen" --version) -> js/wasm" >&2
rm -rf "$js_dir/wasm"
"$bindgen" --target web --out-dir "$js_dir/wasm" --out-name dojo_reactive --remove-name-section "$wasm"

cd "$js_dir"
if [ ! -d node_modules/typescript ]; then
  echo "build.sh: npm ci" >&2
  npm ci --no-audit --no-fund
fi
echo "build.sh: tsc -> js/dist" >&2
rm -rf dist
npx tsc -p tsconfig.json
echo "build.sh: done ($(du -sh wasm/dojo_reactive_bg.wasm | cut -f1) wasm)" >&2
