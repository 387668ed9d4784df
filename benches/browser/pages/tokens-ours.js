// Ours with token balances and events (tokens.js): `@dojoengine/reactive` keeping one
// `tokenBalances` target (every balance of the mock's world, no entities) and, when the world has
// events, one `eventLog` target (every `arena-Moved` event, no bound), stored in IndexedDB and
// live. The client starts as the page loads; `window.bench` exposes the phases tokens.js drives.

import { createReactiveClient, reactiveSelectors } from "/reactive/dist/index.js";
import { longTasks, longestTaskBefore, params, watchClient } from "./common.js";

const BALANCE = "torii-TokenBalance";
const EVENTS = Number(params.events ?? 0);
const manifest = await (await fetch("/build/manifest.json")).text();
const startedAt = performance.now();
const client = createReactiveClient({
    toriiUrl: params.torii,
    worldAddress: params.world,
    manifest,
    targets: [
        { id: "balances", kind: "tokenBalances" },
        ...(EVENTS > 0 ? [{ id: "events", kind: "eventLog", models: ["arena-Moved"] }] : []),
    ],
});
window.reactiveClient = client;
const { readyMs, errors, failed } = watchClient(client);

const held = () => client.count(BALANCE);
const complete = () => Promise.race([client.targets.complete("balances"), failed]);
const eventsHeld = () => client.events.query({ target: "events" }).length;

/** When `expected` events are held (polled: counts what the page holds). */
async function allEvents(expected) {
    while (eventsHeld() < expected) {
        await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
    }
    return performance.now();
}

/** The longest long task that started between `fromMs` and `untilMs` (the stored log's restore after `ready`). */
function longestBetween(fromMs, untilMs) {
    const tasks = longTasks().filter((t) => t.startTime >= fromMs && t.startTime < untilMs);
    return { longestMs: tasks.reduce((max, t) => Math.max(max, t.duration), 0), count: tasks.length };
}

/** Every balance through the package's selector (what a wallet view reads), timed. */
function readAll() {
    const t0 = performance.now();
    const balances = reactiveSelectors.listTokenBalances()(client, null);
    return { ms: performance.now() - t0, count: balances.length, sum: balances.reduce((s, b) => s + b.balance, 0n).toString() };
}

window.bench = {
    /** Cold start: time until the balances target is complete and every event is held (from navigation start). */
    async cold() {
        const [balancesAt, eventsAt] = await Promise.all([complete().then(() => performance.now()), allEvents(EVENTS)]);
        const doneAt = Math.max(balancesAt, eventsAt);
        return { completeMs: balancesAt, eventsMs: eventsAt, fromClientMs: doneAt - startedAt, readyMs: readyMs(), balances: held(), events: eventsHeld(), state: client.getSyncStatus().state, longTasks: longestTaskBefore(doneAt), read: readAll(), errors };
    },
    /** IndexedDB bytes of this origin. */
    async storage() {
        const estimate = await navigator.storage.estimate();
        return { indexedDB: estimate.usageDetails?.indexedDB ?? NaN, usage: estimate.usage };
    },
    /** Warm start (after a reload): `ready`, every balance and event readable, the target complete again. */
    async warm({ expected, expectedEvents }) {
        const eventsAt = allEvents(expectedEvents);
        await Promise.race([client.ready, failed]);
        while (held() < expected) await new Promise((r) => setTimeout(r, 1));
        const heldAt = performance.now();
        await complete();
        const completeAt = performance.now();
        const eventsMs = await eventsAt;
        return { readyMs: readyMs(), allHeldMs: heldAt, completeMs: completeAt, eventsMs, balances: held(), events: eventsHeld(), longTasks: longestTaskBefore(Math.max(completeAt, eventsMs)), afterReady: longestBetween(readyMs(), eventsMs), read: readAll(), errors };
    },
};
