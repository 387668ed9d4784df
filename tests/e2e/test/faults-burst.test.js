// A burst of updates over few entities while the page renders (issue 7): the client converges
// to the mock's world, never shows an older version of a watched counter, and its buffer of
// stream updates stays bounded (it compacts per (entity, model)); the page's JS heap is reported.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { convergeAndReport, counter, startFaultClient, tick } from "../lib/faults.js";

const BURST = 20_000;
const TARGETS = 40;
let env, page, players;

before(async () => {
    env = await startEnv(["--entities", "800", "--seed", "75"]);
    players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).map((e) => e.entityId);
    page = await startFaultClient(env, { watchId: players[0], syncOptions: { tickIntervalMs: 100 } });
});

after(() => env?.close());

test(`${BURST} updates over ${TARGETS} entities while the page renders: converges, queue bounded`, async () => {
    // The page renders: a filter subscription and an id subscription write to the DOM every frame.
    await page.evaluate((ids) => {
        const view = document.createElement("pre");
        document.body.append(view);
        const { client } = window.e2e;
        window.e2e.renders = 0;
        client.subscribe("arena-Player", { where: [{ member: "level", op: "gte", value: 0 }] }, (list) => {
            view.textContent = `${list.length} players`;
            window.e2e.renders += 1;
        });
        for (const id of ids) client.subscribe("arena-Position", id, (entity) => (view.title = JSON.stringify(window.e2e.canon(entity?.models ?? null))));
        window.e2e.heap = [performance.memory?.usedJSHeapSize ?? 0];
        window.e2e.heapTimer = setInterval(() => window.e2e.heap.push(performance.memory?.usedJSHeapSize ?? 0), 250);
    }, players.slice(1, TARGETS));
    const count = counter(env.mock, players[0]);
    const before = await tick(page);
    const targets = players.slice(1, TARGETS + 1);
    for (let i = 0; i < 4; i++) {
        await env.mock.post("/_mock/updates", { count: BURST / 4, entityIds: targets });
        await count.bump();
    }
    const endedAt = Date.now();
    const line = await convergeAndReport(page, env.mock, `burst ${BURST} over ${TARGETS}`, { endedAt, before, counterValue: count.last() });
    const { renders, heap } = await page.evaluate(() => {
        clearInterval(window.e2e.heapTimer);
        return { renders: window.e2e.renders, heap: window.e2e.heap };
    });
    assert.ok(renders > 0, "the page rendered during the burst");
    // Updates are compacted per (entity, model): the buffer never holds more than the pairs touched.
    const pairs = (TARGETS + 1) * 2;
    assert.ok(line.maxQueueDepth <= pairs, `queue depth ${line.maxQueueDepth} stays within the ${pairs} (entity, model) pairs touched`);
    const mb = (b) => Math.round(b / 2 ** 20);
    console.log(`FAULT-REPORT ${JSON.stringify({ scenario: "burst heap", heapStartMb: mb(heap[0]), heapMaxMb: mb(Math.max(...heap)), heapEndMb: mb(heap.at(-1)), renders })}`);
    assert.deepEqual(page.problems, []);
});
