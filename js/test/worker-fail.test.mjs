import assert from 'node:assert/strict';
import { register } from 'node:module';
import { test } from 'node:test';

register('./worker-hooks.mjs', import.meta.url);

const posted = [];
const listeners = [];
globalThis.postMessage = (message) => posted.push(message);
globalThis.addEventListener = (type, listener) => type === 'message' && listeners.push(listener);
globalThis.close = () => {};
globalThis.fakeGlue = {
  memory: { buffer: new ArrayBuffer(8) },
  started: [],
  stopped: 0,
  failStart: { name: 'SchemaMismatchError', message: 'the manifest changed', storedHash: '0x2' },
};
await import('../dist/worker.js');

test('a SyncWorker that fails to start is reported as SYNC_FATAL with its typed fields; SHUTDOWN still confirms', async () => {
  listeners.forEach((l) => l({ data: { type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' }, deltas: false } }));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(posted.at(-1), {
    type: 'SYNC_FATAL',
    error: { name: 'SchemaMismatchError', message: 'the manifest changed', storedHash: '0x2' },
  });
  listeners.forEach((l) => l({ data: { type: 'SHUTDOWN' } }));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(posted.at(-1), { type: 'SHUTDOWN_ACK' });
});
