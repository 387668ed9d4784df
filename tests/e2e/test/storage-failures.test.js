// Storage failures never stop live data: with the quota exhausted mid-stream (every
// `IDBObjectStore.put` in the sync worker throws the browser's `QuotaExceededError` meanwhile:
// CDP's `Storage.overrideQuotaForOrigin` is not enforced reliably on small writes, so it cannot
// script the fault), live updates keep reaching the page, the status counts the model states not
// yet stored, one StorageError with quota advice arrives, and sync neither fails a pass nor halts;
// once the quota is back the waiting states are written, and after a reload (every gRPC answer
// held back) the store equals the mock's world.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { MODELS, startFaultClient, tick, transitionsSince } from "../lib/faults.js";
import { waitFor } from "../lib/wait.js";
import { canonEntities } from "../lib/world.js";

let env, page, worker;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "73"]);
    // A small retry budget: a storage failure that still failed passes would halt sync at once.
    page = await startFaultClient(env, { syncOptions: { replayBudget: 2 } });
    worker = page.workers().find((w) => /worker/.test(w.url()));
    assert.ok(worker, `the sync worker is visible (${page.workers().map((w) => w.url())})`);
    await worker.evaluate(() => {
        const put = IDBObjectStore.prototype.put;
        globalThis.quotaFull = false;
        IDBObjectStore.prototype.put = function (...args) {
            if (globalThis.quotaFull) throw new DOMException("the test's quota is used up", "QuotaExceededError");
            return put.apply(this, args);
        };
    });
});

/** Exhausts (`true`) or restores (`false`) the sync worker's storage quota. */
const quotaFull = (full) => worker.evaluate((f) => (globalThis.quotaFull = f), full);

after(() => env?.close());

/** Sets the name of `count` players on the mock, `spacingMs` apart; returns `[player, name]` pairs. */
async function rename(players, label, spacingMs = 0) {
    const names = [];
    for (const [i, entity] of players.entries()) {
        const name = `${label} ${i}`;
        await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Player", values: { name } });
        names.push([entity.models["arena-Player"].player, name]);
        if (spacingMs) await new Promise((r) => setTimeout(r, spacingMs));
    }
    return names;
}

/** Waits until the page shows every `[player, name]`. */
function shown(names, what) {
    return waitFor(
        () => page.evaluate((list) => list.every(([p, n]) => window.e2e.byPlayer("arena-Player", p)?.name === n), names),
        what,
    );
}

const errorsNamed = (name) => page.evaluate((n) => window.e2e.errors.filter((e) => e.name === n), name);

test("quota exhausted mid-stream: live data goes on, persistence catches up once space is back", async () => {
    const world = canonEntities(await env.mock.world());
    const players = world.filter((e) => e.models["arena-Player"]);
    const transitionsBefore = (await page.evaluate(() => window.e2e.faults.transitions)).length;

    await quotaFull(true);

    // Live updates while nothing can be stored: they reach the page, the status says so.
    const first = await rename(players.slice(0, 40), "Quota");
    await shown(first, "updates made while the quota is exhausted to reach the page");
    const behind = await waitFor(async () => {
        const t = await tick(page);
        return t?.unpersisted > 0 && t;
    }, "SYNC_TICK to count model states not yet stored");
    assert.ok(behind.unpersisted <= players.length * MODELS.length, `bounded: ${behind.unpersisted}`);

    const quota = await waitFor(async () => {
        const errors = await errorsNamed("StorageError");
        return errors.length > 0 && errors;
    }, "a StorageError about the quota");
    assert.ok(quota[0].isTyped, "a StorageError instance");
    assert.match(quota[0].message, /free disk space or call reset\(\)/);
    assert.doesNotMatch(quota[0].message, /Torii/);

    // Keep streaming for longer than sync used to survive (it halted within ~5 s).
    const during = await rename(players.slice(40, 70), "Still live", 200);
    await shown(during, "updates made while the quota stays exhausted to reach the page");
    const status = await page.evaluate(() => window.e2e.client.getSyncStatus());
    assert.equal(status.phase, "ready");
    assert.equal(status.state, "streaming");
    assert.deepEqual(await errorsNamed("SyncFatalError"), [], "sync did not halt");
    assert.deepEqual(await errorsNamed("TransportError"), [], "storage failures are not reported as transport errors");
    const quotaErrors = (await errorsNamed("StorageError")).filter((e) => /quota/.test(e.message));
    assert.equal(quotaErrors.length, 1, "reported once for the episode, not per batch");
    const failedPasses = (await transitionsSince(page, transitionsBefore)).filter((t) => t.to === "retrying" || t.to === "lagging");
    assert.deepEqual(failedPasses, [], "no failed pass, no lost stream");

    // Space is back: the next write stores what waited (and the retry would, on its own).
    await quotaFull(false);
    const last = await rename(players.slice(70, 75), "Space back");
    await shown(last, "updates made after the quota is restored");
    await waitFor(async () => (await tick(page))?.unpersisted === 0, "every waiting model state to be stored", 60_000);

    // A reload restores, with the mock holding every answer back, exactly the mock's world.
    const expected = {};
    for (const entity of canonEntities(await env.mock.world())) {
        for (const model of MODELS) {
            if (entity.models[model]) (expected[model] ??= {})[entity.entityId] = entity.models[model];
        }
    }
    await env.mock.post("/_mock/delay", { ms: 3000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    const warm = await page.evaluate(([url, models]) => window.e2e.start(url, {}, { capture: models }), [env.mock.url, MODELS]);
    await env.mock.post("/_mock/delay", { ms: 0 });
    assert.ok(warm.init, `ready after the reload: ${JSON.stringify(warm.error)}`);
    assert.equal(warm.init.persistence, "indexedDb");
    const restored = Object.fromEntries(
        Object.entries(JSON.parse(warm.captured)).map(([model, items]) => [model, Object.fromEntries(items)]),
    );
    for (const model of MODELS) {
        const mismatched = Object.keys(expected[model] ?? {}).filter((id) => !isDeepStrictEqual(restored[model]?.[id], expected[model][id]));
        assert.deepEqual(mismatched.slice(0, 5), [], `${model}: the stored states equal the mock's world`);
        assert.equal(Object.keys(restored[model] ?? {}).length, Object.keys(expected[model] ?? {}).length, `${model}: no extra state`);
    }
    assert.deepEqual(page.problems, []);
});

test("another tab deletes the database: live data goes on, one StorageError says so, nothing is recreated", async () => {
    await waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "the reloaded client to stream");
    const dbName = await page.evaluate(() => window.e2e.client.getSyncStatus().init.dbName);
    const players = canonEntities(await env.mock.world()).filter((e) => e.models["arena-Player"]);
    // Another connection of the origin deletes it (what another tab's reset() does): the worker
    // steps aside, so the deletion is not blocked.
    const outcome = await page.evaluate(
        (name) =>
            new Promise((resolve) => {
                const request = indexedDB.deleteDatabase(name);
                request.onsuccess = () => resolve("deleted");
                request.onerror = () => resolve(`error ${request.error}`);
                request.onblocked = () => resolve("blocked");
            }),
        dbName,
    );
    assert.equal(outcome, "deleted");
    const names = await rename(players.slice(100, 110), "After deletion");
    await shown(names, "updates made after the deletion to reach the page");
    const deleted = await waitFor(async () => {
        const errors = (await errorsNamed("StorageError")).filter((e) => /deleted/.test(e.message));
        return errors.length > 0 && errors;
    }, "a StorageError saying the database was deleted");
    assert.equal(deleted.length, 1);
    assert.match(deleted[0].message, /reset\(\)|reload/);
    const more = await rename(players.slice(110, 115), "Still after deletion");
    await shown(more, "later updates to reach the page");
    assert.equal((await errorsNamed("StorageError")).filter((e) => /deleted/.test(e.message)).length, 1, "once");
    assert.deepEqual(await errorsNamed("SyncFatalError"), []);
    const listed = await page.evaluate(async (name) => (await indexedDB.databases()).some((d) => d.name === name), dbName);
    assert.equal(listed, false, "no empty database was created under the running client");
});

test("without IndexedDB the client runs in memory and says so", async () => {
    const memoryPage = await env.openHarness();
    await memoryPage.evaluate(() => (window.e2e.withoutIndexedDb = true));
    const started = await memoryPage.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    assert.equal(started.init.persistence, "memory");
    const world = canonEntities(await env.mock.world());
    const players = world.filter((e) => e.models["arena-Player"]);
    await waitFor(
        () => memoryPage.evaluate((n) => window.e2e.count("arena-Player") === n, players.length),
        "every player synced in memory",
    );
    const warning = (await memoryPage.evaluate(() => window.e2e.errors)).filter((e) => e.name === "StorageError");
    assert.equal(warning.length, 1, JSON.stringify(warning));
    assert.match(warning[0].message, /runs in memory/);
    const [player, name] = (await rename(players.slice(0, 1), "In memory"))[0];
    await waitFor(
        () => memoryPage.evaluate(([p, n]) => window.e2e.byPlayer("arena-Player", p)?.name === n, [player, name]),
        "a live update in memory",
    );
    assert.deepEqual(await memoryPage.evaluate(() => window.e2e.errors.filter((e) => e.name === "SyncFatalError")), []);
    assert.deepEqual(memoryPage.problems, []);
});
