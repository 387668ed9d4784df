// Scale benchmark (issue 14 item 5), one Chromium session against one mock-torii world of a
// million entities:
//   ours = @dojoengine/reactive keeping one sync target, a square region of arena-Position
//          (~20,000 entities, with their arena-Player): cold sync, memory, IndexedDB bytes, warm
//          start, moves of the target (`client.targets.update` → `targets.complete`), viewport
//          queries through the declared (vec.x, vec.y) index;
//   raw  = @dojoengine/torii-wasm 1.8.2 running the same scoped query (`getEntities` with the
//          same clause), the same moves (fetching the new region) and viewports (a JS filter);
//   --whole: ours syncing the whole world (no target), until done, out of memory or timed out.
// Prints a markdown table and appends it to benches/.results/scale.md. Usually run through
// scale.sh (builds what it needs):
//   node scale.js --mock-bin PATH [--entities 1000000] [--target 20000] [--moves 8] [--whole]

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ARENA_ABIS } from "../../examples/arena-manifest.js";
import { harness, snapshotPackage } from "./lib/harness.js";
import { closeRun, commonOptions, launchChromium, runBench, saveReport } from "./lib/run.js";
import { timed } from "./lib/memory.js";
import { startMock } from "./lib/mock.js";
import { startStaticServer } from "./lib/server.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const BUILD = resolve(HERE, ".build");

const { values: opts } = parseArgs({
    options: {
        ...commonOptions(ROOT, "ours,raw"),
        entities: { type: "string", default: "1000000" },
        target: { type: "string", default: "20000" },
        moves: { type: "string", default: "8" },
        viewport: { type: "string", default: "40" },
        "viewport-rounds": { type: "string", default: "20" },
        whole: { type: "boolean", default: false },
        "warm-memory": { type: "boolean", default: false },
        "whole-timeout-min": { type: "string", default: "20" },
    },
});
const N = Number(opts.entities);
const contenders = opts.contenders.split(",").map((c) => c.trim());
const STEP_TIMEOUT_MS = 10 * 60_000;
/** The map: `arena-Position.vec` is uniform over 1000 × 1000 cells (crates/mock-torii world.rs). */
const MAP = 1000;

const log = (...args) => console.error("[scale]", new Date().toISOString().slice(11, 19), ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Players (entities with a position): mock-torii makes every fourth entity an inventory. */
const players = N - Math.floor(N / 4);
/** The side of the square region holding about `--target` positions. */
const side = Math.min(MAP, Math.round(MAP * Math.sqrt(Number(opts.target) / players)));
const start = { x: 100, y: 100, side };

/**
 * The moves: alternately a pan (the square shifted by a quarter of its side, as a player walking)
 * and a jump to a disjoint square (a teleport, a new map view).
 */
function moves(count) {
    const jumps = [
        { x: 600, y: 600 },
        { x: 150, y: 650 },
        { x: 650, y: 150 },
        { x: 400, y: 400 },
    ];
    const list = [];
    let at = start;
    for (let i = 0; i < count; i++) {
        if (i % 2 === 0) {
            const step = Math.max(1, Math.round(side / 4));
            const x = at.x + step + side <= MAP ? at.x + step : at.x - step;
            at = { x, y: at.y, side, kind: "pan" };
        } else {
            at = { ...jumps[Math.floor(i / 2) % jumps.length], side, kind: "jump" };
        }
        list.push(at);
    }
    return list;
}

/** `count` viewports of `size` cells inside the square `at`, spread over it. */
function viewports(at, size, count = 10) {
    const room = Math.max(0, at.side - size);
    return Array.from({ length: count }, (_, i) => ({
        x: at.x + Math.floor((room * i) / Math.max(1, count - 1)),
        y: at.y + Math.floor((room * (count - 1 - i)) / Math.max(1, count - 1)),
        side: size,
    }));
}

/** Resident set of a process (bytes), from /proc; NaN once it is gone. */
function rss(pid) {
    try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
    } catch {
        return NaN;
    }
}

/** p50/p95/max of a list of numbers. */
function percentiles(samples) {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
    return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? NaN };
}

const { step, memoryOf, inContext, openBench } = harness({
    log,
    verbose: opts.verbose,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    openTimeoutMs: STEP_TIMEOUT_MS,
});

/** Ours keeping the region target: cold, storage, memory, warm start, moves, viewports. */
async function ours(browser, server, query, mock, moveList) {
    return inContext(browser, "ours", async (page) => {
        const url = `${server.url}/bench/scale-ours.html?${query}`;
        await step("ours: open the page", () => openBench(page, url));
        const cold = await step("ours: cold sync of the region", () => page.evaluate((a) => window.bench.cold(a), { expected: 0 }));
        log(`ours: ${cold.positions} positions in ${Math.round(cold.completeMs)} ms`);
        const storage = await step("ours: IndexedDB bytes", () => page.evaluate(() => window.bench.storage()));
        const memory = await memoryOf(browser, page, "ours");
        await step("ours: reload (warm start)", () => openBench(page, url));
        const warm = await step("ours: warm start", () => page.evaluate((a) => window.bench.warm(a), { expected: cold.positions }));
        // Not measured by default: in the quick runs the renderer crashed while this measure
        // walked the reloaded page's heaps (bench.js reports the same measure failing).
        if (opts["warm-memory"]) warm.memory = await memoryOf(browser, page, "ours after the warm start");
        const moved = [];
        for (const [i, square] of moveList.entries()) {
            await mock.control.clearLog();
            const result = await step(`ours: move ${i + 1}/${moveList.length} (${square.kind} to ${square.x},${square.y})`, () =>
                page.evaluate((s) => window.bench.move(s), square),
            );
            // What the move fetched, from the mock's request log (paged rows, requests).
            const pages = (await mock.control.log()).filter((call) => call.method === "RetrieveEntities");
            const rows = pages.reduce((sum, call) => sum + (call.rows ?? 0), 0);
            moved.push({ ...square, ...result, requests: pages.length, rows });
        }
        const last = moveList.at(-1) ?? start;
        const view = await step("ours: viewport queries", () =>
            page.evaluate((a) => window.bench.viewport(a), { viewports: viewports(last, Number(opts.viewport)), rounds: Number(opts["viewport-rounds"]) }),
        );
        const storageAfterMoves = await step("ours: IndexedDB bytes after the moves", () => page.evaluate(() => window.bench.storage()));
        const memoryAfterMoves = await memoryOf(browser, page, "ours after the moves");
        return { cold, storage, memory, warm, moved, view, storageAfterMoves, memoryAfterMoves, mockRss: rss(mock.pid) };
    });
}

/** torii-wasm running the same scoped query, moves and viewports. */
async function raw(browser, server, query, moveList) {
    return inContext(browser, "raw", async (page) => {
        await step("raw: open the page", () => openBench(page, `${server.url}/bench/scale-peer.html?${query}`));
        const cold = await step("raw: fetch the region", () => page.evaluate(() => window.bench.cold()));
        log(`raw: ${cold.positions} entities in ${Math.round(cold.completeMs)} ms`);
        const memory = await memoryOf(browser, page, "raw");
        const moved = [];
        for (const [i, square] of moveList.entries()) {
            const result = await step(`raw: move ${i + 1}/${moveList.length} (${square.kind})`, () => page.evaluate((s) => window.bench.move(s), square));
            moved.push({ ...square, ...result });
        }
        const last = moveList.at(-1) ?? start;
        const view = await step("raw: viewport filters", () =>
            page.evaluate((a) => window.bench.viewport(a), { viewports: viewports(last, Number(opts.viewport)), rounds: Number(opts["viewport-rounds"]) }),
        );
        return { cold, memory, moved, view };
    });
}

/**
 * Ours syncing the whole world: progress every 30 s until every position is held, the page
 * fails (out of memory: where it breaks), or `--whole-timeout-min` passes.
 */
async function whole(browser, server, query, mock) {
    const deadline = Date.now() + Number(opts["whole-timeout-min"]) * 60_000;
    const progress = [];
    let page;
    try {
        return await inContext(browser, "whole", async (opened, failed) => {
            page = opened;
            await step("whole: open the page", () => openBench(page, `${server.url}/bench/scale-ours.html?${query}&whole=1`));
            const done = page.evaluate((a) => window.bench.cold(a), { expected: N });
            done.catch(() => {});
            for (;;) {
                const outcome = await Promise.race([done.then((cold) => ({ cold })), failed, sleep(30_000).then(() => undefined)]);
                if (outcome) {
                    // The viewport through the index with the whole world in the view.
                    if (outcome.cold) {
                        outcome.view = await step("whole: viewport queries", () =>
                            page.evaluate((a) => window.bench.viewport(a), { viewports: viewports(start, Number(opts.viewport)), rounds: Number(opts["viewport-rounds"]) }),
                        ).catch((error) => ({ error: error.message }));
                    }
                    const memory = await memoryOf(browser, page, "whole");
                    const storage = await page.evaluate(() => window.bench.storage()).catch((e) => ({ error: e.message }));
                    return { ...outcome, progress, memory, storage, mockRss: rss(mock.pid) };
                }
                const now = await timed("whole: progress", page.evaluate(() => window.bench.progress()), 60_000).catch((e) => ({ error: e.message }));
                progress.push({ at: new Date().toISOString(), ...now });
                log(`whole: ${JSON.stringify(now).slice(0, 300)}, mock RSS ${mib(rss(mock.pid))}`);
                if (Date.now() > deadline) {
                    const memory = await memoryOf(browser, page, "whole (timed out)");
                    return { timedOut: true, progress, memory, mockRss: rss(mock.pid) };
                }
            }
        });
    } catch (error) {
        return { failed: error.message, progress };
    }
}

const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(bytes < 100 * 2 ** 20 ? 1 : 0)} MiB` : "—");
const ms = (value) => (Number.isFinite(value) ? `${Math.round(value).toLocaleString("en-US")} ms` : "—");
const worker = (memory) => memory?.workers?.find((w) => !w.error) ?? memory?.workers?.[0];

/** The markdown report. */
function report(results, meta) {
    const { ours: o, raw: r } = results;
    const lines = [
        `### Scale run ${meta.date} (${N.toLocaleString("en-US")} entities, region ${side} × ${side} cells)`,
        "",
        `mock-torii ${N.toLocaleString("en-US")} entities: ready in ${ms(results.mock.startMs)}, RSS ${mib(results.mock.rss)} after start` +
            (o ? `, ${mib(o.mockRss)} after ours' phase` : "") +
            `; load average ${meta.loadBefore.map((l) => l.toFixed(1)).join(" / ")} before, ${meta.loadAfter.map((l) => l.toFixed(1)).join(" / ")} after (${meta.cores} cores); Chromium ${results.chromium}.`,
        "",
        "| measure | ours (sync target) | torii-wasm (same query) |",
        "|---|---|---|",
    ];
    const row = (name, a, b) => lines.push(`| ${name} | ${a ?? "—"} | ${b ?? "—"} |`);
    row("entities in the region (cold)", o?.cold.positions.toLocaleString("en-US"), r?.cold.positions.toLocaleString("en-US"));
    row("cold: region complete (from navigation start)", o && ms(o.cold.completeMs), r && ms(r.cold.completeMs));
    row("cold: longest main-thread task", o && ms(o.cold.longTasks.longestMs), r && ms(r.cold.longTasks.longestMs));
    const mem = (m) =>
        m && !m.error
            ? `page JS ${mib(m.main?.jsHeapUsed)} + wasm ${mib(m.main?.wasm)}; worker JS ${mib(worker(m)?.jsHeapUsed)} + wasm ${mib(worker(m)?.wasm)}; renderer RSS ${mib(m.renderer?.rss)}`
            : m?.error;
    row("memory after the cold sync", o && mem(o.memory), r && mem(r.memory));
    row("IndexedDB bytes after the cold sync", o && `${mib(o.storage.indexedDB)} (${(o.storage.indexedDB / o.cold.positions).toFixed(0)} B/entity)`, "keeps nothing");
    row("warm start: ready / region all queryable / complete", o && `${ms(o.warm.readyMs)} / ${ms(o.warm.allHeldMs)} / ${ms(o.warm.completeMs)}`, "(refetches: the cold row)");
    row("memory after the warm start", o && mem(o.warm.memory), undefined);
    for (const kind of ["pan", "jump"]) {
        const mine = o?.moved.filter((m) => m.kind === kind).map((m) => m.completeMs) ?? [];
        const theirs = r?.moved.filter((m) => m.kind === kind).map((m) => m.completeMs) ?? [];
        const fmt = (list) => {
            const p = percentiles(list);
            return p.n ? `p50 ${ms(p.p50)}, p95 ${ms(p.p95)} (n = ${p.n})` : undefined;
        };
        row(`move (${kind}) → new region complete`, fmt(mine), fmt(theirs));
    }
    const all = (list) => {
        const p = percentiles(list?.map((m) => m.completeMs) ?? []);
        return p.n ? `p50 ${ms(p.p50)}, p95 ${ms(p.p95)} (n = ${p.n})` : undefined;
    };
    row("every move → new region complete", all(o?.moved), all(r?.moved));
    row("entities after the last move", o?.moved.at(-1)?.positions.toLocaleString("en-US"), r?.moved.at(-1)?.positions.toLocaleString("en-US"));
    for (const kind of ["pan", "jump"]) {
        const mine = o?.moved.filter((m) => m.kind === kind) ?? [];
        if (mine.length) row(`rows paged per ${kind} (RetrieveEntities requests)`, mine.map((m) => `${m.rows.toLocaleString("en-US")} (${m.requests})`).join(", "), undefined);
    }
    const q = (v) => v && `p50 ${v.p50.toFixed(2)} ms, p95 ${v.p95.toFixed(2)} ms`;
    row(`viewport ${opts.viewport} × ${opts.viewport} (mean ${o?.view.meanMatches ?? r?.view.meanMatches} matches): query`, o && `${q(o.view.query)} (index)`, r && `${q(r.view.query)} (JS filter)`);
    row("viewport: count", o && q(o.view.count), undefined);
    row("IndexedDB bytes after the moves", o && mib(o.storageAfterMoves.indexedDB), undefined);
    row("memory after the moves", o && mem(o.memoryAfterMoves), undefined);
    if (results.whole) {
        const w = results.whole;
        lines.push("", `Whole world by ours (--whole): ${w.cold ? `every entity held at ${ms(w.cold.completeMs)} (${w.cold.entities.toLocaleString("en-US")})` : w.timedOut ? "timed out" : `failed: ${w.failed}`}; memory ${mem(w.memory) ?? "not measured"}; IndexedDB ${mib(w.storage?.indexedDB)}; progress ${JSON.stringify(w.progress.map((p) => [p.at?.slice(11, 19), p.entities]))}` +
                (w.view?.query ? `; viewport ${opts.viewport} × ${opts.viewport} over the whole world (mean ${w.view.meanMatches} matches): query ${q(w.view.query)}, count ${q(w.view.count)}` : "") +
                ".");
    }
    return lines.join("\n");
}

async function main() {
    mkdirSync(BUILD, { recursive: true });
    const loadBefore = loadavg();
    log(`starting ${opts["mock-bin"]} --entities ${N}`);
    const t0 = performance.now();
    const mock = await startMock(opts["mock-bin"], ["--entities", String(N), "--seed", opts.seed, "--event-messages", "0"], 20 * 60_000);
    const results = { mock: { startMs: performance.now() - t0, rss: rss(mock.pid) } };
    log(`mock ready in ${Math.round(results.mock.startMs)} ms, RSS ${mib(results.mock.rss)}`);
    const status = await mock.control.status();
    const manifest = await mock.control.manifest();
    writeFileSync(resolve(BUILD, "manifest.json"), JSON.stringify(manifest.abis ? manifest : { ...manifest, abis: ARENA_ABIS }));
    const server = await startStaticServer({
        "/bench/": resolve(HERE, "pages"),
        "/build/": BUILD,
        "/node_modules/": resolve(HERE, "node_modules"),
        ...(contenders.includes("ours") || opts.whole ? { "/reactive/": snapshotPackage(ROOT, resolve(BUILD, "scale-reactive")) } : {}),
    });
    const browser = await launchChromium({ executablePath: opts.chromium, headed: opts.headed });
    results.chromium = browser.version();
    const query = new URLSearchParams({ torii: mock.url, world: status.worldAddress, pageSize: opts["page-size"], ...start });
    const moveList = moves(Number(opts.moves));
    try {
        if (contenders.includes("ours")) results.ours = await ours(browser, server, query, mock, moveList);
        if (contenders.includes("raw")) results.raw = await raw(browser, server, query, moveList);
        if (opts.whole) results.whole = await whole(browser, server, query, mock);
    } finally {
        await closeRun({ browser, server, mock, log });
    }
    const meta = { date: new Date().toISOString(), cores: cpus().length, loadBefore, loadAfter: loadavg(), side, moves: moveList };
    const text = report(results, meta);
    saveReport({ root: ROOT, name: "scale", text: text, meta, results, log });
}

runBench(main, log);
