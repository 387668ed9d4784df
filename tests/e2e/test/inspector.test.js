// The development inspector in Chromium (issue 7 item 4): with `debug: true`,
// `globalThis.__REACTIVE_DEBUG__` lists the client's entities (the synced world, same ids, same
// values), its recent transitions (the start's included) and ticks, and `forceReplay()` leads to a
// replay and back to streaming; `ledger()` reads back the worker's version ledger, one write
// entry per (entity, model) of the world, with nothing disagreeing; `shutdown()` takes the client
// off the registry; without `debug` the global is never created, not even when a DOM element's id
// (`window.__REACTIVE_DEBUG__`) names it; `globalThis.__REACTIVE_DEBUG__ = true` installs a
// read-only inspector (no client, no forceReplay), removed at shutdown.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { MODELS, waitForState } from "../lib/faults.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";
import { canonEntities, sortIds } from "../lib/world.js";

let env, world;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "83"]);
    world = canonEntities(await env.mock.world()).filter((e) => MODELS.some((m) => e.models[m]));
});

after(() => env?.close());

/** Opens a fresh page (new context: no global left by another client), starts a client with `extra` and waits until it holds the world. */
async function startClient(extra) {
    const page = await env.openHarness();
    const started = await page.evaluate(([url, options]) => window.e2e.start(url, options), [env.mock.url, extra]);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    for (const model of MODELS) await waitForEntityCount(page, model, world.filter((e) => e.models[model]).length);
    await waitForState(page, "streaming");
    return page;
}

/**
 * The entities target of the inspector's `ledger()`: `{ keys, writes, states, syncState, skipped,
 * disagreements }`, `keys` the sorted `model id` of its write entries.
 */
const storedEntities = (page) =>
    page.evaluate(async () => {
        const report = await globalThis.__REACTIVE_DEBUG__.clients[0].ledger();
        const target = report.targets.find((t) => t.target === "entities");
        const writes = target.ledger.filter((e) => e.state === "write");
        return {
            keys: writes.map((e) => `${e.model} ${window.e2e.canon(e.entityId)}`).sort(),
            entries: target.ledger.length,
            writes: writes.length,
            states: target.states,
            syncState: target.syncState,
            skipped: target.skipped,
            disagreements: target.disagreements,
        };
    });

/** Asserts that the stored ledger has exactly one write entry per (entity, model) of the world and agrees with the stored states. */
function assertLedgerIsTheWorld(stored, what) {
    const expected = world.flatMap((e) => Object.keys(e.models).map((m) => `${m} ${e.entityId}`)).sort();
    assert.equal(stored.entries, expected.length, `${what}: one ledger entry per (entity, model), no tombstone`);
    assert.deepEqual(stored.keys, expected, `${what}: the ledger's write entries are the world's (entity, model) pairs`);
    assert.equal(stored.states, expected.length, `${what}: one stored state per ledger write`);
    assert.deepEqual(stored.disagreements, [], `${what}: states, ledger and sync state agree`);
    assert.deepEqual(stored.skipped, [], `${what}: every record reads back`);
    assert.equal(stored.syncState?.snapshotComplete, true, `${what}: the snapshot is complete`);
    assert.equal(stored.syncState?.cursor, null, `${what}: no snapshot in progress`);
}

/** The inspector's transitions as `from→to(reason)`. */
const transitions = (page) =>
    page.evaluate(() =>
        globalThis.__REACTIVE_DEBUG__.clients[0].transitions().map(({ transition: t, receivedAt }) => ({
            text: `${t.target} ${t.from}→${t.to}(${t.reason.kind})`,
            receivedAt,
        })),
    );

test("debug: true: __REACTIVE_DEBUG__ lists the synced world, its ledger and the start's transitions; forceReplay replays; shutdown leaves the registry", async () => {
    const page = await startClient({ debug: true });
    try {
        const listed = await page.evaluate(() => {
            const registry = globalThis.__REACTIVE_DEBUG__;
            const inspector = registry.clients[0];
            const entities = inspector.entities(undefined, 100_000);
            return {
                clients: registry.clients.length,
                isTheClient: inspector.client === window.e2e.client,
                entities: entities.map(({ entityId, entity }) => ({ id: window.e2e.canon(entityId), entity: window.e2e.tagged(entity) })),
                oneById: window.e2e.tagged(inspector.entity(entities[0].entityId)),
                held: inspector.ticks().entities?.ledger.held,
            };
        });
        assert.equal(listed.clients, 1, "one client registered");
        assert.ok(listed.isTheClient, "the registry's entry is the running client");
        const ids = listed.entities.map((e) => e.id);
        assert.deepEqual(sortIds(ids), sortIds(world.map((e) => e.entityId)), "the inspector lists exactly the synced world's entities");
        const byId = new Map(world.map((e) => [e.entityId, e.models]));
        const differing = listed.entities.filter((e) => !isDeepStrictEqual(e.entity.models, byId.get(e.id)));
        assert.deepEqual(differing.slice(0, 3), [], "every listed entity has the world's values");
        assert.deepEqual(listed.oneById.models, byId.get(listed.entities[0].id), "entity(id) answers the world's entity");
        const states = world.reduce((n, e) => n + Object.keys(e.models).length, 0);
        assert.equal(listed.held, states, "the last tick's ledger holds one version per (entity, model) of the world");

        assertLedgerIsTheWorld(await storedEntities(page), "after the bootstrap");

        const start = await transitions(page);
        const text = start.map((t) => t.text);
        assert.ok(text.includes("entities idle→bootstrapping(start)"), `the start's transition is listed: ${text.join(", ")}`);
        assert.ok(text.includes("entities bootstrapping→streaming(snapshotComplete)"), `the bootstrap's end is listed: ${text.join(", ")}`);
        assert.ok(start.every((t) => Number.isFinite(t.receivedAt)), "each transition has its arrival time");

        const replaysBefore = await page.evaluate(() => globalThis.__REACTIVE_DEBUG__.clients[0].ticks().entities.replayCount);
        await page.evaluate(() => globalThis.__REACTIVE_DEBUG__.clients[0].forceReplay());
        const afterReplay = await waitFor(
            async () => {
                const since = (await transitions(page)).slice(start.length).map((t) => t.text);
                const replay = since.indexOf("entities streaming→replaying(forced)");
                return replay >= 0 && since.slice(replay + 1).includes("entities replaying→streaming(snapshotComplete)") ? since : false;
            },
            "forceReplay's replay and the return to streaming in the inspector's transitions",
            60_000,
        );
        assert.ok(afterReplay.length >= 2, afterReplay.join(", "));
        await waitFor(
            () => page.evaluate((n) => globalThis.__REACTIVE_DEBUG__.clients[0].ticks().entities.replayCount > n, replaysBefore),
            "a tick counting the forced replay",
            30_000,
        );

        assertLedgerIsTheWorld(await storedEntities(page), "after the forced replay");

        // A live write moves its ledger entry to the write's version (the mock stamps live writes
        // with the wall clock; its generated history is from early 2025).
        const player = world.find((e) => e.models["arena-Player"]);
        const entryOf = () =>
            page.evaluate(async (id) => {
                const report = await globalThis.__REACTIVE_DEBUG__.clients[0].ledger();
                const target = report.targets.find((t) => t.target === "entities");
                return target.ledger.find((e) => e.model === "arena-Player" && window.e2e.canon(e.entityId) === id) ?? null;
            }, player.entityId);
        const old = await entryOf();
        const writtenAt = Math.floor(Date.now() / 1000);
        await env.mock.post("/_mock/set", { entityId: player.rawId, model: "arena-Player", values: { level: 99 } });
        const moved = await waitFor(
            async () => {
                const entry = await entryOf();
                return entry && entry.updatedAt > old.updatedAt ? entry : false;
            },
            "the live write's version in the stored ledger",
            30_000,
        );
        assert.equal(moved.state, "write");
        assert.ok(moved.updatedAt >= writtenAt - 1, `the entry holds the live write's version: ${JSON.stringify({ old, moved, writtenAt })}`);

        const afterShutdown = await page.evaluate(async () => {
            const inspector = globalThis.__REACTIVE_DEBUG__.clients[0];
            await window.e2e.client.shutdown();
            const ledger = await inspector.ledger().then(
                () => "resolved",
                (error) => window.e2e.describeError(error),
            );
            return { registered: globalThis.__REACTIVE_DEBUG__?.clients.length ?? 0, ledger };
        });
        assert.equal(afterShutdown.registered, 0, "shutdown() takes the client off __REACTIVE_DEBUG__");
        assert.equal(afterShutdown.ledger.name, "ValidationError", `ledger() of a stopped client rejects: ${JSON.stringify(afterShutdown.ledger)}`);
        assert.ok(afterShutdown.ledger.isTyped, "with the package's ValidationError");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("without debug, __REACTIVE_DEBUG__ is absent", async () => {
    const page = await startClient({});
    try {
        assert.equal(await page.evaluate(() => "__REACTIVE_DEBUG__" in globalThis), false);
        await page.evaluate(() => window.e2e.client.shutdown());
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});

test("an element with id __REACTIVE_DEBUG__ does not turn the inspector on; the app's `true` installs a read-only one", async () => {
    const page = await env.openHarness();
    try {
        const named = await page.evaluate(async (url) => {
            const element = document.createElement("div");
            element.id = "__REACTIVE_DEBUG__";
            document.body.append(element);
            const started = await window.e2e.start(url);
            const result = { ready: Boolean(started.init), global: globalThis.__REACTIVE_DEBUG__ === element };
            await window.e2e.client.shutdown();
            element.remove();
            return result;
        }, env.mock.url);
        assert.deepEqual(named, { ready: true, global: true }, "the named element stays what the global names");

        const optedIn = await page.evaluate(async (url) => {
            globalThis.__REACTIVE_DEBUG__ = true;
            const started = await window.e2e.start(url);
            const [entry] = globalThis.__REACTIVE_DEBUG__.clients;
            for (let i = 0; i < 100 && entry.transitions().length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
            const result = {
                ready: Boolean(started.init),
                members: Object.keys(entry).sort(),
                transitions: entry.transitions().length > 0,
            };
            await window.e2e.client.shutdown();
            result.after = globalThis.__REACTIVE_DEBUG__;
            return result;
        }, env.mock.url);
        assert.equal(optedIn.ready, true);
        assert.deepEqual(optedIn.members, ["entities", "entity", "errors", "ledger", "overlay", "ticks", "transitions"]);
        assert.ok(optedIn.transitions, "it reads (the transitions of the start)");
        assert.equal(optedIn.after, true, "shutdown restores the app's opt-in");
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
});
