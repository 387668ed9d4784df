// The package's manifest helpers run the wasm module's own code: the hash they compute is the
// one the sync worker checks its database with (`ready` reports it), and the fingerprint lists
// every model and event of the manifest.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";

let env, page;

before(async () => {
    env = await startEnv(["--entities", "50", "--seed", "5"]);
    page = await env.openHarness();
});

after(() => env?.close());

test("computeManifestHash and buildManifestFingerprint agree with the worker's check", async () => {
    const result = await page.evaluate(async (url) => {
        const { computeManifestHash, buildManifestFingerprint } = window.e2e.reactive;
        const manifest = await window.e2e.manifest(url);
        const started = await window.e2e.start(url);
        const bad = await computeManifestHash("{not json").then(
            () => "accepted",
            (error) => error.name,
        );
        return {
            hash: await computeManifestHash(manifest),
            fromText: await computeManifestHash(JSON.stringify(manifest)),
            fingerprint: await buildManifestFingerprint(manifest),
            reported: started.init?.manifestHash,
            tags: [...manifest.models, ...(manifest.events ?? [])].map((m) => m.tag).sort(),
            bad,
        };
    }, env.mock.url);
    assert.match(result.hash, /^manifest-hash:v1:[0-9a-f]{64}$/);
    assert.equal(result.hash, result.reported, "the worker checked the database with this hash");
    assert.equal(result.fromText, result.hash);
    assert.equal(result.fingerprint.hash, result.hash);
    assert.deepEqual(result.fingerprint.entries.map((e) => e.tag).sort(), result.tags);
    assert.equal(result.bad, "ValidationError");
    assert.deepEqual(page.problems, []);
});
