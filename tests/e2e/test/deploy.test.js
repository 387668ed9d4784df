// Old and new tabs on one database during a game deploy (issue 12 item 6, docs/tabs.md "During a
// deploy"): a tab of the old code (its client created with the old manifest) leads and syncs;
// the deploy upgrades `arena-Position` on Torii (`POST /_mock/manifest`); a tab of the new code
// opens on the same database. The new tab takes the database over and switches it to its
// manifest (Torii confirms it), refills the changed model; the old tab reports
// OutdatedManifestError, never writes again (the writer record stays the new tab's, no DELTA of
// the old manifest after the new tab claimed, the stored fingerprint stays the new one, the new
// model's stored rows survive), keeps showing its unchanged models; reloaded with the new
// manifest, it converges to the world.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitForWorld } from "../lib/faults.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

let env;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "4242"]);
});

after(() => env?.close());

/** Starts a client with `manifest` in `page`; resolves `{ init }` or `{ error }`. */
function start(page, manifest) {
    return page.evaluate(async ({ url, manifest }) => window.e2e.start(url, { manifest }), { url: env.mock.url, manifest });
}

/**
 * Watches the database from `page`: every 50 ms the writer record and the stored manifest hash
 * (`e2e.deploy.records`), and every DELTA and HEARTBEAT on the channel with its sender's
 * manifest (`e2e.deploy.messages`).
 */
function watchDatabase(page) {
    return page.evaluate(async () => {
        const dbName = window.e2e.client.getSyncStatus().init.dbName;
        const deploy = (window.e2e.deploy = { records: [], messages: [] });
        const text = (value) => (value ? JSON.parse(new TextDecoder().decode(value)) : null);
        const read = () =>
            new Promise((resolve) => {
                const request = indexedDB.open(dbName);
                request.onsuccess = () => {
                    const db = request.result;
                    const tx = db.transaction("metadata", "readonly");
                    const store = tx.objectStore("metadata");
                    const writer = store.get("writer");
                    const fingerprint = store.get("fingerprint");
                    tx.oncomplete = () => {
                        db.close();
                        resolve({ writer: text(writer.result), manifest: text(fingerprint.result)?.hash ?? null });
                    };
                    tx.onerror = () => resolve(null);
                };
                request.onerror = () => resolve(null);
            });
        deploy.timer = setInterval(async () => {
            const record = await read();
            if (record) deploy.records.push({ at: Date.now(), owner: record.writer?.owner, writerManifest: record.writer?.manifest, manifest: record.manifest });
        }, 50);
        const channel = new BroadcastChannel(`dojo-reactive:${dbName}`);
        channel.onmessage = ({ data }) => {
            if (data?.type === "DELTA" || data?.type === "HEARTBEAT") deploy.messages.push({ at: Date.now(), type: data.type, from: data.from, manifest: data.manifest });
        };
    });
}

test("an old tab never writes over the new code's data; the new tab switches the database and syncs the changed model", async () => {
    const context = await env.browser.newContext();
    try {
        const world = (await env.mock.world()).entities;
        const positions = world.filter((e) => e.models["arena-Position"]).length;
        const players = world.filter((e) => e.models["arena-Player"]).length;

        // The old code: synced and streaming.
        const oldPage = await env.openHarness(context);
        const oldManifest = await oldPage.evaluate((url) => window.e2e.manifest(url), env.mock.url);
        const cold = await start(oldPage, oldManifest);
        assert.ok(cold.init, JSON.stringify(cold.error));
        await waitForWorld(oldPage, env.mock, 60_000);

        // The deploy reaches Torii; the new code opens on the same database.
        const deployedAt = Date.now();
        await env.mock.post("/_mock/manifest", { upgrade: "arena-Position" });
        const newPage = await env.openHarness(context);
        const newManifest = await newPage.evaluate((url) => window.e2e.manifest(url), env.mock.url);
        const warm = await start(newPage, newManifest);
        assert.ok(warm.init, JSON.stringify(warm.error));
        const newHash = warm.init.manifestHash;
        assert.notEqual(newHash, cold.init.manifestHash);
        assert.equal(
            await newPage.evaluate(() => window.e2e.count("arena-Player")),
            players,
            "the unchanged model is shown from the database at ready",
        );
        await watchDatabase(newPage);
        await waitFor(
            () => newPage.evaluate(() => window.e2e.client.getSyncStatus().tab?.role === "leader"),
            "the new tab to lead",
            30_000,
            50,
        );
        const ledMs = Date.now() - deployedAt;

        // The old tab learns it is outdated; the new tab leads and refills the changed model.
        await waitFor(
            () => oldPage.evaluate(() => window.e2e.errors.some((e) => e.name === "OutdatedManifestError")),
            "the old tab to report OutdatedManifestError",
            30_000,
        );
        const outdatedMs = Date.now() - deployedAt;
        const outdated = await oldPage.evaluate(() => window.e2e.errors.find((e) => e.name === "OutdatedManifestError"));
        assert.ok(outdated.isTyped, JSON.stringify(outdated));
        assert.match(outdated.message, /reload it/);
        await waitForEntityCount(newPage, "arena-Position", positions, {}, 60_000);
        const switchedMs = Date.now() - deployedAt;

        // Writes keep coming while both tabs are open: only the new tab writes.
        await env.mock.post("/_mock/updates", { count: 200 });
        await waitForWorld(newPage, env.mock, 60_000);
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(
            await oldPage.evaluate(() => window.e2e.count("arena-Player")),
            players,
            "the old tab still shows the stored players",
        );

        const { records, messages } = await newPage.evaluate(() => {
            clearInterval(window.e2e.deploy.timer);
            return window.e2e.deploy;
        });
        const first = records.findIndex((r) => r.writerManifest === newHash);
        assert.ok(first >= 0, `the new tab claimed the database: ${JSON.stringify(records.slice(-3))}`);
        const later = records.slice(first);
        assert.deepEqual(
            later.filter((r) => r.writerManifest !== newHash),
            [],
            "the writer record is never the old tab's after the new tab claimed it",
        );
        const switched = records.findIndex((r) => r.manifest === newHash);
        assert.ok(switched >= 0, "the database was switched to the new manifest");
        assert.deepEqual(
            records.slice(switched).filter((r) => r.manifest !== newHash),
            [],
            "the stored manifest never goes back to the old one",
        );
        // Sampled every 50 ms: a DELTA the old leader committed just before the claim may be
        // relayed within that window; none later.
        const claimedAt = records[first].at;
        assert.deepEqual(
            messages.filter((m) => m.type === "DELTA" && m.at > claimedAt + 100 && m.manifest !== newHash),
            [],
            "no DELTA of the old manifest after the new tab claimed",
        );
        // The changed model's new rows survived in the store (the old tab dropped nothing).
        const errors = await newPage.evaluate(() => window.e2e.errors);
        assert.ok(!errors.some((e) => /OutdatedManifest|SchemaMismatch|SyncFatal/.test(e.name)), JSON.stringify(errors));

        // The old tab reloaded with the new code converges.
        await oldPage.evaluate(() => window.e2e.client.shutdown());
        await oldPage.reload();
        await oldPage.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
        const reloaded = await start(oldPage, newManifest);
        assert.ok(reloaded.init, JSON.stringify(reloaded.error));
        await waitForWorld(oldPage, env.mock, 60_000);
        const again = await oldPage.evaluate(() => window.e2e.errors);
        assert.ok(!again.some((e) => e.name === "OutdatedManifestError"), JSON.stringify(again));
        console.log(`DEPLOY-REPORT ${JSON.stringify({ ledMs, outdatedMs, switchedMs, positions, players })}`);
        await newPage.evaluate(() => window.e2e.client.shutdown());
        await oldPage.evaluate(() => window.e2e.client.shutdown());
    } finally {
        await context.close();
    }
});
