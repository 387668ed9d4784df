// Live updates: changes applied by the mock reach subscribers (by id, by filter) and queries,
// and after a burst of scripted updates the replica converges to the mock's world.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { isDeepStrictEqual } from "node:util";
import { canonEntities } from "../lib/world.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env, page, entities;

before(async () => {
    env = await startEnv(["--entities", "2000", "--seed", "21"]);
    entities = canonEntities(await env.mock.world());
    page = await env.openHarness();
    const started = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    for (const model of ["arena-Player", "arena-Position", "arena-Inventory"]) {
        await waitForEntityCount(page, model, entities.filter((e) => e.models[model]).length);
    }
});

after(() => env?.close());

test("a change set on the mock reaches an id subscriber, a filter subscriber and queries", async () => {
    const target = entities.find((e) => e.models["arena-Player"]);
    const player = target.models["arena-Player"].player;
    await page.evaluate(([id, p]) => {
        const { client, reactive } = window.e2e;
        window.e2e.byId = [];
        window.e2e.byFilter = [];
        window.e2e.byComponent = [];
        client.subscribe("arena-Player", id, (entity) => window.e2e.byId.push(entity ? window.e2e.tagged(entity) : null));
        client.subscribe(
            "arena-Player",
            { where: [{ member: "name", op: "eq", value: "Renamed Live" }] },
            (list) => window.e2e.byFilter.push(list.map((e) => window.e2e.canon(e.entityId))),
            { throttleMs: 50 },
        );
        client.subscribe("arena-Position", reactive.reactiveSelectors.selectComponent(id, "arena-Position"), (position) =>
            window.e2e.byComponent.push(window.e2e.canon(position ?? null)),
        );
        return p;
    }, [target.rawId, player]);

    await env.mock.post("/_mock/set", { entityId: target.rawId, model: "arena-Player", values: { name: "Renamed Live", level: 201 } });
    await env.mock.post("/_mock/set", { entityId: target.rawId, model: "arena-Position", values: { vec: { x: 4242, y: 77 } } });

    const seen = await waitFor(
        () => page.evaluate(() => window.e2e.byId.at(-1)?.models["arena-Player"]?.name === "Renamed Live" && window.e2e.byId.at(-1)),
        "the id subscriber to see the renamed player",
    );
    assert.equal(seen.models["arena-Player"].level, 201);
    assert.equal(seen.entityId, target.entityId);

    const filtered = await waitFor(
        () => page.evaluate(() => window.e2e.byFilter.at(-1)?.length === 1 && window.e2e.byFilter.at(-1)),
        "the filter subscriber to see the renamed player",
    );
    assert.deepEqual(filtered, [target.entityId]);

    const position = await waitFor(
        () => page.evaluate(() => window.e2e.byComponent.at(-1)?.vec?.x === 4242 && window.e2e.byComponent.at(-1)),
        "the component subscriber to see the new position",
    );
    assert.deepEqual(position.vec, { x: 4242, y: 77 });

    const queried = await page.evaluate(
        (p) => window.e2e.queryIds("arena-Player", { filter: { where: [{ member: "level", op: "eq", value: 201 }] } }).length > 0 &&
            window.e2e.byPlayer("arena-Player", p),
        player,
    );
    assert.equal(queried.name, "Renamed Live");
    const updated = await page.evaluate(() => window.e2e.updates.filter((u) => u.source === "sync").flatMap((u) => u.ids));
    assert.ok(updated.includes(target.entityId), "entityUpdates named the changed entity");
});

test("reads return frozen objects, the same one until the entity changes", async () => {
    const [target, other] = entities.filter((e) => e.models["arena-Player"]).slice(5, 7);
    const first = await page.evaluate(([id, otherId]) => {
        const { client } = window.e2e;
        let reader;
        client.subscribe(null, Object.assign((r) => ((reader = r), 0), { entityIds: [] }), () => {});
        const frozenDeep = (v) => typeof v !== "object" || v === null || (Object.isFrozen(v) && Object.values(v).every(frozenDeep));
        const entity = reader.entity(id);
        const item = () => client.query("arena-Player").items.find((e) => e.entityId === entity.entityId);
        window.e2e.reads = { reader, entity, item: item(), other: reader.entity(otherId), otherItem: client.query("arena-Player").items.find((e) => e.entityId === reader.entity(otherId).entityId) };
        return {
            sameEntity: reader.entity(id) === entity,
            sameItem: item() === window.e2e.reads.item,
            frozen: frozenDeep(entity) && frozenDeep(window.e2e.reads.item),
            written: Reflect.set(entity.models.arena.Player, "level", -1) || Reflect.set(entity.models, "arena", {}),
            level: entity.models.arena.Player.level,
        };
    }, [target.rawId, other.rawId]);
    assert.deepEqual(first, { sameEntity: true, sameItem: true, frozen: true, written: false, level: target.models["arena-Player"].level });

    const level = target.models["arena-Player"].level === 77 ? 78 : 77;
    await env.mock.post("/_mock/set", { entityId: target.rawId, model: "arena-Player", values: { level } });
    await waitFor(
        () => page.evaluate(([id, l]) => window.e2e.reads.reader.entity(id)?.models.arena.Player.level === l, [target.rawId, level]),
        "the read to show the change",
    );
    const after = await page.evaluate(([id, otherId, l]) => {
        const { client } = window.e2e;
        const { reader, entity, item, other, otherItem } = window.e2e.reads;
        const items = client.query("arena-Player").items;
        return {
            newEntity: reader.entity(id) !== entity,
            newItem: items.find((e) => e.entityId === entity.entityId) !== item,
            itemLevel: items.find((e) => e.entityId === entity.entityId).models.arena.Player.level,
            oldKept: entity.models.arena.Player.level !== l,
            otherSame: reader.entity(otherId) === other && items.find((e) => e.entityId === other.entityId) === otherItem,
        };
    }, [target.rawId, other.rawId, level]);
    assert.deepEqual(after, { newEntity: true, newItem: true, itemLevel: level, oldKept: true, otherSame: true });
});

test("after a burst of scripted updates the replica equals the mock's world", async () => {
    await env.mock.post("/_mock/updates", { count: 500 });
    const world = canonEntities(await env.mock.world());
    const expected = new Map();
    for (const entity of world) {
        for (const [model, state] of Object.entries(entity.models)) {
            if (model !== "arena-Moved") expected.set(`${model} ${entity.entityId}`, state);
        }
    }
    const changed = world.filter((e, i) => !isDeepStrictEqual(e, entities[i])).length;
    assert.ok(changed > 100, `the burst changed many entities (${changed})`);

    let mismatches;
    await waitFor(
        async () => {
            const got = await page.evaluate(() =>
                ["arena-Player", "arena-Position", "arena-Inventory"].flatMap((m) =>
                    window.e2e.queryAll(m).map((e) => [`${m} ${e.entityId}`, e.models[m]]),
                ),
            );
            mismatches = got.filter(([key, state]) => !isDeepStrictEqual(state, expected.get(key)));
            return got.length === expected.size && mismatches.length === 0;
        },
        "the replica to converge to the mock's world",
        120_000,
        1000,
    ).catch((error) => {
        throw new Error(`${error.message}; first mismatches: ${JSON.stringify(mismatches?.slice(0, 3))}`);
    });
    assert.deepEqual(page.problems, []);
});

test("after the mock ends every stream, the client subscribes again and gets later changes", async () => {
    const opened = async () => (await env.mock.log()).filter((e) => e.method === "SubscribeEntities" && /opened/.test(e.detail)).length;
    const before = await opened();
    const { ended } = await env.mock.post("/_mock/end-streams");
    assert.ok(ended > 0, "the client had a stream open");
    await waitFor(async () => (await opened()) > before, "a new subscription");
    const target = entities.filter((e) => e.models["arena-Player"])[9];
    await env.mock.post("/_mock/set", { entityId: target.rawId, model: "arena-Player", values: { name: "After Stream End" } });
    await waitFor(
        () => page.evaluate((p) => window.e2e.byPlayer("arena-Player", p)?.name === "After Stream End", target.models["arena-Player"].player),
        "the change made after the streams ended to arrive",
    );
});
