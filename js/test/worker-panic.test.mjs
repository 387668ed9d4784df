import assert from 'node:assert/strict';
import { test } from 'node:test';

import { listeners, loadWorker, posted, send, settle } from './worker-scope.mjs';

// A worker whose wasm module panics: the trap says only `unreachable`; the panic hook's message
// must reach the main thread as a SYNC_FATAL with reason `panic` (the main thread restarts it).
const glue = await loadWorker({ memory: { buffer: new ArrayBuffer(8) }, started: [], stopped: 0 });
const config = { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' };

test('a panic during start is reported with its message, not as `unreachable`', async () => {
  glue.failStart = new WebAssembly.RuntimeError('unreachable');
  glue.panic = 'panicked at crates/wasm/src/worker.rs:9:5:\nstore was poisoned';
  send({ type: 'INIT', config, deltas: true });
  await settle();
  assert.deepEqual(posted.at(-1), {
    type: 'SYNC_FATAL',
    error: {
      name: 'SyncFatalError',
      message: 'the sync worker panicked: panicked at crates/wasm/src/worker.rs:9:5:\nstore was poisoned',
      reason: 'panic',
      panic: 'panicked at crates/wasm/src/worker.rs:9:5:\nstore was poisoned',
    },
  });
});

test('a panic in a task (an unhandled rejection or an uncaught error) is reported once; other errors are left alone', () => {
  posted.length = 0;
  let prevented = 0;
  const event = { preventDefault: () => prevented++ };
  listeners.unhandledrejection.forEach((l) => l(event));
  assert.deepEqual(posted, [], 'no panic recorded: the event is not ours');
  assert.equal(prevented, 0);
  glue.panic = 'panicked at src/sync.rs:1:1:\nboom';
  listeners.unhandledrejection.forEach((l) => l(event));
  listeners.error.forEach((l) => l(event));
  assert.equal(posted.length, 1, 'the message is taken once');
  assert.equal(posted[0].type, 'SYNC_FATAL');
  assert.equal(posted[0].error.reason, 'panic');
  assert.match(posted[0].error.message, /boom/);
  assert.equal(prevented, 1);
});
