// Crash-consistency trials (issue 7): a seeded plan per trial, the history of every model state
// the mock had, scripted writes, crashing a page (closed abruptly, its sync worker terminated, or
// its renderer crashed), and the checks made on what a reopened client restores from IndexedDB.

import assert from "node:assert/strict";
import { MODELS } from "./faults.js";
import { canonEntities } from "./world.js";

/** The seed of the whole run: `CRASH_SEED`, else a fixed number so that CI is reproducible. */
export const CRASH_SEED = parseSeed(process.env.CRASH_SEED ?? "20261123");

/** Trials in the run (`CRASH_TRIALS`, default 50): even indices cold sync, odd ones streaming. */
export const CRASH_TRIALS = parseCount(process.env.CRASH_TRIALS ?? "50");

/** `CRASH_TRIAL`: the index of the one trial to run (a replay), or undefined for all of them. */
export const CRASH_TRIAL = process.env.CRASH_TRIAL === undefined ? undefined : parseCount(process.env.CRASH_TRIAL);

function parseSeed(text) {
    const seed = Number(text);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CRASH_SEED must be a non-negative integer, got ${text}`);
    return seed;
}

function parseCount(text) {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got ${text}`);
    return n;
}

/** A 32-bit integer hash with good avalanche (xor-shift / multiply rounds). */
function mix32(x) {
    let h = x >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
    h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
    return (h ^ (h >>> 15)) >>> 0;
}

/**
 * A small seeded PRNG: a counter stepped by the golden-ratio increment, hashed. `next()` is in
 * [0, 1); `int(lo, hi)` an integer in [lo, hi]; `pick(list)` one element; `sample(list, k)` k
 * distinct elements.
 */
export function prng(seed) {
    let state = mix32(seed ^ 0x5bd1e995);
    const next = () => {
        state = (state + 0x9e3779b9) >>> 0;
        return mix32(state) / 2 ** 32;
    };
    const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
    return {
        next,
        int,
        pick: (list) => list[int(0, list.length - 1)],
        sample(list, k) {
            const copy = [...list];
            for (let i = 0; i < k && i < copy.length; i++) {
                const j = int(i, copy.length - 1);
                [copy[i], copy[j]] = [copy[j], copy[i]];
            }
            return copy.slice(0, k);
        },
    };
}

/**
 * The crash kinds: the page closed abruptly, the package's sync worker terminated, or the page's
 * renderer process crashed (CDP `Page.crash`, as an out-of-memory tab would).
 */
export const KINDS = ["close", "terminate", "renderer"];

/**
 * The parameters of trial `index` of a run seeded `seed`; they depend on nothing else, so a trial
 * can be replayed alone. `phase` is `cold` (crash during the cold sync, even indices) or `stream`
 * (crash while scripted writes stream in, odd indices); `crashes` lists the seeded delays (ms) of
 * each crash: the first from the start of the phase, a second one (some trials) from the release
 * of the mock after the first reopen, i.e. during the resume.
 */
export function trialPlan(seed, index) {
    const rng = prng(mix32(seed) ^ mix32(index + 1));
    const phase = index % 2 === 0 ? "cold" : "stream";
    const crashes = [phase === "cold" ? rng.int(0, 1200) : rng.int(100, 1200)];
    if (rng.next() < 0.25) crashes.push(rng.int(0, 1200));
    return {
        seed,
        index,
        phase,
        kind: rng.pick(KINDS),
        crashes,
        pageSize: rng.pick([250, 500]),
        // Streaming: writes per burst (each to a distinct entity of one model, so every state the
        // mock ever had is in a snapshot taken after a burst), and the chances that a burst also
        // creates an entity or deletes a model.
        burst: rng.int(5, 40),
        createChance: 0.2,
        deleteChance: 0.1,
        rngSeed: mix32(seed ^ mix32(index + 0x1000)),
    };
}

/** A random felt (`0x` + 64 hex digits) drawn from `rng`, below 2^248 so that it is a valid felt. */
function feltFrom(rng) {
    let hex = "00";
    for (let i = 0; i < 31; i++) hex += rng.int(0, 255).toString(16).padStart(2, "0");
    return `0x${hex}`;
}

/**
 * Scripted writes on the mock until `stop()`: bursts of `plan.burst` updates of one model, each
 * to a distinct entity (so the snapshot taken after the burst holds every state the mock had),
 * now and then a new entity (`arena-Position` of a fresh key) or the deletion of a model of an
 * entity that keeps another one. After each
 * burst the touched entities' states are added to `history`; deleted keys go to `deleted`.
 * `rng` is the trial's writer PRNG (`prng(plan.rngSeed)`), shared by the writers of one trial so
 * that a later writer never creates an entity again (which would set its `last_updated_at`
 * back). `stop()` resolves once the burst in progress is recorded; `writes()` counts the writes.
 */
export function startWriter(mock, history, deleted, plan, rng) {
    let stopped = false;
    let writes = 0;
    const loop = (async () => {
        let world = await mock.world();
        while (!stopped) {
            const model = rng.pick(MODELS);
            const holders = world.entities.filter((e) => e.models[model]).map((e) => e.entityId);
            const ids = rng.sample(holders, plan.burst);
            const touched = [...ids];
            if (ids.length > 0) await mock.post("/_mock/updates", { count: ids.length, model, entityIds: ids });
            writes += ids.length;
            if (rng.next() < plan.createChance) {
                const values = { vec: { x: rng.int(0, 1000), y: rng.int(0, 1000) }, last_updated_at: String(rng.int(1, 1000)) };
                const { entityId } = await mock.post("/_mock/set", { keys: [feltFrom(rng)], model: "arena-Position", values });
                touched.push(entityId);
                writes += 1;
            }
            // Only a model its entity outlives: an entity deleted whole while the client is closed
            // stays until the next full replay (crates/core/src/sync/mod.rs, "Restart").
            const deletable = world.entities.filter((e) => e.models[model] && MODELS.filter((m) => e.models[m]).length > 1);
            if (rng.next() < plan.deleteChance && deletable.length > 0) {
                const { entityId } = rng.pick(deletable);
                await mock.post("/_mock/delete", { entityId, model });
                deleted.add(keyOf(model, canonId(entityId)));
                writes += 1;
            }
            world = await mock.world();
            history.add(world, touched);
        }
    })();
    loop.catch(() => {}); // reported by stop()
    return {
        stop: async () => {
            stopped = true;
            await loop;
        },
        writes: () => writes,
    };
}

/** A JSON text of `value` with object keys sorted, so equal states have equal texts. */
export function stableJson(value) {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const keys = Object.keys(value).sort();
        return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** `model id` key of a model state (canonical id). */
const keyOf = (model, id) => `${model} ${id}`;

/** An entity id in the canonical form (`0x` hex without leading zeros). */
const canonId = (id) => `0x${BigInt(id).toString(16)}`;

/**
 * Every state of every (entity, model) of the synced models that the mock had, fed by snapshots
 * of `/_mock/world` (whole, or the entities a burst touched).
 */
export class History {
    constructor() {
        /** key -> Set of stable JSON texts. */
        this.states = new Map();
        /** key -> last_updated_at (BigInt) of the newest state recorded. */
        this.newest = new Map();
    }

    /** Records the states of `world` (`GET /_mock/world`), only of entities in `ids` (raw ids) when given. */
    add(world, ids) {
        const only = ids ? new Set(ids) : undefined;
        const entities = only ? { entities: world.entities.filter((e) => only.has(e.entityId)) } : world;
        for (const entity of canonEntities(entities)) {
            for (const [model, state] of Object.entries(entity.models)) {
                if (!MODELS.includes(model)) continue;
                const key = keyOf(model, entity.entityId);
                if (!this.states.has(key)) this.states.set(key, new Set());
                this.states.get(key).add(stableJson(state));
                const version = BigInt(state.last_updated_at);
                if (!(this.newest.get(key) >= version)) this.newest.set(key, version);
            }
        }
    }

    /** Whether the mock ever had `state` for (`model`, `id`). */
    had(model, id, state) {
        return this.states.get(keyOf(model, id))?.has(stableJson(state)) ?? false;
    }
}

/**
 * Problems of a restored store (`captured`: `{ model: [[id, state]] }`, what `ready` answered):
 * every state must be one the mock had (no newer value, no partial model), every (entity, model)
 * the page showed before the crash (`shown`: `{ model: { id: last_updated_at } }`, read just
 * before it) must be restored at that version or a newer one, unless the mock deleted that model
 * since (`deleted`: keys), and a model deletion the page showed (a key in `deletedBefore`, the
 * deletions made before `shown` was read, absent from `shown`) must not come back. Versions are
 * `last_updated_at`, which only grows on the mock (scripted updates increment it; the writer
 * creates only fresh entities). Returns a list of messages (empty: consistent).
 */
export function restoredProblems(captured, history, shown, deleted, deletedBefore) {
    const problems = [];
    for (const [model, items] of Object.entries(captured)) {
        const restored = new Map(items);
        for (const [id, state] of items) {
            if (!history.had(model, id, state)) {
                const newest = history.newest.get(keyOf(model, id));
                problems.push(`${model} ${id}: restored a state the mock never had (last_updated_at ${state.last_updated_at}, the mock's newest ${newest}): ${stableJson(state)}`);
            }
            if (deletedBefore.has(keyOf(model, id)) && shown?.[model] && !(id in shown[model])) {
                problems.push(`${model} ${id}: its deletion was shown before the crash, the reopen restored ${stableJson(state)}`);
            }
        }
        for (const [id, version] of Object.entries(shown?.[model] ?? {})) {
            if (deleted.has(keyOf(model, id))) continue;
            const state = restored.get(id);
            if (!state) problems.push(`${model} ${id}: shown at version ${version} before the crash, not restored`);
            else if (BigInt(state.last_updated_at) < BigInt(version)) {
                problems.push(`${model} ${id}: shown at version ${version} before the crash, restored at ${state.last_updated_at}`);
            }
        }
    }
    return problems;
}

/**
 * Problems of the worker's store report (`ledger()` of the inspector, entities target) read back
 * after `captured` was restored: the report's own disagreements (stored states, ledger and sync
 * state) and unreadable records; and, when nothing was synced in between (`exact`), the ledger's
 * write entries are exactly the restored (entity, model) pairs and the stored state count is
 * their number. Returns a list of messages (empty: consistent).
 */
export function ledgerProblems(report, captured, exact) {
    const target = report.targets.find((t) => t.target === "entities");
    if (!target) return [`the store report has no entities target: ${JSON.stringify(report).slice(0, 300)}`];
    const problems = [
        ...target.disagreements.map((d) => `the store disagrees with itself: ${d}`),
        ...target.skipped.map((s) => `a stored record could not be read: ${s}`),
    ];
    if (!exact) return problems;
    const writes = new Set(target.ledger.filter((e) => e.state === "write").map((e) => keyOf(e.model, canonId(e.entityId))));
    const restored = new Set(Object.entries(captured).flatMap(([model, items]) => items.map(([id]) => keyOf(model, id))));
    for (const key of restored) if (!writes.has(key)) problems.push(`${key}: restored, but the ledger has no write version for it`);
    for (const key of writes) if (!restored.has(key)) problems.push(`${key}: the ledger has a write version, but no state was restored`);
    if (target.states !== restored.size) problems.push(`the store holds ${target.states} states, ${restored.size} were restored`);
    return problems;
}

/**
 * Problems of the persisted sync state (the cursor) of a store report's entities `target`: the
 * newest Torii timestamp it claims applied is never ahead of the newest ledger version. With
 * `bootstrap` (`{ pageSize, entities }`: the first crash of a cold sync, no writes on the mock),
 * the stored entities are exactly the pages the sync state says were read (each page is one batch
 * with its cursor), a cursor is stored unless the last page was read, and the whole world is
 * stored once the snapshot is complete.
 */
export function cursorProblems(target, bootstrap) {
    const problems = [];
    const sync = target.syncState;
    if (target.ledger.length > 0 && !sync) problems.push(`${target.ledger.length} ledger entries but no sync state`);
    if (!sync) return problems;
    const newest = Math.max(0, ...target.ledger.map((e) => e.updatedAt));
    if (sync.lastTimestamp !== null && sync.lastTimestamp > newest) {
        problems.push(`the sync state claims updates up to ${sync.lastTimestamp} applied, the newest ledger version is ${newest}`);
    }
    if (bootstrap) {
        const entities = new Set(target.ledger.map((e) => canonId(e.entityId))).size;
        if (sync.snapshotComplete && entities !== bootstrap.entities) {
            problems.push(`the snapshot is marked complete, ${entities} of ${bootstrap.entities} entities are stored`);
        }
        // The last page stores no cursor; the snapshot is marked complete by a later batch.
        const read = Math.min(sync.pagesRead * bootstrap.pageSize, bootstrap.entities);
        const lastRead = read === bootstrap.entities;
        if (!sync.snapshotComplete && (entities !== read || (sync.cursor === null) !== lastRead)) {
            problems.push(`interrupted bootstrap: cursor ${sync.cursor} after ${sync.pagesRead} pages of ${bootstrap.pageSize}, ${entities} entities stored`);
        }
    }
    return problems;
}

/** How many model states `captured` holds. */
export const stateCount = (captured) => Object.values(captured).reduce((n, items) => n + items.length, 0);

/** The worker's store report of the client in `page` (`e2e.storeReport`): `{ report, updates }`. */
export async function storeReport(page) {
    const { report, updates } = await page.evaluate(() => window.e2e.storeReport());
    return { report: JSON.parse(report), updates };
}

/** What the page shows, by version (`e2e.versions`), or `{}` before its client exists. */
export function shownVersions(page) {
    return page.evaluate((models) => (window.e2e.client ? window.e2e.versions(models) : {}), MODELS);
}

/**
 * Crashes `page` as `kind` says: `close` closes it abruptly (no beforeunload, IndexedDB
 * transactions of its worker in flight); `terminate` terminates every worker the page constructed
 * (recorded by the harness), then closes the page (its client has lost its worker for good);
 * `renderer` crashes the page's renderer process, worker included, then closes the dead page.
 * Resolves how many workers were terminated (`terminate`) or 0.
 */
export async function crash(page, kind) {
    let terminated = 0;
    if (kind === "terminate") terminated = await page.evaluate(() => window.e2e.terminateWorkers());
    if (kind === "renderer") {
        const crashed = page.waitForEvent("crash");
        const cdp = await page.context().newCDPSession(page);
        // The call never answers: the renderer is gone.
        cdp.send("Page.crash").catch(() => {});
        await crashed;
    }
    await page.close({ runBeforeUnload: false });
    return terminated;
}

/** Min, median and max of numbers (null when there are none). */
export function spread(values) {
    if (values.length === 0) return null;
    const sorted = [...values].sort((a, b) => a - b);
    return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
}

/** Asserts that a list of problems is empty, naming the trial (seed and index) to replay. */
export function assertNoProblems(problems, plan, what) {
    assert.deepEqual(
        problems.slice(0, 10),
        [],
        `${what}: ${problems.length} problem(s); replay with CRASH_SEED=${plan.seed} CRASH_TRIAL=${plan.index} node --test test/crash.test.js`,
    );
}
