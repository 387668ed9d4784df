// A reload restores the stored kinds in the order the page declares their first target
// (docs/targets.md, "Persistence and reloads"): a page whose first target is of kind
// `tokenContracts` gets the stored contracts before the stored entities, and the other way round
// when it declares its entity target first; every target stored complete is complete at ready,
// and a target of the first kind restored is complete before the next kind is read.
// The order is read from the restored DELTAs themselves (a segment's target byte), as they reach
// the page before INIT_ACK.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";

/** The target byte of a stored segment (`crates/storage/src/segment.rs`). */
const KIND_BYTE = { entities: 0, tokenContracts: 4 };
const WORLD = { id: "world", kind: "entities" };
const CONTRACTS = { id: "contracts", kind: "tokenContracts" };

let env, context, page;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "7"]);
    context = await env.browser.newContext();
    page = await env.openHarness(context);
});

after(() => env?.close());

/** Records the kind byte of every DELTA the page's sync worker sends before INIT_ACK. */
async function recordRestoreOrder() {
    await page.evaluate(() => {
        window.restoreOrder = [];
        let acked = false;
        const Native = window.Worker;
        window.Worker = class RecordingWorker extends Native {
            constructor(...args) {
                super(...args);
                this.addEventListener("message", ({ data }) => {
                    if (data?.type === "INIT_ACK") acked = true;
                    else if (data?.type === "DELTA" && !acked) window.restoreOrder.push(new Uint8Array(data.buffer)[5]);
                });
            }
        };
    });
}

/** Reloads the page and starts a client with `targets`: what ready said and the restore order. */
async function reloadWith(targets) {
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    await recordRestoreOrder();
    const started = await page.evaluate(([url, targets]) => window.e2e.start(url, { targets }), [env.mock.url, targets]);
    assert.equal(started.error, undefined, JSON.stringify(started));
    const order = await page.evaluate(() => window.restoreOrder);
    // Consecutive DELTAs of one kind, as runs: [kind byte, ...].
    const runs = order.filter((kind, i) => i === 0 || order[i - 1] !== kind);
    return { started, order, runs };
}

test("a reload restores the kind of the page's first target first", async () => {
    const cold = await page.evaluate(([url, targets]) => window.e2e.start(url, { targets }), [env.mock.url, [WORLD, CONTRACTS]]);
    assert.equal(cold.error, undefined, JSON.stringify(cold));
    await page.evaluate(() => Promise.all([window.e2e.client.targets.complete("world"), window.e2e.client.targets.complete("contracts")]));
    await page.evaluate(() => window.e2e.client.shutdown());

    const contractsFirst = await reloadWith([CONTRACTS, WORLD]);
    assert.deepEqual(
        contractsFirst.runs,
        [KIND_BYTE.tokenContracts, KIND_BYTE.entities],
        `the stored contracts, then the stored entities: ${JSON.stringify(contractsFirst.order)}`,
    );
    assert.deepEqual(
        contractsFirst.started.targetsAtReady.map((t) => [t.id, t.complete]),
        [["contracts", true], ["world", true]],
        "both targets stored complete are complete at ready",
    );
    await page.evaluate(() => window.e2e.client.shutdown());

    const worldFirst = await reloadWith([WORLD, CONTRACTS]);
    assert.deepEqual(
        worldFirst.runs,
        [KIND_BYTE.entities, KIND_BYTE.tokenContracts],
        `the stored entities, then the stored contracts: ${JSON.stringify(worldFirst.order)}`,
    );
    assert.deepEqual(page.problems, []);
});

test("a target of the first kind restored is complete before the next kind is read, and before ready", async () => {
    // The database holds both kinds complete (the test above synced them).
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    await recordRestoreOrder();
    const seen = await page.evaluate(async ([url, targets]) => {
        const client = window.e2e.reactive.createReactiveClient(await window.e2e.options(url, { targets }));
        window.e2e.client = client;
        let ready = false;
        client.ready.then(() => (ready = true), () => {});
        await client.targets.complete("contracts");
        const atComplete = {
            ready,
            order: [...window.restoreOrder],
            targets: client.targets.list().map((t) => [t.id, t.complete]),
        };
        await client.ready;
        return { atComplete, order: window.restoreOrder, players: window.e2e.count("arena-Player") };
    }, [env.mock.url, [CONTRACTS, WORLD]]);
    const { atComplete } = seen;
    assert.equal(atComplete.ready, false, "the first kind's target is complete before ready");
    assert.ok(atComplete.order.length > 0 && atComplete.order.every((kind) => kind === KIND_BYTE.tokenContracts), `only contracts were restored then: ${JSON.stringify(atComplete.order)}`);
    assert.ok(seen.order.includes(KIND_BYTE.entities), "the entities came after");
    assert.deepEqual(atComplete.targets, [["contracts", true], ["world", false]], "the next kind's target waits for its own data");
    assert.ok(seen.players > 0, "the entities are restored by ready");
    await page.evaluate(() => window.e2e.client.shutdown());
    assert.deepEqual(page.problems, []);
});
