// Historical event messages in two tabs of one game (docs/events.md, docs/tabs.md): the leader
// relays every change of its event logs, so a follower's `client.events` shows new events live,
// each once (in `query` and in `subscribe`), without a reload; then the leader tab closes, the
// follower leads, its log goes on with the events made after, and the store holds them all (a
// reload with Torii held back shows the same log once restored); removed after the takeover, the
// log leaves the store whole.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";

const HISTORY = 10;
const TARGETS = [
    { id: "world", kind: "entities", models: ["arena-Player"] },
    { id: "feed", kind: "eventLog", models: ["arena-Moved"] },
];

let env;

before(async () => {
    env = await startEnv(["--entities", "20", "--event-messages", String(HISTORY), "--seed", "9"]);
});

after(() => env?.close());

/** The feed as `page` holds it: `[id, at]` per event, oldest first. */
const feed = (page) =>
    page.evaluate(() => window.e2e.client.events.query({ target: "feed" }).map((e) => [e.id, String(e.models.arena.Moved.at)]));

/** The `at` of the feed's last `n` events. */
const tail = async (page, n) => (await feed(page)).slice(-n).map(([, at]) => at);

/** The feed's entry of `page`'s `targets.list()`. */
const status = (page) => page.evaluate(() => window.e2e.client.targets.list().find((t) => t.id === "feed"));

/** Whether `page` shows the feed's stored log whole. */
const restored = async (page) => (await status(page))?.restored;

const role = (page) => page.evaluate(() => window.e2e.client.getSyncStatus().tab?.role);

const move = (player, at) =>
    env.mock.post("/_mock/set", { keys: [player], model: "arena-Moved", values: { direction: { variant: "Up" }, at } });

/** Starts the client in `page` and records the ids `events.subscribe` hands over (`window.e2e.seen`). */
async function start(page) {
    const started = await page.evaluate(
        async ([url, targets]) => {
            const result = await window.e2e.start(url, { targets });
            window.e2e.seen = [];
            window.e2e.client.events.subscribe({ target: "feed" }, (events) => window.e2e.seen.push(...events.map((e) => e.id)));
            return result;
        },
        [env.mock.url, TARGETS],
    );
    assert.ok(started.init, JSON.stringify(started));
}

/** `page`'s feed holds each event once, and ends with the moves `ats`; returns the ids of those. */
async function assertShown(page, ats, what) {
    await waitFor(async () => (await tail(page, ats.length)).join() === ats.join(), what, 15_000, 50);
    const shown = await feed(page);
    assert.equal(new Set(shown.map(([id]) => id)).size, shown.length, `${what}: an event shown twice`);
    return shown.slice(-ats.length).map(([id]) => id);
}

test("a follower tab shows the leader's new events live, each once, and goes on with them once it leads", async () => {
    const context = await env.browser.newContext();
    const leader = await env.openHarness(context);
    await start(leader);
    await waitFor(async () => (await feed(leader)).length === HISTORY, "the leader to walk the history", 30_000, 50);
    assert.equal(await role(leader), "leader");

    const follower = await env.openHarness(context);
    await start(follower);
    await waitFor(async () => (await role(follower)) === "follower", "the second tab to follow", 5_000, 50);
    // The stored log reaches the page after `ready` (docs/events.md, "Reloads").
    await waitFor(async () => (await restored(follower)) === true, "the follower's stored log restored", 15_000, 50);
    assert.equal((await feed(follower)).length, HISTORY, "the follower shows the stored log once restored");

    // Live in the follower, without a reload.
    const live = ["2000001", "2000002", "2000003"];
    for (const [i, at] of live.entries()) await move(`0x${i + 1}`, Number(at));
    const ids = await assertShown(follower, live, "the follower to show three live events in order");
    assert.deepEqual(await follower.evaluate(() => window.e2e.seen), ids, "subscribe saw each new event once");
    assert.deepEqual(await feed(follower), await feed(leader), "the follower's log is the leader's");
    // The relayed batches carry the leader's flags: the walked log stays complete in the follower.
    assert.deepEqual(await status(follower), { id: "feed", kind: "eventLog", restored: true, complete: true });
    // The follower heard the leader all along (its heartbeats name the event-log target): no takeover.
    assert.deepEqual([await role(leader), await role(follower)], ["leader", "follower"]);

    // The leader closes: the follower takes over, and its log goes on.
    await leader.close();
    await waitFor(async () => (await role(follower)) === "leader", "the follower to lead", 5_000, 50);
    const later = ["2000004", "2000005"];
    for (const [i, at] of later.entries()) await move(`0x${i + 4}`, Number(at));
    const laterIds = await assertShown(follower, later, "the new leader to show the events made after the takeover");
    assert.deepEqual(await follower.evaluate(() => window.e2e.seen), [...ids, ...laterIds], "subscribe saw each event once");
    assert.equal((await feed(follower)).length, HISTORY + live.length + later.length, "nothing lost, nothing twice");

    // What the new leader stored went on from the old one's records (none overwritten): a reload
    // with Torii's answers held back shows the same log at ready.
    const shown = await feed(follower);
    await env.mock.post("/_mock/delay", { ms: 3000 });
    await follower.reload();
    await follower.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    await start(follower);
    await waitFor(async () => (await restored(follower)) === true, "the stored log restored after the reload", 15_000, 50);
    assert.deepEqual(await feed(follower), shown, "the stored log, shown once restored");
    await env.mock.post("/_mock/delay", { ms: 0 });
    assert.deepEqual(follower.problems, [], "no page error");
    await context.close();
});

/** The records of `page`'s `event_log` object store (every target's), read with IndexedDB. */
const storedRecords = (page) =>
    page.evaluate(async () => {
        const name = window.e2e.client.getSyncStatus().init.dbName;
        const db = await new Promise((resolve, reject) => {
            const open = indexedDB.open(name);
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
        });
        try {
            return await new Promise((resolve, reject) => {
                const count = db.transaction("event_log").objectStore("event_log").count();
                count.onsuccess = () => resolve(count.result);
                count.onerror = () => reject(count.error);
            });
        } finally {
            db.close();
        }
    });

test("a tab that takes over deletes a removed log's records, the old leader's later ones too", async () => {
    const context = await env.browser.newContext();
    const leader = await env.openHarness(context);
    await start(leader);
    await waitFor(async () => (await status(leader))?.complete === true, "the leader to walk the history", 30_000, 50);
    const follower = await env.openHarness(context);
    await start(follower);
    await waitFor(async () => (await restored(follower)) === true, "the follower's stored log restored", 15_000, 50);
    // Stored by the leader after the follower read the store.
    const live = ["3000001", "3000002", "3000003"];
    for (const [i, at] of live.entries()) await move(`0x${i + 1}`, Number(at));
    await assertShown(follower, live, "the follower to show three live events");

    await leader.close();
    await waitFor(async () => (await role(follower)) === "leader", "the follower to lead", 5_000, 50);
    await follower.evaluate(() => window.e2e.client.targets.remove("feed"));
    // The new leader read the store again as it took over: it knows every record of the log,
    // the old leader's last ones too, and deletes them all (else they would come back with a
    // later target of this id).
    await waitFor(async () => (await storedRecords(follower)) === 0, "every record of the removed log deleted", 10_000, 50);
    assert.deepEqual(follower.problems, [], "no page error");
    await context.close();
});
