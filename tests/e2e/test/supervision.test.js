// Supervised worker (issue 12 item 4): the main thread notices a sync worker that died, restarts
// it on the same database and says so. A worker terminated from the page (no event reaches the
// main thread: only the watchdog can tell) and a worker that throws an uncaught error are each
// restarted; the view keeps showing every player while that happens, is rebuilt from the new
// worker's restore, and live updates flow again.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities } from "../lib/world.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env, entities, players;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "57"]);
    entities = canonEntities(await env.mock.world());
    players = entities.filter((e) => e.models["arena-Player"]);
});

after(() => env?.close());

/** A page whose client synced the world, sampling the number of players it shows every 50 ms. */
async function streamingPage() {
    const page = await env.openHarness();
    const started = await page.evaluate(
        (url) => window.e2e.start(url, { syncOptions: { tickIntervalMs: 250 }, supervision: { watchdogMs: 1000 } }),
        env.mock.url,
    );
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    await waitForEntityCount(page, "arena-Player", players.length);
    await page.evaluate(() => {
        window.e2e.shown = [];
        window.e2e.sampler = setInterval(() => window.e2e.shown.push(window.e2e.count("arena-Player")), 50);
    });
    return page;
}

/** Waits for the restarted worker's INIT_ACK; returns the status then. */
function restarted(page) {
    return waitFor(
        () =>
            page.evaluate(() => {
                const status = window.e2e.client.getSyncStatus();
                return status.restarts === 1 && status.phase === "ready" && { phase: status.phase, restarts: status.restarts };
            }),
        "the restarted worker's INIT_ACK",
        30_000,
    );
}

/** Sets a player's level (a u8) on the mock and waits until the page shows it. */
async function liveUpdateArrives(page, level) {
    const target = players.find((p) => p.models["arena-Player"].level !== level);
    await env.mock.post("/_mock/set", { entityId: target.rawId, model: "arena-Player", values: { level } });
    await waitFor(
        () => page.evaluate(([p, l]) => window.e2e.byPlayer("arena-Player", p)?.level === l, [target.models["arena-Player"].player, level]),
        `level ${level} from the restarted worker`,
        30_000,
    );
}

test("a worker terminated from the page is noticed by the watchdog and restarted; the view never empties; updates flow again", async () => {
    const page = await streamingPage();
    try {
        const began = Date.now();
        assert.equal(await page.evaluate(() => window.e2e.terminateWorkers()), 1);
        assert.deepEqual(await restarted(page), { phase: "ready", restarts: 1 });
        const recoveredMs = Date.now() - began;
        const seen = await page.evaluate(() => {
            clearInterval(window.e2e.sampler);
            return {
                shown: window.e2e.shown,
                phases: window.e2e.statuses.map((s) => s.phase),
                errors: window.e2e.errors,
                workers: window.e2e.workers.length,
                restore: window.e2e.updates.filter((u) => u.source === "restore").length,
            };
        });
        assert.ok(seen.shown.length > 5, `sampled while restarting: ${seen.shown.length}`);
        assert.deepEqual([...new Set(seen.shown)], [players.length], "every player stays shown, none twice");
        assert.ok(seen.phases.includes("restarting"), `the status says so: ${seen.phases.join(",")}`);
        assert.equal(seen.phases.at(-1), "ready");
        assert.deepEqual(
            seen.errors.map((e) => [e.name, e.isTyped]),
            [["WorkerRestartError", true]],
            JSON.stringify(seen.errors),
        );
        assert.match(seen.errors[0].message, /sent nothing for 1000 ms/);
        assert.equal(seen.workers, 2, "one new worker");
        assert.ok(seen.restore >= 1, "the rebuilt view was announced as a restore");
        console.log(`terminated worker: restarted and ready again after ${recoveredMs} ms (watchdog 1000 ms + 250 ms confirmation + 500 ms backoff + start)`);

        await liveUpdateArrives(page, 211);
        assert.deepEqual(page.problems, []);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await page.context().close();
    }
});

test("a worker that throws an uncaught error is restarted, with the error on errors", async () => {
    const page = await streamingPage();
    try {
        const [worker] = page.workers();
        await worker.evaluate(() => {
            setTimeout(() => {
                throw new Error("injected worker failure");
            }, 0);
        });
        assert.deepEqual(await restarted(page), { phase: "ready", restarts: 1 });
        const seen = await page.evaluate(() => {
            clearInterval(window.e2e.sampler);
            return { shown: window.e2e.shown, errors: window.e2e.errors };
        });
        assert.deepEqual([...new Set(seen.shown)], [players.length], "every player stays shown");
        assert.deepEqual(seen.errors.map((e) => e.name), ["WorkerRestartError"], JSON.stringify(seen.errors));
        assert.match(seen.errors[0].message, /injected worker failure/);
        await liveUpdateArrives(page, 222);
        assert.deepEqual(
            page.problems.filter((p) => !p.includes("injected worker failure")),
            [],
        );
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await page.context().close();
    }
});
