// Optimistic writes: `mutate` shows the write at once (overlay-first reads, synced reads
// unchanged), confirms it when the mock applies the change, and rolls it back with
// OverlayTimeoutError when nothing confirms it; a failing `send` rolls back with OverlayError.
// Transactions: a two-model move (Position set, Player gold spent) shown and confirmed as one, a
// relative write confirmed while the synced gold also moves for another reason, and one rolled
// back as a whole on timeout.

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

/**
 * Runs `mutate` with an array of writes (one transaction) in the page; `add` amounts are given
 * as decimal strings and passed as BigInt. Returns what reads of the Position and Player of
 * `entity` show right after.
 */
function transactInPage(entity, writes, options) {
    return page.evaluate(
        ([id, player, writes, { timeoutMs }]) => {
            const { client, describeError, byPlayer } = window.e2e;
            const mutation = client.mutate(
                writes.map((w) => ({
                    entityId: id,
                    model: w.model,
                    ...(w.set ? { set: w.set } : {}),
                    ...(w.add ? { add: Object.fromEntries(Object.entries(w.add).map(([k, v]) => [k, BigInt(v)])) } : {}),
                })),
                { timeoutMs },
            );
            window.e2e.outcome = undefined;
            mutation.confirmed.then(
                () => (window.e2e.outcome = { confirmed: true }),
                (error) => (window.e2e.outcome = { error: describeError(error) }),
            );
            return {
                transactionId: mutation.transactionId,
                position: byPlayer("arena-Position", player),
                player: byPlayer("arena-Player", player),
                pending: client.getOverlayFor(id).map((entry) => [entry.transactionId, entry.model]),
            };
        },
        [entity.rawId, entity.models["arena-Position"].player, writes, options],
    );
}

/** Players with a Player model whose gold leaves room to spend and to earn (u64). */
const wealthy = () =>
    players.filter((e) => {
        const gold = e.models["arena-Player"]?.gold;
        return gold !== undefined && BigInt(gold) > 1000n && BigInt(gold) < 1n << 60n;
    });

/** What the page shows for the Position and Player of `entity`, overlay-first and synced. */
const readsOf = (entity) =>
    page.evaluate(([id, p]) => ({
        position: window.e2e.byPlayer("arena-Position", p),
        player: window.e2e.byPlayer("arena-Player", p),
        syncedGold: window.e2e.byPlayer("arena-Player", p, "synced").gold,
        pending: window.e2e.client.getOverlayFor(id).length,
    }), [entity.rawId, entity.models["arena-Position"].player]);

test("a two-model move is one transaction: shown together, confirmed when both models land", async () => {
    const entity = wealthy()[0];
    const before = await readsOf(entity);
    const gold = BigInt(before.player.gold);
    const vec = { x: before.position.vec.x + 7, y: before.position.vec.y };
    const shown = await transactInPage(entity, [
        { model: "arena-Position", set: { vec } },
        { model: "arena-Player", add: { gold: "-10" } },
    ], { timeoutMs: 120_000 });
    assert.deepEqual(shown.position.vec, vec, "the Position write shows at once");
    assert.equal(BigInt(shown.player.gold), gold - 10n, "and the Player's gold with it");
    assert.deepEqual(shown.pending.map(([tx]) => tx), [shown.transactionId, shown.transactionId], "one transaction, two writes");

    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Position", values: { vec } });
    await waitFor(async () => (await readsOf(entity)).position.vec.x === vec.x || undefined, "the Position synced");
    assert.equal(await page.evaluate(() => window.e2e.outcome), undefined, "not confirmed by one of its two models");
    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Player", values: { gold: String(gold - 10n) } });
    assert.deepEqual(await outcome(), { confirmed: true });
    const after = await readsOf(entity);
    assert.equal(BigInt(after.player.gold), gold - 10n, "the spent gold is not counted twice");
    assert.equal(after.pending, 0);
});

test("a relative write is confirmed while the synced value also changes for another reason", async () => {
    const entity = wealthy()[1];
    const gold = BigInt((await readsOf(entity)).player.gold);
    const shown = await transactInPage(entity, [{ model: "arena-Player", add: { gold: "-25" } }], { timeoutMs: 120_000 });
    assert.equal(BigInt(shown.player.gold), gold - 25n);
    // Another reason: a reward of 500 lands first; the transfer stays shown over it.
    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Player", values: { gold: String(gold + 500n) } });
    await waitFor(async () => BigInt((await readsOf(entity)).syncedGold) === gold + 500n || undefined, "the reward synced");
    const during = await readsOf(entity);
    assert.equal(BigInt(during.player.gold), gold + 475n, "the transfer is applied over the newer synced gold");
    assert.equal(during.pending, 1, "and is not rolled back");
    // The transfer lands.
    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Player", values: { gold: String(gold + 475n) } });
    assert.deepEqual(await outcome(), { confirmed: true });
    const after = await readsOf(entity);
    assert.equal(BigInt(after.player.gold), gold + 475n);
    assert.equal(after.pending, 0);
});

test("a transaction that never lands rolls back all its writes on timeout", async () => {
    const entity = wealthy()[2];
    const before = await readsOf(entity);
    const vec = { x: before.position.vec.x + 3, y: before.position.vec.y + 3 };
    const shown = await transactInPage(entity, [
        { model: "arena-Position", set: { vec } },
        { model: "arena-Player", add: { gold: "-1" } },
    ], { timeoutMs: 1500 });
    assert.deepEqual(shown.position.vec, vec);
    const result = await outcome();
    assert.equal(result.error?.name, "OverlayTimeoutError", JSON.stringify(result));
    assert.ok(result.error.isTyped);
    const after = await readsOf(entity);
    assert.deepEqual(after.position.vec, before.position.vec, "Position is back");
    assert.equal(after.player.gold, before.player.gold, "and the gold with it");
    assert.equal(after.pending, 0);
    assert.deepEqual(page.problems, []);
});
