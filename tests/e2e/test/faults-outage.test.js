// Server unreachable for 2 minutes (issue 7): the mock process is killed, so every connection is
// refused (no error status at all), and started again 2 minutes later on the same port with the
// same world (generated again from the seed); writes "made while it was down" are applied through
// the control API at once, before the client's next attempt. With the package's default retry and
// backoff options the client leaves `streaming`, keeps retrying through the outage without
// `SyncFatalError`, converges to the world once the server is back, never shows an older counter
// value over a newer one, streams again, and holds about as much memory as before.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { assertNeverOlder, assertRecoveryPath, convergeAndReport, counter, memoryProbe, startFaultClient, tick, transitionsSince, waitForState } from "../lib/faults.js";

const OUTAGE_MS = 120_000;
const MIB = 2 ** 20;
let env, watchId;

before(async () => {
    env = await startEnv(["--entities", "600", "--seed", "81"]);
    watchId = (await env.mock.world()).entities.find((e) => e.models["arena-Player"]).entityId;
});

after(() => env?.close());

test("server unreachable for 2 minutes, then back with writes made meanwhile: default retries wait it out, the client converges", async () => {
    // Default syncOptions: the package's own retry budget and backoff face the outage.
    const page = await startFaultClient(env, { watchId });
    try {
        await page.evaluate(() => {
            const e2e = window.e2e;
            e2e.detailed = [];
            e2e.client.errors.subscribe((error) => e2e.detailed.push({ name: error.name, reason: error.reason, attempts: error.attempts }));
            e2e.timed = [];
            e2e.client.syncStatus.subscribe((status) => {
                const t = status.lastTransition;
                if (t && t.target === "entities" && t !== e2e.timed.at(-1)?.t) e2e.timed.push({ t, to: t.to, at: Date.now() });
            });
        });
        const refused = [];
        page.on("requestfailed", (request) => {
            if (request.url().startsWith(env.mock.url)) refused.push({ at: Date.now(), url: request.url(), error: request.failure()?.errorText });
        });
        const memory = await memoryProbe(page);
        const memoryBefore = await memory.measure();
        const count = counter(env.mock, watchId);
        const before = await tick(page);
        const mark = (await transitionsSince(page)).length;

        const downAt = Date.now();
        await env.mock.down();
        let maxConsecutiveFailures = 0;
        let maxFailedPasses = 0;
        while (Date.now() < downAt + OUTAGE_MS) {
            const status = await page.evaluate(() => {
                const s = window.e2e.client.getSyncStatus();
                return { phase: s.phase, tick: s.ticks?.entities };
            });
            assert.equal(status.phase, "ready", `the client is still syncing ${Math.round((Date.now() - downAt) / 1000)} s into the outage`);
            maxConsecutiveFailures = Math.max(maxConsecutiveFailures, ...(status.tick?.models ?? []).map((m) => m.consecutiveFailures));
            maxFailedPasses = Math.max(maxFailedPasses, status.tick?.failedPasses ?? 0);
            await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(0, downAt + OUTAGE_MS - Date.now()))));
        }
        await env.mock.up();
        const upAt = Date.now();
        // The writes made "while it was down", applied before the client's next attempt.
        await env.mock.post("/_mock/updates", { count: 200 });
        for (let i = 0; i < 3; i++) await count.bump();
        const callsBeforeWrites = (await env.mock.log()).length;

        const during = await transitionsSince(page, mark);
        const text = during.map((t) => `${t.from}→${t.to}(${t.reason})`).join(" ");
        const attempts = refused.filter((r) => r.at >= downAt && r.at < upAt);
        const fatal = (await page.evaluate(() => window.e2e.detailed)).filter((e) => e.name === "SyncFatalError");
        assert.deepEqual(fatal, [], `no SyncFatalError during a 2-minute outage with the default options (transitions: ${text})`);
        assert.ok(during.some((t) => t.to === "offline"), `the failed attempts were reported as offline: ${text}`);
        assert.ok(attempts.length >= 3, `the client tried to reconnect during the outage: ${JSON.stringify(attempts)}`);
        assert.ok(
            attempts.some((a) => a.at >= downAt + OUTAGE_MS / 2),
            `the client still tried in the outage's second minute: ${JSON.stringify(attempts.map((a) => a.at - downAt))}`,
        );

        const line = await convergeAndReport(page, env.mock, "outage 2 min (unreachable)", { endedAt: upAt, before, counterValue: count.last() });
        assertRecoveryPath(await transitionsSince(page, mark), "2-minute outage");
        await waitForState(page, "streaming");
        // The stream is live again: a write made now reaches the subscriber.
        const live = await count.bump();
        await waitFor(() => page.evaluate((v) => window.e2e.faults.seen.at(-1) === v, live), `the counter's live value ${live} after the outage`, 60_000);
        await assertNeverOlder(page);

        const memoryAfter = await memory.measure();
        for (const [what, size] of Object.entries(memoryAfter)) {
            const limit = memoryBefore[what] * 1.5 + 4 * MIB;
            assert.ok(size <= limit, `${what}: ${size} bytes after the outage, ${memoryBefore[what]} before (limit ${Math.round(limit)})`);
        }
        const timed = await page.evaluate(() => window.e2e.timed.map(({ to, at }) => ({ to, at })));
        const firstBack = timed.find((t) => t.at >= upAt && t.to === "streaming");
        const mb = (b) => Math.round((b / MIB) * 10) / 10;
        console.log(
            `FAULT-REPORT ${JSON.stringify({
                scenario: "outage 2 min, outage figures",
                refusedAttemptsDuringOutage: attempts.length,
                attemptOffsetsS: attempts.map((a) => Math.round((a.at - downAt) / 100) / 10),
                offlineTransitions: during.filter((t) => t.to === "offline").length,
                maxConsecutiveFailures,
                maxFailedPasses,
                callsBeforeWrites,
                streamingAgainMs: firstBack ? firstBack.at - upAt : null,
                recoveredMs: line.recoveredMs,
                memoryBeforeMb: Object.fromEntries(Object.entries(memoryBefore).map(([k, v]) => [k, mb(v)])),
                memoryAfterMb: Object.fromEntries(Object.entries(memoryAfter).map(([k, v]) => [k, mb(v)])),
            })}`,
        );
        assert.deepEqual(page.problems.filter((p) => !/TransportError|sync error/i.test(p)), []);
    } finally {
        await page.context().close();
    }
});
