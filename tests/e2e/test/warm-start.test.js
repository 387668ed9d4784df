// Reload: the second start answers queries from IndexedDB as soon as `ready` resolves (every
// gRPC response of the mock is held back meanwhile, so the data cannot come from the network),
// resumes its stream (a change made after the reload arrives), and fetches no full snapshot again.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];
let env, page, world, counts;

before(async () => {
    env = await startEnv(["--entities", "3000", "--seed", "51"]);
    world = (await env.mock.world()).entities;
    counts = Object.fromEntries(MODELS.map((m) => [m, world.filter((e) => e.models[m]).length]));
    page = await env.openHarness();
});

after(() => env?.close());

/** RetrieveEntities calls in the mock's log. */
const retrieves = (log) => log.filter((entry) => entry.method === "RetrieveEntities");

test("reload gives a warm start from IndexedDB and resumes", async () => {
    const cold = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.equal(cold.init?.restored, 0, JSON.stringify(cold));
    for (const model of MODELS) await waitForEntityCount(page, model, counts[model]);
    await waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "streaming");
    const coldRetrieves = retrieves(await env.mock.log());
    assert.ok(coldRetrieves.length > 0, "the cold start paged the snapshot");

    await env.mock.clearLog();
    await env.mock.post("/_mock/delay", { ms: 3000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    const warm = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.equal(warm.init?.restored, world.length, `every entity restored: ${JSON.stringify(warm)}`);
    const restored = await page.evaluate((models) => models.map((m) => window.e2e.count(m)), MODELS);
    assert.deepEqual(restored, MODELS.map((m) => counts[m]), "queries answer every entity at ready");
    await env.mock.post("/_mock/delay", { ms: 0 });

    const target = world.find((e) => e.models["arena-Player"]);
    await env.mock.post("/_mock/set", { entityId: target.entityId, model: "arena-Player", values: { name: "After Reload" } });
    await waitFor(
        () => page.evaluate((p) => window.e2e.byPlayer("arena-Player", p)?.name === "After Reload", target.models["arena-Player"].player),
        "the change made after the reload to arrive",
    );

    const log = await env.mock.log();
    console.log(`# mock log after the reload: ${JSON.stringify(log.slice(0, 20))} (${log.length} entries)`);
    const fullPages = retrieves(log).filter((entry) => !/clause=hashed_keys/.test(entry.detail));
    assert.equal(fullPages.length, 0, `no snapshot re-fetch after the reload; cold start made ${coldRetrieves.length} retrieves, the warm one: ${JSON.stringify(fullPages)}`);
    assert.deepEqual(page.problems, []);
});
