// Token balances and historical events benchmark (issue 15), one Chromium session against one
// mock-torii world holding `--balances` token balances (10,000 by default; GLD holders added by
// the mock's `--balances`) and `--events` historical `arena-Moved` event messages (100,000 by
// default; 0 leaves them out):
//   ours = @dojoengine/reactive keeping one `tokenBalances` target (every balance, no entities)
//          and one `eventLog` target (every event, no bound): cold sync, memory (page + worker),
//          IndexedDB bytes, warm start after a reload;
//   raw  = @dojoengine/torii-wasm 1.8.2 reading the same balances (`getTokenBalances`) and events
//          (`getEventMessages`, `historical: true`), paged into arrays: cold fetch and memory (it
//          keeps nothing: a reload fetches again).
// Prints a markdown table and appends it to benches/.results/tokens.md. Usually run through
// tokens.sh (builds what it needs):
//   node tokens.js --mock-bin PATH [--balances 10000] [--events 100000] [--contenders ours,raw]

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ARENA_ABIS } from "../../examples/arena-manifest.js";
import { harness, snapshotPackage } from "./lib/harness.js";
import { closeRun, commonOptions, launchChromium, runBench, saveReport } from "./lib/run.js";
import { startMock } from "./lib/mock.js";
import { startStaticServer } from "./lib/server.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const BUILD = resolve(HERE, ".build");

const { values: opts } = parseArgs({
    options: {
        ...commonOptions(ROOT, "ours,raw"),
        balances: { type: "string", default: "10000" },
        events: { type: "string", default: "100000" },
    },
});
const N = Number(opts.balances);
const EVENTS = Number(opts.events);
const contenders = opts.contenders.split(",").map((c) => c.trim());
const STEP_TIMEOUT_MS = 3 * 60_000;

const log = (...args) => console.error("[tokens]", new Date().toISOString().slice(11, 19), ...args);

const { step, memoryOf, inContext, openBench } = harness({
    log,
    verbose: opts.verbose,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    openTimeoutMs: STEP_TIMEOUT_MS,
});

/** Ours keeping every balance: cold sync, storage, memory, warm start. */
async function ours(browser, server, query) {
    return inContext(browser, "ours", async (page) => {
        const url = `${server.url}/bench/tokens-ours.html?${query}`;
        await step("ours: open the page", () => openBench(page, url));
        const cold = await step("ours: cold sync of the balances", () => page.evaluate(() => window.bench.cold()));
        log(`ours: ${cold.balances} balances in ${Math.round(cold.completeMs)} ms, ${cold.events} events in ${Math.round(cold.eventsMs)} ms (state ${cold.state})`);
        const storage = await step("ours: IndexedDB bytes", () => page.evaluate(() => window.bench.storage()));
        const memory = await memoryOf(browser, page, "ours");
        await step("ours: reload (warm start)", () => openBench(page, url));
        const warm = await step("ours: warm start", () => page.evaluate((a) => window.bench.warm(a), { expected: cold.balances, expectedEvents: cold.events }));
        return { cold, storage, memory, warm };
    });
}

/** torii-wasm reading the same balances. */
async function raw(browser, server, query) {
    return inContext(browser, "raw", async (page) => {
        await step("raw: open the page", () => openBench(page, `${server.url}/bench/tokens-peer.html?${query}`));
        const cold = await step("raw: fetch the balances", () => page.evaluate(() => window.bench.cold()));
        log(`raw: ${cold.balances} balances in ${Math.round(cold.completeMs)} ms, ${cold.events} events in ${Math.round(cold.eventsMs)} ms`);
        const memory = await memoryOf(browser, page, "raw");
        return { cold, memory };
    });
}

const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : "—");
const ms = (value) => (Number.isFinite(value) ? `${Math.round(value).toLocaleString("en-US")} ms` : "—");
const worker = (memory) => memory?.workers?.find((w) => !w.error) ?? memory?.workers?.[0];

/** The markdown report. */
function report(results, meta) {
    const { ours: o, raw: r } = results;
    const lines = [
        `### Token balances and events run ${meta.date} (${N.toLocaleString("en-US")} balances, ${EVENTS.toLocaleString("en-US")} historical events)`,
        "",
        `\`${meta.command}\`; load average ${meta.loadBefore.map((l) => l.toFixed(1)).join(" / ")} before, ${meta.loadAfter.map((l) => l.toFixed(1)).join(" / ")} after (${meta.cores} cores); Chromium ${results.chromium}.`,
        "",
        "| measure | ours (`tokenBalances` + `eventLog` targets) | torii-wasm (`getTokenBalances`, `getEventMessages` historical, paged) |",
        "|---|---|---|",
    ];
    const row = (name, a, b) => lines.push(`| ${name} | ${a ?? "—"} | ${b ?? "—"} |`);
    row("balances held (cold)", o?.cold.balances.toLocaleString("en-US"), r?.cold.balances.toLocaleString("en-US"));
    row("cold: every balance held (from navigation start)", o && ms(o.cold.completeMs), r && ms(r.cold.completeMs));
    if (EVENTS > 0) {
        row("events held (cold)", o?.cold.events.toLocaleString("en-US"), r?.cold.events.toLocaleString("en-US"));
        row("cold: every event held (from navigation start)", o && ms(o.cold.eventsMs), r && ms(r.cold.eventsMs));
    }
    row("cold: longest main-thread task", o && ms(o.cold.longTasks.longestMs), r && ms(r.cold.longTasks.longestMs));
    row("every balance read as `TokenBalance` objects (`listTokenBalances`)", o && ms(o.cold.read.ms), "(its array)");
    const mem = (m) =>
        m && !m.error
            ? `page JS ${mib(m.main?.jsHeapUsed)} + wasm ${mib(m.main?.wasm)}; worker JS ${mib(worker(m)?.jsHeapUsed)} + wasm ${mib(worker(m)?.wasm)}; renderer RSS ${mib(m.renderer?.rss)}`
            : m?.error;
    row("memory after the cold sync", o && mem(o.memory), r && mem(r.memory));
    row("IndexedDB bytes after the cold sync", o && `${mib(o.storage.indexedDB)}`, "keeps nothing");
    row("warm start: ready / every balance readable / target complete", o && `${ms(o.warm.readyMs)} / ${ms(o.warm.allHeldMs)} / ${ms(o.warm.completeMs)}`, "(refetches: the cold row)");
    if (EVENTS > 0) row("warm start: every event readable", o && ms(o.warm.eventsMs), "(refetches: the cold row)");
    row("warm start: longest main-thread task (until every event is readable; of those after ready)", o && `${ms(o.warm.longTasks?.longestMs)} (${ms(o.warm.afterReady?.longestMs)})`, "—");
    if (o && (o.cold.errors.length || o.warm.errors.length)) lines.push("", `ours reported: ${[...o.cold.errors, ...o.warm.errors].join("; ")}`);
    return lines.join("\n");
}

async function main() {
    mkdirSync(BUILD, { recursive: true });
    const loadBefore = loadavg();
    log(`starting ${opts["mock-bin"]} --balances ${N}`);
    const mock = await startMock(opts["mock-bin"], ["--entities", "200", "--event-messages", String(EVENTS), "--seed", opts.seed, "--balances", String(N)]);
    const status = await mock.control.status();
    const manifest = await mock.control.manifest();
    writeFileSync(resolve(BUILD, "manifest.json"), JSON.stringify(manifest.abis ? manifest : { ...manifest, abis: ARENA_ABIS }));
    const server = await startStaticServer({
        "/bench/": resolve(HERE, "pages"),
        "/build/": BUILD,
        "/node_modules/": resolve(HERE, "node_modules"),
        ...(contenders.includes("ours") ? { "/reactive/": snapshotPackage(ROOT, resolve(BUILD, "tokens-reactive")) } : {}),
    });
    const browser = await launchChromium({ executablePath: opts.chromium, headed: opts.headed });
    const results = { chromium: browser.version() };
    const query = new URLSearchParams({ torii: mock.url, world: status.worldAddress, pageSize: opts["page-size"], events: String(EVENTS) });
    try {
        if (contenders.includes("ours")) results.ours = await ours(browser, server, query);
        if (contenders.includes("raw")) results.raw = await raw(browser, server, query);
    } finally {
        await closeRun({ browser, server, mock, log });
    }
    const command = `bash benches/browser/tokens.sh ${process.argv.slice(4).join(" ")}`.trim();
    const meta = { date: new Date().toISOString(), cores: cpus().length, loadBefore, loadAfter: loadavg(), command };
    const text = report(results, meta);
    saveReport({ root: ROOT, name: "tokens", text: text, meta, results, log });
}

runBench(main, log);
