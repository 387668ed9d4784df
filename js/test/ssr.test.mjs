// Server-side rendering (Vite SSR, Next.js) imports the package in Node, where the browser's
// globals do not exist: importing every entry point, and rendering components that use the hooks,
// must not touch `window`, `document`, `Worker`, IndexedDB, storage or the scheduler of a page.
// Each global is replaced by a getter that records the access (node --test runs this file in its
// own process). React itself is imported first: only the package is watched.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';

const BROWSER_GLOBALS = [
  'window',
  'document',
  'self',
  'Worker',
  'indexedDB',
  'localStorage',
  'sessionStorage',
  'requestAnimationFrame',
  'BroadcastChannel',
  'navigator',
  'location',
];
const touched = new Set();
for (const name of BROWSER_GLOBALS) {
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      touched.add(name);
      return own && ('value' in own ? own.value : own.get?.call(globalThis));
    },
  });
}

test('importing the package and its React entry touches no browser global', async () => {
  const main = await import('../dist/index.js');
  const react = await import('../dist/react.js');
  assert.equal(typeof main.createReactiveClient, 'function');
  assert.equal(typeof react.useQuery, 'function');
  assert.deepEqual([...touched], []);
});

test('a server render of components that use the hooks touches no browser global', async () => {
  const { createClient } = await import('../dist/client.js');
  const { useEntity, useQuery, useSyncStatus } = await import('../dist/react.js');
  const { ID1, options, stubRuntime } = await import('./stubs.mjs');
  // The client the server render is handed (a browser creates it with createReactiveClient);
  // nothing has reached it yet, as on a server.
  const client = createClient(options, stubRuntime().runtime);
  function Hud() {
    const status = useSyncStatus(client);
    const entity = useEntity(client, ID1);
    const rows = useQuery(client, 'ns-Position', { limit: 5 });
    return createElement('p', null, `${status.phase} ${entity === undefined} ${rows.length}`);
  }
  touched.clear();
  const html = renderToString(createElement(Hud));
  assert.equal(html, '<p>starting true 0</p>');
  assert.deepEqual([...touched], []);
});
