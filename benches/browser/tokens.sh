#!/usr/bin/env bash
# Token balances benchmark (issue 15): 10,000 balances of a mock-torii world (`--balances`),
# ours (a `tokenBalances` target: cold sync, warm start, memory, IndexedDB) vs
# @dojoengine/torii-wasm reading the same balances (`getTokenBalances`, paged).
#   bash benches/browser/tokens.sh                    # 10,000 balances
#   bash benches/browser/tokens.sh --balances 2000    # a quick proof of the harness
# Other flags go to tokens.js (--contenders ours,raw --page-size 1000 ...). Builds what it needs
# as run.sh does (prepare.sh), prints a markdown table, appends it to benches/.results/tokens.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
exec node tokens.js --mock-bin "$mock_bin" "$@"
