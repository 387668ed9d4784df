// Queries in the browser on the real wasm view, with an ordered index declared on (vec.x, vec.y):
// a viewport, its orderBy pages and count, and an or/array clause on inventories answer exactly
// what the mock's world holds; a position moved on the mock reaches a subscribed viewport count.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities, sortIds } from "../lib/world.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

const POSITION = "arena-Position";
const INVENTORY = "arena-Inventory";

let env, page, entities, positions;

/** The `q`-quantile of numbers. */
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "14"]);
    entities = canonEntities(await env.mock.world());
    positions = entities.filter((e) => e.models[POSITION]);
    page = await env.openHarness();
    const started = await page.evaluate(
        (url) => window.e2e.start(url, { indexes: [{ model: "arena-Position", members: ["vec.x", "vec.y"] }] }),
        env.mock.url,
    );
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    await waitForEntityCount(page, POSITION, positions.length);
    await waitForEntityCount(page, INVENTORY, entities.filter((e) => e.models[INVENTORY]).length);
});

after(() => env?.close());

/** A viewport around the middle of the world's positions. */
function viewport() {
    const xs = positions.map((e) => Number(e.models[POSITION].vec.x));
    const ys = positions.map((e) => Number(e.models[POSITION].vec.y));
    const [x0, x1, y0, y1] = [quantile(xs, 0.2), quantile(xs, 0.8), quantile(ys, 0.2), quantile(ys, 0.8)];
    const filter = {
        where: [
            { member: "vec.x", op: "gte", value: x0 },
            { member: "vec.x", op: "lt", value: x1 },
            { member: "vec.y", op: "gte", value: y0 },
            { member: "vec.y", op: "lt", value: y1 },
        ],
    };
    const inside = ({ x, y }) => Number(x) >= x0 && Number(x) < x1 && Number(y) >= y0 && Number(y) < y1;
    return { filter, inside, x0, y0 };
}

test("a viewport through the index: its ids, its orderBy pages and its count are the mock's", async () => {
    const { filter, inside } = viewport();
    const expected = positions.filter((e) => inside(e.models[POSITION].vec));
    assert.ok(expected.length > 5, "the viewport holds entities");
    const byXDesc = [...expected].sort((a, b) => {
        const d = Number(b.models[POSITION].vec.x) - Number(a.models[POSITION].vec.x);
        return d !== 0 ? d : BigInt(a.entityId) < BigInt(b.entityId) ? -1 : 1;
    });
    const got = await page.evaluate(
        ([model, f]) => {
            const { client, canon } = window.e2e;
            const ids = (items) => items.map((e) => canon(e.entityId));
            const pages = [];
            let cursor;
            do {
                const spec = { filter: f, orderBy: [{ member: "vec.x", direction: "desc" }], limit: 4 };
                const page = client.query(model, cursor === undefined ? spec : { ...spec, cursor });
                pages.push(...ids(page.items));
                cursor = page.nextCursor;
            } while (cursor !== undefined);
            return { ids: ids(client.query(model, { filter: f }).items), pages, count: client.count(model, { filter: f }) };
        },
        [POSITION, filter],
    );
    assert.deepEqual(got.ids, sortIds(expected.map((e) => e.entityId)));
    assert.deepEqual(got.pages, byXDesc.map((e) => e.entityId));
    assert.equal(got.count, expected.length);
});

test("an or of array operators and a key pattern on inventories answers what the mock holds", async () => {
    const inventories = entities.filter((e) => e.models[INVENTORY]);
    const sample = inventories[0].models[INVENTORY];
    const wanted = [Number(sample.items[0] ?? 1), 3];
    const filter = {
        where: [
            {
                or: [
                    { member: "items", op: "containsAny", value: wanted },
                    { member: "items", op: "arrayLengthGt", value: 3 },
                ],
            },
            { member: "slot", op: "notIn", value: [7] },
        ],
    };
    const holds = (s) =>
        (s.items.some((i) => wanted.includes(Number(i))) || s.items.length > 3) && Number(s.slot) !== 7;
    const expected = sortIds(inventories.filter((e) => holds(e.models[INVENTORY])).map((e) => e.entityId));
    assert.ok(expected.length > 0);
    const got = await page.evaluate(
        ([model, f, player]) => {
            const { client, canon } = window.e2e;
            const ids = (items) => items.map((e) => canon(e.entityId));
            return {
                ids: ids(client.query(model, { filter: f }).items),
                count: client.count(model, { filter: f }),
                // The player's inventories, any slot: a variable-length key pattern.
                mine: ids(client.query(model, { filter: { where: [{ keys: [player], matching: "variableLen" }] } }).items),
            };
        },
        [INVENTORY, filter, sample.player],
    );
    assert.deepEqual(got.ids, expected);
    assert.equal(got.count, expected.length);
    const mine = inventories.filter((e) => e.models[INVENTORY].player === sample.player).map((e) => e.entityId);
    assert.deepEqual(got.mine, sortIds(mine));
});

test("a position moved into the viewport on the mock reaches a subscribed viewport count", async () => {
    const { filter, inside, x0, y0 } = viewport();
    const outside = positions.find((e) => !inside(e.models[POSITION].vec));
    const before = await page.evaluate(
        ([model, f]) => {
            const { client, reactive } = window.e2e;
            window.e2e.viewportCounts = [];
            client.subscribe(model, reactive.reactiveSelectors.selectCount(f), (n) => window.e2e.viewportCounts.push(n));
            return client.count(model, { filter: f });
        },
        [POSITION, filter],
    );
    await env.mock.post("/_mock/set", { entityId: outside.rawId, model: POSITION, values: { vec: { x: x0, y: y0 } } });
    const counts = await waitFor(
        () => page.evaluate(() => window.e2e.viewportCounts.length > 0 && window.e2e.viewportCounts),
        "the viewport count to change",
    );
    assert.deepEqual(counts, [before + 1]);
});
