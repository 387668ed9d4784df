import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import { ID1, ID2, delta, options, settle, stubRuntime } from './stubs.mjs';

function recorder() {
  const records = [];
  const lines = [];
  const logger = {
    log: (record) => records.push(record),
  };
  return { records, lines, logger };
}

function transition(from, to, kind, target = 'entities') {
  return { type: 'TRANSITION', transition: { target, from, to, reason: { kind }, at: 5 } };
}

function tick(target, state, models = []) {
  return {
    type: 'SYNC_TICK',
    tick: { clock: 7, target, overall: { state, lastSyncedAt: null, lagMs: 0, pendingOverlayCount: 0 }, models, ledger: { applied: 3 } },
  };
}

test('the logger receives structured records for worker start, ready, transitions and errors', async () => {
  const stubs = stubRuntime();
  const { records, lines, logger } = recorder();
  const client = createClient({ ...options, logger }, stubs.runtime);
  const [port] = stubs.ports;
  port.ack(4);
  await client.ready;
  port.send(transition('bootstrapping', 'streaming', 'snapshotComplete'));
  port.send(tick('entities', 'streaming'));
  port.send({ type: 'SYNC_ERROR', error: { name: 'SchemaMismatchError', message: 'member x is missing', entityId: ID1, model: 'ns-Position' } });
  port.send({ type: 'SYNC_FATAL', error: { name: 'SyncFatalError', message: 'budget exhausted', reason: 'budget' } });
  await client.shutdown();
  assert.deepEqual(
    records.map((r) => [r.level, r.event]),
    [
      ['info', 'worker.start'],
      ['info', 'sync.ready'],
      ['info', 'sync.transition'],
      ['warn', 'sync.error'],
      ['error', 'sync.fatal'],
      ['info', 'worker.shutdown'],
    ],
    'the debug tick is below the default level',
  );
  for (const record of records) {
    assert.equal(typeof record.message, 'string');
    assert.equal(record.at, stubs.timers.now());
  }
  const [, ready, moved, error, fatal] = records;
  assert.equal(ready.data.restored, 4);
  assert.equal(moved.target, 'entities');
  assert.equal(moved.state, 'streaming');
  assert.deepEqual([moved.data.from, moved.data.to, moved.data.reason.kind], ['bootstrapping', 'streaming', 'snapshotComplete']);
  assert.equal(error.entityId, ID1);
  assert.equal(error.model, 'ns-Position');
  assert.equal(error.data.name, 'SchemaMismatchError');
  assert.equal(fatal.entityId, undefined);
  assert.equal(fatal.data.message, 'budget exhausted');
  assert.deepEqual(lines, []);
});

/** A client with `logger` that starts (2 states restored), hears one SYNC_ERROR, and shuts down. */
async function startFailOnceAndStop(stubs, logger) {
  const client = createClient({ ...options, logger }, stubs.runtime);
  stubs.ports[0].ack(2);
  await client.ready;
  stubs.ports[0].send({ type: 'SYNC_ERROR', error: { name: 'TransportError', message: 'down' } });
  await client.shutdown();
}

test('a level method, when the logger has one, takes that level instead of `log` (console works as is)', async () => {
  const stubs = stubRuntime();
  const records = [];
  const lines = [];
  await startFailOnceAndStop(stubs, {
    log: (record) => records.push(record.event),
    warn: (message, record) => lines.push(['warn', message, record.event]),
  });
  assert.deepEqual(lines, [['warn', 'sync error: down', 'sync.error']]);
  assert.deepEqual(records, ['worker.start', 'sync.ready', 'worker.shutdown']);
});

test('without `log`, each record goes to the method of its level with its message', async () => {
  const stubs = stubRuntime();
  const lines = [];
  await startFailOnceAndStop(stubs, {
    info: (message, record) => lines.push(['info', message, record.event]),
    warn: (message, record) => lines.push(['warn', message, record.event]),
  });
  assert.deepEqual(lines, [
    ['info', 'sync worker started', 'worker.start'],
    ['info', 'sync ready: 2 model states restored from db-1', 'sync.ready'],
    ['warn', 'sync error: down', 'sync.error'],
    ['info', 'sync worker stopped', 'worker.shutdown'],
  ]);
});

test('logLevel filters records: debug lets ticks through, error keeps only fatal ones', async () => {
  const verbose = recorder();
  const stubs = stubRuntime();
  const client = createClient({ ...options, logger: verbose.logger, logLevel: 'debug' }, stubs.runtime);
  stubs.ports[0].send(tick('entities', 'streaming'));
  const ticked = verbose.records.find((r) => r.event === 'sync.tick');
  assert.equal(ticked?.level, 'debug');
  assert.equal(ticked.state, 'streaming');
  await client.shutdown();

  const quiet = recorder();
  const other = stubRuntime();
  const second = createClient({ ...options, logger: quiet.logger, logLevel: 'error' }, other.runtime);
  other.ports[0].ack();
  other.ports[0].send(transition('idle', 'bootstrapping', 'start'));
  other.ports[0].send({ type: 'SYNC_ERROR', error: { name: 'TransportError', message: 'down' } });
  other.ports[0].send({ type: 'SYNC_FATAL', error: { name: 'SyncFatalError', message: 'gave up' } });
  assert.deepEqual(quiet.records.map((r) => r.event), ['sync.fatal']);
  await second.shutdown();
  assert.throws(() => createClient({ ...options, logLevel: 'trace' }, stubRuntime().runtime), /logLevel/);
});

test('overlay confirmations, rollbacks and timeouts are logged with transaction, entity and model', async () => {
  const stubs = stubRuntime();
  const { records, logger } = recorder();
  const client = createClient({ ...options, logger }, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  const overlay = () => records.filter((r) => r.event.startsWith('overlay.'));
  client.submitOverlay({ entityId: ID1, model: 'ns-Position', payload: { x: 9 }, transactionId: 'tx-confirm' });
  stubs.ports[0].send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 9 } }]) });
  client.submitOverlay({ entityId: ID2, model: 'ns-Position', payload: { x: 1 }, transactionId: 'tx-back' });
  client.rollbackOverlay('tx-back');
  client.submitOverlay({ entityId: ID2, model: 'ns-Position', payload: { x: 2 }, transactionId: 'tx-late', timeoutMs: 10 });
  stubs.timers.advance(20);
  assert.deepEqual(
    overlay().map((r) => [r.level, r.event, r.data.transactionId, r.entityId, r.model]),
    [
      ['info', 'overlay.confirmed', 'tx-confirm', ID1, 'ns-Position'],
      ['warn', 'overlay.rolledBack', 'tx-back', ID2, 'ns-Position'],
      ['warn', 'overlay.timedOut', 'tx-late', ID2, 'ns-Position'],
    ],
  );
  await client.shutdown();
});

test('a throwing logger does not stop the client', async () => {
  const stubs = stubRuntime();
  const client = createClient({ ...options, logger: { log: () => { throw new Error('broken sink'); } } }, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  assert.equal(client.getSyncStatus().phase, 'ready');
  await client.shutdown();
});

test('debug: true installs the inspector: entities, transitions, ticks, errors, overlay, forceReplay; shutdown removes it', async () => {
  delete globalThis.__REACTIVE_DEBUG__;
  const stubs = stubRuntime();
  const client = createClient({ ...options, debug: true }, stubs.runtime);
  const [port] = stubs.ports;
  port.ack();
  await client.ready;
  const registry = globalThis.__REACTIVE_DEBUG__;
  assert.equal(registry.clients.length, 1);
  const inspector = registry.clients[0];
  assert.equal(inspector.client, client);
  port.send({
    type: 'DELTA',
    buffer: delta([
      { entityId: ID1, tag: 'ns-Position', members: { x: 1 } },
      { entityId: ID2, tag: 'ns-Moves', members: { left: 3 } },
      { entityId: ID1, tag: 'ns-Moves', members: { left: 2 } },
    ]),
  });
  port.send(tick('entities', 'streaming', [{ model: 'ns-Position' }, { model: 'ns-Moves' }]));
  assert.deepEqual(inspector.entities('ns-Moves').map((e) => e.entityId), [ID1, ID2]);
  assert.deepEqual(inspector.entities().map((e) => e.entityId), [ID1, ID2], 'every ticked model, each entity once');
  assert.deepEqual(inspector.entities(undefined, 1).map((e) => e.entityId), [ID1]);
  assert.deepEqual(inspector.entities()[0].entity.models.ns, { Position: { x: 1 }, Moves: { left: 2 } });
  assert.deepEqual(inspector.entity(ID2), { entityId: ID2, models: { ns: { Moves: { left: 3 } } } });
  assert.equal(inspector.ticks().entities.ledger.applied, 3);

  for (let i = 0; i < 105; i += 1) port.send(transition(i % 2 ? 'lagging' : 'streaming', i % 2 ? 'streaming' : 'lagging', `k${i}`));
  const transitions = inspector.transitions();
  assert.equal(transitions.length, 100, 'only the last 100 are kept');
  assert.equal(transitions[0].transition.reason.kind, 'k5');
  assert.equal(transitions.at(-1).receivedAt, stubs.timers.now());

  port.send({ type: 'SYNC_ERROR', error: { name: 'TransportError', message: 'unavailable' } });
  assert.deepEqual(inspector.errors().map((e) => [e.error.name, e.error.message]), [['TransportError', 'unavailable']]);

  client.submitOverlay({ entityId: ID1, model: 'ns-Position', payload: { x: 5 }, transactionId: 'tx-1' });
  assert.deepEqual(inspector.overlay(ID1).map((e) => e.transactionId), ['tx-1']);

  inspector.forceReplay();
  assert.deepEqual(port.posted.at(-1), { type: 'FORCE_REPLAY' });

  const report = { targets: [{ target: 'entities', states: 1, ledger: [], syncState: null, skipped: [], disagreements: [] }] };
  const first = inspector.ledger();
  const second = inspector.ledger();
  const [askFirst, askSecond] = port.posted.slice(-2);
  assert.equal(askFirst.type, 'INSPECT_STORE');
  assert.notEqual(askFirst.id, askSecond.id);
  port.send({ type: 'STORE_REPORT', id: askSecond.id, error: { name: 'StorageError', message: 'closed' } });
  port.send({ type: 'STORE_REPORT', id: askFirst.id, report });
  assert.deepEqual(await first, report, 'each answer settles its own request');
  await assert.rejects(second, (e) => e.name === 'StorageError' && e.message === 'closed');
  const unanswered = inspector.ledger();

  await client.shutdown();
  await assert.rejects(unanswered, (e) => e.name === 'ValidationError', 'shutdown rejects what the worker did not answer');
  await assert.rejects(inspector.ledger(), (e) => e.name === 'ValidationError');
  assert.equal(registry.clients.length, 0, 'removed at shutdown');
  delete globalThis.__REACTIVE_DEBUG__;
});

test('only __REACTIVE_DEBUG__ === true turns a read-only inspector on; a DOM element of that id or debug: false does not', async () => {
  delete globalThis.__REACTIVE_DEBUG__;
  const plain = createClient(options, stubRuntime().runtime);
  assert.equal(globalThis.__REACTIVE_DEBUG__, undefined);
  await plain.shutdown();

  const element = { id: '__REACTIVE_DEBUG__', tagName: 'DIV' };
  globalThis.__REACTIVE_DEBUG__ = element;
  const beside = createClient(options, stubRuntime().runtime);
  assert.equal(globalThis.__REACTIVE_DEBUG__, element, 'an object (e.g. a named element) is not an opt-in');
  await beside.shutdown();

  globalThis.__REACTIVE_DEBUG__ = true;
  const off = createClient({ ...options, debug: false }, stubRuntime().runtime);
  assert.equal(globalThis.__REACTIVE_DEBUG__, true, 'debug: false wins over the global');
  const stubs = stubRuntime();
  const first = createClient(options, stubs.runtime);
  const second = createClient(options, stubRuntime().runtime);
  const registry = globalThis.__REACTIVE_DEBUG__;
  assert.equal(registry.clients.length, 2);
  const [inspector] = registry.clients;
  assert.equal(inspector.client, undefined, 'the read-only inspector does not hand out the client (mutate, reset)');
  assert.equal(inspector.forceReplay, undefined);
  assert.deepEqual(Object.keys(inspector).sort(), ['entities', 'entity', 'errors', 'ledger', 'overlay', 'ticks', 'transitions']);
  stubs.ports[0].ack();
  await first.ready;
  stubs.ports[0].send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  assert.deepEqual(inspector.entity(ID1), { entityId: ID1, models: { ns: { Position: { x: 1 } } } }, 'it reads');
  await first.shutdown();
  assert.equal(registry.clients.length, 1);
  await second.shutdown();
  assert.equal(globalThis.__REACTIVE_DEBUG__, true, 'the last client to leave restores the app\'s opt-in');
  await off.shutdown();

  delete globalThis.__REACTIVE_DEBUG__;
  const full = createClient({ ...options, debug: true }, stubRuntime().runtime);
  assert.equal(globalThis.__REACTIVE_DEBUG__.clients[0].client, full);
  await full.shutdown();
  assert.equal('__REACTIVE_DEBUG__' in globalThis, false, 'shutdown takes the registry it installed away');
  await settle();
});

test('SYNC_TICKs carry the main thread\'s pending optimistic writes, in total and per model', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  const [port] = stubs.ports;
  port.ack();
  await client.ready;
  port.send(tick('entities', 'streaming', [{ model: 'ns-Position' }, { model: 'ns-Moves' }]));
  assert.equal(client.getSyncStatus().ticks.entities.overall.pendingOverlayCount, 0);
  client.mutate('ns-Position', { x: 5 }, { entityId: ID1 });
  client.mutate('ns-Position', { x: 6 }, { entityId: ID2 });
  const moves = client.mutate('ns-Moves', { left: 1 }, { entityId: ID1 });
  port.send(tick('entities', 'streaming', [{ model: 'ns-Position' }, { model: 'ns-Moves' }]));
  let { overall, models } = client.getSyncStatus().ticks.entities;
  assert.equal(overall.pendingOverlayCount, 3);
  assert.deepEqual(models.map((m) => [m.model, m.overlayPending]), [['ns-Position', 2], ['ns-Moves', 1]]);
  moves.rollback();
  await moves.confirmed.catch(() => {});
  port.send(tick('entities', 'streaming', [{ model: 'ns-Position' }, { model: 'ns-Moves' }]));
  ({ overall, models } = client.getSyncStatus().ticks.entities);
  assert.equal(overall.pendingOverlayCount, 2);
  assert.deepEqual(models.map((m) => [m.model, m.overlayPending]), [['ns-Position', 2], ['ns-Moves', 0]]);
  await client.shutdown();
});

test('an overlay timeout is logged once (overlay.timedOut) and reported once on errors', async () => {
  const stubs = stubRuntime();
  const { records, logger } = recorder();
  const client = createClient({ ...options, logger }, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  const mutation = client.mutate('ns-Moves', { left: 0 }, { entityId: ID1, timeoutMs: 100 });
  stubs.timers.advance(100);
  await mutation.confirmed.catch(() => {});
  assert.deepEqual(
    records.filter((r) => r.event.startsWith('overlay.') || r.event === 'sync.error').map((r) => r.event),
    ['overlay.timedOut'],
  );
  assert.deepEqual(reported.map((e) => e.name), ['OverlayTimeoutError']);
  await client.shutdown();
});

