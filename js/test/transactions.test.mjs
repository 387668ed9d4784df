// Optimistic transactions on the real wasm view: writes on several models and entities shown,
// confirmed and rolled back as one; relative writes (`add`) re-applied over each newer synced
// state and confirmed by the step they cause; the one-write API unchanged beside them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { ID1, ID2, delta, options, stubRuntime } from './stubs.mjs';

/** A client with Position x = 0 and Moves left = 10 synced for ID1, and Position x = 0 for ID2. */
async function started() {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  const [port] = stubs.ports;
  port.ack();
  await client.ready;
  port.send({
    type: 'DELTA',
    buffer: delta([
      { entityId: ID1, tag: 'ns-Position', members: { x: 0 } },
      { entityId: ID1, tag: 'ns-Moves', members: { left: 10 } },
      { entityId: ID2, tag: 'ns-Position', members: { x: 0 } },
    ]),
  });
  return { client, port, ports: stubs.ports, timers: stubs.timers };
}

const shown = (client, id, consistency) => {
  const models = client.query('ns-Position', { consistency }).items.find((e) => e.entityId === id)?.models.ns;
  const moves = client.query('ns-Moves', { consistency }).items.find((e) => e.entityId === id)?.models.ns;
  return { x: models?.Position.x, left: moves?.Moves.left };
};

const move = (x) => [
  { entityId: ID1, model: 'ns-Position', set: { x } },
  { entityId: ID1, model: 'ns-Moves', add: { left: -1 } },
];

test('a two-model move shows at once as one transaction and is confirmed when both models land', async () => {
  const { client, port } = await started();
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  const sent = [];
  const mutation = client.mutate(move(3), { send: (ctx) => sent.push(ctx.transactionId) });
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 }, 'both writes show at once');
  assert.deepEqual(shown(client, ID1, 'synced'), { x: 0, left: 10 });
  assert.deepEqual(sent, [mutation.transactionId]);
  assert.deepEqual(updates, [{ ids: [ID1], source: 'overlay' }]);
  const pending = client.getOverlayFor(ID1);
  assert.deepEqual(
    pending.map((w) => [w.transactionId, w.model, w.payload, w.add]),
    [
      [mutation.transactionId, 'ns-Moves', {}, { left: -1n }],
      [mutation.transactionId, 'ns-Position', { x: 3 }, {}],
    ],
  );
  let settled = false;
  mutation.confirmed.then(() => (settled = true));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 3 } }]) });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(settled, false, 'one model landing does not confirm the transaction');
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 });
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 9 } }]) });
  await mutation.confirmed;
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 }, 'the spent move is not counted twice');
  assert.equal(client.getOverlayFor(ID1).length, 0);
});

test('a relative write follows other changes of the synced value and is confirmed by its own step', async () => {
  const { client, port } = await started();
  const spend = client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { left: -4n } }]);
  const again = client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { left: '-1' } }]);
  assert.equal(shown(client, ID1).left, 5, 'pending amounts stack');
  // Another player's gift: the transfer is shown over it, not rolled back.
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 15 } }]) });
  assert.equal(shown(client, ID1).left, 10);
  assert.equal(client.getOverlayFor(ID1).length, 2);
  // The spend lands (-4): it is confirmed, the other still shows.
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 11 } }]) });
  await spend.confirmed;
  assert.equal(shown(client, ID1).left, 10);
  assert.deepEqual(client.getOverlayFor(ID1).map((w) => w.transactionId), [again.transactionId]);
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 10 } }]) });
  await again.confirmed;
  assert.equal(shown(client, ID1).left, 10);
});

test('a transaction that is not confirmed in time rolls back all its writes together', async () => {
  const { client, port, timers } = await started();
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  const mutation = client.mutate(
    [
      { entityId: ID1, model: 'ns-Moves', add: { left: -2 } },
      { entityId: ID2, model: 'ns-Position', set: { x: 7 } },
    ],
    { timeoutMs: 3000, transactionId: '0xfeed' },
  );
  assert.equal(mutation.transactionId, '0xfeed');
  assert.deepEqual([shown(client, ID1).left, shown(client, ID2).x], [8, 7]);
  // One of its writes lands; the other never does.
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID2, tag: 'ns-Position', members: { x: 7 } }]) });
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  timers.advance(3000);
  await assert.rejects(mutation.confirmed, (e) => e instanceof errors.OverlayTimeoutError && e.transactionId === '0xfeed' && /left by -2/.test(e.message));
  assert.deepEqual([shown(client, ID1).left, shown(client, ID2).x], [10, 7], 'the moves are back; x is the synced 7');
  assert.deepEqual(updates, [{ ids: [ID1, ID2], source: 'overlay' }]);
  assert.equal(reported.length, 1);
});

test('a transaction rolled back by hand, or by a failed send, removes every write at once', async () => {
  const { client } = await started();
  const byHand = client.mutate(move(4));
  byHand.rollback();
  await assert.rejects(byHand.confirmed, (e) => e instanceof errors.OverlayError && e.reason === 'rolledBack');
  assert.deepEqual(shown(client, ID1), { x: 0, left: 10 });
  const failed = client.mutate(move(5), { send: () => Promise.reject(new Error('user rejected')) });
  assert.deepEqual(shown(client, ID1), { x: 5, left: 9 });
  await assert.rejects(failed.confirmed, (e) => e instanceof errors.OverlayError && e.reason === 'sendFailed');
  assert.deepEqual(shown(client, ID1), { x: 0, left: 10 });
  const acked = client.submitTransaction({ writes: move(6), transactionId: 'tx-ack' });
  assert.equal(acked.transactionId, 'tx-ack');
  client.ackOverlay('tx-ack');
  assert.deepEqual(shown(client, ID1), { x: 0, left: 10 }, 'an ack drops the whole transaction');
});

test('the one-write API works beside transactions; a transaction setting all it shows replaces it', async () => {
  const { client, timers } = await started();
  const single = client.mutate('ns-Position', { x: 1 }, { entityId: ID1 });
  assert.equal(shown(client, ID1).x, 1);
  const both = client.mutate(move(2));
  timers.advance(0);
  await assert.rejects(single.confirmed, (e) => e instanceof errors.OverlayError && e.reason === 'replaced');
  assert.deepEqual(shown(client, ID1), { x: 2, left: 9 });
  both.rollback();
  assert.deepEqual(shown(client, ID1), { x: 0, left: 10 });
});

test('invalid transactions are refused with typed errors and show nothing', async () => {
  const { client } = await started();
  const refused = [
    [() => client.mutate([]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves' }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { left: 1.5 } }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { left: 2 ** 60 } }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { left: 'lots' } }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', add: { gold: 1 } }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', set: { left: 1 }, add: { left: 1 } }]), errors.ValidationError],
    [() => client.mutate([{ entityId: ID1, model: 'ns-Moves', set: { left: 1 }, extra: 1 }]), errors.ValidationError],
    [() => client.mutate(move(1), { entityId: ID1 }), errors.ValidationError],
    [() => client.mutate([...move(1), { entityId: ID1, model: 'ns-Moves', add: { left: 1 } }]), errors.OverlayError],
  ];
  for (const [call, type] of refused) {
    assert.throws(call, type, String(call));
  }
  assert.equal(client.getOverlayFor(ID1).length, 0);
  assert.deepEqual(shown(client, ID1), { x: 0, left: 10 });
});

test('after a worker restart a pending transaction shows again without what was already confirmed', async () => {
  const { client, port, ports, timers } = await started();
  const mutation = client.mutate(move(3), { timeoutMs: 10_000 });
  // The spent move lands, the Position not yet; then the worker fails and the view is rebuilt.
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 9 } }]) });
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 });
  port.onError(new errors.SyncFatalError('the sync worker failed: boom'));
  timers.advance(500);
  const next = ports[1];
  next.send({
    type: 'DELTA',
    buffer: delta([
      { entityId: ID1, tag: 'ns-Position', members: { x: 0 } },
      { entityId: ID1, tag: 'ns-Moves', members: { left: 9 } },
      { entityId: ID2, tag: 'ns-Position', members: { x: 0 } },
    ]),
  });
  next.ack(3);
  await client.ready;
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 }, 'the confirmed move is not spent twice');
  assert.deepEqual(
    client.getOverlayFor(ID1).map((w) => [w.transactionId, w.model]),
    [[mutation.transactionId, 'ns-Position']],
  );
  next.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 3 } }]) });
  await mutation.confirmed;
  assert.deepEqual(shown(client, ID1), { x: 3, left: 9 });
  await client.shutdown();
});
