// torii-wasm at scale (scale.js): `@dojoengine/torii-wasm` running the same scoped query as
// ours' sync target (the square region of `arena-Position` with the entities' `arena-Player`),
// paged with `getEntities` into an in-memory array, as a game using it would fetch the region
// around the player; a move fetches the new region instead. `window.bench` exposes the phases.

import { ToriiClient } from "@dojoengine/torii-wasm";
import { longestTaskBefore, params, stats, timeCalls } from "./common.js";
import { PLAYER, POSITION, toriiWasmClause } from "./scale-region.js";

const pageSize = Number(params.pageSize ?? 1000);
const startedAt = performance.now();
const client = await new ToriiClient({ toriiUrl: params.torii, worldAddress: params.world });

/** Every entity of the square, paged with `getEntities` (torii-wasm's entity objects). */
async function fetchRegion(square) {
    const items = [];
    let cursor;
    do {
        const page = await client.getEntities({
            world_addresses: [params.world],
            pagination: { limit: pageSize, cursor, direction: "Forward", order_by: [] },
            clause: toriiWasmClause(square),
            no_hashed_keys: false,
            models: [PLAYER, POSITION],
            historical: false,
        });
        // Not `push(...items)`: a large page overflows the call stack.
        for (const item of page.items) items.push(item);
        cursor = page.next_cursor || undefined;
    } while (cursor);
    return items;
}

/** What the page holds: the current region's entities. */
let entities = [];
const first = fetchRegion({ x: Number(params.x), y: Number(params.y), side: Number(params.side) }).then((items) => {
    entities = items;
    return performance.now();
});

/** `vec` of an entity's position, in torii-wasm's shape. */
const vec = (e) => e.models[POSITION]?.vec?.value;

window.bench = {
    /** Time until the region is fetched (from navigation start), how many entities it holds. */
    async cold() {
        const doneAt = await first;
        return { completeMs: doneAt, fromClientMs: doneAt - startedAt, positions: entities.length, longTasks: longestTaskBefore(doneAt) };
    },
    /** Moves to another square: fetches it in place of the current one. */
    async move(square) {
        const t0 = performance.now();
        entities = await fetchRegion(square);
        return { completeMs: performance.now() - t0, positions: entities.length };
    },
    /**
     * The viewport as a game holding torii-wasm's array would ask it: a JS filter over the
     * array, `rounds` times per viewport; one sample per viewport, its time per call.
     */
    viewport({ viewports, rounds }) {
        const times = [];
        let matches = 0;
        for (const square of viewports) {
            const { x, y, side } = square;
            const inside = (e) => {
                const v = vec(e);
                const vx = v?.x?.value;
                const vy = v?.y?.value;
                return vx >= x && vx < x + side && vy >= y && vy < y + side;
            };
            const filtered = timeCalls([square], rounds, () => entities.filter(inside).length);
            times.push(filtered.mean);
            matches += filtered.results[0];
        }
        return { query: stats(times), meanMatches: matches / viewports.length };
    },
};
