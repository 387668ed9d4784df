import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../dist/errors.js';
import { buildManifestFingerprintOn, computeManifestHashOn } from '../dist/manifest.js';
import { stubRuntime } from './stubs.mjs';

test('the manifest helpers hash its JSON text, given as text or as an object', async () => {
  const { runtime } = stubRuntime();
  const manifest = { world: { class_hash: '0x1' }, models: [] };
  const text = JSON.stringify(manifest);
  assert.equal(await computeManifestHashOn(runtime, manifest), await computeManifestHashOn(runtime, text));
  const fingerprint = await buildManifestFingerprintOn(runtime, text);
  assert.equal(fingerprint.hash, await computeManifestHashOn(runtime, text));
});

test('an unusable manifest is a ValidationError, before or from the wasm module', async () => {
  const { runtime } = stubRuntime();
  for (const bad of [42, '', null, ['a']]) {
    await assert.rejects(computeManifestHashOn(runtime, bad), ValidationError);
    await assert.rejects(buildManifestFingerprintOn(runtime, bad), ValidationError);
  }
  await assert.rejects(computeManifestHashOn(runtime, '{"models":[]}'), (error) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /has no `world`/);
    return true;
  });
});
