// How the browser benches (bench.js, scale.js, tokens.js) run their phases: a snapshot of the built
// package, fresh browser contexts that fail on page errors, named steps with time limits, and
// memory measures that report a failure instead of ending the run.

import { cpSync, existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { measureMemory, recordWasmMemories, timed } from "./memory.js";

/**
 * Copies the built package of `root` (js/dist, js/wasm) into `target`, so that a rebuild of js/
 * during the run (others work in the same tree) cannot mix two builds in one run.
 */
export function snapshotPackage(root, target) {
    rmSync(target, { recursive: true, force: true });
    for (const part of ["dist", "wasm"]) {
        const from = resolve(root, "js", part);
        if (!existsSync(from)) throw new Error(`${from} does not exist: build the package with bash js/build.sh`);
        cpSync(from, resolve(target, part), { recursive: true });
    }
    return target;
}

/**
 * Settles like `promise`, or after `ms` with `fallback` (a function: with what it returns or
 * throws). The timer is cleared as soon as `promise` settles: a guard left pending would keep
 * Node alive for its whole duration after the report.
 */
export async function within(promise, ms, fallback) {
    let timer;
    const expiry = new Promise((resolveExpiry) => (timer = setTimeout(resolveExpiry, ms)));
    try {
        const outcome = await Promise.race([promise.then((value) => ({ value })), expiry.then(() => undefined)]);
        return outcome ? outcome.value : typeof fallback === "function" ? fallback() : fallback;
    } finally {
        clearTimeout(timer);
    }
}

/**
 * The phase helpers of one bench: `log(...args)` reports, `verbose` forwards every console
 * message of the pages (otherwise errors and warnings only), a step fails after `stepTimeoutMs`,
 * a whole context after `phaseTimeoutMs` (none when absent), `openBench` waits `openTimeoutMs`.
 */
export function harness({ log, verbose = false, stepTimeoutMs, phaseTimeoutMs, openTimeoutMs }) {
    /** One named step: logged as it starts, failing with its name after `ms` (a hung step ends the run and says which it was). */
    function step(name, run, ms = stepTimeoutMs) {
        log(name);
        return timed(`step "${name}"`, run(), ms);
    }

    /** The memory of `page` and its workers, or `{ error }` naming the step that failed. */
    async function memoryOf(browser, page, name) {
        try {
            return await step(`${name}: memory`, () => measureMemory(browser, page));
        } catch (error) {
            log(`${name}: memory not measured: ${error.message}`);
            return { error: error.message };
        }
    }

    /**
     * Runs `fn(page, pageFailed, keep)` in a fresh browser context (empty storage), failing on a
     * page error or crash, unless `fn` kept its results so far with `keep(results)`: then a
     * failure after that returns them, with the failure's message as `failedAfter`.
     */
    async function inContext(browser, name, fn) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.addInitScript(recordWasmMemories);
        let failPage;
        const pageFailed = new Promise((_, reject) => (failPage = reject));
        pageFailed.catch(() => {});
        page.on("pageerror", (error) => failPage(new Error(`${name}: page error: ${error.stack ?? error.message}`)));
        page.on("crash", () => failPage(new Error(`${name}: the page crashed`)));
        page.on("console", (message) => {
            if (verbose || message.type() === "error" || message.type() === "warning") log(`${name} console.${message.type()}: ${message.text()}`);
        });
        let kept;
        const keep = (results) => (kept = results);
        const phase = Promise.race([fn(page, pageFailed, keep), pageFailed]);
        try {
            if (phaseTimeoutMs === undefined) return await phase;
            return await within(phase, phaseTimeoutMs, () => {
                throw new Error(`${name}: no result within ${phaseTimeoutMs / 60_000} minutes`);
            });
        } catch (error) {
            if (kept === undefined) throw error;
            log(`${error.message}: keeping the results measured before it`);
            return { ...kept, failedAfter: error.message };
        } finally {
            await timed(`${name}: close the context`, context.close(), 60_000).catch((error) => log(error.message));
        }
    }

    /** Opens `url` and waits until the page exposed `window.bench`. */
    async function openBench(page, url) {
        await page.goto(url);
        await page.waitForFunction(() => window.bench !== undefined, null, { timeout: openTimeoutMs, polling: 20 });
    }

    return { step, memoryOf, inContext, openBench };
}
