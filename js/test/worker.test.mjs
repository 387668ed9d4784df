import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, scope, send, settle, transfers } from './worker-scope.mjs';

const glue = await loadWorker();
const config = { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' };

test('a malformed message is answered with a SYNC_ERROR ValidationError', () => {
  send({ type: 'HELLO' });
  assert.equal(posted.at(-1).type, 'SYNC_ERROR');
  assert.equal(posted.at(-1).error.name, 'ValidationError');
});

test('INIT opens the SyncWorker, then has it lead once elected, and forwards its events; DELTA buffers are transferred, never the wasm memory', async () => {
  posted.length = 0;
  transfers.length = 0;
  // Another tab on the same database hears the leader (node has no Web Locks: the lease).
  const tab = new BroadcastChannel('dojo-reactive:db-http://x-0x1');
  const heard = [];
  tab.onmessage = ({ data }) => heard.push(data);
  send({ type: 'INIT', config, deltas: true });
  await settle();
  assert.deepEqual(glue.started, [config]);
  assert.deepEqual(glue.claims?.map((c) => c.lease), [true], 'the lone worker claims the writer record');
  assert.equal(glue.led, 1, 'lead follows open and the claim');
  assert.deepEqual(
    posted.filter((m) => m.type === 'ROLE').map((m) => m.role),
    [
      { role: 'follower', epoch: 0 },
      { role: 'leader', epoch: 1 },
    ],
  );
  glue.emit({ type: 'INIT_ACK', manifestHash: 'h', toriiVersion: 'v', dbName: 'd', restored: 0 });
  assert.deepEqual(posted.at(-1), { type: 'INIT_ACK', manifestHash: 'h', toriiVersion: 'v', dbName: 'd', restored: 0 });
  assert.deepEqual(transfers.at(-1), []);

  const relay = (n) => ({ target: 'entities', epoch: 1, n });
  glue.emit({ type: 'DELTA' }, new Uint8Array([0]));
  // No follower heard yet: this one is numbered but not relayed.
  glue.emit({ type: 'DELTA', relay: relay(1) }, new Uint8Array([5]));
  tab.postMessage({ type: 'TARGETS', targets: { models: undefined, eventMessages: false }, from: 'tab-2', protocol: 2 });
  await settle();
  const own = new Uint8Array([1, 2, 3]);
  glue.emit({ type: 'DELTA', relay: relay(2) }, own);
  assert.equal(posted.at(-1).buffer, own.buffer, 'a whole buffer of its own is sent as is');
  assert.deepEqual(transfers.at(-1), [own.buffer]);
  glue.emit({ type: 'DELTA', persisted: false, relay: relay(3) }, new Uint8Array([4]));
  assert.equal(posted.at(-1).persisted, false, 'a batch not stored yet says so');

  const inMemory = new Uint8Array(glue.memory.buffer, 8, 4);
  inMemory.set([9, 8, 7, 6]);
  glue.emit({ type: 'DELTA', relay: relay(4) }, inMemory);
  const copied = posted.at(-1).buffer;
  assert.notEqual(copied, glue.memory.buffer, 'a view into wasm memory is copied');
  assert.deepEqual([...new Uint8Array(copied)], [9, 8, 7, 6]);

  glue.emit({ type: 'SYNC_TICK', tick: { overall: {} } });
  assert.equal(posted.at(-1).type, 'SYNC_TICK');
  await settle();
  const relayed = heard.filter((m) => m.type === 'DELTA');
  assert.deepEqual(relayed.map((m) => [m.epoch, m.n, m.target, [...new Uint8Array(m.buffer)], m.persisted]), [
    [1, 2, 'entities', [1, 2, 3], true],
    [1, 3, 'entities', [4], false],
    [1, 4, 'entities', [9, 8, 7, 6], true],
  ], 'once a follower is heard, synced DELTAs are relayed with their number in the epoch, saying whether they are stored; the restored state never is');
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.ok(
    heard.some((m) => m.type === 'HEARTBEAT' && m.sent === 4),
    'the heartbeat counts every DELTA numbered, relayed or not (a follower sees what it missed)',
  );
  assert.ok(heard.some((m) => m.type === 'HEARTBEAT' && m.epoch === 1 && m.protocol === 2));
  assert.ok(heard.some((m) => m.type === 'STATUS' && m.event.type === 'SYNC_TICK'));
  tab.close();

  send({ type: 'INIT', config, deltas: true });
  assert.equal(posted.at(-1).type, 'SYNC_ERROR', 'a second INIT is refused');
  assert.equal(glue.started.length, 1);
});

test('INSPECT_STORE is answered by a STORE_REPORT with the same id: the report, or the error reading it', async () => {
  send({ type: 'INSPECT_STORE', id: 7 });
  await settle();
  assert.deepEqual(posted.at(-1), {
    type: 'STORE_REPORT',
    id: 7,
    report: { targets: [{ target: 'entities', states: 0, ledger: [], syncState: null, skipped: [], disagreements: [] }] },
  });
  glue.failInspect = { name: 'StorageError', message: 'the database is closed' };
  send({ type: 'INSPECT_STORE', id: 8 });
  await settle();
  delete glue.failInspect;
  assert.deepEqual(posted.at(-1), {
    type: 'STORE_REPORT',
    id: 8,
    error: { name: 'StorageError', message: 'the database is closed' },
  });
});

test('FORCE_REPLAY reaches the SyncWorker; SHUTDOWN stops it, confirms and closes the worker', async () => {
  send({ type: 'FORCE_REPLAY' });
  await settle();
  assert.equal(glue.replays, 1);
  send({ type: 'SHUTDOWN' });
  await settle();
  assert.equal(glue.stopped, 1);
  assert.deepEqual(posted.at(-1), { type: 'SHUTDOWN_ACK' });
  assert.equal(scope.closed, 1);
  const count = posted.length;
  glue.emit({ type: 'DELTA' }, new Uint8Array([1]));
  assert.equal(posted.length, count, 'nothing is posted after SHUTDOWN');
});
