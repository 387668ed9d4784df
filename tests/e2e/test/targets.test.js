// Sync targets (docs/targets.md): a client keeps what its targets select; the targets of a kind
// share one live stream whose clause is updated in place when `client.targets` changes them; a
// change pages only what it adds where that is exact (the mock's request log counts the rows
// fetched); what no target covers any more leaves (or stays, `targetRetention: 'keep'`); a reload
// resumes every target from the database (the stored ones complete at ready, before any network),
// and a target declared again catches up from its own cursor; two tabs with eight targets between them still hold one
// subscription per kind. Targets select `arena-Player` by `level` (1..60, never changed by the
// mock's scripted updates, so the expected sets are exact while writes stream).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { canonEntities, sortIds } from "../lib/world.js";

const PLAYER = "arena-Player";

let env, world;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "1414"]);
    world = canonEntities(await env.mock.world()).filter((e) => e.models[PLAYER]);
});

after(() => env?.close());

/** A target of the players whose level is in `lo..=hi`. */
function levels(id, lo, hi) {
    const bound = (operator, value) => ({ Member: { model: PLAYER, member: "level", operator, value } });
    return { id, kind: "entities", models: [PLAYER], clause: { Composite: { operator: "And", clauses: [bound("Gte", lo), bound("Lte", hi)] } } };
}

/** A target of these players (raw mock ids). */
function players(id, rawIds) {
    return { id, kind: "entities", models: [PLAYER], clause: { HashedKeys: rawIds } };
}

/** The canonical ids of the players a list of `[lo, hi]` level ranges and raw ids select. */
function expected(ranges, rawIds = []) {
    const ids = world
        .filter((e) => ranges.some(([lo, hi]) => e.models[PLAYER].level >= lo && e.models[PLAYER].level <= hi) || rawIds.includes(e.rawId))
        .map((e) => e.entityId);
    return sortIds(ids);
}

/** The ids of the players the page's view holds. */
async function held(page) {
    return sortIds(Object.keys(await page.evaluate((m) => window.e2e.versions([m])[m], PLAYER)));
}

/** Waits until the page's view holds exactly `ids` (a timeout names the ids missing and extra). */
async function holds(page, ids, what) {
    try {
        await waitFor(async () => JSON.stringify(await held(page)) === JSON.stringify(ids), `${what}: ${ids.length} players held`, 60_000);
    } catch (error) {
        const now = await held(page);
        const missing = ids.filter((id) => !now.includes(id));
        const extra = now.filter((id) => !ids.includes(id));
        const levelOf = (id) => world.find((e) => e.entityId === id)?.models[PLAYER].level;
        const show = (list) => JSON.stringify(list.map((id) => `${id.slice(0, 10)}(level ${levelOf(id)})`));
        throw new Error(`${error.message}; held ${now.length}, missing ${show(missing)}, extra ${show(extra)}`);
    }
}

/** Starts a client with `options` in a page of `context` (a new context: a fresh IndexedDB). */
async function startClient(options, context) {
    const page = await env.openHarness(context);
    const started = await page.evaluate(([url, o]) => window.e2e.start(url, o), [env.mock.url, options]);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    return page;
}

/** `client.targets.list()` of the page. */
function list(page) {
    return page.evaluate(() => window.e2e.client.targets.list());
}

/** Runs `client.targets[method](arg)` and waits until every target is complete; returns the list. */
async function change(page, method, arg) {
    const result = await page.evaluate(
        async ([m, a]) => {
            try {
                await window.e2e.client.targets[m](a);
                for (const t of window.e2e.client.targets.list()) await window.e2e.client.targets.complete(t.id);
                return { list: window.e2e.client.targets.list() };
            } catch (error) {
                return { error: window.e2e.describeError(error) };
            }
        },
        [method, arg],
    );
    assert.ok(result.list, `targets.${method}: ${JSON.stringify(result.error)}`);
    return result.list;
}

/** Waits until every target of the page is complete. */
function allComplete(page) {
    return waitFor(async () => (await list(page)).every((t) => t.complete), "every target complete", 60_000);
}

const opened = (log) => log.filter((e) => /^Subscribe/.test(e.method) && /opened/.test(e.detail));
const updates = (log) => log.filter((e) => /^Update(Entities|EventMessages)Subscription$/.test(e.method));
/** Rows answered by retrieves other than the quiet-stream probes (one-row pages). */
const rowsPaged = (log) =>
    log.filter((e) => /^Retrieve/.test(e.method) && !/limit=1 /.test(e.detail)).reduce((n, e) => n + (e.rows ?? 0), 0);

/** Posts scripted `arena-Player` updates every 100 ms until the returned stop function is called. */
function streamWrites() {
    let running = true;
    const done = (async () => {
        while (running) {
            await env.mock.post("/_mock/updates", { count: 3, model: PLAYER });
            await new Promise((r) => setTimeout(r, 100));
        }
    })();
    return async () => {
        running = false;
        await done;
    };
}

/** Waits until the page holds, for every id of `ids`, the mock's current `last_updated_at`. */
async function current(page, ids) {
    await waitFor(
        async () => {
            const now = canonEntities(await env.mock.world());
            const versions = await page.evaluate((m) => window.e2e.versions([m])[m], PLAYER);
            return ids.every((id) => versions[id] === String(now.find((e) => e.entityId === id).models[PLAYER].last_updated_at));
        },
        "the streamed writes in the view",
        60_000,
    );
}

test("targets change at run time over one stream: only what a change adds is paged, what leaves is dropped", async () => {
    const me = world[0].rawId;
    await env.mock.clearLog();
    const page = await startClient({ models: [PLAYER], targets: [levels("low", 1, 20), players("me", [me])] });
    await allComplete(page);
    await holds(page, expected([[1, 20]], [me]), "start");
    let log = await env.mock.log();
    assert.equal(opened(log).filter((e) => e.method === "SubscribeEntities").length, 1, "one entities stream for two targets");

    const stop = streamWrites();
    try {
        // Move the range: [11, 20] is held, only [21, 30] is paged.
        await env.mock.clearLog();
        await change(page, "update", levels("low", 11, 30));
        log = await env.mock.log();
        assert.equal(updates(log).length, 1, `the live subscription was updated: ${JSON.stringify(log)}`);
        assert.deepEqual(opened(log), [], "no stream opened");
        const added = expected([[21, 30]]).filter((id) => id !== world[0].entityId);
        const paged = rowsPaged(log);
        assert.ok(paged >= added.length && paged <= added.length + 1, `paged ${paged} rows for the ${added.length} players the move added`);
        await holds(page, expected([[11, 30]], [me]), "moved");

        // Add a range: it is paged whole; remove the moved one: its players leave.
        await env.mock.clearLog();
        await change(page, "add", levels("high", 50, 60));
        await holds(page, expected([[11, 30], [50, 60]], [me]), "added");
        await change(page, "remove", "low");
        await holds(page, expected([[50, 60]], [me]), "removed");
        log = await env.mock.log();
        assert.equal(updates(log).length, 2, "each change updated the subscription");
        assert.deepEqual(opened(log), [], "no stream opened");
        assert.deepEqual(
            (await list(page)).map((t) => [t.id, t.complete]),
            [["me", true], ["high", true]],
        );
    } finally {
        await stop();
    }
    await current(page, expected([[50, 60]], [me]));
    assert.equal((await env.mock.status()).subscriptions, 1, "one subscription open");
    assert.deepEqual(await page.evaluate(() => window.e2e.errors), []);
    assert.deepEqual(page.problems, []);
    await page.evaluate(() => window.e2e.client.shutdown());
    await page.context().close();
});

test("targetRetention 'keep' keeps what no target covers any more", async () => {
    const page = await startClient({ models: [PLAYER], targets: [levels("a", 1, 10)], targetRetention: "keep" });
    await allComplete(page);
    await holds(page, expected([[1, 10]]), "start");
    await change(page, "update", levels("a", 30, 35));
    await holds(page, expected([[1, 10], [30, 35]]), "kept and added");
    // A clause the manifest contradicts is refused by the worker, naming where; nothing changes.
    const refused = await page.evaluate(async (p) => {
        const bad = { id: "b", kind: "entities", clause: { Member: { model: p, member: "nope", operator: "Eq", value: 1 } } };
        try {
            await window.e2e.client.targets.add(bad);
            return null;
        } catch (error) {
            return window.e2e.describeError(error);
        }
    }, PLAYER);
    assert.equal(refused?.name, "ValidationError", JSON.stringify(refused));
    assert.ok(refused.isTyped && /targets\[1\]\.clause/.test(refused.message), refused.message);
    assert.deepEqual((await list(page)).map((t) => t.id), ["a"]);
    await page.evaluate(() => window.e2e.client.shutdown());
    await page.context().close();
});

test("a reload resumes every target from the database and pages only a new one", async () => {
    const targets = [levels("a", 1, 5), levels("b", 20, 25), players("c", [world[1].rawId, world[2].rawId])];
    // No catch-up margin and small pages: the reload's catch-up reads the newest page of rows, not the target.
    const syncOptions = { catchUpMarginS: 0, pageSize: 5 };
    const first = await startClient({ models: [PLAYER], targets, syncOptions });
    await allComplete(first);
    const before = expected([[1, 5], [20, 25]], [world[1].rawId, world[2].rawId]);
    await holds(first, before, "first run");
    // A write the first run streams: the newest row it holds is then newer than the earlier tests' writes.
    await new Promise((r) => setTimeout(r, 1100));
    await env.mock.post("/_mock/updates", { count: 1, model: PLAYER, entityIds: [world[1].rawId] });
    await current(first, [world[1].entityId]);
    const context = first.context();
    await first.evaluate(() => window.e2e.client.shutdown());
    await first.close();

    await env.mock.clearLog();
    const page = await env.openHarness(context);
    const started = await page.evaluate(
        ([url, o]) => window.e2e.start(url, o, { capture: ["arena-Player"] }),
        [env.mock.url, { models: [PLAYER], targets: [...targets, levels("d", 40, 42)], syncOptions }],
    );
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    // The stored targets are in the view when the client is ready, before any network, and
    // complete then (restored first); the new one is not until it is paged.
    const restored = sortIds(JSON.parse(started.captured)[PLAYER].map(([id]) => id));
    assert.deepEqual(restored, before, "restored at ready");
    assert.deepEqual(
        started.targetsAtReady.map((t) => [t.id, t.complete]),
        [["a", true], ["b", true], ["c", true], ["d", false]],
        "the stored targets are complete at ready",
    );
    await allComplete(page);
    await holds(page, expected([[1, 5], [20, 25], [40, 42]], [world[1].rawId, world[2].rawId]), "with the new target");
    const log = await env.mock.log();
    const paged = rowsPaged(log);
    const added = expected([[40, 42]]).length;
    assert.ok(paged >= added && paged <= added + 2 * syncOptions.pageSize, `paged ${paged} rows: the new target's ${added} and the newest held, not the ${before.length} held: ${JSON.stringify(log)}`);
    assert.equal(opened(log).filter((e) => e.method === "SubscribeEntities").length, 1, "one stream");
    assert.deepEqual(page.problems, []);
    await page.evaluate(() => window.e2e.client.shutdown());
    await context.close();
});

test("a target declared again after a reload without it catches up from its own cursor", async () => {
    const a = levels("a", 6, 8);
    const b = levels("b", 30, 35);
    const options = (targets) => ({ models: [PLAYER], targets, targetRetention: "keep", syncOptions: { catchUpMarginS: 0, pageSize: 5 } });
    const inB = world.find((e) => e.models[PLAYER].level >= 30 && e.models[PLAYER].level <= 35);
    const inA = world.find((e) => e.models[PLAYER].level >= 6 && e.models[PLAYER].level <= 8);
    const first = await startClient(options([a, b]));
    await allComplete(first);
    const context = first.context();
    await first.evaluate(() => window.e2e.client.shutdown());
    await first.close();
    // Without `b`: a write to one of its players is not streamed; `a` streams one later.
    const second = await env.openHarness(context);
    assert.ok((await second.evaluate(([url, o]) => window.e2e.start(url, o), [env.mock.url, options([a])])).init);
    await allComplete(second);
    await env.mock.post("/_mock/updates", { count: 1, model: PLAYER, entityIds: [inB.rawId] });
    await new Promise((r) => setTimeout(r, 1100));
    await env.mock.post("/_mock/updates", { count: 1, model: PLAYER, entityIds: [inA.rawId] });
    await current(second, [inA.entityId]);
    await second.evaluate(() => window.e2e.client.shutdown());
    await second.close();
    // `b` again: complete at ready (its data was kept), then caught up, not paged again.
    await env.mock.clearLog();
    const page = await env.openHarness(context);
    const started = await page.evaluate(([url, o]) => window.e2e.start(url, o), [env.mock.url, options([a, b])]);
    assert.deepEqual(started.targetsAtReady.map((t) => [t.id, t.complete]), [["a", true], ["b", true]]);
    await current(page, [inB.entityId, inA.entityId]);
    const paged = rowsPaged(await env.mock.log());
    const inTarget = expected([[30, 35]]).length;
    assert.ok(paged <= 2 * 5 && paged < inTarget, `caught up with ${paged} rows, not the ${inTarget} of b`);
    assert.deepEqual(page.problems, []);
    await page.evaluate(() => window.e2e.client.shutdown());
    await context.close();
});

test("two tabs with eight targets share one stream per kind; the leader syncs the union", async () => {
    await env.mock.clearLog();
    const open = (await env.mock.status()).subscriptions;
    const context = await env.browser.newContext();
    const one = [levels("t1", 1, 3), levels("t2", 10, 12), levels("t3", 20, 22), players("t4", [world[3].rawId])];
    const two = [levels("t1", 30, 32), levels("t6", 40, 42), levels("t7", 50, 52), players("t8", [world[4].rawId])];
    const first = await startClient({ models: [PLAYER], targets: one }, context);
    const second = await startClient({ models: [PLAYER], targets: two }, context);
    const union = expected(
        [[1, 3], [10, 12], [20, 22], [30, 32], [40, 42], [50, 52]],
        [world[3].rawId, world[4].rawId],
    );
    await holds(first, union, "leader tab");
    await holds(second, union, "follower tab");
    await allComplete(first);
    await allComplete(second);
    // A follower's change reaches the leader's stream in place.
    await change(second, "update", levels("t6", 44, 46));
    await holds(first, expected([[1, 3], [10, 12], [20, 22], [30, 32], [44, 46], [50, 52]], [world[3].rawId, world[4].rawId]), "after the follower's change");
    const log = await env.mock.log();
    assert.equal(opened(log).filter((e) => e.method === "SubscribeEntities").length, 1, `one entities stream: ${JSON.stringify(opened(log))}`);
    await waitFor(async () => (await env.mock.status()).subscriptions === open + 1, "one subscription open", 10_000);
    assert.ok(updates(log).length >= 1, "the follower's targets were added in place");
    for (const page of [first, second]) assert.deepEqual(page.problems, []);
    await context.close();
});
