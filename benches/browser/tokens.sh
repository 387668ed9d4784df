#!/usr/bin/env bash
# Token balances and historical events benchmark (issue 15): 10,000 balances (`--balances`) and
# 100,000 historical events (`--events`, 0 leaves them out) of a mock-torii world,
# ours (a `tokenBalances` and an `eventLog` target: cold sync, warm start, memory, IndexedDB) vs
# @dojoengine/torii-wasm reading the same (`getTokenBalances`, `getEventMessages` historical, paged).
#   bash benches/browser/tokens.sh                                # 10,000 balances, 100,000 events
#   bash benches/browser/tokens.sh --balances 2000 --events 5000  # a quick proof of the harness
# Other flags go to tokens.js (--contenders ours,raw --page-size 1000 ...). Builds what it needs
# as run.sh does (prepare.sh), prints a markdown table, appends it to benches/.results/tokens.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
exec node tokens.js --mock-bin "$mock_bin" "$@"
