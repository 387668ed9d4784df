import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../dist/errors.js';
import { parseMainMessage, parseWorkerMessage } from '../dist/messages.js';

const config = { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' };

test('the worker accepts INIT, SHUTDOWN, FORCE_REPLAY and INSPECT_STORE', () => {
  assert.deepEqual(parseMainMessage({ type: 'INIT', config, deltas: true }), { type: 'INIT', config, deltas: true });
  assert.deepEqual(parseMainMessage({ type: 'SHUTDOWN' }), { type: 'SHUTDOWN' });
  assert.deepEqual(parseMainMessage({ type: 'FORCE_REPLAY' }), { type: 'FORCE_REPLAY' });
  assert.deepEqual(parseMainMessage({ type: 'INSPECT_STORE', id: 4 }), { type: 'INSPECT_STORE', id: 4 });
});

test('STORE_REPORT carries a report or an error, and needs its id', () => {
  const report = { targets: [] };
  assert.deepEqual(parseWorkerMessage({ type: 'STORE_REPORT', id: 1, report }), { type: 'STORE_REPORT', id: 1, report });
  const error = { name: 'StorageError', message: 'closed' };
  assert.deepEqual(parseWorkerMessage({ type: 'STORE_REPORT', id: 2, error }), { type: 'STORE_REPORT', id: 2, error });
  assert.equal(parseWorkerMessage({ type: 'STORE_REPORT', report }).argument, 'id');
  assert.equal(parseWorkerMessage({ type: 'STORE_REPORT', id: 3, report: {} }).argument, 'report');
  assert.equal(parseMainMessage({ type: 'INSPECT_STORE' }).argument, 'id');
});

test('the worker refuses malformed messages with a ValidationError naming the field', () => {
  const cases = [
    [null, 'type'],
    ['INIT', 'type'],
    [{ type: 'NOPE' }, 'type'],
    [{ type: 'INIT', deltas: true }, 'config'],
    [{ type: 'INIT', config: { ...config, toriiUrl: 5 }, deltas: true }, 'config.toriiUrl'],
    [{ type: 'INIT', config }, 'deltas'],
  ];
  for (const [data, argument] of cases) {
    const result = parseMainMessage(data);
    assert.ok(result instanceof ValidationError, JSON.stringify(data));
    assert.equal(result.argument, argument);
  }
});

test('the main thread accepts every worker message', () => {
  const buffer = new ArrayBuffer(4);
  const ack = { type: 'INIT_ACK', manifestHash: '0x1', toriiVersion: '1.8', dbName: 'db', restored: 3 };
  assert.deepEqual(parseWorkerMessage(ack), ack);
  const timings = { startedAt: 1.7e12, openMs: 9, restoreMs: 310 };
  assert.deepEqual(parseWorkerMessage({ ...ack, timings }), { ...ack, timings });
  assert.deepEqual(parseWorkerMessage({ ...ack, timings: { openMs: 'x' } }), ack, 'malformed timings are left out');
  const firstVisit = { ...ack, toriiVersion: null };
  assert.deepEqual(parseWorkerMessage(firstVisit), firstVisit, 'no recorded Torii version yet');
  assert.ok(parseWorkerMessage({ ...ack, toriiVersion: 3 }) instanceof ValidationError);
  assert.equal(parseWorkerMessage({ type: 'DELTA', buffer }).buffer, buffer);
  assert.equal(parseWorkerMessage({ type: 'DELTA', buffer }).persisted, true, 'stored unless it says otherwise');
  assert.equal(parseWorkerMessage({ type: 'DELTA', buffer, persisted: false }).persisted, false);
  assert.deepEqual(parseWorkerMessage({ ...ack, persistence: 'memory' }), { ...ack, persistence: 'memory' });
  assert.deepEqual(parseWorkerMessage({ ...ack, persistence: 'disk' }), ack, 'an unknown persistence is left out');
  const tick = { overall: { state: 'streaming' }, target: 'entities' };
  assert.equal(parseWorkerMessage({ type: 'SYNC_TICK', tick }).tick, tick);
  const transition = { from: 'idle', to: 'bootstrapping', reason: { kind: 'start' } };
  assert.equal(parseWorkerMessage({ type: 'TRANSITION', transition }).transition, transition);
  const error = { name: 'TransportError', message: 'down' };
  assert.deepEqual(parseWorkerMessage({ type: 'SYNC_ERROR', error }), { type: 'SYNC_ERROR', error });
  assert.deepEqual(parseWorkerMessage({ type: 'SYNC_FATAL', error }), { type: 'SYNC_FATAL', error });
  assert.deepEqual(parseWorkerMessage({ type: 'SHUTDOWN_ACK' }), { type: 'SHUTDOWN_ACK' });
});

test('the main thread refuses malformed worker messages', () => {
  const cases = [
    { type: 'INIT_ACK', manifestHash: '0x1' },
    { type: 'RESTORED', target: 'coins', targets: [] },
    { type: 'RESTORED', target: 'entities', targets: [{ id: 'me' }] },
    { type: 'RESTORED', target: 'entities' },
    { type: 'DELTA', buffer: new Uint8Array(2) },
    { type: 'DELTA' },
    { type: 'SYNC_TICK', tick: 3 },
    { type: 'TRANSITION', transition: {} },
    { type: 'SYNC_ERROR', error: 'text' },
    { type: 'SYNC_FATAL', error: { name: 'X' } },
    { type: 'SHUTDOWN_ACK', error: 5 },
    { type: 'WHAT' },
    42,
  ];
  for (const data of cases) {
    assert.ok(parseWorkerMessage(data) instanceof ValidationError, String(data?.type ?? data));
  }
});
