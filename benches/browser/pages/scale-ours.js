// Ours at scale (scale.js): `@dojoengine/reactive` keeping one sync target, a square region of
// `arena-Position` (`?x=&y=&side=`, cells [x, x + side) × [y, y + side)) with the entities'
// `arena-Player`, out of a world of up to a million entities; with `?whole=1`, every entity
// (no target, every model). The view declares the `(vec.x, vec.y)` index a map would. The client starts as
// the page loads; `window.bench` exposes the phases scale.js drives.

import { createReactiveClient } from "/reactive/dist/index.js";
import { longestTaskBefore, params, stats, timeCalls, watchClient } from "./common.js";
import { INVENTORY, POSITION, PLAYER, regionClause, viewportWhere } from "./scale-region.js";

const manifest = await (await fetch("/build/manifest.json")).text();
const whole = params.whole === "1";
const region = { x: Number(params.x), y: Number(params.y), side: Number(params.side) };
/** The region target of a square. */
const target = ({ x, y, side }) => ({
    id: "region",
    kind: "entities",
    models: [PLAYER, POSITION],
    clause: regionClause({ x, y, side }),
});

const startedAt = performance.now();
const client = createReactiveClient({
    toriiUrl: params.torii,
    worldAddress: params.world,
    manifest,
    ...(whole ? {} : { models: [PLAYER, POSITION], targets: [target(region)] }),
    indexes: [{ model: POSITION, members: ["vec.x", "vec.y"] }],
});
window.reactiveClient = client;
const { readyMs, errors, failed } = watchClient(client);

/** Entities held with a state of `model` (the view's count). */
const held = (model) => client.count(model);

/** Entities held: positions (players), and with `whole` inventories too (every entity has one of them). */
const entities = () => held(POSITION) + (whole ? held(INVENTORY) : 0);

/** Waits until the region target is complete; with `whole`, until `expected` entities are held. */
async function complete(expected) {
    if (!whole) return Promise.race([client.targets.complete("region"), failed]);
    await Promise.race([client.ready, failed]);
    while (entities() < expected) await new Promise((r) => setTimeout(r, 100));
}

/** IndexedDB bytes of this origin (Chromium's `usageDetails`), and the origin's whole usage. */
async function storageBytes() {
    const estimate = await navigator.storage.estimate();
    return { indexedDB: estimate.usageDetails?.indexedDB ?? NaN, usage: estimate.usage };
}

window.bench = {
    /** Cold start: time until the target is complete (from navigation start), what is held. */
    async cold({ expected }) {
        await complete(expected);
        const doneAt = performance.now();
        return {
            completeMs: doneAt,
            fromClientMs: doneAt - startedAt,
            readyMs: readyMs(),
            positions: held(POSITION),
            players: held(PLAYER),
            entities: entities(),
            longTasks: longestTaskBefore(doneAt),
            errors,
        };
    },
    /** Progress while a long sync runs: positions held so far. */
    progress: () => ({ atMs: performance.now(), entities: entities(), errors }),
    storage: storageBytes,
    /**
     * Warm start (after a reload): `ready` (persisted state in the view), the first time the
     * region's positions are all queryable (`count` reaches `expected`), and the target complete.
     */
    async warm({ expected }) {
        await Promise.race([client.ready, failed]);
        while (held(POSITION) < expected) await new Promise((r) => setTimeout(r, 1));
        const heldAt = performance.now();
        await complete(expected);
        return { readyMs: readyMs(), allHeldMs: heldAt, completeMs: performance.now(), positions: held(POSITION), errors };
    },
    /**
     * Moves the target to another square: time until `targets.update` resolved (the worker took
     * it) and until `targets.complete` (every entity of the new region is in the view).
     */
    async move(next) {
        const t0 = performance.now();
        await client.targets.update(target(next));
        const updatedMs = performance.now() - t0;
        await Promise.race([client.targets.complete("region"), failed]);
        const completeMs = performance.now() - t0;
        return { updatedMs, completeMs, positions: held(POSITION), inRegion: client.count(POSITION, { filter: { where: viewportWhere(next) } }) };
    },
    /**
     * "What is in this viewport" through the declared index: `query` (every match) and `count`
     * of each of `viewports` squares, `rounds` times in a row; one sample per viewport, its time
     * per call (the page clock's 0.1 ms grain is too coarse for one call).
     */
    viewport({ viewports, rounds }) {
        const queryTimes = [];
        const countTimes = [];
        let matches = 0;
        for (const square of viewports) {
            const filter = { where: viewportWhere(square) };
            const query = timeCalls([filter], rounds, (f) => client.query(POSITION, { filter: f }).items.length);
            const count = timeCalls([filter], rounds, (f) => client.count(POSITION, { filter: f }));
            queryTimes.push(query.mean);
            countTimes.push(count.mean);
            matches += query.results[0];
        }
        return { query: stats(queryTimes), count: stats(countTimes), meanMatches: matches / viewports.length };
    },
};
