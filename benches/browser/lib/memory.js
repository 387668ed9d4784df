// Memory of a bench page, measured from outside the page (nothing in the package changes for it;
// the pages get one init script, `recordWasmMemories`), after a full garbage collection of every
// isolate measured:
//   - JS heap of the page's main thread and of each of its dedicated workers (CDP
//     `Runtime.getHeapUsage`, per isolate; `HeapProfiler.collectGarbage` first),
//   - the wasm memories each of them holds: in a page, the memories its wasm instances export
//     (recorded by an init script, `recordWasmMemories`); in a worker (init scripts do not reach
//     it), CDP `Runtime.queryObjects` on `WebAssembly.Memory.prototype`,
//   - the renderer process: resident set (`VmRSS`) and its anonymous part (`RssAnon`, without
//     the shared library code) from /proc (Linux).
// Workers are reached through the browser's CDP session (`Target.attachToTarget` without
// flattening, messages through `Target.sendMessageToTarget`): Playwright opens CDP sessions on
// pages only.

import { readdirSync, readFileSync } from "node:fs";

/**
 * A page init script (`page.addInitScript`): remembers the memory each wasm instance of the page
 * exports, so that a page's wasm memories are found without `Runtime.queryObjects` (which does
 * not answer in the torii-wasm page).
 */
export function recordWasmMemories() {
    const memories = [];
    Object.defineProperty(globalThis, "__benchWasmMemories", { value: memories });
    const remember = (instance) => {
        for (const value of Object.values(instance?.exports ?? {})) {
            if (value instanceof WebAssembly.Memory && !memories.includes(value)) memories.push(value);
        }
        return instance;
    };
    const { instantiate, instantiateStreaming } = WebAssembly;
    WebAssembly.instantiate = (...args) => instantiate(...args).then((r) => (remember(r.instance ?? r), r));
    WebAssembly.instantiateStreaming = (...args) => instantiateStreaming(...args).then((r) => (remember(r.instance), r));
}

/** The page's wasm memories as recorded by `recordWasmMemories` (bytes of each). */
async function pageWasmMemoryBytes(send) {
    const { result } = await send("Runtime.evaluate", {
        expression: "(globalThis.__benchWasmMemories ?? []).map((memory) => memory.buffer.byteLength)",
        returnByValue: true,
    });
    return result.value;
}

/** Sums the `byteLength` of every live `WebAssembly.Memory` of the isolate `send` talks to. */
async function wasmMemoryBytes(send) {
    const prototype = await send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype" });
    const { objects } = await send("Runtime.queryObjects", { prototypeObjectId: prototype.result.objectId });
    const { result } = await send("Runtime.callFunctionOn", {
        objectId: objects.objectId,
        functionDeclaration: "function () { return this.map((memory) => memory.buffer.byteLength); }",
        returnByValue: true,
    });
    await send("Runtime.releaseObject", { objectId: objects.objectId });
    await send("Runtime.releaseObject", { objectId: prototype.result.objectId });
    return result.value;
}

/**
 * How long one CDP call may take before the measure is given up (never hang a run). A worker's
 * `Runtime.queryObjects` (a heap walk) has taken over 20 s on the loaded machine right after a
 * warm start.
 */
const CALL_TIMEOUT_MS = 60_000;

/**
 * `promise`, or a rejection naming `what` after `ms`. Every CDP call of this module goes
 * through it: a target that never answers (a worker torn down by a reload while it is being
 * attached, a session whose target is gone) must fail its step, not hang the run.
 */
export function timed(what, promise, ms = CALL_TIMEOUT_MS) {
    let timer;
    const expiry = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    });
    return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

/** `send`, each call failing after CALL_TIMEOUT_MS with the method's name. */
function guarded(send, where) {
    return (method, params) => timed(`${where}: CDP ${method}`, send(method, params));
}

/**
 * JS heap (after a full GC) and wasm memories of one isolate (`memories`: how to find them).
 * When they cannot be found, `wasm` is undefined and `wasmError` says why.
 */
async function isolateMemory(send, memories = wasmMemoryBytes) {
    await send("HeapProfiler.collectGarbage");
    const heap = await send("Runtime.getHeapUsage");
    const usage = { jsHeapUsed: heap.usedSize, jsHeapTotal: heap.totalSize };
    try {
        const wasm = await memories(send);
        return { ...usage, wasm: wasm.reduce((a, b) => a + b, 0), wasmMemories: wasm.length };
    } catch (error) {
        return { ...usage, wasmError: error.message };
    }
}

/**
 * A guarded `send(method, params)` over a non-flattened session of the browser's CDP session
 * (`browserSend`: the browser session's guarded send).
 */
async function attachToWorker(browserSession, browserSend, targetId, where) {
    const { sessionId } = await browserSend("Target.attachToTarget", { targetId, flatten: false });
    const pending = new Map();
    let nextId = 1;
    const onMessage = (event) => {
        if (event.sessionId !== sessionId) return;
        const message = JSON.parse(event.message);
        const waiter = pending.get(message.id);
        if (!waiter) return;
        pending.delete(message.id);
        if (message.error) waiter.reject(new Error(`${message.error.message} (${JSON.stringify(message.error)})`));
        else waiter.resolve(message.result);
    };
    browserSession.on("Target.receivedMessageFromTarget", onMessage);
    const send = (method, params = {}) =>
        new Promise((resolveSend, reject) => {
            const id = nextId++;
            pending.set(id, { resolve: resolveSend, reject });
            browserSession.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
        });
    const detach = async () => {
        browserSession.off("Target.receivedMessageFromTarget", onMessage);
        await browserSend("Target.detachFromTarget", { sessionId }).catch(() => {});
    };
    return { send: guarded(send, where), detach };
}

/** `{ pid, rss, rssAnon }` (bytes) of a process, from /proc/PID/status; undefined if it is gone. */
function processMemory(pid) {
    try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
        return { pid, rss: kib("VmRSS"), rssAnon: kib("RssAnon") };
    } catch {
        return undefined;
    }
}

/** Flags of the browser's own renderers (its WebUI, extensions), which host no web page. */
const WEBUI_RENDERER = /(^|[\s\0])--(top-chrome-webui|extension-process)([\s\0]|$)/;

/**
 * Chromium renderer processes of web pages descending from this Node process (Playwright spawns
 * the browser).
 */
function rendererProcesses() {
    const parents = new Map();
    const renderers = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
            // Chromium rewrites its command line into one space-separated string.
            const args = readFileSync(`/proc/${entry}/cmdline`, "utf8");
            if (/(^|[\s\0])--type=renderer([\s\0]|$)/.test(args) && !WEBUI_RENDERER.test(args)) renderers.push(Number(entry));
        } catch {
            // The process ended while the table was read.
        }
    }
    const descends = (pid) => {
        for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) if (p === process.pid) return true;
        return false;
    };
    return renderers.filter(descends);
}

/**
 * Memory of `page` (Playwright, Chromium) and its dedicated workers, and of its renderer: the
 * largest web-page renderer process of this browser (each bench phase runs alone in its own
 * context, so the others are at most Chromium's idle spare renderer, ~75 MB; `renderers` says
 * how many there were). CDP does not map targets to process ids.
 */
export async function measureMemory(browser, page) {
    const pageSession = await timed("memory: open the page's CDP session", page.context().newCDPSession(page));
    const browserSession = await timed("memory: open the browser's CDP session", browser.newBrowserCDPSession());
    const pageSend = guarded((method, params) => pageSession.send(method, params), "memory: page");
    const browserSend = guarded((method, params) => browserSession.send(method, params), "memory: browser");
    try {
        const main = await isolateMemory(pageSend, pageWasmMemoryBytes);
        const { targetInfo } = await pageSend("Target.getTargetInfo");
        const { targetInfos } = await browserSend("Target.getTargets");
        const workers = [];
        for (const target of targetInfos) {
            if (target.type !== "worker" || target.browserContextId !== targetInfo.browserContextId) continue;
            // A worker that does not answer (e.g. the previous page's, still being torn down
            // after a reload) is reported with the step that failed, and the others measured.
            try {
                const worker = await attachToWorker(browserSession, browserSend, target.targetId, `memory: worker ${target.url}`);
                try {
                    workers.push({ url: target.url, ...(await isolateMemory(worker.send)) });
                } finally {
                    await worker.detach();
                }
            } catch (error) {
                workers.push({ url: target.url, error: error.message });
            }
        }
        const renderers = rendererProcesses().map(processMemory).filter(Boolean);
        const renderer = renderers.reduce((a, b) => (b.rss > (a?.rss ?? -1) ? b : a), undefined);
        return { main, workers, renderer, renderers: renderers.length };
    } finally {
        await timed("memory: detach the page's session", pageSession.detach()).catch(() => {});
        await timed("memory: detach the browser's session", browserSession.detach()).catch(() => {});
    }
}
