// Tab freeze (issue 7): the page is frozen through CDP (`Page.setWebLifecycleState`) while the
// mock keeps writing (more than its small per-subscriber buffer holds, so the server drops the
// frozen client's stream), then made active again: the client recovers by itself, converges to
// the mock's world and never shows an older version of the watched counter.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { assertRecoveryPath, convergeAndReport, counter, startFaultClient, tick, transitionsSince } from "../lib/faults.js";

let env, page, watchId;

before(async () => {
    env = await startEnv(["--entities", "500", "--seed", "77", "--buffer", "100"]);
    watchId = (await env.mock.world()).entities.find((e) => e.models["arena-Player"]).entityId;
    page = await startFaultClient(env, { watchId });
});

after(() => env?.close());

test("a frozen tab resumed while updates continue recovers by itself and converges", async () => {
    const cdp = await page.context().newCDPSession(page);
    const count = counter(env.mock, watchId);
    const before = await tick(page);
    const mark = (await transitionsSince(page)).length;
    await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
    try {
        await env.mock.post("/_mock/rate", { perSec: 200 });
        for (let i = 0; i < 10; i++) {
            await count.bump();
            await new Promise((r) => setTimeout(r, 300));
        }
        await env.mock.post("/_mock/updates", { count: 500 });
    } finally {
        await env.mock.post("/_mock/rate", { perSec: 0 });
        await cdp.send("Page.setWebLifecycleState", { state: "active" });
    }
    const endedAt = Date.now();
    await count.bump();
    await convergeAndReport(page, env.mock, "freeze/resume", { endedAt, before, counterValue: count.last() });
    const transitions = await transitionsSince(page, mark);
    console.log(`FAULT-REPORT ${JSON.stringify({ scenario: "freeze transitions", transitions: transitions.map((t) => `${t.from}→${t.to}(${t.reason})`) })}`);
    await waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "streaming again");
    assertRecoveryPath(transitions, "freeze/resume");
    assert.deepEqual(page.problems, []);
});
