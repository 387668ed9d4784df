// Controllers and offchain messages (mock `--messages`): `useUsername` shows the mock's
// controllers (one batched RetrieveControllers for the page's accounts) and follows a rename
// after `controllers.clear()`; `publishMessage` shows the message at once (overlay-first reads,
// synced reads unchanged), is confirmed when the mock's indexed message arrives through the
// entity stream, is rolled back with a PublishError (Torii's reason) when the mock refuses it,
// and with an OverlayTimeoutError when the mock accepts it but never indexes it;
// `publishMessages` shows a batch at once as one transaction, confirmed when every message of
// the mock's `PublishMessageBatch` came back through sync.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities } from "../lib/world.js";
import { waitFor } from "../lib/wait.js";

const IDENTITY = `0x${"ab".repeat(31)}`;
let env, page, accounts;

before(async () => {
    env = await startEnv(["--entities", "60", "--seed", "47", "--messages"]);
    const world = canonEntities(await env.mock.world());
    accounts = world.filter((e) => e.models["arena-Player"] && !e.models["arena-Inventory"]).slice(0, 3).map((e) => e.models["arena-Player"].player);
    page = await env.openHarness(undefined, "social.html");
    await page.evaluate(([url, list, identity]) => window.e2e.mount(url, list, { identity, channel: "0x7" }), [env.mock.url, [...accounts, "0x1234"], IDENTITY]);
});

after(() => env?.close());

const text = (id) => page.evaluate((i) => window.e2e.text(i), id);
const outcome = (n, field) =>
    waitFor(async () => {
        const o = await page.evaluate((i) => window.e2e.outcomes[i], n);
        return o && (o[field] !== undefined || o.confirmError || o.publishError) ? o : undefined;
    }, `publish ${n}: ${field}`, 60_000);

test("useUsername shows every account's controller, fetched in one request, and a rename after clear()", async () => {
    await waitFor(async () => (await text("name-2")) !== "…", "the usernames");
    const names = await Promise.all(accounts.map((_, i) => text(`name-${i}`)));
    assert.ok(names.every((name) => /^player\d+$/.test(name)), `the mock's usernames: ${names}`);
    assert.equal(new Set(names).size, 3);
    assert.equal(await text("name-3"), "…", "an account without a controller shows nothing");
    assert.equal(await text("name-none"), "…", "an undefined address is accepted");
    const calls = (await env.mock.log()).filter((entry) => entry.method === "RetrieveControllers");
    assert.equal(calls.length, 1, `one batched request: ${JSON.stringify(calls)}`);

    await env.mock.post("/_mock/controller", { address: accounts[1], username: "renamed" });
    await page.evaluate(() => window.e2e.client.controllers.clear());
    await waitFor(async () => (await text("name-1")) === "renamed", "the renamed controller");
});

test("a published message shows at once and is confirmed when Torii indexes it", async () => {
    const shown = await page.evaluate(() => window.e2e.publish("gg"));
    assert.equal(shown.overlay, "gg", "overlay-first read shows the message at once");
    assert.equal(shown.synced, null, "Torii does not have it yet");
    assert.equal(shown.pending, 1);
    await waitFor(async () => (await text("chat")) === "gg", "useModel showing the message");
    const done = await outcome(0, "confirmed");
    assert.equal(done.confirmed, true, JSON.stringify(done));
    assert.match(done.published.id, /^0x[0-9a-f]{64}:0x[0-9a-f]{64}$/);
    assert.equal(await page.evaluate(() => window.e2e.read("synced")), "gg", "the synced state has it");
    const stored = canonEntities(await env.mock.world()).find((e) => e.models["arena-Message"]);
    assert.equal(stored.models["arena-Message"].text, "gg", "the mock indexed it as an entity");
    assert.equal(BigInt(done.published.entityId), BigInt(stored.rawId), "Torii's id names the entity of the keys");
});

test("a refused message is rolled back with a PublishError carrying Torii's reason", async () => {
    await env.mock.post("/_mock/publish-faults", { reject: 1 });
    const shown = await page.evaluate(() => window.e2e.publish("refused"));
    assert.equal(shown.overlay, "refused");
    const done = await outcome(1, "confirmError");
    assert.equal(done.publishError.name, "PublishError");
    assert.equal(done.publishError.reason, "Invalid signature");
    assert.match(done.publishError.message, /Torii refused the message: Invalid signature/);
    assert.equal(done.confirmError.name, "OverlayError");
    assert.equal(done.confirmError.cause, "PublishError");
    await waitFor(async () => (await text("chat")) === "gg", "the previous message shown again");

    const unknown = await page.evaluate(() => {
        try {
            window.e2e.publish("x", { primaryType: "arena-Nope" });
            return "published";
        } catch (error) {
            return error.name;
        }
    });
    assert.equal(unknown, "ValidationError", "a model the manifest lacks is refused before sending");
});

test("a message Torii accepts but never indexes rolls back with OverlayTimeoutError", async () => {
    await env.mock.post("/_mock/publish-faults", { unindexed: 1 });
    const shown = await page.evaluate(() => window.e2e.publish("lost", { timeoutMs: 1500 }));
    assert.equal(shown.overlay, "lost");
    const done = await outcome(2, "confirmError");
    assert.ok(done.published, "Torii answered");
    assert.equal(done.confirmError.name, "OverlayTimeoutError");
    await waitFor(async () => (await text("chat")) === "gg", "the indexed message shown again");
});

test("publishMessages shows a batch at once and confirms it when Torii indexed every message", async () => {
    const channels = ["0x101", "0x102"];
    const shown = await page.evaluate(([c]) => window.e2e.publishBatch(["left", "right"], c), [channels]);
    assert.deepEqual(shown, ["left", "right"], "both shown at once");
    const done = await waitFor(async () => {
        const o = await page.evaluate(() => window.e2e.batches[0]);
        return o && (o.confirmed || o.confirmError || o.publishError) ? o : undefined;
    }, "the batch confirmed", 60_000);
    assert.equal(done.confirmed, true, JSON.stringify(done));
    assert.equal(done.published.length, 2, "one answer per message");
    const calls = (await env.mock.log()).filter((entry) => entry.method === "PublishMessageBatch");
    assert.equal(calls.length, 1, "one call");
    const stored = canonEntities(await env.mock.world())
        .filter((e) => e.models["arena-Message"] && channels.some((c) => BigInt(c) === BigInt(e.models["arena-Message"].channel)))
        .map((e) => e.models["arena-Message"].text)
        .sort();
    assert.deepEqual(stored, ["left", "right"], "the mock indexed both");
});
