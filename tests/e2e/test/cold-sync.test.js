// Cold sync of 20,000 entities into a fresh browser profile, then every model compared with the
// mock's world, and queries with every filter operator compared with a reference evaluation.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities, expectedIds } from "../lib/world.js";
import { waitForEntityCount } from "../lib/wait.js";

const ENTITIES = 20_000;
const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];
let env, page, entities;

before(async () => {
    env = await startEnv(["--entities", String(ENTITIES), "--seed", "11"]);
    entities = canonEntities(await env.mock.world());
    assert.equal(entities.length, ENTITIES);
    page = await env.openHarness();
    const started = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    assert.equal(started.init.restored, 0, "a fresh profile restores nothing");
});

after(() => env?.close());

test("a cold sync makes every entity of the world queryable, with the mock's values", async () => {
    for (const model of MODELS) {
        const expected = entities.filter((e) => e.models[model]);
        assert.ok(expected.length > 1000, `${model} has entities in the generated world`);
        await waitForEntityCount(page, model, expected.length);
        const got = await page.evaluate((m) => window.e2e.queryAll(m), model);
        assert.deepEqual(
            got.map((e) => e.entityId),
            expectedIds(entities, model),
            `${model}: the ids, in ascending order`,
        );
        const byId = new Map(expected.map((e) => [e.entityId, e.models[model]]));
        for (const entity of got) {
            assert.deepEqual(entity.models[model], byId.get(entity.entityId), `${model} of ${entity.entityId}`);
        }
    }
    assert.deepEqual(page.problems, []);
});

/** Filters covering every operator, the `keys` filter, and the member kinds they apply to. */
function cases() {
    const players = entities.filter((e) => e.models["arena-Player"]).map((e) => e.models["arena-Player"]);
    const inventoryOwner = entities.find((e) => e.models["arena-Inventory"]).models["arena-Inventory"].player;
    const sample = players[123];
    const sortedGold = players.map((p) => BigInt(p.gold)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const medianGold = sortedGold[sortedGold.length >> 1].toString();
    return [
        ["arena-Player", { where: [{ member: "level", op: "eq", value: sample.level }] }],
        ["arena-Player", { where: [{ member: "name", op: "eq", value: sample.name }] }],
        ["arena-Player", { where: [{ member: "guild", op: "eq", value: sample.guild }] }],
        ["arena-Player", { where: [{ member: "alive", op: "eq", value: false }] }],
        ["arena-Player", { where: [{ member: "class", op: "neq", value: "Warrior" }] }],
        ["arena-Player", { where: [{ member: "level", op: "neq", value: sample.level }] }],
        ["arena-Player", { where: [{ member: "gold", op: "gt", value: medianGold }] }],
        ["arena-Player", { where: [{ member: "heat", op: "gt", value: -100 }] }],
        ["arena-Position", { where: [{ member: "vec.x", op: "gte", value: 500 }] }],
        ["arena-Player", { where: [{ member: "debt", op: "gte", value: "0" }] }],
        ["arena-Player", { where: [{ member: "karma", op: "lt", value: 1000000 }] }],
        ["arena-Player", { where: [{ member: "balance", op: "lte", value: "-1" }] }],
        ["arena-Position", { where: [{ member: "vec.y", op: "lte", value: 10 }] }],
        ["arena-Player", { where: [{ member: "class", op: "in", value: ["Mage", "Rogue"] }] }],
        ["arena-Player", { where: [{ member: "level", op: "in", value: [1, 2, 3, sample.level] }] }],
        ["arena-Inventory", { keys: { player: inventoryOwner } }],
        ["arena-Player", { keys: { player: sample.player } }],
        [
            "arena-Player",
            { where: [{ member: "level", op: "gte", value: 10 }, { member: "level", op: "lt", value: 20 }] },
        ],
    ];
}

test("queries with every filter operator answer what the mock's world says", async () => {
    for (const [model, filter] of cases()) {
        const expected = expectedIds(entities, model, filter);
        const got = await page.evaluate(([m, f]) => window.e2e.queryIds(m, { filter: f }), [model, filter]);
        assert.deepEqual(got, expected, `${model} ${JSON.stringify(filter)}`);
    }
    const nonTrivial = cases().filter(([m, f]) => {
        const n = expectedIds(entities, m, f).length;
        return n > 0 && n < entities.length;
    });
    assert.equal(nonTrivial.length, cases().length, "every case selects some but not all entities");
});

test("paging with limit and cursor returns the same entities as one query", async () => {
    const filter = { where: [{ member: "level", op: "lt", value: 50 }] };
    const { pages, ids } = await page.evaluate((f) => {
        let cursor;
        const ids = [];
        let pages = 0;
        do {
            const result = window.e2e.client.query("arena-Player", { filter: f, limit: 500, ...(cursor ? { cursor } : {}) });
            ids.push(...result.items.map((e) => window.e2e.canon(e.entityId)));
            cursor = result.nextCursor;
            pages += 1;
        } while (cursor !== undefined);
        return { pages, ids };
    }, filter);
    const expected = expectedIds(entities, "arena-Player", filter);
    assert.deepEqual(ids, expected);
    assert.equal(pages, Math.ceil(expected.length / 500));
});
