// The demo game of examples/ in Chromium against a small mock world (600 entities, answers slowed
// during the cold sync so that its progress shows): the progress bar moves, the map draws every
// player, the hero moves with the arrow keys and a click (pending, then confirmed by Torii), a lost move
// rolls back, the live feed lists real changes, the same hero comes back after a reload, a second
// tab follows, and Torii going down shows as offline. Saves the README's screenshots under docs/.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { ROOT } from "../lib/mock.js";

const SHOTS = { sync: join(ROOT, "docs/demo-sync.png"), play: join(ROOT, "docs/demo.png") };
const VIEWPORT = { width: 1240, height: 820 };
let env, players;

before(async () => {
    env = await startEnv(["--entities", "600", "--seed", "71"]);
    players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).length;
    await env.mock.post("/_mock/delay", { ms: 120 });
});

after(() => env?.close());

/** Opens the demo in `context` and records page errors. */
async function openDemo(context) {
    const page = await context.newPage();
    page.problems = [];
    page.on("pageerror", (error) => page.problems.push(error.message));
    await page.goto(`${env.server.url}/examples/?torii=${encodeURIComponent(env.mock.url)}&pageSize=40`);
    return page;
}

/** Waits for `predicate(arg)` in the page; on timeout says what the page shows. */
async function until(page, predicate, arg, what, timeout = 60_000) {
    try {
        await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
    } catch (error) {
        const shown = await page.textContent("body").catch(() => "(page closed)");
        throw new Error(`${what}: ${error.message}\nthe page shows:\n${shown}\nerrors: ${page.problems.join("\n")}`);
    }
}

const hero = (page) => page.$eval("#map", (canvas) => canvas.dataset.hero);

test("the demo game: progress, map, moves confirmed and rolled back, live feed, same hero, tabs, offline", async () => {
    const context = await env.browser.newContext({ viewport: VIEWPORT });
    const page = await openDemo(context);

    // Cold sync: the progress bar shows a part of the world.
    await until(page, () => {
        const bar = document.getElementById("sync-progress");
        return !document.getElementById("progress-box").hidden && bar.value > 0 && bar.value < 1;
    }, null, "the progress bar during the cold sync");
    assert.match(await page.textContent("#progress-text"), /^\d+ \/ \d+ entities$/);
    await page.screenshot({ path: SHOTS.sync });
    await until(page, () => document.getElementById("sync-state").dataset.state === "streaming", null, "live after the cold sync");
    assert.equal(await page.isHidden("#progress-box"), true, "the progress bar is gone once live");
    await env.mock.post("/_mock/delay", { ms: 0 });

    // The map: every player drawn, the hero chosen.
    await until(page, (n) => document.getElementById("map").dataset.players === String(n), players, "every player on the map");
    const painted = await page.$eval("#map", (canvas) => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let lit = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 200) lit += 1;
        return lit;
    });
    assert.ok(painted > players, `the players are painted (${painted} bright pixels)`);
    await until(page, () => document.getElementById("map").dataset.hero, null, "the hero on the map");
    const name = await page.textContent("#hero-name");

    // A move with the arrow keys: shown at once as pending, then confirmed by Torii.
    const [x, y] = (await hero(page)).split(",").map(Number);
    const right = `${Math.min(x + 10, 999)},${y}`;
    await page.keyboard.press("ArrowRight");
    await until(page, (at) => {
        const canvas = document.getElementById("map");
        return canvas.dataset.hero === at && canvas.dataset.heroPending === "true";
    }, right, "the move shown at once, pending");
    assert.equal(await page.isVisible("#hero-pending"), true);
    await until(page, () => document.querySelector("#tx-log li.confirmed"), null, "the move confirmed");
    await until(page, () => document.getElementById("map").dataset.heroPending === "false", null, "nothing pending after the confirmation");
    assert.equal(await hero(page), right);

    // Real changes in the live feed (the mock writes 20 per second).
    await env.mock.post("/_mock/rate", { perSec: 20 });
    await until(page, () => document.querySelectorAll("#feed-list li").length >= 3, null, "live changes in the feed");
    const feed = await page.$$eval("#feed-list li", (items) => items.map((item) => item.textContent));
    assert.ok(feed.every((line) => /→|\+\d/.test(line)), `each feed line says what changed: ${feed.join(" | ")}`);
    await env.mock.post("/_mock/rate", { perSec: 0 }); // the hero's position is the test's alone from here

    // A lost move rolls back: the hero goes back to where Torii has it.
    await page.check("#lose-tx");
    await page.keyboard.press("ArrowDown");
    await until(page, () => document.querySelector("#tx-log li.rolledBack"), null, "the lost move rolled back");
    assert.match(await page.textContent("#tx-log li.rolledBack"), /OverlayTimeoutError/);
    await until(page, (at) => document.getElementById("map").dataset.hero === at, right, "the hero back where Torii has it");
    assert.equal(await page.isHidden("#errors"), true, "a rollback is shown with its move, not as an error");
    await page.uncheck("#lose-tx");
    // A click moves the hero there: pending (a line back to where Torii has it), then confirmed.
    const there = { x: x < 500 ? x + 180 : x - 180, y: y < 500 ? y + 140 : y - 140 };
    const width = await page.$eval("#map", (canvas) => canvas.getBoundingClientRect().width);
    await page.click("#map", { position: { x: (there.x / 1000) * width, y: (there.y / 1000) * width } });
    await until(page, () => document.getElementById("map").dataset.heroPending === "true", null, "the clicked move pending");
    const [cx, cy] = (await hero(page)).split(",").map(Number);
    assert.ok(Math.abs(cx - there.x) <= 3 && Math.abs(cy - there.y) <= 3, `the hero shown where the map was clicked (${cx},${cy} for ${there.x},${there.y})`);
    await page.screenshot({ path: SHOTS.play });
    await until(page, () => document.querySelectorAll("#tx-log li.confirmed").length === 2, null, "the second move confirmed");
    const up = await hero(page);

    // A second tab follows this one's sync and shows the same hero where Torii has it.
    const second = await openDemo(context);
    await until(second, () => /follows/.test(document.getElementById("tab-role").textContent), null, "the second tab follows");
    await until(second, (at) => document.getElementById("map").dataset.hero === at, up, "the second tab shows the hero's confirmed position");
    assert.equal(await second.textContent("#hero-name"), name, "the same hero in both tabs");
    await second.close();

    // The same hero after a reload.
    await page.reload();
    await until(page, () => document.getElementById("map").dataset.hero, null, "the hero after a reload");
    assert.equal(await page.textContent("#hero-name"), name);
    assert.equal(await hero(page), up);

    // Torii down: the page says it is offline and keeps the map.
    await env.mock.down();
    await until(page, () => !document.getElementById("offline").hidden, null, "offline shown", 90_000);
    assert.equal(await page.$eval("#map", (canvas) => canvas.dataset.players), String(players));

    assert.deepEqual([...page.problems, ...second.problems], []);
    await context.close();
});
