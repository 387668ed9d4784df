// Reload: the second start answers queries from IndexedDB as soon as `ready` resolves (every
// gRPC response of the mock is held back meanwhile, so the data cannot come from the network),
// and resumes its stream (a change made after the reload arrives). It does not fetch the
// snapshot again: it catches up on the newest rows only (the last test).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];
let env, page, world, counts, coldRetrieves, warmLog;

before(async () => {
    env = await startEnv(["--entities", "3000", "--seed", "51"]);
    world = (await env.mock.world()).entities;
    counts = Object.fromEntries(MODELS.map((m) => [m, world.filter((e) => e.models[m]).length]));
    page = await env.openHarness();
});

after(() => env?.close());

/** Snapshot pages (RetrieveEntities without a by-id clause) in a mock log. */
const snapshotPages = (log) =>
    log.filter((entry) => entry.method === "RetrieveEntities" && !/clause=hashed_keys/.test(entry.detail));

const streaming = () =>
    waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "the synchronizer to stream");

test("reload gives a warm start from IndexedDB and resumes the stream", async () => {
    const cold = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.equal(cold.init?.restored, 0, JSON.stringify(cold));
    for (const model of MODELS) await waitForEntityCount(page, model, counts[model]);
    await streaming();
    coldRetrieves = snapshotPages(await env.mock.log()).length;
    assert.ok(coldRetrieves >= 3, `the cold start paged the whole snapshot (${coldRetrieves} pages of 1000)`);

    await env.mock.clearLog();
    await env.mock.post("/_mock/delay", { ms: 3000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    const warm = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(warm.init?.restored > 0, `the start restored the stored entities: ${JSON.stringify(warm)}`);
    const restored = await page.evaluate((models) => models.map((m) => window.e2e.count(m)), MODELS);
    assert.deepEqual(restored, MODELS.map((m) => counts[m]), "queries answer every entity at ready");
    await env.mock.post("/_mock/delay", { ms: 0 });

    const target = world.find((e) => e.models["arena-Player"]);
    await env.mock.post("/_mock/set", { entityId: target.entityId, model: "arena-Player", values: { name: "After Reload" } });
    await waitFor(
        () => page.evaluate((p) => window.e2e.byPlayer("arena-Player", p)?.name === "After Reload", target.models["arena-Player"].player),
        "the change made after the reload to arrive",
    );
    await streaming();
    warmLog = await env.mock.log();
    assert.ok(warmLog.some((entry) => entry.method === "SubscribeEntities"), "the warm start subscribed again");
    assert.deepEqual(page.problems, []);
});

// The synchronizer catches up after a restart (crates/core/src/sync/mod.rs, "Restart"): it reads
// the newest rows down to the last update it applied, one page here, never the whole snapshot.
test("the warm start fetches no full snapshot again", () => {
    assert.ok(warmLog, "the warm start ran");
    const pages = snapshotPages(warmLog);
    assert.ok(pages.length <= 1, `${pages.length} snapshot pages after the reload (the cold start made ${coldRetrieves})`);
    assert.ok(pages.length < coldRetrieves, "fewer pages than the cold start");
});
