// Side-by-side browser benchmark, one Chromium session against one mock-torii world:
//   ours  = @dojoengine/reactive (js/: worker sync, IndexedDB, main-thread view), cold then warm
//   raw   = @dojoengine/torii-wasm 1.8.2, getAllEntities paging into an in-memory array
//   sdk   = the same paging through @dojoengine/sdk's parseEntities into its zustand state store
// Prints a markdown table and appends it to benches/.results/. Usually run through run.sh.
//   node bench.js --mock-bin PATH [--entities N] [--contenders ours,raw,sdk] [--rate R] ...
//   (ours is bundled with esbuild as an app would ship it; --unbundled serves its tsc modules)

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { ARENA_ABIS } from "../../examples/arena-manifest.js";
import { minifiedBytes, shippedBytes } from "./lib/bytes.js";
import { harness, snapshotPackage, within } from "./lib/harness.js";
import { closeRun, commonOptions, launchChromium, runBench, saveReport } from "./lib/run.js";
import { timed } from "./lib/memory.js";
import { startMock } from "./lib/mock.js";
import { renderReport } from "./lib/report.js";
import { startStaticServer } from "./lib/server.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const BUILD = resolve(HERE, ".build");

const { values: opts } = parseArgs({
    options: {
        ...commonOptions(ROOT, "raw,sdk,ours"),
        entities: { type: "string", default: "100000" },
        rate: { type: "string", default: "1000" },
        markers: { type: "string", default: "200" },
        "marker-interval-ms": { type: "string", default: "50" },
        "query-ids": { type: "string", default: "100" },
        "min-level": { type: "string", default: "50" },
        unbundled: { type: "boolean", default: false },
    },
});
const N = Number(opts.entities);
const contenders = opts.contenders.split(",").map((c) => c.trim());
const PHASE_TIMEOUT_MS = 20 * 60_000;

const log = (...args) => console.error("[bench]", ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** esbuild bundle of the SDK's parser + state store (torii-wasm external, see sdk-entry.js). */
async function buildSdkBundle() {
    await build({
        entryPoints: [resolve(HERE, "sdk-entry.js")],
        bundle: true,
        format: "esm",
        minify: true,
        platform: "browser",
        target: "es2022",
        external: ["@dojoengine/torii-wasm"],
        outfile: resolve(BUILD, "sdk.js"),
        logLevel: "error",
    });
}

/**
 * Ours as an app's bundler ships it (Vite bundles the page and, seeing
 * `new Worker(new URL(...))`, the worker entry; the SDK contender is bundled too): the bench page
 * and the package in one esbuild bundle, written next to the package's files so that its
 * `new URL(..., import.meta.url)` of the worker and the wasm still resolve, and the worker entry
 * bundled in place. Returns the page. `--unbundled` loads the package's tsc modules instead.
 */
async function bundleOurs() {
    const dist = resolve(BUILD, "reactive", "dist");
    const absolute = {
        name: "bench-paths",
        setup(b) {
            b.onResolve({ filter: /^\/reactive\// }, (args) => ({ path: resolve(BUILD, args.path.slice(1)) }));
        },
    };
    const common = { bundle: true, format: "esm", minify: true, platform: "browser", target: "es2022", logLevel: "error", plugins: [absolute] };
    await build({ ...common, entryPoints: [resolve(HERE, "pages", "ours.js")], outfile: resolve(dist, "bench-ours.js") });
    await build({ ...common, entryPoints: [resolve(dist, "worker.js")], outfile: resolve(dist, "worker.js"), allowOverwrite: true });
    writeFileSync(
        resolve(dist, "bench-ours.html"),
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>ours (bundled)</title>' +
            '<script src="/bench/longtasks.js"></script><script type="module" src="bench-ours.js"></script></head><body>ours</body></html>',
    );
    return "/reactive/dist/bench-ours.html";
}

/** How long one step of a phase (a page call, a navigation, a measure) may take. */
const STEP_TIMEOUT_MS = 5 * 60_000;
const { step, memoryOf, inContext, openBench } = harness({
    log,
    verbose: opts.verbose,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    phaseTimeoutMs: PHASE_TIMEOUT_MS,
    openTimeoutMs: PHASE_TIMEOUT_MS,
});

/**
 * Update-to-listener latency under the mock's steady rate, in each of `pages` at once (ours: the
 * leader tab and a follower tab): each page subscribes, the rate starts, and after a second Node
 * sends `--markers` marker writes (see pages/common.js) every `--marker-interval-ms`. Waits up to
 * 10 s for every page to see them all, stops the rate, then collects (a page whose main thread is
 * starved answers once its backlog has drained). One result per page.
 */
async function latencyUnderRate(pages, mock, entityId, tag) {
    const count = Number(opts.markers);
    for (const page of pages) await step(`${tag}: listen`, () => page.evaluate((args) => window.bench.listen(args), { entityId, tag }), 60_000);
    const results = pages.map(() => undefined);
    await mock.control.rate(Number(opts.rate));
    try {
        await sleep(1000);
        const sends = [];
        for (let i = 0; i < count; i++) {
            const name = `bench-marker-${tag}-${i}-${performance.timeOrigin + performance.now()}`;
            sends.push(mock.control.setMembers(entityId, "arena-Player", { name }));
            await sleep(Number(opts["marker-interval-ms"]));
        }
        await Promise.all(sends);
        for (const deadline = Date.now() + 10_000; Date.now() < deadline && results.some((r) => !r); await sleep(200)) {
            for (const [i, page] of pages.entries()) {
                if (results[i]) continue;
                const seen = await within(page.evaluate(() => window.bench.markers()), 2000, undefined);
                if (seen?.n >= count) results[i] = seen;
            }
        }
    } finally {
        await mock.control.rate(0);
    }
    return Promise.all(
        pages.map(async (page, i) => {
            const result = results[i] ?? (await within(page.evaluate(() => window.bench.markers()), 180_000, { n: 0, starved: true }));
            await within(page.evaluate(() => window.bench.unlisten()), 60_000);
            // A marker not seen but followed by a seen one was superseded (the listener got the
            // newer state first: coalescing, not loss); a lost one has no later marker seen.
            const superseded = Math.max(0, (result.lastIndex ?? -1) + 1 - result.n);
            return { ...result, superseded, lost: count - result.n - superseded };
        }),
    );
}

const QUERY_ROUNDS = 20;
const queryArgs = (ids) => ({ ids, rounds: QUERY_ROUNDS, scanRounds: 10, minLevel: Number(opts["min-level"]) });

async function main() {
    mkdirSync(BUILD, { recursive: true });
    const loadBefore = loadavg();
    await buildSdkBundle();
    log(`starting ${opts["mock-bin"]} --entities ${N}`);
    const mock = await startMock(opts["mock-bin"], ["--entities", String(N), "--seed", opts.seed]);
    const status = await mock.control.status();
    // The manifest as a game ships it (mock-torii's plus the arena ABIs, as examples/ and tests/e2e).
    const manifest = await mock.control.manifest();
    writeFileSync(resolve(BUILD, "manifest.json"), JSON.stringify(manifest.abis ? manifest : { ...manifest, abis: ARENA_ABIS }));
    const server = await startStaticServer({
        "/bench/": resolve(HERE, "pages"),
        "/build/": BUILD,
        "/node_modules/": resolve(HERE, "node_modules"),
        "/reactive/": snapshotPackage(ROOT, resolve(BUILD, "reactive")),
    }, { isolated: ["/reactive/"] });
    const oursPage = opts.unbundled ? "/bench/ours.html" : await bundleOurs();
    const browser = await launchChromium({ executablePath: opts.chromium, headed: opts.headed, extraArgs: ["--enable-precise-memory-info"] });
    const query = new URLSearchParams({
        torii: mock.url,
        world: status.worldAddress,
        pageSize: opts["page-size"],
        entities: String(status.entities),
    });
    const results = { entities: status.entities, chromium: browser.version() };
    let ids;
    const sampleIds = async (page) => (ids ??= await page.evaluate((n) => window.bench.sampleIds(n), Number(opts["query-ids"])));
    try {
        for (const mode of ["raw", "sdk"].filter((m) => contenders.includes(m))) {
            results[mode] = await inContext(browser, mode, async (page) => {
                server.served.clear();
                await step(`${mode}: open the page`, () => openBench(page, `${server.url}/bench/peer.html?${query}&mode=${mode}`));
                const cold = await step(`${mode}: cold sync`, () => page.evaluate(() => window.bench.cold()), PHASE_TIMEOUT_MS);
                const bytes = shippedBytes(server.served, ["/node_modules/", "/build/sdk.js"]);
                await sampleIds(page);
                const queries = await step(`${mode}: queries`, () => page.evaluate((args) => window.bench.queries(args), queryArgs(ids)));
                const memory = await memoryOf(browser, page, mode);
                const [latency] = await step(`${mode}: update latency`, () => latencyUnderRate([page], mock, ids[0], mode));
                return { cold, bytes, queries, memory, latency };
            });
        }
        if (contenders.includes("ours")) {
            results.ours = await inContext(browser, "ours", async (page, _failed, keep) => {
                server.served.clear();
                await step("ours: open the page", () => openBench(page, `${server.url}${oursPage}?${query}`));
                const cold = await step("ours: cold sync", () => page.evaluate(() => window.bench.cold()), PHASE_TIMEOUT_MS);
                const bytes = shippedBytes(server.served, ["/reactive/"]);
                bytes.jsMinified = await minifiedBytes(["dist/index.js", "dist/worker.js"].map((f) => resolve(BUILD, "reactive", f)));
                await sampleIds(page);
                const queries = await step("ours: queries", () => page.evaluate((args) => window.bench.queries(args), queryArgs(ids)));
                const memory = await memoryOf(browser, page, "ours");
                await mock.control.rate(Number(opts.rate));
                let reads;
                try {
                    reads = await step("ours: reads of every entity by id under the update rate", () => page.evaluate(() => window.bench.reads()));
                } finally {
                    await mock.control.rate(0);
                }
                await step("ours: settle", () => page.evaluate(() => window.bench.settle()));
                // A second tab of the same origin: its worker follows this tab's (same database)
                // and shows what the leader relays (docs/tabs.md).
                const followerPage = await page.context().newPage();
                let latency;
                let follower;
                try {
                    await step("ours: open a follower tab", () => openBench(followerPage, `${server.url}${oursPage}?${query}`));
                    follower = await step("ours: follower tab restored", () => followerPage.evaluate((id) => window.bench.restored(id), ids[0]));
                    [latency, follower.latency] = await step("ours: update latency (leader and follower tabs)", () =>
                        latencyUnderRate([page, followerPage], mock, ids[0], "ours"),
                    );
                } finally {
                    await timed("ours: close the follower tab", followerPage.close()).catch((error) => log(error.message));
                }
                await step("ours: settle", () => page.evaluate(() => window.bench.settle()));
                const [probeKey] = await page.evaluate((probe) => window.bench.playerKeys(probe), [ids[1] ?? ids[0]]);
                await mock.control.clearLog();
                await step("ours: reload (warm start)", () => openBench(page, `${server.url}${oursPage}?${query}&probeKey=${encodeURIComponent(probeKey)}`));
                const warm = await step("ours: warm start, first query", () => page.evaluate(() => window.bench.warm()));
                log(`WARM ${JSON.stringify(warm)}`);
                const calls = await mock.control.log();
                const byMethod = {};
                for (const call of calls) {
                    const kind = /clause=hashed_keys/.test(call.detail ?? "") ? `${call.method} by id` : call.method;
                    byMethod[kind] = (byMethod[kind] ?? 0) + 1;
                }
                warm.retrieveDetails = calls.filter((c) => /Retrieve/.test(c.method)).map((c) => c.detail);
                warm.calls = Object.entries(byMethod).map(([m, n]) => `${m} ${n}`).join(", ") || "none";
                // Walking the reloaded page's heaps has crashed the renderer: what was measured
                // before is kept then.
                keep({ cold, bytes, queries, memory, reads, latency, follower, warm });
                warm.memory = await memoryOf(browser, page, "ours after the warm start");
                return { cold, bytes, queries, memory, reads, latency, follower, warm };
            });
        }
    } finally {
        await closeRun({ browser, server, mock, log });
    }
    const meta = {
        date: new Date().toISOString(),
        cores: cpus().length,
        loadBefore,
        loadAfter: loadavg(),
        mockBin: opts["mock-bin"],
        pageSize: Number(opts["page-size"]),
        rate: Number(opts.rate),
        markers: Number(opts.markers),
        markerIntervalMs: Number(opts["marker-interval-ms"]),
        minLevel: Number(opts["min-level"]),
        queryIds: Number(opts["query-ids"]),
        queryRounds: QUERY_ROUNDS,
    };
    const report = renderReport(results, meta);
    saveReport({ root: ROOT, name: "browser", text: report, meta, results, log });
}

runBench(main, log);
