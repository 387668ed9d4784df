#!/usr/bin/env bash
# Scale benchmark (issue 14 item 5): a sync target of ~20,000 entities out of a 1,000,000-entity
# mock-torii world, ours vs @dojoengine/torii-wasm running the same scoped query.
#   bash benches/browser/scale.sh                        # 1,000,000 entities, region of ~20,000
#   bash benches/browser/scale.sh --entities 50000       # a quick proof of the harness
#   bash benches/browser/scale.sh --whole                # also ours syncing the whole world
# Other flags go to scale.js (--target 20000 --moves 8 --viewport 40 --contenders ours,raw ...).
# Builds what it needs as run.sh does (mock-torii release, js/build.sh, the npm packages), prints
# a markdown table, appends it to benches/.results/scale.md and exits.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# log, target_dir, npm_install (the way .ci/setup installs npm projects); changes to the root.
source "$here/../../.ci/common.sh"

log "cargo build --release -p dojo-reactive-mock-torii"
cargo build --release -p dojo-reactive-mock-torii
mock_bin="$(target_dir)/release/mock-torii"

npm_install "$ROOT/js"
npm_install "$here"
log "bash js/build.sh"
bash js/build.sh

log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$here"
exec node scale.js --mock-bin "$mock_bin" "$@"
