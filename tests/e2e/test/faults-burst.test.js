// A burst of 200,000 updates over 2,000 entities while the page renders (issue 7): the client
// converges to the mock's world, never shows an older version of a watched counter, never gives
// up (no SyncFatalError), its buffer of stream updates and its version ledger stay bounded by the
// (entity, model) pairs, and the JS heaps of the page and of the sync worker settle back near
// where they were (their wasm memories stay within a bound). Twice: with a mock buffer large
// enough that every update is streamed to the client, and with Torii's default buffer (16,384),
// which the burst overflows: the mock ends the stream and the client must replay and converge.

import assert from "node:assert/strict";
import { test } from "node:test";
import { startEnv } from "../lib/env.js";
import { MODELS, assertRecoveryPath, convergeAndReport, counter, memoryProbe, startFaultClient, tick, transitionsSince } from "../lib/faults.js";

const BURST = 200_000;
const TARGETS = 2_000;
/** Updates per `/_mock/updates` call (the counter is bumped between calls). */
const CHUNK = 10_000;
const MB = 2 ** 20;
const mb = (bytes) => Math.round(bytes / MB);
/** Each case fails rather than hangs (a run takes 30-60 s on the 2-core CI machine). */
const CASE = { timeout: 240_000 };

/**
 * Runs the burst against a fresh mock started with `mockArgs`; returns the FAULT-REPORT figures
 * plus `resubscribed` (streams opened again after the burst began) and `transitions`.
 */
async function burst(name, mockArgs) {
    // 2,700 entities: 2,025 players (Player + Position), 675 inventories.
    const env = await startEnv(["--entities", "2700", "--seed", "75", ...mockArgs]);
    try {
        const players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).map((e) => e.entityId);
        assert.ok(players.length > TARGETS, `the world has more than ${TARGETS} players`);
        // Torii's timestamps are whole seconds: updates of one entity within the same second tie,
        // and a tie goes to the stream, which can show an older value for a moment after a
        // replay. The models' `last_updated_at` (which every write increases) as their version
        // member makes the order strict: never an older value over a newer one.
        const models = MODELS.map((tag) => ({ tag, versionMember: "last_updated_at" }));
        const page = await startFaultClient(env, { watchId: players[0], syncOptions: { tickIntervalMs: 100 }, models });
        return await run(env, page, players, name);
    } finally {
        await env.close();
    }
}

/** The page renders: a filter subscription over every player and id subscriptions of 40 positions write to the DOM. */
function render(page, ids) {
    return page.evaluate((positions) => {
        const view = document.createElement("pre");
        document.body.append(view);
        const { client } = window.e2e;
        window.e2e.renders = 0;
        client.subscribe("arena-Player", { where: [{ member: "level", op: "gte", value: 0 }] }, (list) => {
            view.textContent = `${list.length} players`;
            window.e2e.renders += 1;
        });
        for (const id of positions) client.subscribe("arena-Position", id, (entity) => (view.title = JSON.stringify(window.e2e.canon(entity?.models ?? null))));
        window.e2e.memory = [];
        window.e2e.memoryTimer = setInterval(() => window.e2e.memory.push(performance.memory?.usedJSHeapSize ?? 0), 250);
    }, ids);
}

async function run(env, page, players, name) {
    /** Entity subscriptions opened on the mock so far. */
    const opened = async () => (await env.mock.log()).filter((e) => e.method === "SubscribeEntities" && /opened/.test(e.detail)).length;
    await render(page, players.slice(1, 41));
    const probe = await memoryProbe(page);
    // The harness records every DELTA's ids and every status for other tests: not the package's
    // memory, so they are emptied before each settled measurement.
    const forgetRecords = () => page.evaluate(() => (window.e2e.updates.length = window.e2e.statuses.length = 0));
    await forgetRecords();
    const memBefore = await probe.measure();
    const samples = [];
    const sampler = setInterval(() => probe.sample().then((s) => samples.push(s), () => {}), 250);
    const subscriptions = await opened();
    const mark = (await transitionsSince(page)).length;
    const count = counter(env.mock, players[0]);
    const beforeTick = await tick(page);
    const targets = players.slice(1, TARGETS + 1);
    let line;
    try {
        for (let sent = 0; sent < BURST; sent += CHUNK) {
            const { applied } = await env.mock.post("/_mock/updates", { count: CHUNK, entityIds: targets });
            assert.equal(applied, CHUNK);
            await count.bump();
        }
        line = await convergeAndReport(page, env.mock, name, { endedAt: Date.now(), before: beforeTick, counterValue: count.last() });
    } finally {
        clearInterval(sampler);
    }
    const { renders, memory } = await page.evaluate(() => {
        clearInterval(window.e2e.memoryTimer);
        return { renders: window.e2e.renders, memory: window.e2e.memory };
    });
    await forgetRecords();
    const memAfter = await probe.measure();
    const pagePeak = Math.max(memBefore.pageHeap, ...samples.map((s) => s.pageHeap));
    const workerPeak = Math.max(memBefore.workerHeap, ...samples.map((s) => s.workerHeap));
    const afterTick = await tick(page);
    const resubscribed = (await opened()) - subscriptions;
    const transitions = await transitionsSince(page, mark);
    console.log(
        `FAULT-REPORT ${JSON.stringify({
            scenario: `${name} memory (MB, before/peak/after)`,
            pageHeap: [mb(memBefore.pageHeap), mb(pagePeak), mb(memAfter.pageHeap)],
            workerHeap: [mb(memBefore.workerHeap), mb(workerPeak), mb(memAfter.workerHeap)],
            wasm: { page: [mb(memBefore.pageWasm), mb(memAfter.pageWasm)], worker: [mb(memBefore.workerWasm), mb(memAfter.workerWasm)] },
            performanceMemory: memory.length ? [mb(memory[0]), mb(Math.max(...memory)), mb(memory.at(-1))] : null,
            renders,
            resubscribed,
            transitions: transitions.map((t) => `${t.from}→${t.to}(${t.reason})`).join(" "),
            ledgerHeld: afterTick?.ledger.held,
        })}`,
    );
    assert.ok(renders > 0, "the page rendered during the burst");
    const errors = await page.evaluate(() => window.e2e.errors);
    assert.ok(!errors.some((e) => e.name === "SyncFatalError"), `no SyncFatalError: ${JSON.stringify(errors)}`);
    // Updates are compacted per (entity, model): the buffer never holds more than the pairs touched.
    const pairs = (TARGETS + 1) * 2;
    assert.ok(line.maxQueueDepth <= pairs, `queue depth ${line.maxQueueDepth} stays within the ${pairs} (entity, model) pairs touched`);
    // The ledger holds one version per (entity, model) of the world, whatever the number of updates.
    const world = (await env.mock.world()).entities;
    const worldPairs = world.reduce((n, e) => n + Object.keys(e.models).length, 0);
    assert.ok(afterTick.ledger.held <= worldPairs, `ledger holds ${afterTick.ledger.held} versions for ${worldPairs} (entity, model) pairs`);
    // Heaps after a full collection: a leak keeping even 100 bytes per update (20 MB) breaks the
    // settled bounds. The page's peak may hold a few DELTA batches and the renders' lists (2,000
    // players each) in flight, but not the burst (200,000 SDK-shaped objects, hundreds of MB).
    for (const [side, before, after] of [
        ["page", memBefore.pageHeap, memAfter.pageHeap],
        ["worker", memBefore.workerHeap, memAfter.workerHeap],
    ]) {
        assert.ok(after <= before * 1.25 + 16 * MB, `${side} heap settles at ${mb(after)} MB, near ${mb(before)} MB before the burst`);
    }
    assert.ok(pagePeak <= memBefore.pageHeap * 4 + 128 * MB, `page heap peak ${mb(pagePeak)} MB is bounded (before: ${mb(memBefore.pageHeap)} MB)`);
    assert.ok(workerPeak <= memBefore.workerHeap * 4 + 128 * MB, `worker heap peak ${mb(workerPeak)} MB is bounded (before: ${mb(memBefore.workerHeap)} MB)`);
    // wasm memories only grow; what they hold (replica, ledger, queue) is bounded by the pairs,
    // so they may grow for scratch space but not in proportion to the 200,000 updates.
    for (const [side, before, after] of [
        ["page", memBefore.pageWasm, memAfter.pageWasm],
        ["worker", memBefore.workerWasm, memAfter.workerWasm],
    ]) {
        assert.ok(after <= before * 2 + 32 * MB, `${side} wasm memory ${mb(after)} MB stays bounded (before: ${mb(before)} MB)`);
    }
    assert.deepEqual(page.problems, []);
    return { ...line, resubscribed, transitions };
}

test(`${BURST} updates over ${TARGETS} entities while the page renders, every update streamed: converges, memory bounded`, CASE, async () => {
    // Uncompressed: the debug mock's deflate would cap the stream at ~1,100 messages/s here.
    const line = await burst(`burst ${BURST} over ${TARGETS}, buffer 262144`, ["--buffer", "262144", "--no-gzip"]);
    assert.equal(line.resubscribed, 0, "the stream held the whole burst");
    assert.deepEqual(line.transitions, [], "the client kept streaming through the burst");
    assert.ok(line.applied >= BURST / 2, `the client applied the streamed burst (${line.applied} model states)`);
});

test(`${BURST} updates over ${TARGETS} entities overflowing the mock's buffer (16,384): the client replays and converges`, CASE, async () => {
    const line = await burst(`burst ${BURST} over ${TARGETS}, buffer 16384`, ["--buffer", "16384"]);
    assert.ok(line.resubscribed > 0, "the burst overflowed the mock's buffer and ended the stream");
    assert.ok(line.replays > 0, "the client replayed");
    assertRecoveryPath(line.transitions, "buffer overflow");
});
