# Sourced by run.sh and scale.sh: builds what the browser benches need and changes to this folder.
# mock-torii (release: its path in `mock_bin`), the package (js/build.sh: release wasm + tsc), and
# the npm packages of js/ and benches/browser, installed as .ci/setup does (npm_install in
# .ci/common.sh: only when their lockfile changed); logs the machine's load.
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
