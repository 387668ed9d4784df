// Duplicate and reordered deliveries on the live stream (issue 7): the mock sends copies of
// streamed updates (at once, or late, after newer updates of the same entity) or shuffles them in
// windows, while it writes a watched counter and a steady flow of other updates. Each scenario
// ends with the client's store equal to the mock's world, the counter never shown going
// backwards, no SyncFatalError, and the ledger's figures reported.
//
// Every stale delivery is detectable by Torii's timestamps alone (the package's `models` option
// takes tags only, so no game version member can be configured): the counter's writes are more
// than a second apart, so they have different timestamps, and the flow of other updates walks
// through 500 entities, so none of them is written twice within a window or a copy's lag.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { convergeAndReport, counter, startFaultClient, tick } from "../lib/faults.js";

/** The flow of other updates: FLOW_BATCH updates every FLOW_MS (40 per second). */
const FLOW_BATCH = 10;
const FLOW_MS = 250;
let env, watchId, others;

before(async () => {
    env = await startEnv(["--entities", "800", "--seed", "77"]);
    const players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).map((e) => e.entityId);
    [watchId, ...others] = players.slice(0, 501);
});

after(() => env?.close());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Each case fails rather than hangs (a run takes 6-15 s). */
const CASE = { timeout: 180_000 };

/**
 * Starts the flow of other updates: each batch writes the next FLOW_BATCH of the 500 other
 * players, so one entity is written once every 12.5 s. Returns `stop()`.
 */
function startFlow() {
    let next = 0;
    let inFlight = Promise.resolve();
    const timer = setInterval(() => {
        const entityIds = others.slice(next, next + FLOW_BATCH);
        next = (next + FLOW_BATCH) % others.length;
        inFlight = env.mock.post("/_mock/updates", { count: FLOW_BATCH, entityIds });
    }, FLOW_MS);
    return async () => {
        clearInterval(timer);
        await inFlight;
    };
}

/**
 * Runs one scenario on a fresh client: turns the fault on with `arm()`, runs the flow of other
 * updates and bumps the counter `bumps` times every `everyMs`, waits until the mock has spent the
 * fault's budget (`pending` names its status field), then checks convergence and reports.
 */
async function scenario(name, { arm, pending, bumps, everyMs }) {
    const page = await startFaultClient(env, { watchId });
    try {
        const count = counter(env.mock, watchId);
        const before = await tick(page);
        await arm();
        const stopFlow = startFlow();
        try {
            for (let i = 0; i < bumps; i++) {
                await count.bump();
                await sleep(everyMs);
            }
            await waitFor(async () => (await env.mock.status())[pending] === 0, `the mock to spend the ${name} budget`, 60_000);
        } finally {
            await stopFlow();
        }
        const endedAt = Date.now();
        const line = await convergeAndReport(page, env.mock, name, { endedAt, before, counterValue: count.last(), timeout: 60_000 });
        const errors = await page.evaluate(() => window.e2e.errors);
        assert.ok(!errors.some((e) => e.name === "SyncFatalError"), `no SyncFatalError: ${JSON.stringify(errors)}`);
        assert.deepEqual(page.problems, []);
        return line;
    } finally {
        await page.context().close();
    }
}

test("duplicates sent at once: the client converges and never shows an older counter", CASE, async () => {
    const line = await scenario("duplicate at once", {
        arm: () => env.mock.post("/_mock/duplicate", { count: 150 }),
        pending: "duplicatesPending",
        bumps: 8,
        everyMs: 300,
    });
    assert.equal(line.replays, 0, "the stream alone converged");
});

test(
    "late duplicates (a copy after newer updates of the same entity, over a second later): dropped as out of order",
    CASE,
    async () => {
        // ~2 s of traffic between an update and its copy; the counter moves every 1.1 s, so
        // every copy of a counter write arrives after a newer counter write of a later second.
        const line = await scenario("duplicate late", {
            arm: () => env.mock.post("/_mock/duplicate", { count: 200, lag: 80 }),
            pending: "duplicatesPending",
            bumps: 6,
            everyMs: 1100,
        });
        assert.ok(line.regressed > 0 && line.staleDropped >= line.regressed, `late copies were dropped as out of order: ${JSON.stringify(line)}`);
        assert.equal(line.replays, 0, "the stream alone converged (no replay had to repair a stale state)");
    },
);

test(
    "reordered windows (an older update of an entity after a newer one): dropped as out of order",
    CASE,
    async () => {
        // Windows of 200 messages (~5 s of traffic) hold 4-5 counter writes, each of its own
        // second; a shuffle leaves them all in order with probability at most 1/24 per window,
        // and the budget makes three windows (at most 1 in 13,824 for no stale delivery at all).
        const line = await scenario("reorder", {
            arm: () => env.mock.post("/_mock/reorder", { count: 600, window: 200, seed: 7 }),
            pending: "reorderPending",
            bumps: 15,
            everyMs: 1050,
        });
        assert.ok(line.regressed > 0 && line.staleDropped >= line.regressed, `reordered older updates were dropped as out of order: ${JSON.stringify(line)}`);
        assert.equal(line.replays, 0, "the stream alone converged (no replay had to repair a stale state)");
    },
);
