import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/dojo-reactive-types.js', import.meta.url));
const manifest = fileURLToPath(new URL('fixtures/typed-manifest.json', import.meta.url));
const golden = new URL('typed/schema.ts', import.meta.url);

test('the bin writes test/typed/schema.ts (the file the typed consumer test compiles against)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'types-')), 'schema.ts');
  execFileSync(process.execPath, [bin, manifest, '--out', out], { stdio: 'pipe' });
  assert.equal(readFileSync(out, 'utf8'), readFileSync(golden, 'utf8'));
});

test('values follow the runtime: number / bigint by width, hex strings, { variant, value }, names quoted', () => {
  const source = execFileSync(process.execPath, [bin, manifest], { encoding: 'utf8' });
  assert.match(source, /readonly steps: bigint;/);
  assert.match(source, /readonly vec: \{ readonly x: number; readonly y: number \};/);
  assert.match(source, /readonly class: \{ readonly variant: "Warrior" \} \| \{ readonly variant: "Rogue"; readonly value: number \};/);
  assert.match(source, /readonly "__proto__": number;/);
  assert.match(source, /readonly "__proto__-prototype": \{\n {4}readonly namespace: "__proto__";/);
  assert.match(source, /readonly "vec\.x": number;/);
  assert.match(source, /declare module '@dojoengine\/reactive'/);
});

test('--name and --no-register; a bad manifest fails with its reason and no output', () => {
  const source = execFileSync(process.execPath, [bin, manifest, '--name', 'World', '--no-register'], { encoding: 'utf8' });
  assert.match(source, /export type World = \{/);
  assert.doesNotMatch(source, /declare module/);
  const bad = join(mkdtempSync(join(tmpdir(), 'types-')), 'manifest.json');
  writeFileSync(bad, JSON.stringify({ world: { class_hash: '0x1' }, models: [{ tag: 'ns-A', class_hash: '0x2', members: [{ name: 'a', type: 'game::Missing', key: false }] }] }));
  const run = spawnSync(process.execPath, [bin, bad], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /dojo-reactive-types: .*manifest\.json: .*ns-A.*game::Missing/);
  const none = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no manifest given/);
});
