#!/usr/bin/env bash
# Builds the consumable package in js/: the two wasm modules (release, wasm-bindgen --target web,
# then binaryen's wasm-opt from js/node_modules) into js/wasm/, then the TypeScript into js/dist/.
#   - dojo_reactive_view*: crates/view-wasm, the main thread's module (the view);
#   - dojo_reactive*: crates/wasm, the sync worker's module (transport, storage, manifest hashing).
# Run from anywhere: `bash js/build.sh`.
set -euo pipefail

js_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$js_dir/.." && pwd)"
cd "$root"

if [ ! -d "$js_dir/node_modules/typescript" ] || [ ! -d "$js_dir/node_modules/binaryen" ]; then
  echo "build.sh: npm ci" >&2
  (cd "$js_dir" && npm ci --no-audit --no-fund)
fi

# One cargo run per module: built together, cargo would unify the features of their shared
# dependencies and bring the worker's IndexedDB code (dojo-reactive-storage's `indexeddb`) into
# the view module.
for crate in dojo-reactive-view-wasm dojo-reactive-wasm; do
  echo "build.sh: cargo build -p $crate (release, wasm32)" >&2
  cargo build --release -p "$crate" --target wasm32-unknown-unknown
done

target_dir="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).target_directory))')"
release="$target_dir/wasm32-unknown-unknown/release"

bindgen="wasm-bindgen"
command -v "$bindgen" >/dev/null 2>&1 || bindgen="$HOME/.cargo/bin/wasm-bindgen"
wasm_opt="$js_dir/node_modules/.bin/wasm-opt"
echo "build.sh: $bindgen $("$bindgen" --version), wasm-opt $("$wasm_opt" --version | awk '{print $3}') -> js/wasm" >&2
rm -rf "$js_dir/wasm"

# module CRATE_LIB OUT_NAME: wasm-bindgen, then wasm-opt for size (-Oz; the features rustc's
# wasm32 target enables by default, which wasm-bindgen keeps).
module() {
  "$bindgen" --target web --out-dir "$js_dir/wasm" --out-name "$2" --remove-name-section "$release/$1.wasm"
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$js_dir/wasm/$2_bg.wasm" -o "$js_dir/wasm/$2_bg.wasm"
  echo "build.sh: $2_bg.wasm $(wc -c <"$js_dir/wasm/$2_bg.wasm") bytes, $(gzip -9 -c "$js_dir/wasm/$2_bg.wasm" | wc -c) gzip" >&2
}
module dojo_reactive_view_wasm dojo_reactive_view
module dojo_reactive_wasm dojo_reactive

cd "$js_dir"
echo "build.sh: tsc -> js/dist" >&2
rm -rf dist
npx tsc -p tsconfig.json
echo "build.sh: done" >&2
