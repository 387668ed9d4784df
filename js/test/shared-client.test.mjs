import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LINGER_MS, holdClient, sharedClient, sharedKey } from '../dist/shared-client.js';

/** A client double that records its shutdown. */
function fakeClient(log) {
  let phase = 'ready';
  const client = {
    getSyncStatus: () => ({ phase }),
    shutdown: async () => {
      phase = 'stopped';
      log.push('shutdown');
    },
  };
  log.push('created');
  return client;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('held, released and held again (StrictMode, a hot reload): one client, never shut down', async () => {
  const log = [];
  const key = sharedKey({ toriiUrl: 'http://a', worldAddress: '0x1' });
  const first = sharedClient(key, () => fakeClient(log));
  assert.equal(sharedClient(key, () => fakeClient(log)), first, 'a second render gets the same client');
  const held = holdClient(key, () => fakeClient(log));
  held.release();
  const again = holdClient(key, () => fakeClient(log));
  assert.equal(again.client, first);
  await wait(LINGER_MS + 100);
  assert.deepEqual(log, ['created'], 'held again before the linger ended: still running');
  again.release();
  again.release();
  await wait(LINGER_MS + 100);
  assert.deepEqual(log, ['created', 'shutdown'], 'released for good: shut down once');
  const next = holdClient(key, () => fakeClient(log));
  assert.notEqual(next.client, first, 'held after the shutdown: a new client');
  next.release();
  await wait(LINGER_MS + 100);
});

test('a client created by a render that never committed is shut down; other databases have their own', async () => {
  const log = [];
  sharedClient(sharedKey({ toriiUrl: 'http://b', worldAddress: '0x1' }), () => fakeClient(log));
  const other = holdClient(sharedKey({ toriiUrl: 'http://b', worldAddress: '0x1', dbName: 'x' }), () => fakeClient(log));
  await wait(LINGER_MS + 100);
  assert.deepEqual(log, ['created', 'created', 'shutdown']);
  other.release();
  await wait(LINGER_MS + 100);
  assert.deepEqual(log, ['created', 'created', 'shutdown', 'shutdown']);
});

test('a shared client shut down by hand is replaced', async () => {
  const log = [];
  const key = sharedKey({ toriiUrl: 'http://c', worldAddress: '0x1' });
  const held = holdClient(key, () => fakeClient(log));
  await held.client.shutdown();
  const again = holdClient(key, () => fakeClient(log));
  assert.notEqual(again.client, held.client);
  held.release();
  again.release();
  await wait(LINGER_MS + 100);
  assert.deepEqual(log, ['created', 'shutdown', 'created', 'shutdown']);
});
