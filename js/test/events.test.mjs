// The event logs through the client on the real wasm view: EVENTS batches (written by the
// storage crate's encoder: fixtures/event-batches.json) decoded into frozen event objects, the
// stored log shown at the start, live changes with evictions, a repeated delivery shown once,
// what `events.query` and `events.subscribe` answer, and an eventLog target's restore and
// completeness in `targets.list()` / `targets.complete()`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { createClient } from '../dist/client.js';
import { ReactiveProvider, useEvents } from '../dist/react.js';
import { checkOptions } from '../dist/options.js';
import { options, settle, stubRuntime } from './stubs.mjs';

const batches = JSON.parse(readFileSync(new URL('./fixtures/event-batches.json', import.meta.url), 'utf8')).map(
  (hex) => Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16)).buffer,
);
/** The target id an encoded batch names (five header bytes, its length in one byte, then UTF-8). */
const targetOf = (batch) => new TextDecoder().decode(new Uint8Array(batch, 6, new Uint8Array(batch)[5]));
const fixture = JSON.parse(readFileSync(new URL('./fixtures/worker-config.json', import.meta.url), 'utf8'));

const player = (n) => `0x${n.toString(16).padStart(64, '0')}`;
const steps = (events) => events.map((e) => e.models.ns.Moved.hp);

async function started() {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  const port = stubs.ports[0];
  // The stored logs come after INIT_ACK, as the worker sends them.
  port.ack();
  await client.ready;
  port.send({ type: 'EVENTS', target: targetOf(batches[0]), buffer: batches[0].slice(0), persisted: true, stored: true });
  port.send({ type: 'EVENTS', target: targetOf(batches[1]), buffer: batches[1].slice(0), persisted: true, stored: true });
  return { client, port };
}

test('the stored log is shown at the start, as frozen events in the log order', async () => {
  const { client } = await started();
  const feed = client.events.query({ target: 'feed' });
  assert.deepEqual(steps(feed), [1, 2, 3]);
  const [first] = feed;
  assert.equal(first.entityId, player(1));
  assert.equal(first.model, 'ns-Moved');
  assert.equal(first.executedAt, 100);
  assert.equal(first.createdAt, 101);
  assert.deepEqual(first.keys, [player(1)]);
  assert.equal(first.models.ns.Moved.at, 2n ** 64n - 2n, 'a u64 is an exact bigint');
  assert.match(first.id, /^0x0+1:ns-Moved:100:[0-9a-f]{32}:0$/);
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.models.ns.Moved) && Object.isFrozen(feed));
  // An event held by two targets is read once across them.
  assert.deepEqual(steps(client.events.query()), [1, 2, 3]);
  assert.deepEqual(steps(client.events.query({ target: 'other' })), [1]);
  await client.shutdown();
});

test('live changes add in order, evict by retention, and a repeated delivery is shown once', async () => {
  const { client, port } = await started();
  const seen = [];
  const changes = [];
  const off = client.events.subscribe({ keys: [player(2)] }, (events) => seen.push(steps(events)));
  client.events.onChange(() => changes.push(client.events.query({ target: 'feed' }).length));
  port.send({ type: 'EVENTS', target: targetOf(batches[2]), buffer: batches[2].slice(0), persisted: true });
  assert.deepEqual(steps(client.events.query({ target: 'feed' })), [2, 3, 4, 5]);
  port.send({ type: 'EVENTS', target: targetOf(batches[3]), buffer: batches[3].slice(0), persisted: true });
  assert.deepEqual(steps(client.events.query({ target: 'feed' })), [2, 3, 4, 5], 'event 4 again: still once');
  assert.deepEqual(seen, [[4]], 'the subscriber got the new event of its key, once');
  assert.deepEqual(changes, [4, 4]);
  off();
  await client.shutdown();
});

test('queries narrow by model, keys, time range, limit and order', async () => {
  const { client, port } = await started();
  port.send({ type: 'EVENTS', target: targetOf(batches[2]), buffer: batches[2].slice(0), persisted: true });
  const q = (query) => steps(client.events.query({ target: 'feed', ...query }));
  assert.deepEqual(q({ keys: [player(1)] }), [3, 5]);
  assert.deepEqual(q({ keys: [1n] }), [3, 5], 'a key as a bigint');
  assert.deepEqual(q({ keys: [undefined] }), [2, 3, 4, 5], 'a wildcard');
  assert.deepEqual(q({ from: 101, to: 102 }), [2, 3, 4]);
  assert.deepEqual(q({ order: 'desc', limit: 2 }), [5, 4]);
  assert.deepEqual(q({ limit: 2 }), [2, 3]);
  assert.deepEqual(q({ models: ['ns-Other'] }), []);
  assert.throws(() => client.events.query({ keys: ['nope'] }), { name: 'ValidationError' });
  assert.throws(() => client.events.query({ order: 'sideways' }), { name: 'ValidationError' });
  await client.shutdown();
});

test('eventLog targets are checked: models, clause and retention, nothing of the other kinds', () => {
  const withTargets = (targets) => ({ ...fixture, targets });
  const target = { id: 'feed', kind: 'eventLog', models: ['ns-Moved'], retention: { count: 100, maxAgeSeconds: 60 } };
  const checked = checkOptions('createReactiveClient', withTargets([target]), true);
  assert.deepEqual(checked.config.targets, [target]);
  const bad = [
    { id: 'f', kind: 'eventLog', retention: { count: 0 } },
    { id: 'f', kind: 'eventLog', retention: { size: 3 } },
    { id: 'f', kind: 'eventLog', accounts: [player(1)] },
    { id: 'f', kind: 'entities', retention: { count: 3 } },
  ];
  for (const t of bad) {
    assert.throws(() => checkOptions('createReactiveClient', withTargets([t]), true), { name: 'ValidationError' }, JSON.stringify(t));
  }
});

test('useEvents renders the query under a provider, nothing for an undefined query', async () => {
  const { client } = await started();
  const Feed = ({ query }) => createElement('p', null, useEvents(query).map((e) => e.models.ns.Moved.hp).join(','));
  const render = (query) => renderToString(createElement(ReactiveProvider, { client }, createElement(Feed, { query })));
  assert.equal(render(undefined), '<p></p>');
  assert.equal(render({ target: 'feed', order: 'desc', limit: 2 }), '<p>3,2</p>');
  assert.equal(render({ target: 'feed', keys: [player(1)] }), '<p>1,3</p>');
  await client.shutdown();
});

test("a walk's older events go before the held ones, and one between them in its place", async () => {
  const { client, port } = await started();
  for (const batch of batches.slice(4)) port.send({ type: 'EVENTS', target: targetOf(batch), buffer: batch.slice(0), persisted: true });
  assert.deepEqual(steps(client.events.query({ target: 'walk' })), [1, 2, 3, 4, 5]);
  await client.shutdown();
});

test('a stored log arriving in chunks after ready is not new to subscribers; the target is restored, then complete', async () => {
  const stubs = stubRuntime();
  const targets = [
    { id: 'world', kind: 'entities' },
    { id: 'feed', kind: 'eventLog' },
  ];
  const client = createClient({ ...options, targets }, stubs.runtime);
  const port = stubs.ports[0];
  port.ack();
  await client.ready;
  const feed = () => client.targets.list().find((t) => t.id === 'feed');
  assert.deepEqual(feed(), { id: 'feed', kind: 'eventLog', restored: false, complete: false });
  const seen = [];
  client.events.subscribe(undefined, (events) => seen.push(steps(events)));
  let done = false;
  const complete = client.targets.complete('feed').then(() => (done = true));
  const chunk = (batch, flags) => port.send({ type: 'EVENTS', target: targetOf(batch), buffer: batch.slice(0), persisted: true, ...flags });

  // The newest chunk first (a snapshot), then an older one: the log fills in.
  chunk(batches[0], { stored: true, restored: false, complete: false });
  assert.deepEqual(steps(client.events.query({ target: 'feed' })), [1, 2, 3]);
  assert.deepEqual(feed(), { id: 'feed', kind: 'eventLog', restored: false, complete: false });
  chunk(batches[2], { stored: true, restored: true, complete: false });
  assert.deepEqual(steps(client.events.query({ target: 'feed' })), [2, 3, 4, 5]);
  assert.deepEqual(feed(), { id: 'feed', kind: 'eventLog', restored: true, complete: false });
  assert.deepEqual(seen, [], 'a chunk of the stored log is not new');
  await settle();
  assert.equal(done, false, 'restored, not yet walked');

  // The first walk ended: complete.
  chunk(batches[3], { stored: false, restored: true, complete: true });
  await complete;
  assert.deepEqual(feed(), { id: 'feed', kind: 'eventLog', restored: true, complete: true });
  assert.deepEqual(seen, [], 'event 4 again is not new either');
  await client.shutdown();
});

test('batches that arrived before the view loaded are applied in order, each in a task of its own', async () => {
  const stubs = stubRuntime({ holdWasm: true });
  const client = createClient(options, stubs.runtime);
  const port = stubs.ports[0];
  port.ack();
  for (const i of [0, 2, 3]) port.send({ type: 'EVENTS', target: targetOf(batches[i]), buffer: batches[i].slice(0), persisted: true, stored: true });
  const lengths = [];
  client.events.onChange(() => lengths.push(client.events.query({ target: 'feed' }).length));
  stubs.release();
  await client.ready;
  assert.deepEqual(lengths, [], 'none applied in the task the view loaded in');
  // A batch arriving meanwhile waits for those before it.
  port.send({ type: 'EVENTS', target: targetOf(batches[1]), buffer: batches[1].slice(0), persisted: true, stored: true });
  assert.deepEqual(lengths, []);
  stubs.timers.advance(0);
  assert.deepEqual(lengths, [3, 4, 4, 4]);
  assert.deepEqual(steps(client.events.query({ target: 'feed' })), [2, 3, 4, 5]);
  assert.deepEqual(steps(client.events.query({ target: 'other' })), [1]);
  await client.shutdown();
});
