// A large stored event log (docs/events.md, "Reloads") in Chromium against mock-torii: an
// `eventLog` target without a bound over 5,000 generated `arena-Moved` events is complete once
// its cold walk ended (`targets.list()` and `targets.complete()`); a reload with every gRPC
// answer held back resolves `ready` before the stored log is on the page, the log then fills in
// newest first, in chunks, each event once and in time order, and the target is complete once
// restored (its walk was stored); a later live event follows.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";

const EVENTS = 5_000;
const TARGETS = [
    { id: "world", kind: "entities", models: ["arena-Player"] },
    { id: "log", kind: "eventLog", models: ["arena-Moved"] },
];

let env, page;

before(async () => {
    env = await startEnv(["--entities", "50", "--event-messages", String(EVENTS), "--seed", "7"]);
    page = await env.openHarness();
});

after(() => env?.close());

/**
 * Creates the client and records, from its creation on, the log's length after each batch, the
 * newest event after the first, what `ready` saw, and when `targets.complete('log')` resolved.
 */
const startRecording = () =>
    page.evaluate(async ([url, targets]) => {
        const options = await window.e2e.options(url, { targets });
        const client = window.e2e.reactive.createReactiveClient(options);
        window.e2e.client = client;
        const seen = (window.seen = { lengths: [], firstNewest: null, completeAt: null });
        const held = () => client.events.query({ target: "log" });
        client.events.onChange(() => {
            const events = held();
            if (seen.lengths.length === 0) seen.firstNewest = events[events.length - 1]?.id ?? null;
            seen.lengths.push(events.length);
        });
        await client.ready;
        // In the task `ready` resolved in: what the page held then.
        seen.atReady = { held: held().length, status: client.targets.list().find((t) => t.id === "log") };
        client.targets.complete("log").then(() => (seen.completeAt = held().length));
        return seen.atReady;
    }, [env.mock.url, TARGETS]);

const recorded = () => page.evaluate(() => window.seen);

const log = () =>
    page.evaluate(() => window.e2e.client.events.query({ target: "log" }).map((e) => [e.id, e.executedAt]));

/** Each event once, in time order. */
function assertLog(events, what) {
    assert.equal(new Set(events.map(([id]) => id)).size, events.length, `${what}: an event shown twice`);
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1][1] <= events[i][1], `${what}: out of order at ${i}`);
}

test("a large stored log reaches the page after ready, newest first, and the target is complete once restored", async () => {
    // Cold: the whole history, then complete (list and complete()).
    const cold = await startRecording();
    assert.deepEqual(cold.status, { id: "log", kind: "eventLog", restored: false, complete: false });
    await waitFor(async () => (await recorded()).completeAt !== null, "targets.complete('log') after the cold walk", 120_000);
    const synced = await log();
    assert.equal(synced.length, EVENTS, "every event of the history");
    assertLog(synced, "cold sync");
    assert.equal((await recorded()).completeAt, EVENTS, "complete once the walk ended");
    const coldStatus = await page.evaluate(() => window.e2e.client.targets.list().find((t) => t.id === "log"));
    assert.deepEqual(coldStatus, { id: "log", kind: "eventLog", restored: true, complete: true });

    // Reload with Torii's answers held back: ready first, then the stored log in chunks.
    await env.mock.post("/_mock/delay", { ms: 5000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    const warm = await startRecording();
    assert.ok(warm.held < EVENTS, `ready waited for the stored log (${warm.held} events held at ready)`);
    assert.deepEqual(warm.status, { id: "log", kind: "eventLog", restored: false, complete: false });
    await waitFor(async () => (await recorded()).completeAt !== null, "complete once the stored log is restored", 60_000);
    const seen = await recorded();
    assert.equal(seen.completeAt, EVENTS, "complete with the whole stored log on the page, Torii held back");
    assert.ok(seen.lengths.length >= 3, `the log came in chunks (lengths ${seen.lengths.join(", ")})`);
    for (let i = 1; i < seen.lengths.length; i++) assert.ok(seen.lengths[i - 1] <= seen.lengths[i], "the log only fills in");
    const restored = await log();
    assert.deepEqual(restored, synced, "the stored log, as synced");
    assert.equal(seen.firstNewest, synced[synced.length - 1][0], "the newest event came first");
    await env.mock.post("/_mock/delay", { ms: 0 });

    // A live event follows, once.
    await env.mock.post("/_mock/set", { keys: ["0x1"], model: "arena-Moved", values: { direction: { variant: "Up" }, at: 9_000_001 } });
    await waitFor(async () => (await log()).length === EVENTS + 1, "a live event after the restore", 60_000);
    assertLog(await log(), "after the reload");
    assert.deepEqual(page.problems, [], "no page error");
});
