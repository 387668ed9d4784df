// mock-torii for the tests: started on a free port by the test itself (binary from
// MOCK_TORII_BIN, default target/debug/mock-torii), with its JSON control API.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : resolve(ROOT, "target");
export const MOCK_TORII_BIN = process.env.MOCK_TORII_BIN || resolve(TARGET, "debug/mock-torii");

const running = new Set();
process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
});

/** How long `up()` keeps trying to bind the old port again while something else holds it. */
const REBIND_TIMEOUT_MS = 30_000;

/**
 * Spawns mock-torii with `args` on `port` (0: a free one) and resolves `{ child, url }` once it
 * printed its listening line; rejects with its stderr when it exits first.
 */
async function spawnMock(args, port) {
    const child = spawn(MOCK_TORII_BIN, ["--host", "127.0.0.1", "--port", String(port), ...args], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    child.on("exit", () => running.delete(child));
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    const url = await new Promise((resolveUrl, reject) => {
        let buffer = "";
        const timer = setTimeout(() => reject(new Error(`mock-torii did not start in 120 s:\n${stderr}`)), 120_000);
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk) => {
            buffer += chunk;
            const match = /^mock-torii listening on (http:\/\/\S+)/m.exec(buffer);
            if (match) {
                clearTimeout(timer);
                resolveUrl(match[1]);
            }
        });
        child.once("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`mock-torii exited (code ${code}, signal ${signal}) before listening:\n${stderr}`));
        });
    });
    return { child, url };
}

/** Kills `child` (SIGKILL) and resolves once it exited. */
function kill(child) {
    return new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGKILL");
    });
}

/**
 * Starts mock-torii with `args` (e.g. `["--entities", "20000"]`) and resolves once it printed its
 * listening line, with `{ url, get, post, world, manifest, status, log, clearLog, down, up, stop }`.
 * `down()` kills the process (connections to `url` are then refused) and `up()` starts it again
 * with the same arguments on the same port, so `url` stays valid: the world is generated again
 * from the seed, and every write, fault and subscription of the previous process is gone.
 */
export async function startMock(args = []) {
    if (!existsSync(MOCK_TORII_BIN)) {
        throw new Error(`${MOCK_TORII_BIN} does not exist: build it with \`cargo build -p dojo-reactive-mock-torii\` (or set MOCK_TORII_BIN)`);
    }
    let { child, url } = await spawnMock(args, 0);
    const port = new URL(url).port;

    async function call(method, path, body) {
        const response = await fetch(url + path, {
            method,
            headers: body === undefined ? {} : { "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
        return JSON.parse(text);
    }
    const get = (path) => call("GET", path);
    const post = (path, body = {}) => call("POST", path, body);

    /** Starts the process again on `port`, retrying while the port is still held elsewhere. */
    async function up() {
        if (child.exitCode === null && child.signalCode === null) throw new Error("mock-torii is still running: call down() first");
        const deadline = Date.now() + REBIND_TIMEOUT_MS;
        for (;;) {
            try {
                const started = await spawnMock(args, port);
                if (started.url !== url) {
                    await kill(started.child);
                    throw new Error(`mock-torii came back on ${started.url}, not ${url}`);
                }
                child = started.child;
                return;
            } catch (error) {
                if (!/address already in use/i.test(error.message) || Date.now() > deadline) throw error;
                await new Promise((r) => setTimeout(r, 500));
            }
        }
    }

    return {
        url,
        get,
        post,
        /** `GET /_mock/world`: `{ entities: [{ entityId, models: { tag: { member: value } } }] }`. */
        world: () => get("/_mock/world"),
        /** The manifest JSON object. */
        manifest: () => get("/_mock/manifest"),
        status: () => get("/_mock/status"),
        /** `[{ seq, method, detail }]`, one entry per gRPC call and per opened subscription. */
        log: () => get("/_mock/log"),
        clearLog: () => post("/_mock/log/clear"),
        /** Kills the process: the server is unreachable (connections refused) until `up()`. */
        down: () => kill(child),
        up,
        stop: () => kill(child),
    };
}
