// The demo page of examples/ in Chromium against a mock with updates flowing: it syncs, shows
// the counts and the live feed, and a move is confirmed (transaction lands) or rolled back
// (transaction lost) on screen.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";

let env, players;

before(async () => {
    env = await startEnv(["--entities", "800", "--seed", "71"]);
    players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).length;
    await env.mock.post("/_mock/rate", { perSec: 20 });
});

after(() => env?.close());

test("the demo page syncs, shows live changes, and confirms or rolls back moves", async () => {
    const page = await env.browser.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${env.server.url}/examples/?torii=${encodeURIComponent(env.mock.url)}`);
    const text = (id) => page.textContent(`#${id}`);
    await page.waitForFunction((n) => document.getElementById("player-count").textContent === String(n), players, { timeout: 120_000 });
    await page.waitForFunction(() => document.getElementById("sync-state").textContent.startsWith("ready"));
    await page.waitForFunction(() => document.querySelectorAll("#feed-rows tr").length > 0, null, { timeout: 60_000 });
    assert.ok(Number(await text("update-count")) > 0);

    const shown = async (selector) => {
        try {
            await page.waitForSelector(selector, { timeout: 60_000 });
        } catch (error) {
            throw new Error(`${selector} never appeared; the page shows:\n${await page.textContent("body")}\n${problems.join("\n")}`);
        }
    };
    await page.click("#move-ok");
    await shown("#tx-log li.confirmed");
    await page.click("#move-lost");
    await shown("#tx-log li.rolledBack");
    assert.match(await page.textContent("#tx-log li.rolledBack"), /OverlayTimeoutError/);
    const listed = await page.$$eval("#error-list li", (items) => items.map((item) => item.textContent));
    assert.ok(listed.length > 0 && listed.every((line) => line.startsWith("OverlayTimeoutError:")), `errors listed: ${listed}`);
    assert.deepEqual(problems, []);
});
