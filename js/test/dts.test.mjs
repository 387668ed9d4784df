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

test('the worker script is found next to the entry, as `new URL("./worker.js", import.meta.url)`', () => {
  const runtime = readFileSync(new URL('runtime.js', dist), 'utf8');
  assert.match(runtime, /new Worker\(new URL\('\.\/worker\.js', import\.meta\.url\)/);
  assert.match(runtime, /new URL\('\.\.\/wasm\/dojo_reactive_bg\.wasm', import\.meta\.url\)/);
  readFileSync(new URL('worker.js', dist));
});
