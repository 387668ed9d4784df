# Shared helpers for the .ci scripts (sourced, not run): logging, toolchain facts read from the
# repository, locating chromedriver, and starting/stopping mock-torii with a guaranteed cleanup.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m[ci]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[ci] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Values of a `key = "..."` or `key = ["a", "b"]` line of rust-toolchain.toml, one per line.
toolchain_values() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ROOT/rust-toolchain.toml" \
        | grep -o '"[^"]*"' | tr -d '"'
}

# The version of the `wasm-bindgen` crate pinned in Cargo.lock (the CLI must match it exactly).
wasm_bindgen_lock_version() {
    awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, ""); print; exit }' \
        "$ROOT/Cargo.lock"
}

# Prints the chromedriver to use: $CHROMEDRIVER, one on PATH, or the one preinstalled on GitHub's
# Ubuntu runners ($CHROMEWEBDRIVER). Fails when there is none.
find_chromedriver() {
    local candidate
    for candidate in "${CHROMEDRIVER:-}" "$(command -v chromedriver || true)" \
        "${CHROMEWEBDRIVER:+$CHROMEWEBDRIVER/chromedriver}" /usr/bin/chromedriver; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Workspace member package names, one per line; fails (cargo's error on stderr) when cargo
# metadata fails.
workspace_packages() {
    cargo metadata --no-deps --format-version 1 --offline \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s).packages)console.log(p.name)})'
}

# Cargo's target directory (honours CARGO_TARGET_DIR and .cargo/config.toml).
target_dir() {
    cargo metadata --no-deps --format-version 1 --offline 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))' ||
        echo "$ROOT/target"
}

# Every npm project of the repository (folders with a package.json, outside node_modules/target).
npm_projects() {
    find "$ROOT" \( -name node_modules -o -name target -o -name .git \) -prune -o \
        -name package.json -type f -printf '%h\n' | sort
}

# --- npm projects -------------------------------------------------------------------------------
# npm_ci DIR: `npm ci`. A lockfile written against this machine's registry lacks the optional
# platform packages it does not serve (e.g. rollup's non-Linux binaries), which `npm ci` calls
# out of sync; then `npm install --no-save` installs the locked versions without rewriting it.
npm_ci() {
    local out
    if out="$(cd "$1" && npm ci --no-audit --no-fund --loglevel=error 2>&1)"; then
        [[ -n "$out" ]] && printf '%s\n' "$out" >&2
        return 0
    fi
    if grep -q "can only install packages when your package.json and package-lock.json" <<<"$out"; then
        log "npm: ${1#"$ROOT"/}: npm ci says the lockfile is incomplete ($(grep -c 'Missing:' <<<"$out") optional entries); npm install --no-save"
        (cd "$1" && npm install --no-save --no-audit --no-fund --loglevel=error)
        return
    fi
    printf '%s\n' "$out" >&2
    return 1
}

# npm_install DIR: installs the npm project DIR (npm_ci, or `npm install` without a lockfile)
# unless it was installed from the same package.json and lockfile before (a stamp in
# node_modules/.ci-installed; a project that depends on the package by `file:` also reinstalls
# when js/package.json changes).
npm_install() {
    local dir="$1" stamp want
    stamp="$dir/node_modules/.ci-installed"
    want="$(cat "$dir/package.json" "$dir/package-lock.json" \
        $(grep -q '"file:' "$dir/package.json" && echo "$ROOT/js/package.json") 2>/dev/null |
        sha256sum | cut -c1-64)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "npm: ${dir#"$ROOT"/} up to date"
        return 0
    fi
    log "npm: installing ${dir#"$ROOT"/}"
    if [[ -f "$dir/package-lock.json" ]]; then
        npm_ci "$dir" || return
    else
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || return
    fi
    echo "$want" >"$stamp"
}

# --- mock-torii ---------------------------------------------------------------------------------
MOCK_PIDS=()

# start_mock BIN LOGFILE ARGS...: starts mock-torii on a free port, waits for its
# "mock-torii listening on URL" line and sets MOCK_URL. The process is killed by stop_mocks
# (installed as an EXIT trap by the scripts that start mocks).
start_mock() {
    local bin="$1" logfile="$2"
    shift 2
    [[ -x "$bin" ]] || { log "mock-torii binary not found: $bin"; return 1; }
    "$bin" --host 127.0.0.1 --port 0 "$@" >"$logfile" 2>&1 &
    local pid=$!
    MOCK_PIDS+=("$pid")
    MOCK_URL=""
    local deadline=$((SECONDS + ${MOCK_START_TIMEOUT:-180}))
    while ((SECONDS < deadline)); do
        MOCK_URL="$(sed -n 's/^mock-torii listening on \(http:[^[:space:]]*\).*/\1/p' "$logfile" | head -n1)"
        if [[ -n "$MOCK_URL" ]]; then
            log "mock-torii (pid $pid) listening on $MOCK_URL"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "mock-torii exited before listening; its output:"
            sed 's/^/    /' "$logfile" >&2
            return 1
        fi
        sleep 0.2
    done
    log "mock-torii did not print its listening line in time; its output:"
    sed 's/^/    /' "$logfile" >&2
    return 1
}

# Kills every mock started by start_mock (idempotent; safe in an EXIT trap).
stop_mocks() {
    local pid
    for pid in "${MOCK_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    MOCK_PIDS=()
}
