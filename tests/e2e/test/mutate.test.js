// Optimistic writes: `mutate` shows the write at once (overlay-first reads, synced reads
// unchanged), confirms it when the mock applies the change, and rolls it back with
// OverlayTimeoutError when nothing confirms it; a failing `send` rolls back with OverlayError.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities } from "../lib/world.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env, page, players;

before(async () => {
    env = await startEnv(["--entities", "400", "--seed", "31"]);
    const entities = canonEntities(await env.mock.world());
    players = entities.filter((e) => e.models["arena-Position"]);
    page = await env.openHarness();
    const started = await page.evaluate((url) => window.e2e.start(url, { overlayOptions: { pollMs: 100 } }), env.mock.url);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    await waitForEntityCount(page, "arena-Position", players.length);
});

after(() => env?.close());

/** Runs `mutate` on the Position of `entity` in the page; returns what reads show right after. */
function mutateInPage(entity, vec, options) {
    return page.evaluate(
        ([id, player, v, { timeoutMs, sendMode }]) => {
            const { client, describeError, byPlayer } = window.e2e;
            const send = async ({ transactionId }) => {
                window.e2e.sent = transactionId;
                if (sendMode === "fail") throw new Error("the wallet refused");
            };
            const mutation = client.mutate("arena-Position", { vec: v }, { entityId: id, timeoutMs, send });
            window.e2e.outcome = undefined;
            mutation.confirmed.then(
                () => (window.e2e.outcome = { confirmed: true }),
                (error) => (window.e2e.outcome = { error: describeError(error) }),
            );
            return {
                transactionId: mutation.transactionId,
                overlay: byPlayer("arena-Position", player),
                synced: byPlayer("arena-Position", player, "synced"),
                pending: client.getOverlayFor(id).map((entry) => entry.transactionId),
            };
        },
        [entity.rawId, entity.models["arena-Position"].player, vec, options],
    );
}

const outcome = () => waitFor(() => page.evaluate(() => window.e2e.outcome), "the mutation's outcome", 120_000);

test("mutate is visible at once and confirmed when the mock applies the change", async () => {
    const entity = players[3];
    const before = entity.models["arena-Position"].vec;
    const vec = { x: before.x + 1000, y: before.y + 1000 };
    const shown = await mutateInPage(entity, vec, { timeoutMs: 120_000 });
    assert.deepEqual(shown.overlay.vec, vec, "overlay-first read shows the write at once");
    assert.deepEqual(shown.synced.vec, before, "synced read still shows Torii's state");
    assert.deepEqual(shown.pending, [shown.transactionId]);
    assert.equal(await page.evaluate(() => window.e2e.sent), shown.transactionId, "send got the transaction id");

    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Position", values: { vec } });
    assert.deepEqual(await outcome(), { confirmed: true });
    const after = await page.evaluate(([id, p]) => ({
        synced: window.e2e.byPlayer("arena-Position", p, "synced"),
        pending: window.e2e.client.getOverlayFor(id).length,
    }), [entity.rawId, entity.models["arena-Position"].player]);
    assert.deepEqual(after.synced.vec, vec, "the synced state now has the write");
    assert.equal(after.pending, 0, "no pending write is left");
});

test("mutate rolls back with OverlayTimeoutError when the mock never applies it", async () => {
    const entity = players[5];
    const before = entity.models["arena-Position"].vec;
    const vec = { x: before.x + 5000, y: before.y };
    const shown = await mutateInPage(entity, vec, { timeoutMs: 1500 });
    assert.deepEqual(shown.overlay.vec, vec);
    const result = await outcome();
    assert.equal(result.error?.name, "OverlayTimeoutError", JSON.stringify(result));
    assert.ok(result.error.isTyped, "an instance of the exported OverlayTimeoutError");
    const after = await page.evaluate(([id, p]) => ({
        overlay: window.e2e.byPlayer("arena-Position", p),
        pending: window.e2e.client.getOverlayFor(id).length,
    }), [entity.rawId, entity.models["arena-Position"].player]);
    assert.deepEqual(after.overlay.vec, before, "the read shows Torii's state again");
    assert.equal(after.pending, 0);
});

test("a send that fails rolls the write back with OverlayError", async () => {
    const entity = players[7];
    const before = entity.models["arena-Position"].vec;
    await mutateInPage(entity, { x: before.x + 1, y: before.y + 1 }, { timeoutMs: 120_000, sendMode: "fail" });
    const result = await outcome();
    assert.equal(result.error?.name, "OverlayError", JSON.stringify(result));
    assert.ok(result.error.isTyped);
    const overlay = await page.evaluate((p) => window.e2e.byPlayer("arena-Position", p), entity.models["arena-Position"].player);
    assert.deepEqual(overlay.vec, before);
    assert.deepEqual(page.problems, []);
});
