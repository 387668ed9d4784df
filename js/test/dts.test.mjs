import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const dist = new URL('../dist/', import.meta.url);

test('the emitted declarations have no `any`', () => {
  const files = readdirSync(dist).filter((f) => f.endsWith('.d.ts'));
  assert.ok(files.includes('index.d.ts') && files.includes('react.d.ts') && files.includes('worker.d.ts'));
  for (const file of files) {
    const text = readFileSync(new URL(file, dist), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(text, /\bany\b/, file);
  }
});

test('package.json exports resolve to emitted files with declarations', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.type, 'module');
  for (const entry of ['.', './react']) {
    for (const kind of ['types', 'import']) {
      const path = pkg.exports[entry][kind];
      assert.ok(readFileSync(new URL(`../${path}`, import.meta.url)).length > 0, `${entry} ${kind}: ${path}`);
    }
  }
});

test('the worker script and the wasm modules are found next to the entry, as `new URL(..., import.meta.url)`', () => {
  const runtime = readFileSync(new URL('runtime.js', dist), 'utf8');
  assert.match(runtime, /new Worker\(new URL\('\.\/worker\.js', import\.meta\.url\)/);
  assert.match(runtime, /new URL\('\.\.\/wasm\/dojo_reactive_view_bg\.wasm', import\.meta\.url\)/);
  // The worker's module, loaded on the main thread only for a reset or a manifest helper.
  assert.match(runtime, /import\('\.\.\/wasm\/dojo_reactive\.js'\)/);
  assert.match(runtime, /new URL\('\.\.\/wasm\/dojo_reactive_bg\.wasm', import\.meta\.url\)/);
  assert.doesNotMatch(runtime, /from '\.\.\/wasm\/dojo_reactive\.js'/, 'the worker module is not a static import of the page');
  const worker = readFileSync(new URL('worker.js', dist), 'utf8');
  assert.match(worker, /new URL\('\.\.\/wasm\/dojo_reactive_bg\.wasm', import\.meta\.url\)/);
});

test('package.json ships both wasm modules and their glue', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  for (const name of ['dojo_reactive', 'dojo_reactive_view']) {
    for (const file of [`wasm/${name}.js`, `wasm/${name}.d.ts`, `wasm/${name}_bg.wasm`]) {
      assert.ok(pkg.files.includes(file), `files lists ${file}`);
      assert.ok(readFileSync(new URL(`../${file}`, import.meta.url)).length > 0, file);
    }
  }
});
