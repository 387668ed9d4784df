// One test environment: a mock-torii, the static server (package, test pages, example page) and
// Chromium; pages open with the harness loaded and their console errors recorded.

import { join } from "node:path";
import { startStaticServer } from "../../../examples/serve.mjs";
import { launchBrowser } from "./browser.js";
import { ROOT, startMock } from "./mock.js";

/** What the static server serves during the tests. */
export const MOUNTS = {
    "/pkg/": join(ROOT, "js"),
    "/e2e/": join(ROOT, "tests/e2e/pages"),
    "/examples/": join(ROOT, "examples"),
};

/**
 * Starts a mock (with `mockArgs`), the static server and Chromium. `close()` stops all three.
 * `openHarness(context?, path?)` opens the harness page (or `path` under pages/, a page that
 * sets `window.e2e.loaded` the same way) in a new page of `context` (default: a new browser
 * context, i.e. a fresh IndexedDB) and waits until the package is imported.
 */
export async function startEnv(mockArgs) {
    const mock = await startMock(mockArgs);
    const server = await startStaticServer({ mounts: MOUNTS });
    const browser = await launchBrowser();
    const pages = [];

    async function openHarness(context, path = "harness.html") {
        const ctx = context ?? (await browser.newContext());
        const page = await ctx.newPage();
        const problems = [];
        page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
        page.on("console", (message) => {
            // Failed loads are reported with their URL below.
            if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
                problems.push(`console: ${message.text()}`);
            }
            if (process.env.E2E_VERBOSE) console.log(`[page] ${message.text()}`);
        });
        page.on("response", (response) => {
            if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
        });
        await page.goto(`${server.url}/e2e/${path}`);
        await page.waitForFunction(() => window.e2e?.loaded === true || window.e2e?.loadError, null, { timeout: 60_000 });
        const loadError = await page.evaluate(() => window.e2e.loadError);
        if (loadError) throw new Error(`the package did not load in the page: ${loadError}`);
        pages.push(page);
        page.problems = problems;
        return page;
    }

    return {
        mock,
        server,
        browser,
        openHarness,
        async close() {
            await browser.close().catch(() => {});
            await server.close();
            await mock.stop();
        },
    };
}
