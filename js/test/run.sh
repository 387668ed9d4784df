#!/usr/bin/env bash
# `npm test`: type-checks, compiles src/ to dist/ (needs the wasm output of `bash build.sh`),
# then runs the unit tests with node's test runner (on the real wasm view, loaded from js/wasm/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f wasm/dojo_reactive.d.ts ] || [ ! -f wasm/dojo_reactive_bg.wasm ] ||
  [ ! -f wasm/dojo_reactive_view.d.ts ] || [ ! -f wasm/dojo_reactive_view_bg.wasm ]; then
  echo "js/wasm/ is missing: run 'bash js/build.sh' first (it builds the wasm modules)" >&2
  exit 1
fi
npx tsc --noEmit -p tsconfig.json
npx tsc -p tsconfig.json
npx tsc -p test/tsconfig.json
# Typed models: the schema the bin writes for test/fixtures/typed-manifest.json, as a game uses it.
npx tsc -p test/typed/tsconfig.json
node --test test/*.test.mjs
