// mock-torii as a child process of the bench: start on a free port, call its control API, stop.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Starts `bin` with `args` on 127.0.0.1 and a free port. Resolves with `{ url, control, stop, pid }`
 * once it printed `mock-torii listening on URL`; rejects (with its stderr) if it exits first or
 * takes longer than `timeoutMs`.
 */
export function startMock(bin, args, timeoutMs = 300_000) {
    if (!existsSync(bin)) {
        return Promise.reject(new Error(`${bin} does not exist: build it with cargo build -p dojo-reactive-mock-torii`));
    }
    const child = spawn(bin, ["--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const stop = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    process.once("exit", stop);
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    return new Promise((resolvePromise, reject) => {
        const fail = (why) => {
            stop();
            reject(new Error(`mock-torii ${why}; its stderr:\n${stderr}`));
        };
        const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
        child.once("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal}) before listening`));
        let buffer = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk) => {
            buffer += chunk;
            const match = /^mock-torii listening on (http:\/\/\S+)/m.exec(buffer);
            if (!match) return;
            clearTimeout(timer);
            child.removeAllListeners("exit");
            const url = match[1];
            resolvePromise({ url, control: controlApi(url), stop, pid: child.pid });
        });
    });
}

/** The mock's JSON control API (`/_mock/*`, see crates/mock-torii/README.md). */
function controlApi(url) {
    const call = async (method, path, body) => {
        const response = await fetch(`${url}${path}`, {
            method,
            headers: body ? { "content-type": "application/json" } : {},
            body: body ? JSON.stringify(body) : undefined,
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
        return JSON.parse(text);
    };
    return {
        status: () => call("GET", "/_mock/status"),
        manifest: () => call("GET", "/_mock/manifest"),
        log: () => call("GET", "/_mock/log"),
        clearLog: () => call("POST", "/_mock/log/clear"),
        rate: (perSec) => call("POST", "/_mock/rate", { perSec }),
        setMembers: (entityId, model, values) => call("POST", "/_mock/set", { entityId, model, values }),
    };
}
