import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as errors from '../dist/errors.js';
import { createSyncWorkerOn } from '../dist/sync-worker.js';
import { delta, ID1, options, stubRuntime } from './stubs.mjs';

test('a sync worker asks for no DELTAs, reports status and errors, and shuts down', async () => {
  const stubs = stubRuntime();
  const worker = createSyncWorkerOn(options, stubs.runtime);
  const [port] = stubs.ports;
  assert.equal(port.posted[0].type, 'INIT');
  assert.equal(port.posted[0].deltas, false);
  const reported = [];
  worker.errors.subscribe((e) => reported.push(e));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-P', members: { x: 1 } }]) });
  port.ack(3);
  assert.equal((await worker.ready).restored, 3);
  port.send({ type: 'SYNC_ERROR', error: { name: 'StorageError', message: 'quota', dbName: 'db-1' } });
  assert.ok(reported[0] instanceof errors.StorageError);
  assert.equal(worker.getSyncStatus().phase, 'ready');
  worker.forceReplay();
  assert.equal(port.posted.at(-1).type, 'FORCE_REPLAY');
  await worker.shutdown();
  assert.equal(port.terminated, true);
  assert.equal(worker.errors.ended, true);
  assert.throws(() => worker.forceReplay(), errors.ValidationError);
  assert.equal(stubs.views.length, 0, 'no view is created');
});

test('createSyncWorker refuses overlay options and invalid input', () => {
  const stubs = stubRuntime();
  assert.throws(() => createSyncWorkerOn({ ...options, overlayOptions: {} }, stubs.runtime), errors.ValidationError);
  assert.throws(() => createSyncWorkerOn(null, stubs.runtime), errors.ValidationError);
});
