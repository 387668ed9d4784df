// A follower restores while the leader streams updates and deletions (docs/tabs.md, "A follower
// drops what the store already holds"): relayed DELTAs that arrive during its restore and that
// the store already held are dropped, not applied again over newer data. Each follower checks
// its view after every change it applies from `ready` on: an (entity, model) it showed never vanishes unless the
// mock deleted it, and once gone it never comes back (the test creates nothing, so any return
// is a deleted state shown again or a flicker). A witness tab stays open so the leader relays all
// along; six followers open one after the other. Then a last follower converges to the mock.
// (Without the drop, a re-applied upsert of a deleted state shows within two or three rounds.)

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";
import { canon, stable, worldVersions } from "../lib/world.js";

const MODEL = "arena-Position";
const ALL = ["arena-Player", "arena-Position", "arena-Inventory"];
/** Followers opened one after the other while the stream runs. */
const ROUNDS = 6;

let env;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "1214"]);
});

after(() => env?.close());

/** `{ model: { entityId: last_updated_at } }` of the mock\'s world, for `models`. */
async function mockVersions(models) {
    return worldVersions(await env.mock.world(), models);
}

async function converged(page, what) {
    const expected = stable(await mockVersions(ALL));
    await waitFor(async () => stable(await page.evaluate((m) => window.e2e.versions(m), ALL)) === expected, what, 30_000, 100);
}

/**
 * Starts a client in `page` and, from `ready` on, checks `MODEL`'s states after every change the
 * view applies (`entityUpdates` is emitted as each DELTA is applied): for each entity the last
 * presence seen, the ids that vanished, and those that came back after vanishing or appeared
 * after `ready` (`window.e2e.flicker`).
 */
function startWatched(page) {
    return page.evaluate(
        async ({ url, model }) => {
            const started = await window.e2e.start(url);
            if (started.error) return started;
            const flicker = (window.e2e.flicker = { checks: 0, vanished: [], returned: [] });
            const present = new Set(Object.keys(window.e2e.versions([model])[model]));
            const gone = new Set();
            const check = () => {
                const now = new Set(Object.keys(window.e2e.versions([model])[model]));
                flicker.checks += 1;
                for (const id of present) {
                    if (!now.has(id)) {
                        present.delete(id);
                        gone.add(id);
                        flicker.vanished.push(id);
                    }
                }
                for (const id of now) {
                    if (!present.has(id)) {
                        flicker.returned.push({ id, wasGone: gone.has(id) });
                        present.add(id);
                    }
                }
            };
            flicker.subscription = window.e2e.client.entityUpdates.subscribe(check);
            return started;
        },
        { url: env.mock.url, model: MODEL },
    );
}

test("a follower restoring while the leader streams updates and deletions never shows a deleted entity again, and nothing flickers", async () => {
    const context = await env.browser.newContext();
    const leader = await env.openHarness(context);
    const started = await leader.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(!started.error, JSON.stringify(started));
    await converged(leader, "the leader to sync the world");

    const ids = (await env.mock.world()).entities.filter((e) => e.models[MODEL]).map((e) => e.entityId);
    const live = ids.slice(0, 20);
    const doomed = ids.slice(20);
    const deleted = new Set();
    let streaming = true;
    // Each round updates live entities, then updates one doomed entity's MODEL and deletes it:
    // an upsert and its deletion both relayed, often while a follower restores.
    // Once every doomed state is deleted, live entities go on changing.
    const stream = (async () => {
        for (let i = 0; streaming; i += 1) {
            await env.mock.post("/_mock/updates", { count: 4, entityIds: live });
            const id = doomed[i];
            if (id !== undefined) {
                await env.mock.post("/_mock/updates", { count: 1, model: MODEL, entityIds: [id] });
                await env.mock.post("/_mock/delete", { entityId: id, model: MODEL });
                deleted.add(canon(id));
            }
            await new Promise((r) => setTimeout(r, 5));
        }
    })();

    // A tab that stays: the leader relays all along (it relays nothing while no follower listens).
    const witness = await env.openHarness(context);
    assert.ok(!(await witness.evaluate((url) => window.e2e.start(url), env.mock.url)).error);
    try {
        for (let round = 0; round < ROUNDS; round += 1) {
            const follower = await env.openHarness(context);
            const result = await startWatched(follower);
            assert.ok(!result.error, JSON.stringify(result));
            await waitFor(
                async () => (await follower.evaluate(() => window.e2e.client.getSyncStatus().tab?.role)) === "follower",
                `round ${round}: the second tab to follow`,
                5_000,
                50,
            );
            await new Promise((r) => setTimeout(r, 500));
            const flicker = await follower.evaluate(() => {
                const { checks, vanished, returned, subscription } = window.e2e.flicker;
                subscription();
                return { checks, vanished, returned };
            });
            assert.ok(flicker.checks > 10, `round ${round}: the view was checked after each change (${flicker.checks})`);
            assert.deepEqual(flicker.returned, [], `round ${round}: an entity came back after it vanished, or appeared after ready`);
            const notDeleted = flicker.vanished.filter((id) => !deleted.has(id));
            assert.deepEqual(notDeleted, [], `round ${round}: an entity vanished that the mock did not delete`);
            console.log(`TABS-RELAY ${JSON.stringify({ round, checks: flicker.checks, vanished: flicker.vanished.length, deleted: deleted.size })}`);
            await follower.close();
        }
    } finally {
        streaming = false;
        await stream;
    }
    assert.ok(deleted.size >= 20, `the stream deleted ${deleted.size} states`);
    const last = await env.openHarness(context);
    assert.ok(!(await startWatched(last)).error);
    await converged(last, "the last follower to equal the mock's world");
    await context.close();
});
