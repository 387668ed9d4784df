import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, send, settle } from './worker-scope.mjs';

await loadWorker({
  memory: { buffer: new ArrayBuffer(8) },
  started: [],
  stopped: 0,
  failStart: { name: 'SchemaMismatchError', message: 'the manifest changed', storedHash: '0x2' },
});

test('a SyncWorker that fails to start is reported as SYNC_FATAL with its typed fields; SHUTDOWN still confirms', async () => {
  send({ type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' }, deltas: false });
  await settle();
  assert.deepEqual(posted.at(-1), {
    type: 'SYNC_FATAL',
    error: { name: 'SchemaMismatchError', message: 'the manifest changed', storedHash: '0x2' },
  });
  send({ type: 'SHUTDOWN' });
  await settle();
  assert.deepEqual(posted.at(-1), { type: 'SHUTDOWN_ACK' });
});
