// Client lifecycle: `shutdown()` ends the worker, its Torii streams and the client's streams. (A
// changed manifest is no longer an error: see upgrades.test.js.)

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env, players;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "41"]);
    players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).length;
});

after(() => env?.close());

test("shutdown() ends the worker, its Torii streams and the client's streams", async () => {
    const page = await env.openHarness();
    const started = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(started.init, JSON.stringify(started.error));
    await waitForEntityCount(page, "arena-Player", players);
    await waitFor(async () => (await env.mock.status()).subscriptions > 0, "the worker's subscription on the mock");
    assert.equal(page.workers().length, 1, "one sync worker runs");
    const closed = new Promise((resolve) => page.workers()[0].once("close", resolve));

    await page.evaluate(() => window.e2e.client.shutdown());
    await closed;
    assert.equal(page.workers().length, 0, "the worker is gone");
    await waitFor(async () => (await env.mock.status()).subscriptions === 0, "the mock to see no subscriber");
    const state = await page.evaluate(() => {
        let queryError;
        try {
            window.e2e.client.query("arena-Player");
        } catch (error) {
            queryError = window.e2e.describeError(error);
        }
        return { ended: window.e2e.ended, phase: window.e2e.client.getSyncStatus().phase, queryError };
    });
    assert.deepEqual(state.ended, { errors: true, syncStatus: true, entityUpdates: true });
    assert.equal(state.phase, "stopped");
    assert.equal(state.queryError?.name, "ValidationError", "a shut-down client refuses queries with a typed error");
    assert.deepEqual(page.problems, []);
});
