// The React provider and hooks in Chromium, with React's development build in StrictMode
// (pages/react.html): `<ReactiveProvider options>` creates one client (one worker) through
// StrictMode's double effects, re-renders and a hot reload's remount; the hooks show a player
// found by its keys (`useEntityId` = the mock's Poseidon entity id), follow a live change, accept
// an id not known yet; the last unmount shuts the client down (worker gone, mock unsubscribed),
// and a later mount starts a new one that works.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { canonEntities } from "../lib/world.js";
import { waitFor } from "../lib/wait.js";

let env, page, hero;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "43"]);
    const world = canonEntities(await env.mock.world());
    hero = world.find((e) => e.models["arena-Player"] && e.models["arena-Position"]);
    page = await env.openHarness(undefined, "react.html");
});

after(() => env?.close());

const text = (id) => page.evaluate((i) => window.e2e.text(i), id);
const alive = () => page.evaluate(() => window.e2e.workers.length);

test("StrictMode, re-renders and a remount keep one client; the hooks show the player found by its keys", async () => {
    const player = hero.models["arena-Player"].player;
    await page.evaluate(([url]) => window.e2e.mount(url, undefined), [env.mock.url]);
    await waitFor(async () => (await text("phase")) === "ready", "the provider's client to be ready");
    assert.equal(await text("id"), "none", "no player yet: the hooks take undefined");
    assert.equal(await text("hero"), "none");
    await waitFor(async () => (await text("page")) === "3 +", "the first page of players (3, more to come)");

    await page.evaluate((p) => window.e2e.render(p), player);
    await waitFor(async () => (await text("id")) !== "none", "useEntityId");
    assert.equal(BigInt(await text("id")), BigInt(hero.rawId), "useEntityId hashes the keys as Torii does");
    const { name, level } = hero.models["arena-Player"];
    await waitFor(async () => (await text("hero")) === `${name} (level ${level})`, "useModel of arena-Player");
    const { x, y } = hero.models["arena-Position"].vec;
    assert.equal(await text("position"), `${x},${y}`);

    for (let i = 0; i < 20; i++) await page.evaluate((p) => window.e2e.render(p), player);
    await page.evaluate(() => window.e2e.remount());
    await waitFor(async () => (await text("position")) === `${x},${y}`, "the remounted tree showing the player");
    await env.mock.post("/_mock/set", { entityId: hero.rawId, model: "arena-Position", values: { vec: { x: 4242, y: 77 } } });
    await waitFor(async () => (await text("position")) === "4242,77", "a live change re-rendering useModel");

    const seen = await page.evaluate(() => ({ clients: window.e2e.clients.length, renders: window.e2e.renders }));
    assert.equal(seen.clients, 1, "one client through StrictMode, 20 re-renders and a remount");
    assert.equal(await alive(), 1, "one worker started");
    assert.equal(page.workers().length, 1, "one worker running");
    assert.ok(seen.renders > 20);
    assert.deepEqual(page.problems, [], "no React warning, no page error");
});

test("the last unmount shuts the client down; a later mount starts a new one that works", async () => {
    const closed = new Promise((resolve) => page.workers()[0].once("close", resolve));
    await page.evaluate(() => window.e2e.unmount());
    await closed;
    assert.equal(await page.evaluate(() => window.e2e.client.getSyncStatus().phase), "stopped");
    await waitFor(async () => (await env.mock.status()).subscriptions === 0, "the mock to see no subscriber");

    await page.evaluate(([url, p]) => window.e2e.mount(url, p), [env.mock.url, hero.models["arena-Player"].player]);
    await waitFor(async () => (await text("position")) === "4242,77", "the new client showing the stored player");
    assert.equal(await page.evaluate(() => window.e2e.clients.length), 2);
    assert.equal(page.workers().length, 1, "one worker running again");
    assert.deepEqual(page.problems, []);
    await page.evaluate(() => window.e2e.unmount());
    await waitFor(() => page.workers().length === 0, "the worker to stop");
});
