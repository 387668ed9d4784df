// Fault scenarios: a client per scenario (fresh browser context, so a fresh IndexedDB), a
// recorder in the page (every sync transition, the largest queue depth seen, every version of a
// watched counter shown to a subscriber), a counter bumped on the mock while a fault is on, and
// the full comparison of the client's store with the mock's world.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { canonEntities } from "./world.js";
import { waitFor, waitForEntityCount } from "./wait.js";

/** The synced models of the arena world (`arena-Moved` is an event, not synced as an entity). */
export const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];

/** Offset of the watched counter's values, far above anything the mock's scripted updates reach. */
const COUNTER_BASE = 10n ** 12n;
/** Bumps made so far per entity id (one mock per test file, so the values only grow). */
const bumps = new Map();

/**
 * Opens a harness page in a new browser context, starts a client with `syncOptions` (and
 * `models`, when given), waits until it holds the whole world and streams, and installs the
 * recorder watching `arena-Player` `last_updated_at` of `watchId` (a raw mock id). Resolves the page.
 */
export async function startFaultClient(env, { syncOptions = {}, watchId, models } = {}) {
    const page = await env.openHarness();
    const options = models ? { syncOptions, models } : { syncOptions };
    const started = await page.evaluate(([url, o]) => window.e2e.start(url, o), [env.mock.url, options]);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    const world = canonEntities(await env.mock.world());
    for (const model of MODELS) await waitForEntityCount(page, model, world.filter((e) => e.models[model]).length);
    await page.evaluate((id) => {
        const e2e = window.e2e;
        const rec = { transitions: [], maxQueueDepth: 0, seen: [] };
        e2e.faults = rec;
        let last;
        e2e.client.syncStatus.subscribe((status) => {
            const t = status.lastTransition;
            if (t && t !== last && t.target === "entities") {
                last = t;
                rec.transitions.push({ from: t.from, to: t.to, reason: t.reason.kind });
            }
            const tick = status.ticks?.entities;
            const depth = Math.max(tick?.queueDepth ?? 0, tick?.queueMaxDepth ?? 0);
            if (depth > rec.maxQueueDepth) rec.maxQueueDepth = depth;
        });
        if (id) {
            e2e.client.subscribe("arena-Player", id, (entity) => {
                const value = entity?.models?.arena?.Player?.last_updated_at;
                if (value !== undefined) rec.seen.push(value.toString());
            });
        }
    }, watchId);
    await waitForState(page, "streaming");
    return page;
}

/** Waits until the client's entities synchronizer is in `state`. */
export function waitForState(page, state, timeout = 120_000) {
    return waitFor(() => page.evaluate((s) => window.e2e.client.getSyncStatus().state === s, state), `sync state ${state}`, timeout);
}

/** The latest entities SYNC_TICK of the page (the core `SyncTick`, camelCase), or null. */
export function tick(page) {
    return page.evaluate(() => window.e2e.client.getSyncStatus().ticks?.entities ?? null);
}

/** The transitions recorded since `from` (an index into the recorder's list). */
export async function transitionsSince(page, from = 0) {
    return (await page.evaluate(() => window.e2e.faults.transitions)).slice(from);
}

/** Asserts that `transitions` contain `streaming → lagging → replaying → … → streaming` in order. */
export function assertRecoveryPath(transitions, what) {
    const text = transitions.map((t) => `${t.from}→${t.to}(${t.reason})`).join(" ");
    const lag = transitions.findIndex((t) => t.from === "streaming" && t.to === "lagging");
    assert.ok(lag >= 0, `${what}: streaming → lagging reported (got ${text})`);
    const replay = transitions.findIndex((t, i) => i > lag && t.from === "lagging" && t.to === "replaying");
    assert.ok(replay > lag, `${what}: lagging → replaying reported (got ${text})`);
    const back = transitions.findIndex((t, i) => i > replay && t.to === "streaming");
    assert.ok(back > replay, `${what}: back to streaming reported (got ${text})`);
}

/**
 * A counter on the mock: `bump()` sets `arena-Player.last_updated_at` of `entityId` to a value
 * larger than every one set before in this process, so the client must never show one smaller than a
 * value it showed earlier.
 */
export function counter(mock, entityId) {
    const step = () => COUNTER_BASE + (bumps.get(entityId) ?? 0n) * 1000n;
    return {
        async bump() {
            bumps.set(entityId, (bumps.get(entityId) ?? 0n) + 1n);
            const value = step().toString();
            await mock.post("/_mock/set", { entityId, model: "arena-Player", values: { last_updated_at: value } });
            return value;
        },
        /** The last value set. */
        last: () => step().toString(),
    };
}

/** Asserts that the watched counter's versions shown to the subscriber never went backwards, and returns them. */
export async function assertNeverOlder(page) {
    const seen = await page.evaluate(() => window.e2e.faults.seen);
    for (let i = 1; i < seen.length; i++) {
        assert.ok(BigInt(seen[i]) >= BigInt(seen[i - 1]), `the client showed ${seen[i]} after ${seen[i - 1]} (all: ${seen.join(", ")})`);
    }
    return seen;
}

/**
 * The client's store, every synced state of every model, keyed `model id`: passed as one JSON
 * text (several times faster than a large object through `page.evaluate`).
 */
async function storeOf(page) {
    const captured = JSON.parse(await page.evaluate((models) => JSON.stringify(window.e2e.capture(models)), MODELS));
    return Object.entries(captured).flatMap(([model, items]) => items.map(([id, state]) => [`${model} ${id}`, state]));
}

/** Waits until the client's store equals the mock's `/_mock/world` (every entity, every model). */
export async function waitForWorld(page, mock, timeout = 180_000) {
    let mismatches = [];
    let sizes;
    await waitFor(
        async () => {
            const expected = new Map();
            for (const entity of canonEntities(await mock.world())) {
                for (const [model, state] of Object.entries(entity.models)) {
                    if (MODELS.includes(model)) expected.set(`${model} ${entity.entityId}`, state);
                }
            }
            const got = await storeOf(page);
            mismatches = got.filter(([key, state]) => !isDeepStrictEqual(state, expected.get(key)));
            sizes = `${got.length} held, ${expected.size} in the world`;
            return got.length === expected.size && mismatches.length === 0;
        },
        "the client's store to equal the mock's world",
        timeout,
        500,
    ).catch(async (error) => {
        const errors = await page.evaluate(() => window.e2e.errors).catch(() => []);
        throw new Error(`${error.message}; ${sizes}; first mismatches: ${JSON.stringify(mismatches.slice(0, 3))}; client errors: ${JSON.stringify(errors)}`);
    });
}

/**
 * The figures of one scenario for the README table: recovery time (from the fault's end to the
 * store equal to the world), and the differences of the SYNC_TICK counters over the scenario.
 */
export function report(name, { recoveredMs, before, after, maxQueueDepth }) {
    const d = (f) => (f(after) ?? 0) - (f(before) ?? 0);
    const line = {
        scenario: name,
        recoveredMs,
        replays: d((t) => t?.replayCount),
        applied: d((t) => t?.ledger.applied),
        staleDropped: d((t) => t?.ledger.staleDropped),
        superseded: d((t) => t?.ledger.superseded),
        regressed: d((t) => t?.ledger.regressed),
        unchanged: d((t) => t?.ledger.unchanged),
        queueSuperseded: d((t) => t?.queueSuperseded),
        rejectedRecords: d((t) => t?.rejectedRecords),
        maxQueueDepth,
    };
    console.log(`FAULT-REPORT ${JSON.stringify(line)}`);
    return line;
}

/**
 * Waits (up to `timeout` ms) for convergence after a fault ended at `endedAt` (Date.now()),
 * waits for the counter's last value, reports the figures, then asserts the counter never went
 * backwards; `before` is the tick taken before the fault.
 */
export async function convergeAndReport(page, mock, name, { endedAt, before, counterValue, timeout }) {
    await waitForWorld(page, mock, timeout);
    const recoveredMs = Date.now() - endedAt;
    // The counters of the tick held now may predate the last applied batch: wait for the next one.
    const heldClock = (await tick(page))?.clock ?? -1;
    await waitFor(async () => ((await tick(page))?.clock ?? -1) > heldClock, "a SYNC_TICK after convergence", 30_000);
    if (counterValue !== undefined) {
        await waitFor(
            () => page.evaluate((v) => window.e2e.faults.seen.at(-1) === v, counterValue),
            `the subscriber to show the counter's last value ${counterValue}`,
            60_000,
        ).catch(async (error) => {
            const seen = await page.evaluate(() => window.e2e.faults.seen);
            throw new Error(`${error.message}; the store holds it, the id subscriber was last called with ${seen.at(-1)} (calls: ${seen.length})`);
        });
    }
    const after = await tick(page);
    const maxQueueDepth = await page.evaluate(() => window.e2e.faults.maxQueueDepth);
    const line = report(name, { recoveredMs, before, after, maxQueueDepth });
    await assertNeverOlder(page);
    return line;
}

/**
 * Memory of the page and of its sync worker through CDP (the worker through an auto-attached
 * target session). `measure()` collects garbage in both first and answers
 * `{ pageHeap, pageWasm, workerHeap, workerWasm }` in bytes (wasm: the byte length of every
 * `WebAssembly.Memory`); `sample()` answers `{ pageHeap, workerHeap }` without collecting.
 */
export async function memoryProbe(page) {
    const cdp = await page.context().newCDPSession(page);
    const workers = [];
    const pending = new Map();
    let nextId = 0;
    cdp.on("Target.attachedToTarget", (event) => {
        if (event.targetInfo.type === "worker") workers.push(event.sessionId);
    });
    cdp.on("Target.receivedMessageFromTarget", (event) => {
        const message = JSON.parse(event.message);
        const settle = pending.get(message.id);
        if (!settle) return;
        pending.delete(message.id);
        settle(message);
    });
    await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    await waitFor(() => workers.length === 1, "the sync worker's CDP session", 30_000);
    /** `promise`, or a rejection naming `what` after 60 s (a CDP call must never hang a test). */
    const bounded = (promise, what) => {
        let timer;
        const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`CDP ${what}: no answer in 60 s`)), 60_000)));
        return Promise.race([promise, late]).finally(() => clearTimeout(timer));
    };
    const inWorker = (method, params = {}) => {
        const id = ++nextId;
        const answer = new Promise((resolve, reject) => {
            pending.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
            cdp.send("Target.sendMessageToTarget", { sessionId: workers[0], message: JSON.stringify({ id, method, params }) }).catch(reject);
        });
        return bounded(answer, `${method} in the worker`).finally(() => pending.delete(id));
    };
    const inPage = (method, params = {}) => bounded(cdp.send(method, params), `${method} in the page`);

    async function measureIn(send) {
        await send("HeapProfiler.collectGarbage");
        const { usedSize } = await send("Runtime.getHeapUsage");
        const group = "memory-probe";
        const proto = await send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", objectGroup: group });
        const { objects } = await send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId, objectGroup: group });
        const sizes = await send("Runtime.callFunctionOn", {
            objectId: objects.objectId,
            functionDeclaration: "function () { return this.reduce((sum, memory) => sum + memory.buffer.byteLength, 0); }",
            returnByValue: true,
        });
        await send("Runtime.releaseObjectGroup", { objectGroup: group });
        return { heap: usedSize, wasm: sizes.result.value };
    }
    return {
        async measure() {
            const pageSide = await measureIn(inPage);
            const workerSide = await measureIn(inWorker);
            return { pageHeap: pageSide.heap, pageWasm: pageSide.wasm, workerHeap: workerSide.heap, workerWasm: workerSide.wasm };
        },
        async sample() {
            const [pageSide, workerSide] = await Promise.all([inPage("Runtime.getHeapUsage"), inWorker("Runtime.getHeapUsage")]);
            return { pageHeap: pageSide.usedSize, workerHeap: workerSide.usedSize };
        },
    };
}
