import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { ID1, ID2, delta, options, settle, stubRuntime } from './stubs.mjs';

async function started(extra = {}, stubs = stubRuntime()) {
  const client = createClient({ ...options, ...extra }, stubs.runtime);
  const port = stubs.ports[0];
  port.ack();
  await client.ready;
  return { client, port, view: stubs.views[0], ...stubs };
}

test('INIT carries the checked configuration; ready resolves on INIT_ACK with what it reported', async () => {
  const stubs = stubRuntime();
  const client = createClient({ ...options, models: ['ns-Position', { tag: 'ns-Moves', versionMember: 'turn' }], syncOptions: { pageSize: 500 }, overlayOptions: { timeoutMs: 2000 } }, stubs.runtime);
  const [port] = stubs.ports;
  assert.equal(port.posted.length, 1);
  const init = port.posted[0];
  assert.equal(init.type, 'INIT');
  assert.equal(init.deltas, true);
  assert.deepEqual(init.config, {
    toriiUrl: options.toriiUrl,
    worldAddress: options.worldAddress,
    manifest: JSON.stringify(options.manifest),
    models: ['ns-Position', { tag: 'ns-Moves', versionMember: 'turn' }],
    syncOptions: { pageSize: 500 },
  });
  assert.equal(structuredClone(init).config.manifest, init.config.manifest, 'INIT is cloneable');
  assert.equal(client.getSyncStatus().phase, 'starting');
  port.ack(12);
  const info = await client.ready;
  assert.deepEqual(info, { manifestHash: '0xabc', toriiVersion: '1.8.2', dbName: 'db-1', restored: 12 });
  assert.equal(client.getSyncStatus().phase, 'ready');
  assert.equal(stubs.views[0].options.overlayTimeoutMs, 2000);
});

test('DELTAs that arrive before the main-thread wasm is loaded are applied once it is, in order', async () => {
  const stubs = stubRuntime({ holdWasm: true });
  const client = createClient(options, stubs.runtime);
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 2 } }]) });
  port.ack(1);
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID2, tag: 'ns-Position', members: { x: 3 } }]) });
  assert.throws(
    () => client.query('ns-Position'),
    (e) => e instanceof errors.ValidationError && /await client\.ready first/.test(e.message),
    'a query before the view exists is refused, not answered with []',
  );
  stubs.release();
  await client.ready;
  assert.equal(stubs.views[0].restored, 2, 'the DELTAs before INIT_ACK are restored');
  assert.deepEqual(client.query('ns-Position').items, [
    { entityId: ID1, models: { ns: { Position: { x: 2 } } } },
    { entityId: ID2, models: { ns: { Position: { x: 3 } } } },
  ]);
  assert.deepEqual(updates, [
    { ids: [], source: 'restore' },
    { ids: [ID2], source: 'sync' },
  ]);
});

test('the persisted state (DELTAs before INIT_ACK) is restored without ids and announced once at INIT_ACK', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  await settle();
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  const seen = [];
  client.subscribe('ns-Position', ID1, (entity) => seen.push(entity));
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID2, tag: 'ns-Position', members: { x: 2 } }]) });
  assert.deepEqual(updates, [], 'nothing is announced while restoring');
  port.ack(2);
  assert.deepEqual(updates, [{ ids: [], source: 'restore' }]);
  await client.ready;
  stubs.timers.frame();
  assert.deepEqual(seen, [{ entityId: ID1, models: { ns: { Position: { x: 1 } } } }], 'subscriptions re-read at INIT_ACK');
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 5 } }]) });
  assert.deepEqual(updates.at(-1), { ids: [ID1], source: 'sync' }, 'later DELTAs are applied with their ids');
  assert.equal(stubs.views[0].restored, 2);
});

test('a cold start (nothing restored) announces no restore', async () => {
  const { client, port } = await started();
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  assert.deepEqual(updates, [{ ids: [ID1], source: 'sync' }]);
});

test('entityUpdates reports the ids of each DELTA', async () => {
  const { client, port } = await started();
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }, { entityId: ID2, tag: 'ns-Position', members: { x: 5 } }]) });
  assert.deepEqual(updates, [{ ids: [ID1, ID2], source: 'sync' }]);
});

test('subscribers are called once per frame with the latest result, and only when it changed', async () => {
  const { client, port, timers } = await started();
  const byId = [];
  const byFilter = [];
  client.subscribe('ns-Position', ID1, (entity) => byId.push(entity));
  client.subscribe('ns-Position', { where: [{ member: 'x', op: 'eq', value: 3 }] }, (items) => byFilter.push(items));
  for (const x of [1, 2, 3]) {
    port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x } }]) });
  }
  assert.equal(byId.length, 0, 'nothing before the frame');
  timers.frame();
  assert.deepEqual(byId, [{ entityId: ID1, models: { ns: { Position: { x: 3 } } } }]);
  assert.deepEqual(byFilter.map((items) => items.map((e) => e.entityId)), [[ID1]]);
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 3 } }]) });
  timers.frame();
  assert.equal(byId.length, 1, 'an identical result is not delivered again');
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID2, tag: 'ns-Position', members: { x: 3 } }]) });
  assert.equal(timers.frames.length, 1, 'only the filter subscription is scheduled for another entity');
  timers.frame();
  assert.equal(byId.length, 1);
  assert.deepEqual(byFilter.at(-1).map((e) => e.entityId), [ID1, ID2]);
});

test('throttleMs spaces listener calls; unsubscribe stops them', async () => {
  const { client, port, timers } = await started();
  const seen = [];
  const off = client.subscribe(null, ID1, (e) => seen.push(e?.models.ns.Position.x), { throttleMs: 100 });
  const push = (x) => port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x } }]) });
  push(1);
  timers.advance(0);
  push(2);
  push(3);
  timers.advance(50);
  assert.deepEqual(seen, [1]);
  timers.advance(50);
  assert.deepEqual(seen, [1, 3]);
  off();
  push(4);
  timers.advance(500);
  assert.deepEqual(seen, [1, 3]);
});

test('function selectors derive any value from the replica', async () => {
  const { client, port, timers } = await started();
  const counts = [];
  client.subscribe('ns-Position', (reader, model) => reader.query(model, {}).items.length, (n) => counts.push(n));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  timers.frame();
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID2, tag: 'ns-Position', members: { x: 1 } }]) });
  timers.frame();
  assert.deepEqual(counts, [1, 2]);
});

test('query answers overlay-first by default, synced on request, with limit and cursor', async () => {
  const { client, port } = await started();
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }, { entityId: ID2, tag: 'ns-Position', members: { x: 2 } }]) });
  client.submitOverlay({ entityId: ID1, model: 'ns-Position', payload: { x: 9 } });
  assert.equal(client.query('ns-Position').items[0].models.ns.Position.x, 9);
  assert.equal(client.query('ns-Position', { consistency: 'synced' }).items[0].models.ns.Position.x, 1);
  const page = client.query('ns-Position', { limit: 1 });
  assert.equal(page.items.length, 1);
  assert.equal(page.nextCursor, ID1);
  assert.throws(() => client.query('nodash'), errors.ValidationError, 'view errors become typed');
});

test('reads return one object per entity until it changes: by id, as query items, with optimistic writes', async () => {
  const { client, port } = await started();
  let reader;
  client.subscribe(null, Object.assign((r) => ((reader = r), 0), { entityIds: [] }), () => {});
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }, { entityId: ID2, tag: 'ns-Position', members: { x: 2 } }]) });
  const first = reader.entity(ID1);
  assert.equal(reader.entity(ID1), first, 'a second read returns the same object');
  const [one, two] = client.query('ns-Position').items;
  assert.deepEqual(client.query('ns-Position').items, [one, two]);
  assert.equal(client.query('ns-Position').items[1], two, 'query items are reused');

  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 5 } }]) });
  assert.notEqual(reader.entity(ID1), first, 'a changed entity is read anew');
  assert.equal(reader.entity(ID1).models.ns.Position.x, 5);
  const [changed, same] = client.query('ns-Position').items;
  assert.equal(changed.models.ns.Position.x, 5);
  assert.equal(same, two, 'an entity that did not change keeps its item');

  const mutation = client.mutate('ns-Position', { x: 9 }, { entityId: ID2 });
  assert.equal(reader.entity(ID2).models.ns.Position.x, 9, 'the optimistic write shows in reads');
  assert.equal(client.query('ns-Position').items[1].models.ns.Position.x, 9, 'and in queries');
  assert.equal(reader.entity(ID2, 'synced').models.ns.Position.x, 2, 'synced reads do not show it');
  mutation.rollback();
  await assert.rejects(mutation.confirmed, errors.OverlayError);
  assert.equal(reader.entity(ID2).models.ns.Position.x, 2, 'a rolled back write no longer shows');
  assert.equal(client.query('ns-Position').items[1].models.ns.Position.x, 2);
});

test('mutate shows the write at once and confirms it when synced data matches', async () => {
  const { client, port, timers } = await started();
  const sent = [];
  const seen = [];
  client.subscribe(null, ID1, (e) => seen.push(e?.models.ns.Moves.left));
  const mutation = client.mutate('ns-Moves', { left: 5 }, { entityId: ID1, send: (ctx) => (sent.push(ctx.transactionId), Promise.resolve('0xtx')) });
  assert.equal(client.query('ns-Moves').items[0].models.ns.Moves.left, 5, 'visible at once');
  assert.deepEqual(sent, [mutation.transactionId]);
  assert.equal(client.getOverlayFor(ID1).length, 1);
  timers.frame();
  assert.deepEqual(seen, [5]);
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 5 } }]) });
  await mutation.confirmed;
  assert.equal(client.getOverlayFor(ID1).length, 0);
});

test('an unconfirmed mutate rolls back at its deadline with OverlayTimeoutError, seen by subscribers and errors', async () => {
  const { client, port, timers } = await started();
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 1 } }]) });
  const seen = [];
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  client.subscribe(null, ID1, (e) => seen.push(e?.models.ns.Moves.left));
  const mutation = client.mutate('ns-Moves', { left: 0 }, { entityId: ID1, timeoutMs: 3000 });
  timers.frame();
  timers.advance(2999);
  assert.equal(client.query('ns-Moves').items[0].models.ns.Moves.left, 0);
  timers.advance(1);
  await assert.rejects(mutation.confirmed, (e) => e instanceof errors.OverlayTimeoutError && e.transactionId === mutation.transactionId);
  assert.equal(client.query('ns-Moves').items[0].models.ns.Moves.left, 1, 'rolled back');
  timers.frame();
  assert.deepEqual(seen, [0, 1]);
  assert.equal(reported.length, 1);
  assert.ok(reported[0] instanceof errors.OverlayTimeoutError);
});

test('a send that fails rolls the write back at once', async () => {
  const { client, port } = await started();
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Moves', members: { left: 1 } }]) });
  const rejected = client.mutate('ns-Moves', { left: 0 }, { entityId: ID1, send: () => Promise.reject(new Error('user rejected')) });
  await assert.rejects(rejected.confirmed, (e) => e instanceof errors.OverlayError && e.reason === 'sendFailed' && /user rejected/.test(e.message));
  assert.equal(client.query('ns-Moves').items[0].models.ns.Moves.left, 1);
  const thrown = client.mutate('ns-Moves', { left: 0 }, { entityId: ID1, send: () => { throw new Error('sync throw'); } });
  await assert.rejects(thrown.confirmed, errors.OverlayError);
  assert.equal(client.getOverlayFor(ID1).length, 0);
});

test('rollback, ackOverlay and rollbackOverlay settle writes; unknown ids are typed errors', async () => {
  const { client } = await started();
  const a = client.mutate('ns-Moves', { left: 2 }, { entityId: ID1 });
  a.rollback();
  await assert.rejects(a.confirmed, (e) => e instanceof errors.OverlayError && e.reason === 'rolledBack');
  a.rollback();
  const b = client.mutate('ns-Moves', { left: 3 }, { entityId: ID1, transactionId: '0xbeef' });
  assert.equal(b.transactionId, '0xbeef');
  assert.throws(() => client.mutate('ns-Moves', { left: 4 }, { entityId: ID2, transactionId: '0xbeef' }), errors.OverlayError);
  client.ackOverlay('0xbeef');
  await b.confirmed;
  assert.throws(() => client.ackOverlay('0xbeef'), errors.OverlayError);
  assert.throws(() => client.rollbackOverlay('0xnone'), errors.OverlayError);
});

test('SYNC_TICK, TRANSITION, SYNC_ERROR and SYNC_FATAL reach status and errors as typed values', async () => {
  const { client, port } = await started();
  const statuses = [];
  const reported = [];
  client.syncStatus.subscribe((s) => statuses.push(s));
  client.errors.subscribe((e) => reported.push(e));
  port.send({ type: 'TRANSITION', transition: { target: 'entities', from: 'bootstrapping', to: 'streaming', reason: { kind: 'snapshotComplete' }, at: 5 } });
  assert.equal(client.getSyncStatus().state, 'streaming');
  port.send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'lagging' }, models: [] } });
  assert.equal(client.getSyncStatus().state, 'lagging');
  assert.equal(client.getSyncStatus().ticks.entities.overall.state, 'lagging');
  port.send({ type: 'SYNC_ERROR', error: { name: 'TransportError', message: 'Torii is down', consecutiveFailures: 2 } });
  assert.ok(reported[0] instanceof errors.TransportError);
  assert.equal(reported[0].consecutiveFailures, 2);
  port.send({ type: 'SYNC_FATAL', error: { name: 'SchemaMismatchError', message: 'manifest changed', storedHash: '0x9' } });
  assert.ok(reported[1] instanceof errors.SchemaMismatchError);
  assert.equal(client.getSyncStatus().phase, 'failed');
  assert.equal(client.getSyncStatus().error, reported[1]);
  assert.equal(statuses.length, 3, 'transition, tick, fatal');
  assert.notEqual(statuses[0], statuses[1], 'every status is a new object');
});

test('a client of token targets only goes through the sync states: its least advanced kind leads', async () => {
  const wallet = { id: 'wallet', kind: 'tokenBalances', accounts: [ID1] };
  const game = { id: 'game', kind: 'tokens' };
  const { client, port } = await started({ targets: [wallet, game] });
  const move = (target, from, to, kind) =>
    port.send({ type: 'TRANSITION', transition: { target, from, to, reason: { kind }, at: 5 } });
  const tick = (target, state) => port.send({ type: 'SYNC_TICK', tick: { target, overall: { state }, models: [] } });
  assert.equal(client.getSyncStatus().state, 'idle');
  move('tokenBalances', 'idle', 'bootstrapping', 'started');
  move('tokens', 'idle', 'bootstrapping', 'started');
  assert.equal(client.getSyncStatus().state, 'bootstrapping');
  move('tokenBalances', 'bootstrapping', 'streaming', 'snapshotComplete');
  assert.equal(client.getSyncStatus().state, 'bootstrapping', 'tokens still read their snapshot');
  move('tokens', 'bootstrapping', 'streaming', 'snapshotComplete');
  assert.equal(client.getSyncStatus().state, 'streaming');
  move('tokenBalances', 'streaming', 'lagging', 'heartbeat');
  assert.equal(client.getSyncStatus().state, 'lagging', 'a stalled wallet shows');
  move('tokenBalances', 'lagging', 'replaying', 'catchUp');
  assert.equal(client.getSyncStatus().state, 'replaying');
  tick('tokens', 'offline');
  assert.equal(client.getSyncStatus().state, 'offline', 'a tick reports the state too');
  tick('tokens', 'streaming');
  move('tokenBalances', 'replaying', 'streaming', 'replayComplete');
  assert.equal(client.getSyncStatus().state, 'streaming');
});

test('with entities synced, their synchronizer alone gives the state (a quiet wallet re-read does not flicker)', async () => {
  const { client, port } = await started({ targets: [{ id: 'world', kind: 'entities' }, { id: 'wallet', kind: 'tokenBalances' }] });
  const move = (target, from, to) =>
    port.send({ type: 'TRANSITION', transition: { target, from, to, reason: { kind: 'x' }, at: 5 } });
  move('tokenBalances', 'idle', 'bootstrapping');
  assert.equal(client.getSyncStatus().state, 'bootstrapping', 'before the entities report, the others show');
  move('entities', 'bootstrapping', 'streaming');
  move('tokenBalances', 'streaming', 'lagging');
  assert.equal(client.getSyncStatus().state, 'streaming');
});

test('a fatal error before INIT_ACK rejects ready; a malformed worker message is a ValidationError', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  stubs.ports[0].send({ type: 'DELTA', buffer: 'not a buffer' });
  assert.ok(reported[0] instanceof errors.ValidationError);
  stubs.ports[0].send({ type: 'SYNC_FATAL', error: { name: 'ToriiVersionChangedError', message: 'v changed', previous: '1.7', current: '1.8' } });
  await assert.rejects(client.ready, (e) => e instanceof errors.ToriiVersionChangedError && e.current === '1.8');
  stubs.ports[0].onError(new errors.SyncFatalError('worker script failed'));
  await assert.rejects(client.ready, errors.ToriiVersionChangedError, 'ready stays settled with the first error');
});

test('client.targets sends SET_TARGETS, follows each target in the ticks, and refuses bad changes', async () => {
  const region = { id: 'region', kind: 'entities', models: ['ns-Position'], clause: { HashedKeys: [ID1] } };
  const { client, port } = await started({ targets: [region] });
  assert.deepEqual(port.posted[0].config.targets, [region]);
  const mine = { id: 'mine', kind: 'entities', clause: { HashedKeys: [ID2] } };
  const added = client.targets.add(mine);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const request = port.posted.at(-1);
  assert.equal(request.type, 'SET_TARGETS');
  assert.deepEqual(request.targets, [region, mine]);
  port.send({ type: 'TARGETS_SET', id: request.id, digests: { region: 'd1', mine: 'd2' } });
  await added;
  const tick = (targets) => port.send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'streaming' }, models: [], targets } });
  tick([{ id: 'region', digest: 'd1', complete: true }, { id: 'mine', digest: 'old', complete: true }]);
  assert.deepEqual(client.targets.list(), [
    { id: 'region', kind: 'entities', complete: true },
    { id: 'mine', kind: 'entities', complete: false },
  ], 'a status is about the definition last set');
  const complete = client.targets.complete('mine');
  tick([{ id: 'region', digest: 'd1', complete: true }, { id: 'mine', digest: 'd2', complete: true }]);
  await complete;
  await assert.rejects(client.targets.add(mine), errors.ValidationError, 'a taken id');
  await assert.rejects(client.targets.remove('nope'), errors.ValidationError, 'an unknown id');
  await assert.rejects(client.targets.add({ id: 'x', kind: 'coins' }), errors.ValidationError, 'an unknown kind');
  // The worker's refusal leaves the targets as they were.
  const refused = client.targets.remove('region');
  await new Promise((resolve) => setTimeout(resolve, 0));
  const second = port.posted.at(-1);
  port.send({ type: 'TARGETS_SET', id: second.id, error: { name: 'ValidationError', message: 'targets: none is left for entities' } });
  await assert.rejects(refused, errors.ValidationError);
  assert.deepEqual(client.targets.list().map((t) => t.id), ['region', 'mine']);
});

test('client.targets: a target restored complete is complete at ready (INIT_ACK), until its kind ticks', async () => {
  const stubs = stubRuntime();
  const me = { id: 'me', kind: 'entities', clause: { HashedKeys: [ID1] } };
  const all = { id: 'all', kind: 'entities', models: ['ns-Position'] };
  const client = createClient({ ...options, targets: [me, all] }, stubs.runtime);
  const [port] = stubs.ports;
  assert.deepEqual(client.targets.list().map((t) => t.complete), [false, false], 'nothing before INIT_ACK');
  const restored = { entities: [{ id: 'me', digest: 'd1', complete: true }, { id: 'all', digest: 'd2', complete: false }] };
  port.send({ type: 'INIT_ACK', manifestHash: '0xabc', toriiVersion: '1.8.2', dbName: 'db-1', restored: 3, targets: restored });
  const init = await client.ready;
  assert.deepEqual(init.targets, restored);
  assert.deepEqual(client.targets.list(), [
    { id: 'me', kind: 'entities', complete: true },
    { id: 'all', kind: 'entities', complete: false },
  ]);
  await client.targets.complete('me');
  // The kind's ticks take over.
  port.send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'streaming' }, models: [], targets: [{ id: 'me', digest: 'd1', complete: true }, { id: 'all', digest: 'd2', complete: true }] } });
  assert.deepEqual(client.targets.list().map((t) => t.complete), [true, true]);
  // A malformed `targets` is left out, not trusted.
  const stubs2 = stubRuntime();
  const other = createClient({ ...options, targets: [me] }, stubs2.runtime);
  stubs2.ports[0].send({ type: 'INIT_ACK', manifestHash: '0xabc', toriiVersion: null, dbName: 'db-1', restored: 0, targets: { entities: [{ id: 'me' }] } });
  assert.equal((await other.ready).targets?.entities, undefined);
  assert.deepEqual(other.targets.list().map((t) => t.complete), [false]);
});

test('client.targets: a kind restored before the others is complete at its RESTORED, before ready, its data announced', async () => {
  const stubs = stubRuntime();
  const me = { id: 'me', kind: 'entities', clause: { HashedKeys: [ID1] } };
  const feed = { id: 'feed', kind: 'eventMessages' };
  const client = createClient({ ...options, targets: [me, feed] }, stubs.runtime);
  await settle();
  const updates = [];
  client.entityUpdates.subscribe((u) => updates.push(u));
  let ready = false;
  void client.ready.then(() => (ready = true));
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  const entities = [{ id: 'me', digest: 'd1', complete: true }];
  port.send({ type: 'RESTORED', target: 'entities', targets: entities });
  await client.targets.complete('me');
  assert.equal(ready, false, 'complete before ready');
  assert.deepEqual(client.targets.list().map((t) => [t.id, t.complete]), [['me', true], ['feed', false]], 'only the kind restored so far');
  assert.deepEqual(updates, [{ ids: [], source: 'restore' }], 'its data is announced with it');
  assert.deepEqual(client.query('ns-Position').items, [{ entityId: ID1, models: { ns: { Position: { x: 1 } } } }]);
  const events = [{ id: 'feed', digest: 'd2', complete: true }];
  port.send({ type: 'RESTORED', target: 'eventMessages', targets: events });
  assert.deepEqual(client.targets.list().map((t) => t.complete), [true, true]);
  port.send({ type: 'INIT_ACK', manifestHash: '0xabc', toriiVersion: '1.8.2', dbName: 'db-1', restored: 1, targets: { entities, eventMessages: events } });
  await client.ready;
  assert.equal(updates.length, 1, 'nothing restored since: announced once');
  assert.equal(client.getSyncStatus().restoring, undefined, 'INIT_ACK says it for every kind');
  // A later RESTORED (another open restoring into the live view) changes nothing.
  port.send({ type: 'RESTORED', target: 'entities', targets: [{ id: 'me', digest: 'd1', complete: false }] });
  assert.deepEqual(client.targets.list().map((t) => t.complete), [true, true]);
  assert.equal(client.getSyncStatus().restoring, undefined);
});

test('client.targets: a RESTORED before the main-thread wasm is loaded completes its targets only once the view holds the data', async () => {
  const stubs = stubRuntime({ holdWasm: true });
  const me = { id: 'me', kind: 'entities', clause: { HashedKeys: [ID1] } };
  const client = createClient({ ...options, targets: [me] }, stubs.runtime);
  const [port] = stubs.ports;
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  port.send({ type: 'RESTORED', target: 'entities', targets: [{ id: 'me', digest: 'd1', complete: true }] });
  await settle();
  assert.deepEqual(client.targets.list().map((t) => t.complete), [false], 'the data is not in a view yet');
  const complete = client.targets.complete('me').then(() => client.query('ns-Position').items.length);
  stubs.release();
  assert.equal(await complete, 1, 'complete once the view holds it, and queryable then');
  assert.equal(client.getSyncStatus().phase, 'starting');
});

test("a target may speak the query language: its filter reaches the worker, and is a definition of its own", async () => {
  const where = [{ member: 'x', op: 'gte', value: 10 }, { or: [{ member: 'y', op: 'lt', value: 5 }, { hashedKeys: [ID1] }] }];
  const region = { id: 'region', kind: 'entities', models: ['ns-Position'], filter: { where } };
  const { client, port } = await started({ targets: [region] });
  assert.deepEqual(port.posted[0].config.targets, [region], 'INIT carries the filter as written (the worker checks it)');
  const moved = { ...region, filter: { where: [{ member: 'x', op: 'gte', value: 20 }] } };
  const updated = client.targets.update(moved);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const request = port.posted.at(-1);
  assert.equal(request.type, 'SET_TARGETS');
  assert.deepEqual(request.targets, [moved]);
  port.send({ type: 'TARGETS_SET', id: request.id, digests: { region: 'd2' } });
  await updated;
  await assert.rejects(
    client.targets.add({ id: 'bad', kind: 'entities', models: ['ns-Position'], filter: 'x >= 10' }),
    errors.ValidationError,
    'a filter is an object',
  );
});

test('forceReplay posts FORCE_REPLAY', async () => {
  const { client, port } = await started();
  client.forceReplay();
  assert.equal(port.posted.at(-1).type, 'FORCE_REPLAY');
});

test('shutdown sends SHUTDOWN, awaits the confirmation, terminates the worker and ends every stream', async () => {
  const { client, port } = await started();
  const ended = [];
  client.errors.subscribe(() => {}, () => ended.push('errors'));
  client.syncStatus.subscribe(() => {}, () => ended.push('syncStatus'));
  client.entityUpdates.subscribe(() => {}, () => ended.push('entityUpdates'));
  const pending = client.mutate('ns-Moves', { left: 1 }, { entityId: ID1 });
  port.autoAckShutdown = false;
  let done = false;
  const stopping = client.shutdown().then(() => (done = true));
  assert.equal(port.posted.at(-1).type, 'SHUTDOWN');
  await settle();
  assert.equal(done, false, 'waits for SHUTDOWN_ACK');
  assert.equal(port.terminated, false);
  port.send({ type: 'SHUTDOWN_ACK' });
  await stopping;
  assert.equal(port.terminated, true);
  assert.deepEqual(ended.sort(), ['entityUpdates', 'errors', 'syncStatus']);
  assert.equal(client.getSyncStatus().phase, 'stopped');
  await assert.rejects(pending.confirmed, (e) => e.reason === 'shutdown');
  assert.throws(() => client.query('ns-Moves'), errors.ValidationError);
  assert.throws(() => client.subscribe(null, ID1, () => {}), errors.ValidationError);
  await client.shutdown();
});

test('shutdown terminates a worker that never confirms after the grace period', async () => {
  const { client, port, timers } = await started();
  port.autoAckShutdown = false;
  const stopping = client.shutdown();
  timers.advance(5000);
  await stopping;
  assert.equal(port.terminated, true);
});

test('reset stops the worker, deletes its database, empties the view and starts again', async () => {
  const { client, port, ports, deleted, views, timers } = await started();
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  const seen = [];
  client.subscribe(null, ID1, (e) => seen.push(e));
  const resetting = client.reset();
  await settle();
  assert.equal(port.terminated, true);
  assert.deepEqual(deleted, ['db-1']);
  assert.equal(views[0].freed, true);
  assert.equal(ports.length, 2);
  assert.equal(ports[1].posted[0].type, 'INIT');
  assert.equal(client.getSyncStatus().phase, 'starting');
  ports[1].ack(0);
  await resetting;
  await client.ready;
  assert.deepEqual(client.query('ns-Position').items, []);
  timers.frame();
  assert.deepEqual(seen, [undefined], 'subscribers see the emptied replica');
});

test('options: the worker\'s rules, with the same messages', () => {
  const stubs = stubRuntime();
  const refused = (extra, message) =>
    assert.throws(
      () => createClient({ ...options, ...extra }, stubs.runtime),
      (e) => e instanceof errors.ValidationError && message.test(e.message),
      JSON.stringify(extra, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  refused({ syncOptions: { requestTimeoutMs: 0 } }, /`syncOptions.requestTimeoutMs` must be an integer ≥ 1, got number 0/);
  refused({ syncOptions: { heartbeatTimeoutMs: 0 } }, /`syncOptions.heartbeatTimeoutMs` must be an integer ≥ 1, got number 0/);
  refused({ syncOptions: { pageSize: 4294967296 } }, /`syncOptions.pageSize` must be an integer ≤ 4294967295, got number 4294967296/);
  refused({ syncOptions: { replayBudget: 4294967296 } }, /`syncOptions.replayBudget` must be an integer ≤ 4294967295/);
  refused({ deltaChunk: 4294967296 }, /`deltaChunk` must be an integer ≤ 4294967295/);
  refused({ toriiUrl: 'http://' }, /`toriiUrl` must be an http\(s\) URL with a host/);
  refused({ toriiUrl: 'https:///x' }, /`toriiUrl` must be an http\(s\) URL with a host/);
  refused({ worldAddress: '0x0123' }, /`worldAddress` 0x0+123 is not the manifest's world address 0x0+1234; leave it out/);
  refused({ worldAddress: undefined, manifest: { world: {}, models: [] } }, /`worldAddress` is required: the manifest names no world address/);
  refused({ onToriiVersionChange: 'ignore' }, /`onToriiVersionChange` must be one of "reconcile", "fail"/);
  refused({ onToriiVersionChange: 'fail', acceptToriiVersionChange: true }, /contradicts `onToriiVersionChange`/);
  assert.equal(stubs.ports.length, 0);

  const config = (extra) => {
    createClient({ ...options, ...extra }, stubs.runtime);
    return stubs.ports.at(-1).posted[0].config;
  };
  assert.equal(config({ worldAddress: undefined }).worldAddress, '0x1234', 'the manifest\'s world by default');
  assert.equal(config({ worldAddress: '0x00001234' }).worldAddress, '0x00001234', 'another spelling of the same address');
  assert.equal(config({ syncOptions: { pageSize: 4294967295, requestTimeoutMs: 1 } }).syncOptions.pageSize, 4294967295);
  assert.equal(config({ acceptToriiVersionChange: true }).onToriiVersionChange, 'reconcile', 'the former spelling');
  assert.equal(config({ acceptToriiVersionChange: false }).onToriiVersionChange, 'fail');
  assert.equal(config({}).onToriiVersionChange, undefined, 'the worker\'s default (reconcile)');
});

test('invalid arguments to every public function are ValidationErrors', async () => {
  const stubs = stubRuntime();
  const bad = [
    undefined,
    { ...options, toriiUrl: 'ftp://x' },
    { ...options, worldAddress: 'world' },
    { ...options, manifest: 5 },
    { ...options, models: 'ns-Model' },
    { ...options, models: [{ tag: 'ns-Model', versionMember: 5 }] },
    { ...options, models: [{ versionMember: 'v' }] },
    { ...options, models: [{ tag: 'ns-Model', version: 'v' }] },
    { ...options, syncOptions: { pageSize: -1 } },
    { ...options, syncOptions: { pagesize: 10 } },
    { ...options, overlayOptions: { timeoutMs: 0 } },
    { ...options, logger: { info: 'yes' } },
    { ...options, colour: 'red' },
    { ...options, manifest: { world: { seed: 1n } } },
  ];
  bad.forEach((o, i) => assert.throws(() => createClient(o, stubs.runtime), errors.ValidationError, `case ${i}`));
  assert.equal(stubs.ports.length, 0, 'no worker was started for invalid options');
  const { client } = await started();
  const calls = [
    () => client.query(''),
    () => client.query('ns-Position', { limit: 0 }),
    () => client.query('ns-Position', { consistency: 'eventual' }),
    () => client.query('ns-Position', { filter: 'x > 1' }),
    () => client.subscribe('ns-Position', 42, () => {}),
    () => client.subscribe('ns-Position', ID1, 'listener'),
    () => client.subscribe(null, { where: [] }, () => {}),
    () => client.subscribe('ns-Position', ID1, () => {}, { throttleMs: -5 }),
    () => client.mutate('ns-Moves', { left: 1 }, {}),
    () => client.mutate('ns-Moves', null, { entityId: ID1 }),
    () => client.mutate('ns-Moves', { left: 1 }, { entityId: ID1, send: 'now' }),
    () => client.mutate('ns-Moves', { left: 1 }, { entityId: ID1, guard: { kind: 'x' } }),
    () => client.submitOverlay({ entityId: ID1, model: 'ns-Moves' }),
    () => client.getOverlayFor(7),
    () => client.ackOverlay(''),
    () => client.rollbackOverlay(undefined),
  ];
  for (const call of calls) assert.throws(call, errors.ValidationError, call.toString());
});

test('a view that cannot be built from the manifest fails the client with a typed error', async () => {
  const stubs = stubRuntime();
  const wasm = await stubs.runtime.loadWasm();
  wasm.createView = () => {
    throw { name: 'ValidationError', message: 'manifest: type arena::models::Class cannot be resolved' };
  };
  const client = createClient(options, stubs.runtime);
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  await assert.rejects(client.ready, (e) => e instanceof errors.ValidationError && /arena::models::Class/.test(e.message));
  assert.equal(client.getSyncStatus().phase, 'failed');
  assert.ok(reported[0] instanceof errors.ValidationError);
});

test('reset after a SchemaMismatchError before INIT_ACK deletes the default database and starts again', async () => {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  stubs.ports[0].send({ type: 'SYNC_FATAL', error: { name: 'SchemaMismatchError', message: 'manifest changed' } });
  await assert.rejects(client.ready, errors.SchemaMismatchError);
  assert.equal(client.getSyncStatus().phase, 'failed');
  const resetting = client.reset();
  await settle();
  assert.deepEqual(stubs.deleted, [stubs.wasm.defaultDbName(options.toriiUrl, options.worldAddress)]);
  stubs.ports[1].ack(0);
  assert.equal((await resetting).restored, 0);
  assert.equal(client.getSyncStatus().phase, 'ready');
});

test('subscriptions by a short or upper-case id follow the canonical id the view reports', async () => {
  const { client, port, timers } = await started();
  const seen = [];
  client.subscribe(null, '0x1', (e) => seen.push(e?.models.ns.Position.x));
  client.subscribe(null, `0x${'1'.padStart(40, '0')}`, (e) => seen.push(e?.models.ns.Position.x));
  client.subscribe(null, ID2.toUpperCase().replace('0X', '0x'), () => seen.push('other'));
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 8 } }]) });
  assert.equal(timers.frames.length, 2, 'both spellings of ID1 are scheduled, ID2 is not');
});

test('shutdown during reset shares the stop and leaves the client stopped', async () => {
  const { client, port, ports } = await started();
  port.autoAckShutdown = false;
  const resetting = client.reset();
  const stopping = client.shutdown();
  await settle();
  assert.equal(port.posted.filter((m) => m.type === 'SHUTDOWN').length, 1, 'one SHUTDOWN');
  port.send({ type: 'SHUTDOWN_ACK' });
  await stopping;
  await assert.rejects(resetting, errors.ReactiveError);
  assert.equal(client.getSyncStatus().phase, 'stopped');
  assert.equal(ports.length, 1, 'no new worker after shutdown');
});

test('shutdown called twice: both resolve only when the worker is stopped', async () => {
  const { client, port } = await started();
  port.autoAckShutdown = false;
  const order = [];
  const first = client.shutdown().then(() => order.push('first'));
  const second = client.shutdown().then(() => order.push('second'));
  await settle();
  assert.deepEqual(order, [], 'the second call waits for the first');
  assert.equal(port.posted.filter((m) => m.type === 'SHUTDOWN').length, 1);
  port.send({ type: 'SHUTDOWN_ACK' });
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first', 'second']);
  assert.equal(port.terminated, true);
  assert.equal(client.getSyncStatus().phase, 'stopped');
});

test('a throwing selector keeps what it threw as the cause, on subscribe and on later updates', async () => {
  const { client, port, timers } = await started();
  const bug = new TypeError('cannot read properties of undefined');
  assert.throws(
    () => client.subscribe(null, () => { throw bug; }, () => {}),
    (e) => e instanceof errors.ValidationError && e.cause === bug && e.message === bug.message,
  );
  const reported = [];
  client.errors.subscribe((e) => reported.push(e));
  let fail = false;
  const later = new RangeError('too deep');
  client.subscribe(null, (reader) => {
    if (fail) throw later;
    return reader.entity(ID1);
  }, () => {});
  fail = true;
  port.send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  timers.frame();
  assert.equal(reported.length, 1);
  assert.equal(reported[0].cause, later);
});
