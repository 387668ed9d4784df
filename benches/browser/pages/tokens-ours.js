// Ours with token balances (tokens.js): `@dojoengine/reactive` keeping one `tokenBalances` target
// (every balance of the mock's world, no entities), stored in IndexedDB and live. The client
// starts as the page loads; `window.bench` exposes the phases tokens.js drives.

import { createReactiveClient, reactiveSelectors } from "/reactive/dist/index.js";
import { longestTaskBefore, params } from "./common.js";

const BALANCE = "torii-TokenBalance";
const manifest = await (await fetch("/build/manifest.json")).text();
const startedAt = performance.now();
const client = createReactiveClient({
    toriiUrl: params.torii,
    worldAddress: params.world,
    manifest,
    targets: [{ id: "balances", kind: "tokenBalances" }],
});
window.reactiveClient = client;
let readyAt = NaN;
client.ready.then(
    () => (readyAt = performance.now()),
    () => {},
);
const errors = [];
client.errors.subscribe((error) => errors.push(`${error.name}: ${error.message}`));
/** Fails a phase when the client did not start (instead of waiting forever). */
const failed = client.ready.then(
    () => new Promise(() => {}),
    (error) => {
        throw error;
    },
);

const held = () => client.count(BALANCE);
const complete = () => Promise.race([client.targets.complete("balances"), failed]);

/** Every balance through the package's selector (what a wallet view reads), timed. */
function readAll() {
    const t0 = performance.now();
    const balances = reactiveSelectors.listTokenBalances()(client, null);
    return { ms: performance.now() - t0, count: balances.length, sum: balances.reduce((s, b) => s + b.balance, 0n).toString() };
}

window.bench = {
    /** Cold start: time until the target is complete (from navigation start), balances held. */
    async cold() {
        await complete();
        const doneAt = performance.now();
        return { completeMs: doneAt, fromClientMs: doneAt - startedAt, readyMs: readyAt, balances: held(), state: client.getSyncStatus().state, longTasks: longestTaskBefore(doneAt), read: readAll(), errors };
    },
    /** IndexedDB bytes of this origin. */
    async storage() {
        const estimate = await navigator.storage.estimate();
        return { indexedDB: estimate.usageDetails?.indexedDB ?? NaN, usage: estimate.usage };
    },
    /** Warm start (after a reload): `ready`, every balance readable, the target complete again. */
    async warm({ expected }) {
        await Promise.race([client.ready, failed]);
        while (held() < expected) await new Promise((r) => setTimeout(r, 1));
        const heldAt = performance.now();
        await complete();
        return { readyMs: readyAt, allHeldMs: heldAt, completeMs: performance.now(), balances: held(), read: readAll(), errors };
    },
};
