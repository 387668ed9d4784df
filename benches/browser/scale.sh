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
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
exec node scale.js --mock-bin "$mock_bin" "$@"
