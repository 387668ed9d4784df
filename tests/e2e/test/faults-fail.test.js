// Failing calls (issue 7): UNAVAILABLE on K consecutive gRPC calls is a transient outage, waited
// out with backoff however long it lasts, and the client converges after it; calls rejected
// with a non-retryable status fail whole sync passes, and the client gives up with
// `SyncFatalError` after exactly the configured retry budget (`replayBudget`), not before.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { assertRecoveryPath, convergeAndReport, counter, startFaultClient, tick, transitionsSince } from "../lib/faults.js";

const FAST_BACKOFF = { backoffInitialMs: 200, backoffMaxMs: 800 };
let env, watchId, fatalSeen;

before(async () => {
    env = await startEnv(["--entities", "400", "--seed", "73"]);
    watchId = (await env.mock.world()).entities.find((e) => e.models["arena-Player"]).entityId;
});

after(() => env?.close());

/** Records every error of the page's client with its details (`attempts`, `reason`). */
const recordErrors = (page) =>
    page.evaluate(() => {
        window.e2e.detailed = [];
        window.e2e.client.errors.subscribe((error) =>
            window.e2e.detailed.push({ name: error.name, attempts: error.attempts, reason: error.reason, details: error.details }),
        );
    });

for (const { k, budget } of [{ k: 3, budget: 3 }, { k: 12, budget: 2 }]) {
    test(`UNAVAILABLE on ${k} consecutive calls (retry budget ${budget}): waited out, no SyncFatalError, converges`, async () => {
        const page = await startFaultClient(env, { syncOptions: { ...FAST_BACKOFF, replayBudget: budget }, watchId });
        try {
            await recordErrors(page);
            const count = counter(env.mock, watchId);
            const before = await tick(page);
            const mark = (await transitionsSince(page)).length;
            await env.mock.post("/_mock/fail", { count: k, code: "unavailable" });
            await env.mock.post("/_mock/end-streams");
            await env.mock.post("/_mock/updates", { count: 100 });
            for (let i = 0; i < 3; i++) await count.bump();
            await waitFor(async () => (await transitionsSince(page, mark)).some((t) => t.to === "offline"), "the failed calls (Torii unavailable) to put the client offline");
            const endedAt = Date.now();
            await convergeAndReport(page, env.mock, `UNAVAILABLE x${k} (budget ${budget})`, { endedAt, before, counterValue: count.last() });
            assertRecoveryPath(await transitionsSince(page, mark), `UNAVAILABLE x${k}`);
            const fatal = (await page.evaluate(() => window.e2e.detailed)).filter((e) => e.name === "SyncFatalError");
            assert.deepEqual(fatal, [], "an outage of retryable failures is never fatal");
            assert.equal(await page.evaluate(() => window.e2e.client.getSyncStatus().phase), "ready");
            assert.deepEqual(page.problems.filter((p) => !/TransportError|sync error/i.test(p)), []);
        } finally {
            await env.mock.post("/_mock/fail", { count: 0, code: "unavailable" });
            await page.context().close();
        }
    });
}

test("non-retryable failures beyond the retry budget: SyncFatalError after exactly `replayBudget` failed passes", async () => {
    const budget = 3;
    const page = await startFaultClient(env, { syncOptions: { ...FAST_BACKOFF, replayBudget: budget }, watchId });
    try {
        await recordErrors(page);
        const mark = (await transitionsSince(page)).length;
        await env.mock.post("/_mock/fail", { count: 1000, code: "internal" });
        await env.mock.post("/_mock/end-streams");
        await waitFor(() => page.evaluate(() => window.e2e.detailed.some((e) => e.name === "SyncFatalError")), "SyncFatalError on errors");
        const fatal = (await page.evaluate(() => window.e2e.detailed)).filter((e) => e.name === "SyncFatalError");
        assert.equal(fatal.length, 1, JSON.stringify(fatal));
        assert.equal(fatal[0].attempts, budget, `the fatal error counts the budget's passes: ${JSON.stringify(fatal)}`);
        const transitions = await transitionsSince(page, mark);
        const retries = transitions.filter((t) => t.to === "retrying").length;
        assert.equal(retries, budget - 1, `${budget - 1} failed passes were retried before giving up: ${JSON.stringify(transitions)}`);
        assert.equal(transitions.at(-1)?.to, "halted", JSON.stringify(transitions));
        assert.equal(await page.evaluate(() => window.e2e.client.getSyncStatus().phase), "failed");
        console.log(`FAULT-REPORT ${JSON.stringify({ scenario: `INTERNAL x1000 (budget ${budget})`, fatalAfterPasses: fatal[0].attempts, retries })}`);
        fatalSeen = fatal[0];
    } finally {
        await env.mock.post("/_mock/fail", { count: 0, code: "unavailable" });
        await page.context().close();
    }
});

// js/README.md documents `SyncFatalError` with `reason` (string) and `attempts` (number).
test("SyncFatalError exposes `attempts` and `reason` as documented", () => {
    assert.ok(fatalSeen, "the budget test ran");
    assert.equal(fatalSeen.attempts, 3);
    assert.equal(fatalSeen.reason, "retryBudgetExhausted");
});
