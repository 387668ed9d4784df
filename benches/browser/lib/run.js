// How every browser bench (bench.js, scale.js, tokens.js) starts and ends: one headless Chromium,
// everything it opened closed even when a phase failed, the report printed and kept under
// benches/.results, and Node made to exit once the report is out.

import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { chromium } from "playwright-core";
import { timed } from "./memory.js";

/**
 * The options every bench takes (the mock binary under `root`, the world's seed, the page
 * size, which contenders run, the browser and its console), merged under the bench's own;
 * `contenders` is the bench's default list.
 */
export function commonOptions(root, contenders) {
    return {
        "mock-bin": { type: "string", default: resolve(root, "target/release/mock-torii") },
        seed: { type: "string", default: "7" },
        "page-size": { type: "string", default: "1000" },
        contenders: { type: "string", default: contenders },
        chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
        headed: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
    };
}

/** Chromium at `executablePath`, headless unless `headed`, with the flags the memory measures need (`--expose-gc`). */
export function launchChromium({ executablePath, headed = false, extraArgs = [] }) {
    return chromium.launch({
        executablePath,
        headless: !headed,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", ...extraArgs, "--js-flags=--expose-gc"],
    });
}

/** Closes the browser and the static server and stops the mock; a close that fails or hangs is logged, not thrown. */
export async function closeRun({ browser, server, mock, log }) {
    await timed("close the browser", browser.close(), 60_000).catch((error) => log(error.message));
    await timed("stop the static server", server.stop(), 10_000).catch((error) => log(error.message));
    mock.stop();
}

/** Prints `text`, appends it to benches/.results/`name`.md and writes `{ meta, results }` beside it as JSON. */
export function saveReport({ root, name, text, meta, results, log }) {
    console.log(text);
    const out = resolve(root, "benches/.results");
    mkdirSync(out, { recursive: true });
    appendFileSync(resolve(out, `${name}.md`), `${text}\n\n`);
    writeFileSync(resolve(out, `${name}-${meta.date.replace(/[:.]/g, "-")}.json`), JSON.stringify({ meta, results }, null, 2));
    log(`appended to benches/.results/${name}.md`);
}

/**
 * Runs `main`; exits 1 when it fails. When it succeeds everything it opened is closed, so Node
 * exits by itself; if something still holds it 10 s later, says what and exits anyway (the timer
 * itself does not keep Node alive).
 */
export function runBench(main, log) {
    main().then(
        () => {
            setTimeout(() => {
                log(`still running 10 s after the report, held by: ${process.getActiveResourcesInfo().join(", ")}; exiting`);
                process.exit(0);
            }, 10_000).unref();
        },
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}
