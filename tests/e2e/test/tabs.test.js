// Tabs of one game (issue 12, docs/tabs.md): pages of one browser context share IndexedDB,
// BroadcastChannel and Web Locks. Only the elected leader's worker writes; followers show its
// relayed DELTAs live; when the leader is closed, crashes or is frozen a follower takes over
// within 2 s; after a reload of every tab the store equals the mock's world; no tab ever shows a
// state older than one it showed (each page records what it showed); one writer per epoch ("frozen":
// the page and its workers paused in the debugger, see `freeze`). Then
// a page without Web Locks (the lease), and `reset()` in one tab while another streams.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { canonEntities, stable, worldVersions } from "../lib/world.js";

const ALL = ["arena-Player", "arena-Position", "arena-Inventory"];
/** Each tab asks for different models (the third for every model). */
const TAB_MODELS = [["arena-Player"], ["arena-Position", "arena-Inventory"], undefined];

let env;

before(async () => {
    env = await startEnv(["--entities", "400", "--seed", "1212"]);
});

after(() => env?.close());

/**
 * Starts a client in `page` for `models`, and a recorder: every 50 ms the page reads the
 * `last_updated_at` of every synced state of its models and records any that went back (or
 * vanished) since it was last read (`e2e.tabs.regressions`); every DELTA and HEARTBEAT on the
 * database's channel is logged with its sender and epoch. `seen` carries what the page showed
 * before a reload.
 */
async function startTab(page, models, { seen = {}, noLocks = false } = {}) {
    return page.evaluate(
        async ({ url, models, all, seen, noLocks }) => {
            if (noLocks) {
                // As on a plain http:// LAN page: no Web Locks, in the page and in its workers.
                Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
                const NativeWorker = globalThis.Worker;
                globalThis.Worker = class extends NativeWorker {
                    constructor(url, options) {
                        // Messages that arrive while the entry loads are handed to it afterwards.
                        const prelude = `Object.defineProperty(WorkerNavigator.prototype, "locks", { get: () => undefined, configurable: true });
                            const early = []; const hold = (event) => early.push(event.data); addEventListener("message", hold);
                            await import(${JSON.stringify(String(new URL(url, location.href)))});
                            removeEventListener("message", hold);
                            for (const data of early) dispatchEvent(new MessageEvent("message", { data }));`;
                        super(URL.createObjectURL(new Blob([prelude], { type: "text/javascript" })), options);
                    }
                };
            }
            const started = await window.e2e.start(url, models ? { models } : {});
            if (started.error) return started;
            const watched = models ?? all;
            const tabs = (window.e2e.tabs = { seen, regressions: [], deltas: [], beats: [] });
            const read = () => {
                const now = window.e2e.versions(watched);
                for (const [model, byId] of Object.entries(now)) {
                    const before = (tabs.seen[model] ??= {});
                    for (const [id, version] of Object.entries(before)) {
                        const shown = byId[id];
                        if (shown === undefined || BigInt(shown) < BigInt(version)) {
                            tabs.regressions.push({ model, id, was: version, now: shown ?? null });
                        }
                    }
                    for (const [id, version] of Object.entries(byId)) {
                        if (before[id] === undefined || BigInt(version) > BigInt(before[id])) before[id] = version;
                    }
                }
            };
            read();
            tabs.timer = setInterval(read, 50);
            const dbName = window.e2e.client.getSyncStatus().init.dbName;
            const channel = new BroadcastChannel(`dojo-reactive:${dbName}`);
            channel.onmessage = ({ data }) => {
                if (data?.type === "DELTA") tabs.deltas.push({ from: data.from, epoch: data.epoch, n: data.n });
                if (data?.type === "HEARTBEAT") tabs.beats.push({ from: data.from, epoch: data.epoch });
            };
            return started;
        },
        { url: env.mock.url, models, all: ALL, seen, noLocks },
    );
}

/** This tab's role (`leader` / `follower`) and epoch, from its sync status. */
function role(page) {
    return page.evaluate(() => window.e2e.client.getSyncStatus().tab ?? null);
}

/** `{ model: { entityId: last_updated_at } }` of the mock\'s world, for `models`. */
async function mockVersions(models) {
    return worldVersions(await env.mock.world(), models);
}

/** Waits until the page's view of its models equals the mock's world; returns the time it took. */
async function converged(page, models, what) {
    const watched = models ?? ALL;
    const expected = stable(await mockVersions(watched));
    const started = Date.now();
    await waitFor(
        async () => stable(await page.evaluate((m) => window.e2e.versions(m), watched)) === expected,
        `${what} to equal the mock's world`,
        30_000,
        100,
    );
    return Date.now() - started;
}

/** What every page recorded: regressions must be empty; each epoch's DELTAs and heartbeats have one sender. */
async function checkRecords(pages, what) {
    const writers = new Map();
    for (const page of pages) {
        const tabs = await page.evaluate(() => window.e2e.tabs);
        assert.deepEqual(tabs.regressions, [], `${what}: a tab showed an older state than before`);
        for (const { from, epoch } of [...tabs.deltas, ...tabs.beats]) {
            const senders = writers.get(epoch) ?? new Set();
            senders.add(from);
            writers.set(epoch, senders);
        }
    }
    for (const [epoch, senders] of writers) {
        assert.equal(senders.size, 1, `${what}: epoch ${epoch} had writers ${[...senders]}`);
    }
    return writers;
}

/** Starts one tab per `TAB_MODELS` entry in `context`; the first becomes the leader. */
async function openTabs(context, options = {}) {
    const pages = [];
    for (const models of TAB_MODELS) {
        const page = await env.openHarness(context);
        const started = await startTab(page, models, options);
        assert.ok(!started.error, JSON.stringify(started));
        pages.push(page);
    }
    return pages;
}

/** Which of `pages` leads (waits until exactly one says so). */
async function leaderOf(pages) {
    return waitFor(
        async () => {
            const roles = await Promise.all(pages.map(role));
            const leaders = pages.filter((_, i) => roles[i]?.role === "leader");
            return leaders.length === 1 ? { page: leaders[0], epoch: roles[pages.indexOf(leaders[0])].epoch } : null;
        },
        "one leader",
        10_000,
        50,
    );
}

/** Waits until one of `pages` leads under an epoch above `epoch`; returns it and the time taken. */
async function takeover(pages, epoch, what) {
    const started = Date.now();
    const next = await waitFor(
        async () => {
            for (const page of pages) {
                const tab = await role(page);
                if (tab?.role === "leader" && tab.epoch > epoch) return { page, epoch: tab.epoch };
            }
            return null;
        },
        `${what}: a follower to take over`,
        10_000,
        50,
    );
    const ms = Date.now() - started;
    console.log(`TABS-REPORT ${JSON.stringify({ scenario: what, takeoverMs: ms, epoch: next.epoch })}`);
    assert.ok(ms < 2000, `${what}: takeover took ${ms} ms`);
    return next;
}

/**
 * Freezes a page as a background tab is frozen: its main thread and its workers stop running
 * (no timer fires, no message is handled) until `thaw()`. CDP `Page.setWebLifecycleState`
 * frozen does not stop anything in this headless Chromium (timers keep firing), so the page and
 * each of its workers are paused in the debugger instead (workers through a non-flat
 * auto-attach session of the page).
 */
async function freeze(context, page) {
    const cdp = await context.newCDPSession(page);
    const workers = [];
    cdp.on("Target.attachedToTarget", ({ sessionId, targetInfo }) => {
        if (targetInfo.type === "worker") workers.push(sessionId);
    });
    const answers = new Map();
    cdp.on("Target.receivedMessageFromTarget", ({ message }) => {
        const { id } = JSON.parse(message);
        answers.get(id)?.();
    });
    let next = 0;
    const inWorker = (sessionId, method) =>
        new Promise((resolve) => {
            const id = ++next;
            answers.set(id, resolve);
            cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params: {} }) }).catch(resolve);
        });
    await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    await waitFor(() => workers.length > 0, "the page's workers to be attached", 5000, 20);
    for (const worker of workers) {
        await inWorker(worker, "Debugger.enable");
        await inWorker(worker, "Debugger.pause");
    }
    await cdp.send("Debugger.enable");
    await cdp.send("Debugger.pause");
    // "Can only perform operation while paused": a thread that ran nothing was never paused.
    return async () => {
        await cdp.send("Debugger.resume").catch(() => {});
        for (const worker of workers) await inWorker(worker, "Debugger.resume");
        await cdp.detach().catch(() => {});
    };
}

/** Streams writes for `ms`, then stops them. */
async function stream(ms) {
    await env.mock.post("/_mock/rate", { perSec: 60 });
    await new Promise((r) => setTimeout(r, ms));
    await env.mock.post("/_mock/rate", { perSec: 0 });
}

test("tabs share one writer: followers live, takeover on close, crash and freeze, reload converges", async () => {
    const context = await env.browser.newContext();
    let pages = await openTabs(context);
    let leader = await leaderOf(pages);
    assert.equal(leader.page, pages[0], "the first tab leads");

    // Every tab's view follows the mock's world without a reload, whatever models it asked for.
    await stream(1500);
    for (const [i, page] of pages.entries()) {
        const ms = await converged(page, TAB_MODELS[i], `tab ${i}`);
        console.log(`TABS-REPORT ${JSON.stringify({ scenario: "follower live", tab: i, convergeMs: ms })}`);
    }
    await checkRecords(pages, "live");

    // The leader closed, crashed, frozen: a follower takes over within 2 s and the rest converge.
    const kinds = ["closed", "crashed", "frozen"];
    for (const kind of kinds) {
        const rest = pages.filter((p) => p !== leader.page);
        const writes = env.mock.post("/_mock/rate", { perSec: 60 });
        await writes;
        if (kind === "closed") await leader.page.close();
        if (kind === "crashed") {
            const cdp = await context.newCDPSession(leader.page);
            const crashed = leader.page.waitForEvent("crash");
            cdp.send("Page.crash").catch(() => {});
            await crashed;
            await leader.page.close({ runBeforeUnload: false }).catch(() => {});
        }
        const thaw = kind === "frozen" ? await freeze(context, leader.page) : undefined;
        const next = await takeover(rest, leader.epoch, `leader ${kind}`);
        await new Promise((r) => setTimeout(r, 800));
        await env.mock.post("/_mock/rate", { perSec: 0 });
        if (thaw) {
            // The old leader wakes up: it must not write (its epoch is fenced) and follows.
            await thaw();
            await waitFor(async () => (await role(leader.page))?.role === "follower", "the thawed leader to follow", 10_000, 50);
            const errors = await leader.page.evaluate(() => window.e2e.errors.map((e) => e.message));
            assert.deepEqual(errors.filter((m) => /leadership/.test(m)), [], "a fenced commit is not the app's error");
            rest.push(leader.page);
        }
        for (const page of rest) await converged(page, TAB_MODELS[pages.indexOf(page)], `after the leader ${kind}`);
        await checkRecords(rest, `leader ${kind}`);
        // Reopen a tab for the one that is gone, so three keep running.
        if (!thaw) {
            const index = pages.indexOf(leader.page);
            const page = await env.openHarness(context);
            assert.ok(!(await startTab(page, TAB_MODELS[index])).error);
            pages[index] = page;
        }
        leader = next;
    }

    // A reload of every tab: the stored state equals the mock's world, nothing went back.
    await stream(1000);
    const seen = [];
    for (const page of pages) seen.push(await page.evaluate(() => window.e2e.tabs.seen));
    await checkRecords(pages, "before the reload");
    for (const [i, page] of pages.entries()) {
        await page.evaluate(() => (clearInterval(window.e2e.tabs.timer), window.e2e.client.shutdown()));
        await page.reload();
        await page.waitForFunction(() => window.e2e?.loaded === true);
        await env.mock.post("/_mock/delay", { ms: 3000 });
        const started = await startTab(page, TAB_MODELS[i], { seen: seen[i] });
        await env.mock.post("/_mock/delay", { ms: 0 });
        assert.ok(!started.error, JSON.stringify(started));
    }
    for (const [i, page] of pages.entries()) await converged(page, TAB_MODELS[i], `tab ${i} after the reload`);
    await checkRecords(pages, "after the reload");
    for (const page of pages) assert.deepEqual(page.problems, []);
    // The store itself: alone, with Torii held back, a reload shows exactly the mock's world.
    const last = pages[2];
    for (const page of pages.slice(0, 2)) await page.close();
    const seenLast = await last.evaluate(() => window.e2e.tabs.seen);
    await last.evaluate(() => (clearInterval(window.e2e.tabs.timer), window.e2e.client.shutdown()));
    await last.reload();
    await last.waitForFunction(() => window.e2e?.loaded === true);
    await env.mock.post("/_mock/delay", { ms: 5000 });
    const restarted = await startTab(last, undefined, { seen: seenLast });
    const stored = await last.evaluate((m) => window.e2e.versions(m), ALL);
    await env.mock.post("/_mock/delay", { ms: 0 });
    assert.ok(!restarted.error, JSON.stringify(restarted));
    const expected = await mockVersions(ALL);
    for (const model of ALL) {
        const missing = Object.keys(expected[model]).filter((id) => stored[model][id] === undefined);
        assert.deepEqual(missing, [], `${model}: entities missing from the store`);
    }
    assert.equal(stable(stored), stable(expected), "the store equals the mock's world");
    await checkRecords([last], "the store");
    await context.close();
});

test("without Web Locks the lease elects one writer and a follower takes over a frozen leader", async () => {
    const context = await env.browser.newContext();
    const pages = await openTabs(context, { noLocks: true });
    const leader = await leaderOf(pages);
    await stream(1000);
    for (const [i, page] of pages.entries()) await converged(page, TAB_MODELS[i], `lease tab ${i}`);
    const rest = pages.filter((p) => p !== leader.page);
    const thaw = await freeze(context, leader.page);
    await env.mock.post("/_mock/rate", { perSec: 60 });
    await takeover(rest, leader.epoch, "lease leader frozen");
    await new Promise((r) => setTimeout(r, 800));
    await env.mock.post("/_mock/rate", { perSec: 0 });
    await thaw();
    await waitFor(async () => (await role(leader.page))?.role === "follower", "the thawed lease holder to follow", 10_000, 50);
    for (const [i, page] of pages.entries()) await converged(page, TAB_MODELS[i], `lease tab ${i} after the takeover`);
    await checkRecords(pages, "lease");
    await context.close();
});

test("reset() in one tab resets every tab while another streams", async () => {
    const context = await env.browser.newContext();
    const pages = await openTabs(context);
    await env.mock.post("/_mock/rate", { perSec: 60 });
    const [a, b] = pages;
    // Two calls at once share one reset (no second worker).
    const workersBefore = await a.evaluate(() => window.e2e.workers.length);
    const reset = await a.evaluate(async () => {
        const [first, second] = await Promise.all([window.e2e.client.reset(), window.e2e.client.reset()]);
        return { first: { ...first }, second: { ...second } };
    });
    assert.deepEqual(reset.first, reset.second);
    assert.equal(await a.evaluate(() => window.e2e.workers.length), workersBefore + 1, "one new worker");
    await waitFor(() => b.evaluate(() => window.e2e.updates.some((u) => u.source === "reset")), "the other tab to reset too", 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await env.mock.post("/_mock/rate", { perSec: 0 });
    for (const [i, page] of pages.entries()) await converged(page, TAB_MODELS[i], `tab ${i} after the reset`);
    await leaderOf(pages);
    await context.close();
});

test("optimistic writes are per tab: a follower's write shows in its tab only and is confirmed by the relayed data", async () => {
    const context = await env.browser.newContext();
    const [, b] = await openTabs(context);
    const entity = canonEntities(await env.mock.world()).find((e) => e.models["arena-Position"]);
    const before = entity.models["arena-Position"].vec;
    const vec = { x: before.x + 1000, y: before.y + 1000 };
    assert.equal((await role(b)).role, "follower");
    const shown = await b.evaluate(
        ([id, player, v]) => {
            const mutation = window.e2e.client.mutate("arena-Position", { vec: v }, { entityId: id, timeoutMs: 30_000, send: async () => {} });
            mutation.confirmed.then(
                () => (window.e2e.outcome = { confirmed: true }),
                (error) => (window.e2e.outcome = { error: window.e2e.describeError(error) }),
            );
            return window.e2e.byPlayer("arena-Position", player);
        },
        [entity.rawId, entity.models["arena-Position"].player, vec],
    );
    assert.deepEqual(shown.vec, vec, "the writing tab shows its write at once");
    const c = await env.openHarness(context);
    assert.ok(!(await startTab(c, ["arena-Position"])).error);
    await waitFor(() => c.evaluate((p) => window.e2e.byPlayer("arena-Position", p) !== null, entity.models["arena-Position"].player), "tab 3 to show the entity", 10_000);
    assert.deepEqual(
        (await c.evaluate((p) => window.e2e.byPlayer("arena-Position", p), entity.models["arena-Position"].player)).vec,
        before,
        "another tab does not show the pending write",
    );
    await env.mock.post("/_mock/set", { entityId: entity.rawId, model: "arena-Position", values: { vec } });
    const outcome = await waitFor(() => b.evaluate(() => window.e2e.outcome), "the follower's write to be confirmed", 10_000);
    assert.deepEqual(outcome, { confirmed: true });
    await waitFor(
        async () => (await c.evaluate((p) => window.e2e.byPlayer("arena-Position", p), entity.models["arena-Position"].player)).vec.x === vec.x,
        "the other tab to show the confirmed write",
        10_000,
    );
    await context.close();
});

test("createSyncWorker next to a client on the same database joins the same election", async () => {
    const context = await env.browser.newContext();
    const host = await env.openHarness(context);
    await host.evaluate(async (url) => {
        window.e2e.syncWorker = window.e2e.reactive.createSyncWorker(await window.e2e.options(url));
        await window.e2e.syncWorker.ready;
    }, env.mock.url);
    await waitFor(async () => (await host.evaluate(() => window.e2e.syncWorker.getSyncStatus().tab?.role)) === "leader", "the sync worker to lead", 10_000, 50);
    const page = await env.openHarness(context);
    assert.ok(!(await startTab(page, ["arena-Player"])).error);
    assert.equal((await role(page)).role, "follower");
    await stream(1000);
    await converged(page, ["arena-Player"], "the client next to a sync worker");
    // forceReplay() in the follower's tab re-pages in the leader, and the follower's status shows it.
    const mark = await page.evaluate(() => window.e2e.statuses.length);
    await page.evaluate(() => window.e2e.client.forceReplay());
    await waitFor(
        () => page.evaluate((m) => window.e2e.statuses.slice(m).some((s) => s.state === "replaying"), mark),
        "the follower to see the leader replay",
        10_000,
        50,
    );
    // The sync worker goes away: the client's worker takes over.
    const epoch = (await host.evaluate(() => window.e2e.syncWorker.getSyncStatus().tab)).epoch;
    await host.evaluate(() => window.e2e.syncWorker.shutdown());
    await takeover([page], epoch, "sync worker shut down");
    await stream(500);
    await converged(page, ["arena-Player"], "the client after the sync worker left");
    await checkRecords([page], "sync worker");
    await context.close();
});
