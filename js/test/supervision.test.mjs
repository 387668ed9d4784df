import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { createSyncWorkerOn } from '../dist/sync-worker.js';
import { ID1, ID2, delta, options, settle, stubRuntime } from './stubs.mjs';

const position = (entityId, x) => delta([{ entityId, tag: 'ns-Position', members: { x } }]);
const tick = { type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'streaming' }, models: [] } };

function recorder() {
  const records = [];
  return { records, logger: { log: (record) => records.push(record) } };
}

/** A client whose first worker restored ID1 (x 1) and then streamed ID2 (x 2). */
async function streaming(extra = {}) {
  const stubs = stubRuntime();
  const { records, logger } = recorder();
  const client = createClient({ ...options, logger, ...extra }, stubs.runtime);
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: position(ID1, 1) });
  port.ack(1);
  await client.ready;
  port.send(tick);
  port.send({ type: 'DELTA', buffer: position(ID2, 2) });
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  return { client, port, reported, updates, records, ...stubs };
}

const xs = (client) => client.query('ns-Position').items.map((e) => e.models.ns.Position.x);

test('a worker that fails after it ran is restarted on the same database; the view is rebuilt from its restore and updates flow again', async () => {
  const { client, port, ports, views, timers, reported, updates, records } = await streaming();
  port.onError(new errors.SyncFatalError('the sync worker failed: boom'));
  assert.equal(port.terminated, true);
  assert.equal(reported.length, 1);
  assert.ok(reported[0] instanceof errors.WorkerRestartError);
  assert.deepEqual([reported[0].reason, reported[0].restarts], ['error', 1]);
  assert.match(reported[0].message, /boom/);
  assert.equal(reported[0].cause.message, 'the sync worker failed: boom');
  assert.deepEqual(records.filter((r) => r.event === 'worker.restart').map((r) => [r.level, r.data.reason]), [['warn', 'error']]);
  let status = client.getSyncStatus();
  assert.deepEqual([status.phase, status.restarts, status.state], ['restarting', 1, 'idle']);
  assert.deepEqual(xs(client), [1, 2], 'the view keeps what it showed while the worker restarts');

  timers.advance(499);
  assert.equal(ports.length, 1, 'restarted after the backoff');
  timers.advance(1);
  assert.equal(ports.length, 2);
  const next = ports[1];
  assert.deepEqual(next.posted[0], port.posted[0], 'the same INIT: same database');
  let readyAgain = false;
  client.ready.then(() => (readyAgain = true));
  await settle();
  assert.ok(readyAgain, 'ready stays resolved while the view shows the stored state');
  // The new worker restores the persisted state (both entities), then acknowledges.
  next.send({ type: 'DELTA', buffer: position(ID1, 1) });
  next.send({ type: 'DELTA', buffer: position(ID2, 2) });
  assert.deepEqual(xs(client), [1, 2], 'the restore fills a new view; the shown one stays until INIT_ACK');
  assert.equal(views.length, 2);
  next.ack(2);
  await client.ready;
  assert.equal(views[0].freed, true, 'the old view is released');
  assert.equal(views[1].restored, 2, 'restored, not applied as new changes');
  assert.deepEqual(xs(client), [1, 2], 'nothing duplicated, nothing older');
  assert.deepEqual(updates.at(-1), { ids: [], source: 'restore' });
  status = client.getSyncStatus();
  assert.deepEqual([status.phase, status.restarts], ['ready', 1]);
  next.send({ type: 'DELTA', buffer: position(ID1, 7) });
  assert.deepEqual(xs(client), [7, 2], 'live updates flow again');
  assert.deepEqual(updates.at(-1), { ids: [ID1], source: 'sync' });
  await client.shutdown();
});

test('a worker that ticked and then sends nothing for the watchdog period is restarted; one that ticks is not; one that never ticked is not watched', async () => {
  const quiet = stubRuntime();
  const idle = createClient(options, quiet.runtime);
  quiet.ports[0].ack();
  await idle.ready;
  quiet.timers.advance(60_000);
  assert.equal(quiet.ports.length, 1, 'a worker that never ticked (e.g. one that does not sync) is not taken as dead');
  await idle.shutdown();

  const { client, port, ports, timers, reported } = await streaming({ syncOptions: { tickIntervalMs: 1000 } });
  for (let i = 0; i < 10; i += 1) {
    timers.advance(1000);
    port.send(tick);
  }
  assert.equal(ports.length, 1, 'ticking keeps the worker');
  assert.equal(client.getSyncStatus().phase, 'ready');
  timers.advance(5000);
  assert.equal(reported.length, 0, 'the default watchdog is max(5000, 3 ticks)...');
  timers.advance(999);
  assert.equal(reported.length, 0, '...and it waits a second more for messages queued behind a busy page');
  timers.advance(1);
  assert.equal(reported.length, 1);
  assert.equal(reported[0].reason, 'watchdog');
  assert.equal(port.terminated, true);
  assert.equal(client.getSyncStatus().phase, 'restarting');
  await client.shutdown();
});

test('the watchdog does not count time the page itself was frozen or busy', async () => {
  const { client, ports, timers, reported } = await streaming({ supervision: { watchdogMs: 2000 } });
  // The page was frozen for a minute: its timer fires very late, before the worker's queued ticks arrive.
  timers.time += 60_000;
  timers.advance(0);
  assert.equal(reported.length, 0, 'a late watchdog gives the worker a full window');
  ports[0].send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'streaming' }, models: [] } });
  timers.advance(2000);
  assert.equal(reported.length, 0, 'silent for the watchdog period: it checks once more');
  ports[0].send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'streaming' }, models: [] } });
  timers.advance(500);
  assert.equal(reported.length, 0, 'a message read meanwhile (it was queued behind a busy page) keeps the worker');
  timers.advance(2000);
  assert.equal(reported[0].reason, 'watchdog');
  await client.shutdown();
});

test('restarts are bounded: after maxRestarts in a row the client fails with SyncFatalError workerCrashed', async () => {
  const { client, ports, timers, reported } = await streaming({ supervision: { maxRestarts: 2 } });
  ports[0].onError(new errors.SyncFatalError('crash 1'));
  timers.advance(500);
  ports[1].send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'bootstrapping' }, models: [] } });
  ports[1].onError(new errors.SyncFatalError('crash 2'));
  timers.advance(999);
  assert.equal(ports.length, 2, 'the second restart waits twice as long');
  timers.advance(1);
  assert.equal(ports.length, 3);
  ports[2].send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'bootstrapping' }, models: [] } });
  ports[2].onError(new errors.SyncFatalError('crash 3'));
  assert.equal(ports[2].terminated, true);
  assert.deepEqual(reported.map((e) => e.name), ['WorkerRestartError', 'WorkerRestartError', 'SyncFatalError']);
  assert.equal(reported[2].reason, 'workerCrashed');
  assert.equal(reported[2].attempts, 3);
  assert.match(reported[2].message, /crash 3/);
  const status = client.getSyncStatus();
  assert.deepEqual([status.phase, status.restarts], ['failed', 2]);
  assert.equal(client.getSyncStatus().error, reported[2]);
  await client.ready; // resolved at the first INIT_ACK: the view kept the stored state
  timers.advance(60_000);
  assert.equal(ports.length, 3, 'no more restarts');
  assert.deepEqual(xs(client), [1, 2], 'the view still shows the stored state');
  await client.shutdown();
});

test('a worker that ran a minute without dying starts a new row of restarts', async () => {
  const { client, ports, timers, reported } = await streaming({ supervision: { maxRestarts: 1, watchdogMs: 120_000 } });
  ports[0].onError(new errors.SyncFatalError('crash 1'));
  timers.advance(500);
  ports[1].ack();
  timers.advance(60_000);
  ports[1].onError(new errors.SyncFatalError('crash 2'));
  assert.deepEqual(reported.map((e) => [e.name, e.restarts]), [['WorkerRestartError', 1], ['WorkerRestartError', 2]]);
  timers.advance(500);
  assert.equal(ports.length, 3, 'the delay starts again at 500 ms');
  await client.shutdown();
});

test('an error before the worker said anything (its script failed to load) is fatal at once', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  stubs.ports[0].onError(new errors.SyncFatalError('the sync worker failed: 404'));
  await assert.rejects(client.ready, /404/);
  stubs.timers.advance(10_000);
  assert.equal(stubs.ports.length, 1);
  assert.equal(client.getSyncStatus().phase, 'failed');
});

test("a worker's panic (SYNC_FATAL reason panic) restarts it, with the panic's text on errors; other fatal errors do not", async () => {
  const { client, port, ports, timers, reported } = await streaming();
  const panic = 'panicked at crates/core/src/sync/engine.rs:10:5:\nindex out of bounds';
  port.send({ type: 'SYNC_FATAL', error: { name: 'SyncFatalError', message: `the sync worker panicked: ${panic}`, reason: 'panic', panic } });
  assert.equal(reported[0].name, 'WorkerRestartError');
  assert.equal(reported[0].panic, panic);
  assert.match(reported[0].message, /index out of bounds/);
  timers.advance(500);
  ports[1].ack();
  await client.ready;
  ports[1].send({ type: 'SYNC_FATAL', error: { name: 'SchemaMismatchError', message: 'manifest changed' } });
  assert.equal(client.getSyncStatus().phase, 'failed');
  timers.advance(60_000);
  assert.equal(ports.length, 2, 'a fatal error that is not a crash is not restarted, nor watched');
  await client.shutdown();
});

test('a view that traps is rebuilt from the worker: the panic text reaches errors, reads resume, pending writes survive', async () => {
  const { client, port, ports, views, wasm, timers, reported } = await streaming();
  const write = client.mutate('ns-Position', { x: 9 }, { entityId: ID2, timeoutMs: 10_000 });
  const seen = [];
  client.subscribe(null, ID1, (e) => seen.push(e?.models.ns.Position.x));
  timers.frame();
  views[0].trap();
  wasm.panic = 'panicked at crates/wasm/src/replica.rs:3:1:\nheld state lost';
  port.send({ type: 'DELTA', buffer: position(ID1, 5) });
  assert.equal(reported.length, 1, 'reported once');
  assert.ok(reported[0] instanceof errors.WorkerRestartError);
  assert.equal(reported[0].reason, 'viewPanic');
  assert.match(reported[0].message, /held state lost/);
  assert.equal(port.terminated, true, 'the worker is restarted to rebuild the view');
  assert.throws(() => client.query('ns-Position'), (e) => e instanceof errors.ValidationError && /await client\.ready/.test(e.message));
  const ready = client.ready;
  timers.advance(0);
  assert.equal(ports.length, 2, 'at once: the worker was fine');
  ports[1].send({ type: 'DELTA', buffer: position(ID1, 5) });
  ports[1].send({ type: 'DELTA', buffer: position(ID2, 2) });
  ports[1].ack(2);
  await ready;
  assert.deepEqual(client.query('ns-Position', { consistency: 'synced' }).items.map((e) => e.models.ns.Position.x), [5, 2]);
  assert.deepEqual(xs(client), [5, 9], 'the pending write is shown again on the rebuilt view');
  assert.equal(client.getOverlayFor(ID2)[0].deadlineMs, 1000 + 10_000, 'with the time it had left');
  timers.frame();
  assert.deepEqual(seen, [5], 'subscribers see the rebuilt view (and nothing while it was rebuilt)');
  ports[1].send({ type: 'DELTA', buffer: position(ID2, 9) });
  await write.confirmed;
  assert.equal(client.getSyncStatus().restarts, 1);
  await client.shutdown();
});

test('a worker that dies before its INIT_ACK: ready waits for the restarted one', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  await settle(); // the view exists: the restore goes into it
  stubs.ports[0].send({ type: 'DELTA', buffer: position(ID1, 1) });
  stubs.ports[0].onError(new errors.SyncFatalError('gone while restoring'));
  let settled = false;
  client.ready.then(() => (settled = true));
  stubs.timers.advance(500);
  await settle();
  assert.equal(settled, false);
  stubs.ports[1].send({ type: 'DELTA', buffer: position(ID1, 1) });
  stubs.ports[1].ack(1);
  const init = await client.ready;
  assert.equal(init.restored, 1);
  assert.deepEqual(xs(client), [1]);
  assert.equal(stubs.views.length, 2, 'the half-restored view was replaced');
  await client.shutdown();
});

test('a restart before the wasm loaded drops what the dead worker sent; the new worker sends it again', async () => {
  const stubs = stubRuntime({ holdWasm: true });
  const client = createClient(options, stubs.runtime);
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: position(ID1, 1) });
  port.ack(1);
  port.onError(new errors.SyncFatalError('gone'));
  stubs.timers.advance(500);
  stubs.ports[1].send({ type: 'DELTA', buffer: position(ID1, 1) });
  stubs.ports[1].ack(1);
  stubs.release();
  await client.ready;
  assert.equal(stubs.views.length, 1);
  assert.equal(stubs.views[0].restored, 1, 'restored once, from the new worker');
  assert.deepEqual(xs(client), [1]);
  await client.shutdown();
});

test('shutdown and reset cancel a pending restart', async () => {
  const { client, port, ports, timers } = await streaming();
  port.onError(new errors.SyncFatalError('gone'));
  await client.shutdown();
  timers.advance(10_000);
  assert.equal(ports.length, 1);
  assert.equal(client.getSyncStatus().phase, 'stopped');
});

test('createSyncWorker is supervised too', async () => {
  const stubs = stubRuntime();
  const handle = createSyncWorkerOn(options, stubs.runtime);
  stubs.ports[0].ack();
  stubs.ports[0].send(tick);
  await handle.ready;
  stubs.timers.advance(7000);
  assert.equal(handle.getSyncStatus().phase, 'restarting');
  stubs.timers.advance(500);
  assert.equal(stubs.ports.length, 2);
  stubs.ports[1].ack();
  await handle.ready;
  assert.deepEqual([handle.getSyncStatus().phase, handle.getSyncStatus().restarts], ['ready', 1]);
  await handle.shutdown();
  await settle();
});

test('supervision options are checked', () => {
  for (const supervision of [{ watchdogMs: 0 }, { watchdogMs: 1.5 }, { maxRestarts: -1 }, { restarts: 3 }, 'fast']) {
    assert.throws(
      () => createClient({ ...options, supervision }, stubRuntime().runtime),
      (e) => e instanceof errors.ValidationError && /supervision/.test(e.message),
      JSON.stringify(supervision),
    );
  }
  assert.throws(() => createSyncWorkerOn({ ...options, supervision: { watchdogMs: -5 } }, stubRuntime().runtime), errors.ValidationError);
});
