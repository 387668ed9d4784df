// `createSyncWorker`: sync without a view fills the database; a client started afterwards in the
// same profile answers every entity at `ready`, from IndexedDB (the mock's gRPC held back).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";

const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];
let env, counts;

before(async () => {
    env = await startEnv(["--entities", "1500", "--seed", "81"]);
    const world = (await env.mock.world()).entities;
    counts = MODELS.map((m) => world.filter((e) => e.models[m]).length);
});

after(() => env?.close());

test("createSyncWorker persists the world for a later client", async () => {
    const page = await env.openHarness();
    const started = await page.evaluate(async (url) => {
        const worker = window.e2e.reactive.createSyncWorker(await window.e2e.options(url));
        window.e2e.syncWorker = worker;
        return { ...(await worker.ready) };
    }, env.mock.url);
    assert.equal(started.restored, 0);
    await waitFor(() => page.evaluate(() => window.e2e.syncWorker.getSyncStatus().state === "streaming"), "the sync worker to stream");
    await page.evaluate(() => window.e2e.syncWorker.shutdown());
    assert.equal(await page.evaluate(() => window.e2e.syncWorker.getSyncStatus().phase), "stopped");

    await env.mock.post("/_mock/delay", { ms: 3000 });
    const client = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(client.init?.restored > 0, JSON.stringify(client));
    assert.deepEqual(await page.evaluate((models) => models.map((m) => window.e2e.count(m)), MODELS), counts);
    await env.mock.post("/_mock/delay", { ms: 0 });
    await page.evaluate(() => window.e2e.client.shutdown());
    assert.deepEqual(page.problems, []);
});
