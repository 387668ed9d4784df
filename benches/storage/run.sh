#!/usr/bin/env bash
# Storage benchmark in headless Chromium (dedicated worker): our chunked IndexedDB storage vs a
# plain one-record-per-entity IndexedDB baseline, 100,000 entities. Builds what it needs (the
# `storage` bench of dojo-reactive-storage for wasm32, bench profile) and prints a markdown table.
#   bash benches/storage/run.sh
# Needs: the wasm32 target, wasm-bindgen-test-runner (= wasm-bindgen version), chromium and
# chromedriver (see .ci/setup).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}"
mkdir -p benches/.results
out="benches/.results/storage-$(date +%Y%m%d-%H%M%S).log"
echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p dojo-reactive-storage --target wasm32-unknown-unknown --bench storage -- --nocapture 2>&1 |
    tee "$out" | grep -E '^\s*(\||ratio|batches of|median)' | sed -E 's/^\s+//'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); full log: $out"
