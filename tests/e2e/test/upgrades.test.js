// Upgrades and configuration: a Torii version change keeps the stored data visible and replays
// in full, reported as a ToriiVersionChangedError warning (`onToriiVersionChange: 'fail'` keeps
// the old fatal behaviour); a game deploy that changed one model keeps the other models' stored
// data and refills the changed one; a `worldAddress` other than the manifest's, a world Torii
// does not know, and a `dbName` holding another origin's data are typed ValidationErrors.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitForWorld } from "../lib/faults.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env, counts;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "71"]);
    const world = (await env.mock.world()).entities;
    counts = Object.fromEntries(
        ["arena-Player", "arena-Position", "arena-Inventory"].map((m) => [m, world.filter((e) => e.models[m]).length]),
    );
});

after(() => env?.close());

/** Snapshot pages (RetrieveEntities without a by-id clause) in the mock's log. */
const snapshotPages = async () =>
    (await env.mock.log()).filter((e) => e.method === "RetrieveEntities" && !/clause=hashed_keys/.test(e.detail)).length;

/** Starts a client in `page` (options merged into the harness defaults); resolves `{ init }` or `{ error }`. */
const start = (page, extra = {}) => page.evaluate(([url, o]) => window.e2e.start(url, o), [env.mock.url, extra]);

/** A browser context whose database holds the whole world (synced once, then shut down). */
async function contextWithStoredWorld(extra = {}) {
    const context = await env.browser.newContext();
    const page = await env.openHarness(context);
    const cold = await start(page, extra);
    assert.ok(cold.init, JSON.stringify(cold.error));
    for (const [model, count] of Object.entries(counts)) await waitForEntityCount(page, model, count);
    await waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "streaming");
    await page.evaluate(() => window.e2e.client.shutdown());
    await page.close();
    return context;
}

test("a Torii version change keeps the stored data visible, replays in full and warns with ToriiVersionChangedError", async () => {
    const context = await contextWithStoredWorld();
    const original = (await env.mock.status()).version;
    try {
        await env.mock.post("/_mock/restart", { version: "9.9.9 (redeployed)" });
        await env.mock.clearLog();
        const page = await env.openHarness(context);
        const warm = await page.evaluate(async (url) => {
            const result = await window.e2e.start(url);
            // The warning comes after ready (Torii is asked after the stored data is shown).
            window.e2e.versionWarnings = [];
            window.e2e.client.errors.subscribe((error) => {
                if (error.name === "ToriiVersionChangedError") window.e2e.versionWarnings.push({ kept: error.kept, current: error.current });
            });
            return { ...result, players: window.e2e.count("arena-Player") };
        }, env.mock.url);
        assert.ok(warm.init, JSON.stringify(warm.error));
        assert.equal(warm.init.toriiVersion, original, "INIT_ACK names the version the data was synced from");
        assert.equal(warm.players, counts["arena-Player"], "the stored players are shown at ready");
        const warning = await waitFor(
            () => page.evaluate(() => window.e2e.errors.find((e) => e.name === "ToriiVersionChangedError")),
            "the ToriiVersionChangedError warning",
        );
        assert.ok(warning.isTyped);
        assert.match(warning.message, /9\.9\.9/);
        assert.deepEqual(await page.evaluate(() => window.e2e.versionWarnings), [{ kept: true, current: "9.9.9 (redeployed)" }]);
        assert.equal(await page.evaluate(() => window.e2e.client.getSyncStatus().phase), "ready", "the version change is not fatal");
        await waitForWorld(page, env.mock, 60_000);
        await waitFor(() => page.evaluate(() => window.e2e.client.getSyncStatus().state === "streaming"), "streaming");
        const pages = await snapshotPages();
        assert.ok(pages >= 1, `a full replay re-read the snapshot (${pages} pages)`);
        assert.deepEqual(
            (await page.evaluate(() => window.e2e.errors)).filter((e) => e.name === "SyncFatalError"),
            [],
        );
        await page.evaluate(() => window.e2e.client.shutdown());

        // The next version change with `onToriiVersionChange: 'fail'`: the old strict behaviour.
        await env.mock.post("/_mock/restart", { version: "9.9.10 (strict)" });
        const strict = await env.openHarness(context);
        const refused = await strict.evaluate(async (url) => {
            const result = await window.e2e.start(url, { onToriiVersionChange: "fail" });
            const fatal = await new Promise((resolve) => {
                const check = () => {
                    const status = window.e2e.client.getSyncStatus();
                    if (status.phase === "failed") resolve({ name: status.error.name, kept: status.error.kept });
                    else setTimeout(check, 100);
                };
                check();
            });
            return { ...result, fatal, players: window.e2e.count("arena-Player") };
        }, env.mock.url);
        assert.ok(refused.init, "the stored data still opens");
        assert.deepEqual(refused.fatal, { name: "ToriiVersionChangedError", kept: false }, "'fail' keeps the strict behaviour");
        await strict.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await env.mock.post("/_mock/restart", { version: original });
        await context.close();
    }
});

test("a deploy that changed one model keeps the other models' stored data and refills the changed one", async () => {
    const context = await contextWithStoredWorld();
    try {
        // The deploy reaches Torii (the mock's Worlds lists the upgraded class hash), then the
        // page of the new code starts.
        await env.mock.post("/_mock/manifest", { upgrade: "arena-Position" });
        const page = await env.openHarness(context);
        const deployed = await page.evaluate(async (url) => {
            const manifest = await window.e2e.manifest(url);
            const result = await window.e2e.start(url, { manifest });
            const atReady = Object.fromEntries(
                ["arena-Player", "arena-Position", "arena-Inventory"].map((m) => [m, window.e2e.count(m)]),
            );
            return { ...result, atReady };
        }, env.mock.url);
        assert.ok(deployed.init, `no SchemaMismatchError: ${JSON.stringify(deployed.error)}`);
        assert.deepEqual(
            deployed.atReady,
            { ...counts, "arena-Position": 0 },
            "the unchanged models are shown from the database at ready; the changed one was dropped",
        );
        await waitForEntityCount(page, "arena-Position", counts["arena-Position"], {}, 60_000);
        await waitForWorld(page, env.mock, 60_000);
        const errors = await page.evaluate(() => window.e2e.errors);
        assert.ok(!errors.some((e) => /SchemaMismatch|SyncFatal|OutdatedManifest/.test(e.name)), JSON.stringify(errors));

        // reset() still starts over from an empty database.
        const reset = await page.evaluate(async () => ({ ...(await window.e2e.client.reset()) }));
        assert.equal(reset.restored, 0);
        await waitForEntityCount(page, "arena-Player", counts["arena-Player"]);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await context.close();
    }
});

test("a worldAddress other than the manifest's is a ValidationError; a world Torii does not know is a fatal typed error", async () => {
    const page = await env.openHarness();
    const mismatch = await page.evaluate(async (url) => {
        try {
            window.e2e.reactive.createReactiveClient(await window.e2e.options(url, { worldAddress: "0x0123" }));
            return null;
        } catch (error) {
            return { ...window.e2e.describeError(error), argument: error.argument };
        }
    }, env.mock.url);
    assert.equal(mismatch?.name, "ValidationError", JSON.stringify(mismatch));
    assert.ok(mismatch.isTyped);
    assert.equal(mismatch.argument, "worldAddress");
    assert.match(mismatch.message, /is not the manifest's world address/);

    // The manifest itself names a world the mock does not index; worldAddress defaults to it.
    const unknown = await page.evaluate(async (url) => {
        const manifest = await window.e2e.manifest(url);
        manifest.world.address = "0x0123";
        const options = { toriiUrl: url, manifest, syncOptions: { requestTimeoutMs: 5000 } };
        const client = window.e2e.reactive.createReactiveClient(options);
        window.e2e.client = client;
        const seen = [];
        client.errors.subscribe((error) => seen.push({ ...window.e2e.describeError(error), reason: error.reason }));
        const init = await client.ready;
        await new Promise((resolve) => {
            const check = () => (client.getSyncStatus().phase === "failed" ? resolve() : setTimeout(check, 100));
            check();
        });
        return { restored: init.restored, seen, phase: client.getSyncStatus().phase };
    }, env.mock.url);
    assert.equal(unknown.phase, "failed");
    const error = unknown.seen.find((e) => e.name === "ValidationError");
    assert.ok(error?.isTyped, JSON.stringify(unknown.seen));
    assert.equal(error.reason, "unknownWorld");
    assert.match(error.message, /does not know the world 0x0+123/);
    await page.evaluate(() => window.e2e.client.shutdown());
    await page.context().close();
});

test("a dbName holding another Torii URL's data is refused with a typed error, never mixed", async () => {
    const context = await env.browser.newContext();
    const dbName = "e2e-shared-db";
    try {
        const page = await env.openHarness(context);
        const first = await start(page, { dbName });
        assert.ok(first.init, JSON.stringify(first.error));
        await waitForEntityCount(page, "arena-Player", counts["arena-Player"]);
        await page.evaluate(() => window.e2e.client.shutdown());
        // The same database name for the same world served at another URL (localhost, not 127.0.0.1).
        const other = env.mock.url.replace("127.0.0.1", "localhost");
        const refused = await page.evaluate(async ([url, name, here]) => {
            const manifest = await window.e2e.manifest(here);
            const result = await window.e2e.start(url, { dbName: name, manifest });
            return { ...result, reason: result.error ? window.e2e.client.getSyncStatus().error?.reason : undefined };
        }, [other, dbName, env.mock.url]);
        assert.equal(refused.error?.name, "ValidationError", JSON.stringify(refused));
        assert.ok(refused.error.isTyped);
        assert.equal(refused.reason, "otherOrigin");
        assert.match(refused.error.message, /holds the data of world/);
        await page.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await context.close();
    }
});
