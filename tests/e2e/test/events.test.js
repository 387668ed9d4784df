// Historical event messages (docs/events.md) in Chromium against mock-torii: an `eventLog`
// target with a count bound syncs the newest events of the history cold, live events follow in
// order within the bound, the catch-up after an ended stream re-reads delivered events without
// showing them twice, the target is complete once its cold walk ended, and a reload with every
// gRPC answer held back shows the stored log once restored (after `ready`), complete, then a
// later event arrives.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";

const COUNT = 40;
const TARGETS = [
    { id: "world", kind: "entities", models: ["arena-Player"] },
    { id: "feed", kind: "eventLog", models: ["arena-Moved"], retention: { count: COUNT } },
];

let env, page;

before(async () => {
    env = await startEnv(["--entities", "50", "--event-messages", "60", "--seed", "5"]);
    page = await env.openHarness();
});

after(() => env?.close());

/** The feed as the page holds it: `[id, executedAt, at]` per event, oldest first. */
const feed = () =>
    page.evaluate(() =>
        window.e2e.client.events.query({ target: "feed" }).map((e) => [e.id, e.executedAt, String(e.models.arena.Moved.at)]),
    );

const move = (player, at) =>
    env.mock.post("/_mock/set", { keys: [player], model: "arena-Moved", values: { direction: { variant: "Up" }, at } });

/** Checks the invariants of a shown log: within the bound, each event once, in time order. */
function assertLog(events, what) {
    assert.ok(events.length <= COUNT, `${what}: ${events.length} events, above the bound of ${COUNT}`);
    assert.equal(new Set(events.map(([id]) => id)).size, events.length, `${what}: an event shown twice`);
    for (let i = 1; i < events.length; i++) {
        assert.ok(events[i - 1][1] <= events[i][1], `${what}: out of order at ${i}`);
    }
}

const tail = async (n) => (await feed()).slice(-n).map(([, , at]) => at);

test("cold sync, live events in order within the bound, a restart's catch-up shown once, a warm reload", async () => {
    const start = await page.evaluate(([url, targets]) => window.e2e.start(url, { targets }), [env.mock.url, TARGETS]);
    assert.equal(start.init?.restored, 0, JSON.stringify(start));
    await waitFor(async () => (await feed()).length === COUNT, `the ${COUNT} newest events of the history`, 60_000);
    assertLog(await feed(), "cold sync");
    await page.evaluate(() => window.e2e.client.targets.complete("feed"));
    const status = () => page.evaluate(() => window.e2e.client.targets.list().find((t) => t.id === "feed"));
    assert.deepEqual(await status(), { id: "feed", kind: "eventLog", restored: true, complete: true });

    // Live: three moves of three players, shown last, in the order they were made.
    for (const [i, player] of ["0x1", "0x2", "0x3"].entries()) await move(player, 1_000_001 + i);
    await waitFor(async () => (await tail(3)).join() === "1000001,1000002,1000003", "three live events in order");
    assertLog(await feed(), "live");

    // The stream ends; the catch-up walk re-reads the three events it delivered.
    const before = (await feed()).map(([id]) => id);
    await env.mock.post("/_mock/end-streams", {});
    await move("0x4", 1_000_004);
    await waitFor(async () => (await tail(1)).join() === "1000004", "the event made after the stream ended");
    const afterRestart = await feed();
    assertLog(afterRestart, "after the restart");
    assert.deepEqual(afterRestart.map(([id]) => id).slice(0, -1), before.slice(1), "the log moved by exactly one event");

    // Reload with Torii's answers held back: the stored log at ready.
    await env.mock.post("/_mock/delay", { ms: 3000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    const warm = await page.evaluate(([url, targets]) => window.e2e.start(url, { targets }), [env.mock.url, TARGETS]);
    assert.ok(warm.init, JSON.stringify(warm));
    await page.evaluate(() => window.e2e.client.targets.complete("feed"));
    assert.deepEqual(await feed(), afterRestart, "the stored log, shown once restored");
    assert.deepEqual(await status(), { id: "feed", kind: "eventLog", restored: true, complete: true });
    await env.mock.post("/_mock/delay", { ms: 0 });

    await move("0x5", 1_000_005);
    await waitFor(async () => (await tail(1)).join() === "1000005", "an event after the reload");
    assertLog(await feed(), "after the reload");
    assert.deepEqual(page.problems, [], "no page error");
});
