// Ours: `@dojoengine/reactive` (the built package from js/, served at /reactive/) syncing the mock
// world into IndexedDB (worker) and the main-thread view. The client starts as the page loads.
// Cold start: all entities are available when the distinct ids announced by `entityUpdates`
// reach `?entities`. Warm start (`?probeKey=` set, after a reload): first query answered = a
// `query` by the probe player's key returns it, after `ready` (persisted state loaded).

import { createReactiveClient } from "/reactive/dist/index.js";
import { longestTaskBefore, markerRecorder, params, timeCalls } from "./common.js";

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
/** Registered after the client's own listener: closes the timing of each restored DELTA. */
function timeHandling() {
    timedWorker?.addEventListener("message", () => {
        if (!Number.isNaN(handlingSince)) arrivals.restoreBusyMs += performance.now() - handlingSince;
        handlingSince = NaN;
    });
}

const startedAt = performance.now();
const client = createReactiveClient({ toriiUrl: params.torii, worldAddress: params.world, manifest });
const clientAt = performance.now();
timeHandling();
window.reactiveClient = client;
/** When `ready` resolved (INIT_ACK: persisted state in the view). */
let readyAt = NaN;
client.ready.then(
    () => (readyAt = performance.now()),
    () => {},
);

const errors = [];
client.errors.subscribe((error) => errors.push(`${error.name}: ${error.message}`));

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
            readyMs: readyAt,
            held: seenIds.size,
            longTasks: longestTaskBefore(doneAt),
            errors,
        };
    },
    /** Warm start after reload: first query answered, entities restored, long tasks until then. */
    async warm() {
        const { at, init } = await warm;
        const timings = init.timings && { ...init.timings, startedMs: init.timings.startedAt - performance.timeOrigin };
        return { clientMs: startedAt, firstQueryMs: at, readyMs: readyAt, restored: init.restored, arrivals, timings, longTasks: longestTaskBefore(at), errors };
    },
    /** The `player` key of each entity id (for key queries). */
    playerKeys: (ids) => ids.map((id) => reader.entity(id)?.models.arena?.Player?.player),
    /** Canonical ids of `count` players spread over the view (when no peer ran first). */
    sampleIds(count) {
        const players = [];
        let cursor;
        do {
            const page = client.query("arena-Player", cursor ? { cursor } : {});
            players.push(...page.items.map((e) => e.entityId));
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
        const scan = timeCalls([minLevel], scanRounds, () => client.query("arena-Player", where).items);
        return {
            byId: { ...byId, results: undefined, found: byId.results.filter(Boolean).length },
            byKey: { ...byKey, results: undefined, found: byKey.results.filter(Boolean).length },
            scan: { ...scan, results: undefined, matches: scan.results[0].length },
        };
    },
    /** Starts recording marker latencies of `entityId` through `subscribe(model, id, listener)`. */
    async listen({ entityId, tag }) {
        const recorder = markerRecorder(tag);
        const unsubscribe = client.subscribe("arena-Player", entityId, (entity) => {
            const name = entity?.models.arena?.Player?.name;
            if (name) recorder.seen(name);
        });
        listening = { recorder, stop: unsubscribe };
    },
    /** Latencies recorded so far. */
    markers: () => listening.recorder.results(),
    /** Stops listening. */
    unlisten: () => listening.stop(),
    /** Resolves once no entity update arrived for `quietMs` (the worker has caught up). */
    async settle(quietMs = 500) {
        while (performance.now() - lastUpdateAt < quietMs) await new Promise((r) => setTimeout(r, 50));
    },
};
/** The live subscription of the latency phase: `{ recorder, stop }`. */
let listening;
