// Fault scenarios on the live stream (issue 7): a stall with the connection open, streams ended
// by the server, malformed frames, a server restart with a new version, slow responses. Each
// scenario runs a fresh client, bumps a watched counter on the mock while the fault is on, and
// ends with the client's store equal to the mock's world, the counter never shown going
// backwards, and the recovery reported through `syncStatus` transitions.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { startEnv } from "../lib/env.js";
import { canonEntities } from "../lib/world.js";
import { waitFor } from "../lib/wait.js";
import { assertRecoveryPath, convergeAndReport, counter, startFaultClient, tick, transitionsSince } from "../lib/faults.js";

let env, watchId;

before(async () => {
    env = await startEnv(["--entities", "600", "--seed", "71"]);
    watchId = (await env.mock.world()).entities.find((e) => e.models["arena-Player"]).entityId;
});

after(() => env?.close());

/** Runs `scenario(page, bump)` on a fresh client (closed afterwards). */
async function withClient(syncOptions, scenario) {
    const page = await startFaultClient(env, { syncOptions, watchId });
    try {
        await scenario(page, counter(env.mock, watchId));
        assert.deepEqual(page.problems, []);
    } finally {
        await page.context().close();
    }
}

const opened = async () => (await env.mock.log()).filter((e) => e.method === "SubscribeEntities" && /opened/.test(e.detail)).length;

test("stream stall with the connection open: the heartbeat replays, and the client converges", async () => {
    await withClient({ heartbeatTimeoutMs: 2000, heartbeatCheckMs: 250 }, async (page, count) => {
        const before = await tick(page);
        const mark = (await transitionsSince(page)).length;
        await env.mock.post("/_mock/stall", { enabled: true });
        await env.mock.post("/_mock/updates", { count: 100 });
        for (let i = 0; i < 5; i++) await count.bump();
        await waitFor(
            async () => (await transitionsSince(page, mark)).some((t) => t.from === "streaming" && t.to === "lagging" && t.reason === "heartbeat"),
            "the heartbeat to report the stall",
        );
        await env.mock.post("/_mock/stall", { enabled: false });
        const endedAt = Date.now();
        await count.bump();
        await convergeAndReport(page, env.mock, "stall", { endedAt, before, counterValue: count.last() });
        assertRecoveryPath(await transitionsSince(page, mark), "stall");
    });
});

test("streams ended by the server, writes made while they were down: the client resubscribes and converges", async () => {
    await withClient({}, async (page, count) => {
        const before = await tick(page);
        const mark = (await transitionsSince(page)).length;
        const subscriptions = await opened();
        const { ended } = await env.mock.post("/_mock/end-streams");
        assert.ok(ended > 0, "the client had a stream open");
        const endedAt = Date.now();
        await env.mock.post("/_mock/updates", { count: 200 });
        for (let i = 0; i < 5; i++) await count.bump();
        await convergeAndReport(page, env.mock, "end-streams", { endedAt, before, counterValue: count.last() });
        assert.ok((await opened()) > subscriptions, "a new subscription was opened");
        assertRecoveryPath(await transitionsSince(page, mark), "end-streams");
    });
});

for (const kind of ["protobuf", "truncate"]) {
    test(`a malformed streamed frame (${kind}): the stream is dropped, replayed, and the client converges`, async () => {
        await withClient({}, async (page, count) => {
            const before = await tick(page);
            const mark = (await transitionsSince(page)).length;
            await env.mock.post("/_mock/malformed", { kind, count: 1 });
            await count.bump();
            const endedAt = Date.now();
            await env.mock.post("/_mock/updates", { count: 50 });
            await count.bump();
            await convergeAndReport(page, env.mock, `malformed ${kind}`, { endedAt, before, counterValue: count.last() });
            assertRecoveryPath(await transitionsSince(page, mark), `malformed ${kind}`);
        });
    });
}

test("a streamed update with a mistyped member (schema): the client converges", async () => {
    await withClient({}, async (page, count) => {
        const before = await tick(page);
        await env.mock.post("/_mock/malformed", { kind: "schema", count: 1 });
        await env.mock.post("/_mock/updates", { count: 1 });
        const endedAt = Date.now();
        await env.mock.post("/_mock/updates", { count: 50 });
        await count.bump();
        await convergeAndReport(page, env.mock, "malformed schema", { endedAt, before, counterValue: count.last() });
        // The store can converge (the entity read again by id) before the next SYNC_TICK says so.
        await waitFor(
            async () => ((await tick(page))?.rejectedRecords ?? 0) > (before?.rejectedRecords ?? 0),
            "a SYNC_TICK counting the rejected record",
        );
    });
});

test("the server restarted with a new version, writes in between: the client resubscribes and converges", async () => {
    await withClient({}, async (page, count) => {
        const before = await tick(page);
        const mark = (await transitionsSince(page)).length;
        await env.mock.post("/_mock/restart", { version: "1.8.17 (mock, restarted)" });
        const endedAt = Date.now();
        await env.mock.post("/_mock/updates", { count: 200 });
        for (let i = 0; i < 3; i++) await count.bump();
        await convergeAndReport(page, env.mock, "restart", { endedAt, before, counterValue: count.last() });
        assertRecoveryPath(await transitionsSince(page, mark), "restart");
    });
});

test("slow responses (every gRPC answer and streamed message delayed): the client converges", async () => {
    await withClient({}, async (page, count) => {
        const before = await tick(page);
        const mark = (await transitionsSince(page)).length;
        await env.mock.post("/_mock/delay", { ms: 1500 });
        try {
            await env.mock.post("/_mock/end-streams");
            await env.mock.post("/_mock/updates", { count: 100 });
            for (let i = 0; i < 3; i++) await count.bump();
            await waitFor(
                async () => (await transitionsSince(page, mark)).some((t) => t.from === "replaying" && t.to === "streaming"),
                "a replay to complete with slow responses",
            );
        } finally {
            await env.mock.post("/_mock/delay", { ms: 0 });
        }
        const endedAt = Date.now();
        await convergeAndReport(page, env.mock, "delay 1500 ms", { endedAt, before, counterValue: count.last() });
        assertRecoveryPath(await transitionsSince(page, mark), "delay");
    });
});

// A record the client rejects (mistyped member) while the stream stays busy: the heartbeat never
// fires, so only a refetch of the rejected entity can repair it. The record is skipped
// (rejectedRecords + 1, a TransportError on `errors`) and the synchronizer reads the entity again by id.
test(
    "a rejected streamed update while the stream stays busy: the rejected entity is repaired",
    async () => {
        const world = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]);
        const [victim, ...others] = world.slice(1, 30).map((e) => e.entityId);
        const victimState = async () => canonEntities(await env.mock.world()).find((e) => e.rawId === victim);
        await withClient({ heartbeatTimeoutMs: 3000, heartbeatCheckMs: 250 }, async (page) => {
            const before = await tick(page);
            const busy = setInterval(() => env.mock.post("/_mock/updates", { count: 5, entityIds: others }).catch(() => {}), 300);
            try {
                await env.mock.post("/_mock/malformed", { kind: "schema", count: 1 });
                await env.mock.post("/_mock/updates", { count: 1, entityIds: [victim] });
                const expected = await victimState();
                let got;
                await waitFor(
                    async () => {
                        got = await page.evaluate(
                            ([id, models]) => {
                                const out = {};
                                for (const m of models) {
                                    const item = window.e2e.queryAll(m).find((e) => e.entityId === id);
                                    if (item) out[m] = item.models[m];
                                }
                                return out;
                            },
                            [expected.entityId, Object.keys(expected.models)],
                        );
                        return isDeepStrictEqual(got, expected.models);
                    },
                    "the rejected entity to be repaired while the stream is busy",
                    20_000,
                    500,
                ).catch((error) => {
                    throw new Error(`${error.message}; client: ${JSON.stringify(got)}; mock: ${JSON.stringify(expected.models)}`);
                });
            } finally {
                clearInterval(busy);
            }
            await convergeAndReport(page, env.mock, "rejected record, busy stream", { endedAt: Date.now(), before });
        });
    },
);
