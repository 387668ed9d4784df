#!/usr/bin/env bash
# Side-by-side browser benchmark (issue 6): @dojoengine/reactive vs @dojoengine/torii-wasm and the
# Dojo SDK's state store, in one headless Chromium session against one mock-torii world.
#   bash benches/browser/run.sh                    # 100,000 entities
#   bash benches/browser/run.sh --entities 5000    # a quick proof of the harness
# Other flags go to bench.js (--contenders raw,sdk,ours --rate 1000 --markers 200 ...).
# Builds what it needs: mock-torii (release), the package (js/build.sh: release wasm + tsc), and
# installs the npm packages of js/ and benches/browser as .ci/setup does (npm_install in
# .ci/common.sh: only when their lockfile changed). Prints a markdown table and appends it to
# benches/.results/browser.md; exits when it has reported.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
exec node bench.js --mock-bin "$mock_bin" "$@"
