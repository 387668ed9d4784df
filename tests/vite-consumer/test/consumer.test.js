// The built Vite app (dist/, from `vite build`) served as static files and opened in Chromium
// against a mock-torii: it must sync and show the world's player count. Uses the harness of
// tests/e2e (mock-torii, static server, Chromium through its playwright-core).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startStaticServer } from "../../../examples/serve.mjs";
import { launchBrowser } from "../../e2e/lib/browser.js";
import { startMock } from "../../e2e/lib/mock.js";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));
let mock, server, browser;

before(async () => {
    assert.ok(existsSync(join(DIST, "index.html")), "run `vite build` first (npm test does)");
    mock = await startMock(["--entities", "1000", "--seed", "61"]);
    server = await startStaticServer({ mounts: { "/": DIST } });
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await server?.close();
    await mock?.stop();
});

test("the Vite-built app finds the worker and the wasm, syncs and shows the player count", async () => {
    const players = (await mock.world()).entities.filter((e) => e.models["arena-Player"]).length;
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(error.message));
    const failed = [];
    page.on("requestfailed", (request) => failed.push(request.url()));
    await page.goto(`${server.url}/?torii=${encodeURIComponent(mock.url)}`);
    await page
        .waitForFunction((n) => document.getElementById("count").textContent === String(n), players, { timeout: 180_000 })
        .catch(async (error) => {
            const shown = await page.evaluate(() => document.body.innerText);
            throw new Error(`${error.message}\npage: ${shown}\nfailed requests: ${failed.join(", ")}`);
        });
    assert.equal(await page.textContent("#status"), "ready");
    assert.equal(await page.textContent("#error"), "");
    await page.waitForFunction(() => document.getElementById("react-phase")?.textContent.startsWith("ready/"));
    const urls = await page.evaluate(() => performance.getEntriesByType("resource").map((entry) => entry.name));
    const wasm = urls.filter((url) => url.endsWith(".wasm"));
    // The page loads only the view module; the worker's (transport, storage) stays in the worker.
    assert.ok(wasm.some((url) => /dojo_reactive_view_bg[^/]*\.wasm$/.test(url)), `the view module came from the bundle: ${wasm}`);
    assert.ok(!wasm.some((url) => /dojo_reactive_bg[^/]*\.wasm$/.test(url)), `the page did not load the worker's module: ${wasm}`);
    assert.equal(page.workers().length, 1, "the sync worker runs");
    assert.ok(page.workers()[0].url().startsWith(server.url), `the worker script is served by the app: ${page.workers()[0].url()}`);
    assert.deepEqual(problems, []);
});
