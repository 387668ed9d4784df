// Cross-check: the official client (@dojoengine/torii-wasm 1.8.2) reading mock-torii proves the mock
// speaks real Torii; our `dump_world` example reading the same mock must see exactly the same world
// and the same live updates.
//
// Needs target/debug/mock-torii and target/debug/examples/dump_world (or MOCK_TORII_BIN and
// DUMP_WORLD_BIN); `.ci/test` builds them first. Run: `npm test` in this folder.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
    allEntitiesOfficial,
    assertSameWorld,
    entityToJson,
    getJson,
    killChildren,
    officialClient,
    postJson,
    runDumpWorld,
    startMock,
    withTimeout,
} from "./lib.js";

const ENTITIES = 2500;
const UPDATES = 5;

let mock;
let client;

before(async () => {
    mock = await startMock(["--entities", String(ENTITIES), "--seed", "11"]);
    client = await officialClient(mock.url);
});

after(() => {
    client?.free();
    mock?.stop();
    killChildren();
});

test("mock-torii answers GET / like Torii", async () => {
    const root = await getJson(`${mock.url}/`);
    assert.equal(root.service, "torii");
    assert.equal(root.success, true);
    assert.equal(typeof root.version, "string");
});

test("torii-wasm, dump_world and the mock's own world agree on every entity", async () => {
    const [official, world, ours] = await Promise.all([
        allEntitiesOfficial(client).then((entities) => entities.map(entityToJson)),
        getJson(`${mock.url}/_mock/world`).then((w) => w.entities),
        runDumpWorld(["--url", mock.url]).output.then((w) => w.entities),
    ]);
    assert.equal(world.length, ENTITIES, "the mock holds --entities entities");
    assert.equal(official.length, ENTITIES, "torii-wasm paged through every entity");
    assert.equal(ours.length, ENTITIES, "dump_world paged through every entity");
    assertSameWorld(official, "torii-wasm", world, "GET /_mock/world");
    assertSameWorld(ours, "dump_world", world, "GET /_mock/world");
});

test("torii-wasm and dump_world --watch receive the same live updates", async () => {
    // Our client: SUBSCRIBED is printed once Torii's handshake arrived.
    const ours = runDumpWorld(["--url", mock.url, "--watch", String(UPDATES)], 90_000);
    await withTimeout(ours.subscribed, 30_000, "dump_world SUBSCRIBED");

    // The official client: the promise resolves once the handshake (subscription id) arrived.
    const received = [];
    let wake = () => {};
    const subscription = await withTimeout(
        client.onEntityUpdated(null, [], (entity) => {
            received.push(entity);
            wake();
        }),
        30_000,
        "torii-wasm onEntityUpdated handshake",
    );
    try {
        await postJson(`${mock.url}/_mock/updates`, { count: UPDATES });
        await withTimeout(
            new Promise((resolve) => {
                wake = () => received.length >= UPDATES && resolve();
                wake();
            }),
            30_000,
            `torii-wasm receiving ${UPDATES} updates (got ${received.length})`,
        );
    } finally {
        subscription.cancel();
    }
    const official = received.slice(0, UPDATES).map(entityToJson);
    const { updates } = await ours.output;

    assert.equal(updates.length, UPDATES, "dump_world printed every update");
    for (let i = 0; i < UPDATES; i++) {
        assert.ok(Object.keys(official[i].models).length > 0, `update #${i} carries a model`);
        assert.deepEqual(updates[i], official[i], `update #${i}: dump_world (actual) vs torii-wasm (expected)`);
    }

    // The last update of each (entity, model) is that model's state in the mock's world now
    // (a model deletion arrives as a model with no members, and is then absent).
    const world = new Map((await getJson(`${mock.url}/_mock/world`)).entities.map((e) => [e.entityId, e]));
    const last = new Map();
    for (const update of official) {
        for (const [tag, members] of Object.entries(update.models)) last.set(`${update.entityId} ${tag}`, members);
    }
    for (const [key, members] of last) {
        const [id, tag] = key.split(" ");
        const now = world.get(id)?.models?.[tag];
        if (Object.keys(members).length === 0) assert.equal(now, undefined, `${key} was deleted`);
        else assert.deepEqual(members, now, `${key}: update (actual) vs GET /_mock/world (expected)`);
    }
});
