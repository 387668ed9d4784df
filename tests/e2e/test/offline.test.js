// Offline-first start: the stored copy is shown before, and without, Torii. With Torii down
// (connections refused) or hanging (a listener that accepts and never answers) at start, the
// stored players are answered at `ready`, the status is `offline` with retryable
// `TransportError`s on `errors`, and the client converges to the world once Torii is back. A
// first visit with no stored data and no Torii resolves `ready` with nothing restored, says so,
// and keeps retrying.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { MODELS, waitForWorld } from "../lib/faults.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

/** Short timeouts and backoff, so that offline is reported and left within seconds. */
const QUICK = { requestTimeoutMs: 1500, backoffInitialMs: 300, backoffMaxMs: 1500 };
let env, manifest, players;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "61"]);
    players = (await env.mock.world()).entities.filter((e) => e.models["arena-Player"]).length;
});

after(() => env?.close());

/** A harness page in `context` whose manifest is fetched once, while the mock is up. */
async function openPage(context) {
    const page = await env.openHarness(context);
    manifest ??= await page.evaluate((url) => window.e2e.manifest(url), env.mock.url);
    return page;
}

/**
 * Starts a client for the mock's URL with the manifest given (no fetch: Torii may be down) and
 * measures, in the page, the time from `createReactiveClient` to `ready` and the players answered
 * right then.
 */
function start(page, syncOptions = QUICK) {
    return page.evaluate(
        async ([url, m, o]) => {
            const startedAt = performance.now();
            const result = await window.e2e.start(url, { manifest: m, syncOptions: o });
            return { ...result, readyMs: performance.now() - startedAt, playersAtReady: window.e2e.count("arena-Player") };
        },
        [env.mock.url, manifest, syncOptions],
    );
}

/** A browser context whose database holds the whole world (synced once, then shut down). */
async function contextWithStoredWorld() {
    const context = await env.browser.newContext();
    const page = await openPage(context);
    const cold = await start(page);
    assert.ok(cold.init, JSON.stringify(cold.error));
    await waitForEntityCount(page, "arena-Player", players);
    await page.evaluate(() => window.e2e.client.shutdown());
    await page.close();
    return context;
}

const status = (page) => page.evaluate(() => window.e2e.client.getSyncStatus());

/** Waits for the `offline` state and returns the TransportErrors reported by then. */
async function offlineWithErrors(page) {
    await waitFor(async () => (await status(page)).state === "offline", "the status to be offline", 30_000);
    return waitFor(
        () => page.evaluate(() => window.e2e.errors.filter((e) => e.name === "TransportError").length >= 2 && window.e2e.errors),
        "retryable TransportErrors on errors",
        30_000,
    );
}

/** Asserts what the offline phase showed: still `ready`, typed retryable errors without a wasm stack. */
async function assertOfflineReported(page, errors) {
    const current = await status(page);
    assert.equal(current.phase, "ready", "offline is never fatal");
    assert.equal(current.state, "offline");
    const transport = errors.filter((e) => e.name === "TransportError");
    assert.ok(transport.every((e) => e.isTyped), JSON.stringify(transport));
    for (const error of transport) {
        assert.doesNotMatch(error.message, /wasm|\n\s+at |\.js:\d+/, `no stack in the message: ${error.message}`);
    }
    const detail = await page.evaluate(() => {
        const seen = [];
        window.e2e.client.errors.subscribe((e) => seen.push({ retryable: e.retryable, retryInMs: e.retryInMs }));
        return new Promise((resolve) => setTimeout(() => resolve(seen), 4000));
    });
    assert.ok(detail.length >= 1, "still retrying");
    assert.ok(detail.every((d) => d.retryable === true && d.retryInMs > 0), JSON.stringify(detail));
    assert.ok(!errors.some((e) => e.name === "SyncFatalError"), JSON.stringify(errors));
}

test("Torii down at start: the stored players are shown at once, offline is reported, and it converges when Torii is back", async () => {
    const context = await contextWithStoredWorld();
    await env.mock.down();
    try {
        const page = await openPage(context);
        const warm = await start(page);
        assert.ok(warm.init, `ready resolves without Torii: ${JSON.stringify(warm.error)}`);
        assert.equal(warm.init.toriiVersion !== null, true, "the stored data's Torii version");
        assert.equal(warm.playersAtReady, players, "every stored player is answered at ready");
        console.log(`OFFLINE-REPORT ${JSON.stringify({ scenario: "Torii down", readyMs: Math.round(warm.readyMs), restored: warm.init.restored })}`);
        assert.ok(warm.readyMs < 1000, `the stored players were shown ${Math.round(warm.readyMs)} ms after the client was created`);
        await assertOfflineReported(page, await offlineWithErrors(page));
        await env.mock.up();
        await waitForWorld(page, env.mock, 60_000);
        await waitFor(async () => (await status(page)).state === "streaming", "streaming again", 60_000);
        assert.deepEqual(page.problems.filter((p) => !/TransportError|sync error/i.test(p)), []);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        if (!(await env.mock.status().catch(() => null))) await env.mock.up();
        await context.close();
    }
});

test("Torii hanging at start (accepts, never answers): the stored players are shown, the probe times out to offline, then it converges", async () => {
    const context = await contextWithStoredWorld();
    await env.mock.down();
    const port = Number(new URL(env.mock.url).port);
    const held = new Set();
    let accepted = 0;
    const hanging = createServer((socket) => {
        accepted += 1;
        // Read (and ignore) the requests, so that a connection the client closes is seen closed.
        socket.resume();
        held.add(socket);
        socket.on("close", () => held.delete(socket));
        socket.on("error", () => {});
    });
    await new Promise((resolve, reject) => hanging.once("error", reject).listen(port, "127.0.0.1", resolve));
    try {
        const page = await openPage(context);
        const warm = await start(page);
        assert.ok(warm.init, `ready resolves while Torii hangs: ${JSON.stringify(warm.error)}`);
        assert.equal(warm.playersAtReady, players);
        console.log(`OFFLINE-REPORT ${JSON.stringify({ scenario: "Torii hanging", readyMs: Math.round(warm.readyMs) })}`);
        assert.ok(warm.readyMs < 1000, `the stored players were shown ${Math.round(warm.readyMs)} ms after the client was created`);
        const errors = await offlineWithErrors(page);
        assert.ok(errors.some((e) => /did not answer in time/.test(e.message)), JSON.stringify(errors));
        await assertOfflineReported(page, errors);
        // Probes given up on are aborted: their connections do not pile up (the browser has only
        // a few per host, and a recovered Torii must not queue behind them).
        assert.ok(held.size <= 2, `${held.size} of ${accepted} connections still held open by the client`);

        await new Promise((resolve) => {
            hanging.close(resolve);
            for (const socket of held) socket.destroy();
        });
        await env.mock.up();
        await waitForWorld(page, env.mock, 60_000);
        await waitFor(async () => (await status(page)).state === "streaming", "streaming again", 60_000);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        if (hanging.listening) {
            for (const socket of held) socket.destroy();
            await new Promise((resolve) => hanging.close(resolve));
        }
        if (!(await env.mock.status().catch(() => null))) await env.mock.up();
        await context.close();
    }
});

test("a first visit with no stored data and no Torii says so, keeps retrying, and syncs once Torii answers", async () => {
    const context = await env.browser.newContext();
    const page = await openPage(context);
    await env.mock.down();
    try {
        const first = await start(page);
        assert.ok(first.init, `ready resolves with nothing stored: ${JSON.stringify(first.error)}`);
        assert.equal(first.init.restored, 0);
        assert.equal(first.init.toriiVersion, null, "no Torii version is recorded yet");
        const errors = await offlineWithErrors(page);
        assert.match(errors.find((e) => e.name === "TransportError").message, /nothing is stored on this device yet and Torii cannot be reached/);
        await assertOfflineReported(page, errors);
        await env.mock.up();
        for (const model of MODELS) {
            const count = (await env.mock.world()).entities.filter((e) => e.models[model]).length;
            await waitForEntityCount(page, model, count, {}, 60_000);
        }
        await waitForWorld(page, env.mock, 60_000);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        if (!(await env.mock.status().catch(() => null))) await env.mock.up();
        await context.close();
    }
});
