// Ours: `@dojoengine/reactive` (the built package from js/, served at /reactive/) syncing the mock
// world into IndexedDB (worker) and the main-thread view. The client starts as the page loads.
// Cold start: all entities are available when the distinct ids announced by `entityUpdates`
// reach `?entities`. Warm start (`?probeKey=` set, after a reload): first query answered = a
// `query` by the probe player's key returns it, after `ready` (persisted state loaded).

import { createReactiveClient } from "/reactive/dist/index.js";
import { epochMs, longestTaskBefore, markerRecorder, params, stats, timeCalls, watchClient } from "./common.js";

const expected = Number(params.entities);
const manifest = await (await fetch("/build/manifest.json")).text();

/**
 * When the sync worker's messages arrive (ms since navigation start), seen before the client
 * handles them: the first and last DELTA of the persisted state, and INIT_ACK (warm start).
 */
const arrivals = {
    firstDeltaMs: NaN,
    lastRestoreDeltaMs: NaN,
    initAckMs: NaN,
    restoreDeltas: 0,
    restoreBytes: 0,
    /** Main-thread time the client spent handling those DELTAs (its message listener). */
    restoreBusyMs: 0,
};
let handlingSince = NaN;
let timedWorker;
const NativeWorker = globalThis.Worker;
globalThis.Worker = class TimedWorker extends NativeWorker {
    constructor(...args) {
        super(...args);
        timedWorker = this;
        this.addEventListener("message", ({ data }) => {
            const at = performance.now();
            handlingSince = NaN;
            if (markerArrivals && data?.type === "DELTA") deltaArrivedAt = epochMs();
            if (data?.type === "DELTA" && Number.isNaN(arrivals.initAckMs)) {
                if (Number.isNaN(arrivals.firstDeltaMs)) arrivals.firstDeltaMs = at;
                arrivals.lastRestoreDeltaMs = at;
                arrivals.restoreDeltas += 1;
                arrivals.restoreBytes += data.buffer.byteLength;
                handlingSince = at;
            } else if (data?.type === "INIT_ACK") {
                arrivals.initAckMs = at;
            }
        });
    }
};
/**
 * While the latency phase runs: marker index → when the DELTA carrying it reached the main
 * thread (epoch ms), and when the last DELTA did. The DELTA's bytes are searched after the
 * client handled it (see `timeHandling`), so the search adds nothing to the measured latency.
 */
let markerArrivals;
let deltaArrivedAt = NaN;
/** Registered after the client's own listener: closes the timing of each restored DELTA. */
function timeHandling() {
    timedWorker?.addEventListener("message", ({ data }) => {
        if (!Number.isNaN(handlingSince)) arrivals.restoreBusyMs += performance.now() - handlingSince;
        handlingSince = NaN;
        if (markerArrivals && data?.type === "DELTA") {
            const text = new TextDecoder("latin1").decode(data.buffer);
            for (const [, index] of text.matchAll(/bench-marker-ours-(\d+)-/g)) {
                if (!markerArrivals.has(index)) markerArrivals.set(index, deltaArrivedAt);
            }
        }
    });
}

const startedAt = performance.now();
const client = createReactiveClient({ toriiUrl: params.torii, worldAddress: params.world, manifest });
const clientAt = performance.now();
timeHandling();
window.reactiveClient = client;
/** When `ready` resolved (INIT_ACK: persisted state in the view), and the errors reported. */
const { readyMs, errors } = watchClient(client);

/** Distinct entity ids the view announced, and when the last update arrived. */
const seenIds = new Set();
let lastUpdateAt = performance.now();
let onUpdate = () => {};
client.entityUpdates.subscribe((update) => {
    lastUpdateAt = performance.now();
    for (const id of update.ids) seenIds.add(id);
    onUpdate();
});

/** Resolves with the time all `expected` entities were available (cold start). */
const allAvailable = new Promise((resolvePromise) => {
    onUpdate = () => {
        if (seenIds.size < expected) return;
        onUpdate = () => {};
        resolvePromise(performance.now());
    };
});

/** Warm start: resolves with the time a key query for the probe first answered it. */
async function firstQuery(player) {
    const init = await client.ready;
    for (;;) {
        const { items } = client.query("arena-Player", { filter: { keys: { player } }, limit: 1 });
        if (items.length === 1) return { at: performance.now(), init };
        await new Promise((r) => setTimeout(r, 1));
    }
}
const warm = params.probeKey ? firstQuery(params.probeKey) : undefined;

/**
 * The view's reader, as selectors get it (what `subscribe(model, id)` and `useEntity` read),
 * taken by a selector that depends on no entity (so it is never evaluated again).
 */
let reader;
client.subscribe(null, Object.assign((r) => ((reader = r), 0), { entityIds: [] }), () => {});

window.bench = {
    /** Time to all entities available, long tasks during it, how many entities are held. */
    async cold() {
        // A failed start (ready rejected) fails the phase instead of waiting forever.
        const doneAt = await Promise.race([allAvailable, client.ready.then(() => new Promise(() => {}))]);
        return {
            allAvailableMs: doneAt,
            fromClientMs: doneAt - clientAt,
            loadMs: clientAt - startedAt,
            readyMs: readyMs(),
            held: seenIds.size,
            longTasks: longestTaskBefore(doneAt),
            errors,
        };
    },
    /** Warm start after reload: first query answered, entities restored, long tasks until then. */
    async warm() {
        const { at, init } = await warm;
        const timings = init.timings && { ...init.timings, startedMs: init.timings.startedAt - performance.timeOrigin };
        return { clientMs: startedAt, firstQueryMs: at, readyMs: readyMs(), restored: init.restored, arrivals, timings, longTasks: longestTaskBefore(at), errors };
    },
    /**
     * A tab opened on a synced database (the follower tab): resolves once `ready` and `entityId`
     * is held, with when (ms since navigation start) and this tab's part in the election.
     */
    async restored(entityId) {
        await client.ready;
        while (!reader.entity(entityId)) await new Promise((r) => setTimeout(r, 5));
        const heldMs = performance.now();
        // The worker reports its part in the election (ROLE) on its own schedule: up to 5 s.
        for (let waited = 0; !client.getSyncStatus().tab && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
        return { readyMs: readyMs(), heldMs, role: client.getSyncStatus().tab?.role ?? "unknown" };
    },
    /** The `player` key of each entity id (for key queries). */
    playerKeys: (ids) => ids.map((id) => reader.entity(id)?.models.arena?.Player?.player),
    /** Canonical ids of `count` players spread over the view (when no peer ran first). */
    sampleIds(count) {
        const players = [];
        let cursor;
        do {
            const page = client.query("arena-Player", cursor ? { cursor } : {});
            // Not `push(...items)`: a page of 200,000 items overflows the call stack.
            for (const item of page.items) players.push(item.entityId);
            cursor = page.nextCursor;
        } while (cursor !== undefined);
        return Array.from({ length: count }, (_, i) => players[Math.floor((i * players.length) / count)]);
    },
    /** Query latency: by id (reader.entity), by key (`query` keys filter), and a `where` scan. */
    queries({ ids, rounds, scanRounds, minLevel }) {
        const keys = window.bench.playerKeys(ids);
        const byId = timeCalls(ids, rounds, (id) => reader.entity(id));
        const byKey = timeCalls(keys, rounds, (player) => client.query("arena-Player", { filter: { keys: { player } }, limit: 1 }).items[0]);
        const where = { filter: { where: [{ member: "level", op: "gte", value: minLevel }] }, limit: expected };
        // The first scan builds every matching item; later ones return them from the cache.
        const first = timeCalls([minLevel], 1, () => client.query("arena-Player", where).items);
        const scan = timeCalls([minLevel], scanRounds, () => client.query("arena-Player", where).items);
        const limited = { ...where, limit: 100 };
        const scan100 = timeCalls([minLevel], scanRounds, () => client.query("arena-Player", limited).items);
        return {
            byId: { ...byId, results: undefined, found: byId.results.filter(Boolean).length },
            byKey: { ...byKey, results: undefined, found: byKey.results.filter(Boolean).length },
            scan: { ...scan, results: undefined, matches: scan.results[0].length, firstMs: first.p50 },
            scan100: { ...scan100, results: undefined, matches: scan100.results[0].length },
        };
    },
    /**
     * Reads every entity by id (`reader.entity`), in random order, while the mock's update rate
     * runs (bench.js starts it). First every id once, none of them built before (`cold`: time
     * per read, and the JS heap it added per entity, `gc()` before each heap figure). Then two
     * passes over all ids, each in slices of `slice` reads with a task boundary between slices,
     * so the DELTAs that arrive meanwhile are applied and the pass reads the entities they
     * changed for the first time since (`firstAfterChange`: reads that returned another object
     * than the read before). The first pass times whole slices only (its p50 is the median
     * slice's mean, nothing else in the loop); the second times every read alone
     * (`performance.now()`: 5 µs grain on this cross-origin-isolated page, 100 µs otherwise:
     * `grainMs`), for the p99.
     */
    async reads({ slice = 1000 } = {}) {
        const ids = [...seenIds];
        const heap = () => {
            globalThis.gc?.();
            return performance.memory?.usedJSHeapSize ?? NaN;
        };
        const heapBefore = heap();
        const t0 = performance.now();
        for (const id of ids) reader.entity(id);
        const cold = { meanMs: (performance.now() - t0) / ids.length, heapPerEntity: (heap() - heapBefore) / ids.length };
        let seed = 7;
        const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
        const previous = new Map(ids.map((id) => [id, reader.entity(id)]));
        const passes = [];
        for (const timed of [false, true]) {
            for (let i = ids.length - 1; i > 0; i--) {
                const j = Math.floor(random() * (i + 1));
                [ids[i], ids[j]] = [ids[j], ids[i]];
            }
            const single = [];
            const sliceMeans = [];
            const firstAfterChange = [];
            let found = 0;
            for (let start = 0; start < ids.length; start += slice) {
                const end = Math.min(ids.length, start + slice);
                const got = new Array(end - start);
                const took = new Float64Array(end - start);
                const t0 = performance.now();
                if (timed) {
                    for (let i = start; i < end; i++) {
                        const r0 = performance.now();
                        got[i - start] = reader.entity(ids[i]);
                        took[i - start] = performance.now() - r0;
                    }
                } else {
                    for (let i = start; i < end; i++) got[i - start] = reader.entity(ids[i]);
                }
                sliceMeans.push((performance.now() - t0) / (end - start));
                for (let i = start; i < end; i++) {
                    const entity = got[i - start];
                    if (entity) found++;
                    if (timed) single.push(took[i - start]);
                    if (previous.get(ids[i]) !== entity) firstAfterChange.push(took[i - start]);
                    previous.set(ids[i], entity);
                }
                await new Promise((r) => setTimeout(r, 0));
            }
            const at = (list, q) => list.sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(q * list.length))];
            passes.push({
                reads: ids.length,
                found,
                p50: stats(sliceMeans).p50,
                p99: timed ? at(single, 0.99) : undefined,
                max: timed ? at(single, 1) : undefined,
                firstAfterChange: { n: firstAfterChange.length, mean: timed ? stats(firstAfterChange).mean : undefined },
            });
        }
        return { grainMs: crossOriginIsolated ? 0.005 : 0.1, cold, passes };
    },
    /** Starts recording marker latencies of `entityId` through `subscribe(model, id, listener)`. */
    async listen({ entityId, tag }) {
        const recorder = markerRecorder(tag);
        const heard = new Map();
        markerArrivals = new Map();
        const unsubscribe = client.subscribe("arena-Player", entityId, (entity) => {
            const name = entity?.models.arena?.Player?.name;
            if (!name) return;
            recorder.seen(name);
            const match = /^bench-marker-ours-(\d+)-([\d.]+)$/.exec(name);
            if (match && !heard.has(match[1])) heard.set(match[1], { at: epochMs(), sent: Number(match[2]) });
        });
        listening = { recorder, heard, stop: unsubscribe };
    },
    /**
     * Latencies recorded so far, and where they went: `toMainThread` (marker sent → the DELTA
     * carrying it reaches the page: the mock, the worker's sync, commit and relay) and
     * `onMainThread` (that DELTA's arrival → the listener: applying it and the subscription's
     * scheduling).
     */
    markers() {
        const toMainThread = [];
        const onMainThread = [];
        for (const [index, { at, sent }] of listening.heard) {
            const arrived = markerArrivals?.get(index);
            if (arrived === undefined || Number.isNaN(arrived)) continue;
            toMainThread.push(arrived - sent);
            onMainThread.push(at - arrived);
        }
        return { ...listening.recorder.results(), toMainThread: stats(toMainThread), onMainThread: stats(onMainThread) };
    },
    /** Stops listening. */
    unlisten() {
        markerArrivals = undefined;
        listening.stop();
    },
    /** Resolves once no entity update arrived for `quietMs` (the worker has caught up). */
    async settle(quietMs = 500) {
        while (performance.now() - lastUpdateAt < quietMs) await new Promise((r) => setTimeout(r, 50));
    },
};
/** The live subscription of the latency phase: `{ recorder, stop }`. */
let listening;
