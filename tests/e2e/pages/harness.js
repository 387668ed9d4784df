// The page side of the end-to-end tests: imports the built package (served at /pkg/, entry read
// from its package.json `exports`), and exposes `window.e2e` with helpers the tests call through
// `page.evaluate`: starting a client against a mock, recording its errors and sync status, and
// turning SDK-shaped entities into the canonical JSON of mock-torii's `GET /_mock/world`.

import { fetchArenaManifest } from "/examples/arena-manifest.js";

const e2e = {
    loaded: false,
    loadError: undefined,
    /** The package module. */
    reactive: undefined,
    /** The running client, set by `start`. */
    client: undefined,
    /** Errors delivered by `client.errors`: `{ name, message, isInstance }`. */
    errors: [],
    /** Sync statuses seen through `client.syncStatus`. */
    statuses: [],
    /** Every `Worker` the page constructed, in order (the package creates its worker itself). */
    workers: [],
};
window.e2e = e2e;

// Records every Worker before the package is imported (below), so a test can terminate the sync
// worker the package started, as a crash would.
// With `e2e.withoutIndexedDb` set, the worker runs in a scope without `indexedDB`, as in some
// private modes: a module that loads the package's worker, then hides `indexedDB` before any
// message arrives.
const NativeWorker = globalThis.Worker;
globalThis.Worker = class RecordedWorker extends NativeWorker {
    constructor(url, options) {
        if (e2e.withoutIndexedDb) {
            const source = `import ${JSON.stringify(new URL(url, location.href).href)};\n` +
                `Object.defineProperty(globalThis, "indexedDB", { value: undefined, configurable: true });\n`;
            url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
        }
        super(url, options);
        e2e.workers.push(this);
    }
};

/** Terminates every worker the page constructed; returns how many there were. */
e2e.terminateWorkers = function terminateWorkers() {
    for (const worker of e2e.workers) worker.terminate();
    return e2e.workers.length;
};

/** Canonical form of an SDK value: BigInt as decimal strings, 0x hex strings without leading zeros. */
e2e.canon = function canon(value) {
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value)) return `0x${BigInt(value).toString(16)}`;
    if (Array.isArray(value)) return value.map(canon);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canon(v)]));
    }
    return value;
};

/** An SDK entity `{ entityId, models: { ns: { Model: {...} } } }` as `{ entityId, models: { "ns-Model": {...} } }`, canonical. */
e2e.tagged = function tagged(entity) {
    const models = {};
    for (const [ns, byName] of Object.entries(entity.models)) {
        for (const [name, members] of Object.entries(byName)) models[`${ns}-${name}`] = e2e.canon(members);
    }
    return { entityId: e2e.canon(entity.entityId), models };
};

/** The mock's manifest (with the arena ABIs, see examples/arena-manifest.js). */
e2e.manifest = (toriiUrl) => fetchArenaManifest(toriiUrl);

/**
 * The client options for the mock at `toriiUrl` (manifest from its control API, unless `extra`
 * brings one: then nothing is fetched, so Torii may be down), merged with `extra`.
 */
e2e.options = async function options(toriiUrl, extra = {}) {
    const manifest = extra.manifest ?? (await e2e.manifest(toriiUrl));
    return { toriiUrl, worldAddress: manifest.world.address, manifest, ...extra };
};

/** `{ name, message, isTyped }` of an error (`isTyped`: an instance of the package's class of that name). */
e2e.describeError = function describeError(error) {
    const cls = e2e.reactive[error?.name];
    return { name: error?.name, message: error?.message, isTyped: typeof cls === "function" && error instanceof cls };
};

/**
 * Creates the client (`e2e.client`) for the mock at `toriiUrl`, records its errors, statuses and
 * entity updates, and waits for `ready`: resolves `{ init, targetsAtReady }` (`client.targets.list()`
 * as `ready` resolved: before any SYNC_TICK) or `{ error }` (ready rejected).
 * With `capture` (model tags), also `captured`: the JSON text of `e2e.capture(capture)`, every
 * synced state of those models read in the same task as `ready` resolved, i.e. exactly what the
 * worker restored from IndexedDB (later DELTAs are later messages), and `updatesAtReady`, the
 * number of `entityUpdates` seen by then.
 */
e2e.start = async function start(toriiUrl, extra = {}, { capture } = {}) {
    const options = await e2e.options(toriiUrl, extra);
    const client = e2e.reactive.createReactiveClient(options);
    e2e.client = client;
    e2e.errors = [];
    e2e.statuses = [];
    e2e.updates = [];
    e2e.ended = { errors: false, syncStatus: false, entityUpdates: false };
    client.errors.subscribe(
        (error) => e2e.errors.push(e2e.describeError(error)),
        () => (e2e.ended.errors = true),
    );
    client.syncStatus.subscribe(
        (status) => e2e.statuses.push({ phase: status.phase, state: status.state }),
        () => (e2e.ended.syncStatus = true),
    );
    client.entityUpdates.subscribe(
        (update) => e2e.updates.push({ source: update.source, ids: update.ids.map(e2e.canon) }),
        () => (e2e.ended.entityUpdates = true),
    );
    try {
        const init = await client.ready;
        const targetsAtReady = client.targets.list();
        if (!capture) return { init: { ...init }, targetsAtReady };
        return {
            init: { ...init },
            targetsAtReady,
            captured: JSON.stringify(e2e.capture(capture)),
            updatesAtReady: e2e.updates.length,
        };
    } catch (error) {
        return { error: e2e.describeError(error) };
    }
};

/** The `model` state of the entity whose key `player` is `player` (canonical), or null. */
e2e.byPlayer = function byPlayer(model, player, consistency) {
    const spec = { filter: { keys: { player } }, ...(consistency ? { consistency } : {}) };
    const items = e2e.queryAll(model, spec);
    return items.length === 1 ? items[0].models[model] : null;
};

/** Every page of `client.query(model, spec)` (following `nextCursor`), as canonical tagged entities. */
e2e.queryAll = function queryAll(model, spec = {}) {
    const items = [];
    let cursor;
    do {
        const page = e2e.client.query(model, cursor === undefined ? spec : { ...spec, cursor });
        items.push(...page.items.map(e2e.tagged));
        cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
};

/** How many entities `client.query(model, spec)` answers (all pages, no conversion). */
e2e.count = function count(model, spec = {}) {
    let total = 0;
    let cursor;
    do {
        const page = e2e.client.query(model, cursor === undefined ? spec : { ...spec, cursor });
        total += page.items.length;
        cursor = page.nextCursor;
    } while (cursor !== undefined);
    return total;
};

/** Every synced state of `models`: `{ model: [[entityId, state]] }`, canonical. */
e2e.capture = function capture(models) {
    return Object.fromEntries(
        models.map((m) => [m, e2e.queryAll(m, { consistency: "synced" }).map((entity) => [entity.entityId, entity.models[m]])]),
    );
};

/**
 * `last_updated_at` (decimal string) of every synced state of `models`, `{ model: { entityId: v } }`:
 * a cheap picture of what the view shows, by version.
 */
e2e.versions = function versions(models) {
    const out = {};
    for (const model of models) {
        const [ns, name] = model.split("-");
        const byId = (out[model] = {});
        let cursor;
        do {
            let page;
            try {
                page = e2e.client.query(model, cursor === undefined ? { consistency: "synced" } : { consistency: "synced", cursor });
            } catch (error) {
                // Before the view exists (the wasm module still loading) nothing is shown yet.
                if (error?.name === "ValidationError" && error.argument === "client") break;
                throw error;
            }
            for (const entity of page.items) byId[e2e.canon(entity.entityId)] = String(entity.models[ns][name].last_updated_at);
            cursor = page.nextCursor;
        } while (cursor !== undefined);
    }
    return out;
};

/**
 * The worker's database read back through the inspector (`ledger()` of the client's entry in
 * `__REACTIVE_DEBUG__`, which needs `debug: true`): `{ report, updates }`, the report as JSON text
 * and the number of `entityUpdates` seen when it arrived.
 */
e2e.storeReport = async function storeReport() {
    const inspector = globalThis.__REACTIVE_DEBUG__?.clients.find((entry) => entry.client === e2e.client);
    if (!inspector) throw new Error("the client has no inspector: start it with { debug: true }");
    const report = await inspector.ledger();
    return { report: JSON.stringify(report), updates: e2e.updates.length };
};

/** Ids of the entities `client.query(model, spec)` returns (all pages). */
e2e.queryIds = function queryIds(model, spec = {}) {
    return e2e.queryAll(model, spec).map((entity) => entity.entityId);
};

try {
    const pkg = await (await fetch("/pkg/package.json")).json();
    const entry = pkg.exports["."].import ?? pkg.exports["."].default;
    e2e.reactive = await import(new URL(entry, `${location.origin}/pkg/`).href);
    e2e.loaded = true;
} catch (error) {
    e2e.loadError = String(error?.stack ?? error);
}
