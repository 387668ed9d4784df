// A quiet stream is probed, not re-paged (crates/core/src/sync/mod.rs, "A quiet stream is
// probed"): with a short heartbeat, the mock's request log shows only one-row pages while
// nothing is written, and a write the stream missed is found by the probe and caught up with
// the newest rows, not the whole snapshot. Prints `QUIET-LOG`.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { assertRecoveryPath, startFaultClient, transitionsSince, waitForWorld } from "../lib/faults.js";
import { waitFor } from "../lib/wait.js";

const PAGE_SIZE = 50;
const HEARTBEAT = { heartbeatTimeoutMs: 1000, heartbeatCheckMs: 250, pageSize: PAGE_SIZE, catchUpMarginS: 1 };

let env, page, coldPages;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "83"]);
    page = await startFaultClient(env, { syncOptions: HEARTBEAT });
    coldPages = snapshotPages(await env.mock.log()).length;
});

after(() => env?.close());

const retrieves = (log) => log.filter((e) => /^Retrieve/.test(e.method));
const isProbe = (e) => /cursor=(None|"") limit=1 /.test(e.detail);
const snapshotPages = (log) => log.filter((e) => e.method === "RetrieveEntities" && !isProbe(e) && !/clause=hashed_keys/.test(e.detail));
const replays = (transitions) => transitions.filter((t) => t.to === "lagging" || t.to === "replaying");
const opened = (log) => log.filter((e) => /^Subscribe/.test(e.method) && /opened/.test(e.detail));

test("a quiet stream is only probed: one-row pages, no new subscription, no replay", async () => {
    const mark = (await transitionsSince(page)).length;
    await env.mock.clearLog();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const log = await env.mock.log();
    const fetched = retrieves(log);
    console.log(`QUIET-LOG quietMs=5000 heartbeatMs=1000 retrieves=${fetched.length} probes=${fetched.filter(isProbe).length} subscriptions=${opened(log).length}`);
    assert.ok(fetched.filter(isProbe).length >= 3, `probes every ~1 s: ${JSON.stringify(log)}`);
    assert.deepEqual(fetched.filter((e) => !isProbe(e)), [], "nothing but probes was fetched");
    assert.deepEqual(opened(log), [], "no new subscription");
    assert.deepEqual(replays(await transitionsSince(page, mark)), [], "no lagging, no replay");
    assert.deepEqual(page.problems, []);
});

test("a write the stream missed is found by the probe and caught up with the newest rows only", async () => {
    const mark = (await transitionsSince(page)).length;
    await env.mock.clearLog();
    // The stream stays open but misses these.
    await env.mock.post("/_mock/stall", { enabled: true });
    await env.mock.post("/_mock/updates", { count: 3 });
    await env.mock.post("/_mock/stall", { enabled: false });
    await waitForWorld(page, env.mock);
    await waitFor(async () => (await transitionsSince(page, mark)).some((t) => t.to === "streaming"), "streaming again");
    const transitions = await transitionsSince(page, mark);
    assertRecoveryPath(transitions, "missed write");
    assert.equal(transitions.find((t) => t.to === "lagging").reason, "heartbeat");
    const log = await env.mock.log();
    const pages = snapshotPages(log);
    console.log(`QUIET-LOG missed=3 catchUpPages=${pages.length} coldPages=${coldPages} subscriptions=${opened(log).length}`);
    // The newest rows down to the last update applied (less catchUpMarginS): a page of 50 or
    // two, not the snapshot.
    assert.ok(pages.length >= 1 && pages.length * 3 <= coldPages, `catch-up pages: ${JSON.stringify(pages)}`);
    assert.equal(opened(log).filter((e) => e.method === "SubscribeEntities").length, 1, "re-subscribed once");
    assert.deepEqual(page.problems, []);
});
