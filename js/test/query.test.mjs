// Torii's clause language, orderBy with cursors, count and declared indexes through the client on
// the real wasm view: what `query`, `count`, `subscribe` and the selectors answer.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { reactiveSelectors } from '../dist/selectors.js';
import { delta, options, stubRuntime } from './stubs.mjs';

const TILE = 'ns-Tile';
const manifest = {
  world: { class_hash: '0x1', address: '0x1234' },
  models: [
    {
      tag: TILE,
      class_hash: '0x13',
      selector: '0x13',
      members: ['x', 'y', 'hp'].map((name) => ({ name, type: 'core::integer::u32', key: false })),
    },
  ],
};

const id = (n) => `0x${n.toString(16).padStart(64, '0')}`;

/** A 10 × 10 map: tile n at (n % 10, n / 10) with hp n % 7. */
const tiles = Array.from({ length: 100 }, (_, n) => ({
  entityId: id(n + 1),
  tag: TILE,
  members: { x: n % 10, y: Math.floor(n / 10), hp: n % 7 },
}));

async function started(extra = {}) {
  const stubs = stubRuntime();
  const client = createClient({ ...options, manifest, ...extra }, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  stubs.ports[0].send({ type: 'DELTA', buffer: delta(tiles) });
  return { client, port: stubs.ports[0], timers: stubs.timers };
}

const xy = (items) => items.map((e) => [e.models.ns.Tile.x, e.models.ns.Tile.y]);
const ids = (items) => items.map((e) => e.entityId);
/** What a scan over the test data selects, in entity id order. */
const expected = (keep) => tiles.filter((t) => keep(t.members)).map((t) => t.entityId);

test('or, nested and, notIn and neq select what Torii would', async () => {
  const { client } = await started();
  const filter = {
    where: [
      { member: 'hp', op: 'notIn', value: [0, 1] },
      {
        or: [
          { member: 'x', op: 'eq', value: 3 },
          { and: [{ member: 'y', op: 'gte', value: 8 }, { member: 'x', op: 'neq', value: 9 }] },
        ],
      },
    ],
  };
  const keep = (m) => m.hp !== 0 && m.hp !== 1 && (m.x === 3 || (m.y >= 8 && m.x !== 9));
  assert.deepEqual(ids(client.query(TILE, { filter }).items), expected(keep));
  assert.equal(client.count(TILE, { filter }), expected(keep).length);
  assert.equal(client.count(TILE), 100);
  const hashed = { where: [{ hashedKeys: [id(5), id(7), id(500)] }] };
  assert.deepEqual(ids(client.query(TILE, { filter: hashed }).items), [id(5), id(7)]);
});

test('orderBy sorts by several members and directions; cursor pages stay stable while writes arrive', async () => {
  const { client, port } = await started();
  const orderBy = [{ member: 'hp', direction: 'desc' }, { member: 'x' }];
  const sorted = [...tiles].sort(
    (a, b) => b.members.hp - a.members.hp || a.members.x - b.members.x || (a.entityId < b.entityId ? -1 : 1),
  );
  const all = client.query(TILE, { orderBy });
  assert.deepEqual(ids(all.items), sorted.map((t) => t.entityId));
  assert.equal(all.nextCursor, undefined);

  const first = client.query(TILE, { orderBy, limit: 30 });
  assert.equal(first.items.length, 30);
  assert.match(first.nextCursor, /^ob2:/);
  // Between pages: an entity not yet shown moves ahead of the cursor (it is then not shown),
  // and one already shown moves behind it (it is shown again, at its new place).
  const shown = new Set(ids(first.items));
  const later = sorted.find((t) => !shown.has(t.entityId) && t.members.hp === 2);
  const early = first.items[0].entityId;
  port.send({
    type: 'DELTA',
    buffer: delta([
      { entityId: later.entityId, tag: TILE, members: { ...later.members, hp: 6 } },
      { entityId: early, tag: TILE, members: { x: 0, y: 0, hp: 0 } },
    ]),
  });
  const rest = [];
  let cursor = first.nextCursor;
  while (cursor !== undefined) {
    const page = client.query(TILE, { orderBy, limit: 30, cursor });
    rest.push(...ids(page.items));
    cursor = page.nextCursor;
  }
  assert.ok(!rest.includes(later.entityId), 'an entity that moved before the cursor is not shown');
  assert.ok(rest.includes(early), 'an entity that moved after the cursor is shown again, at its new place');
  assert.equal(new Set(rest).size, rest.length, 'no entity twice in the later pages');
  assert.equal(new Set([...shown, ...rest]).size, 99, 'every entity that stayed in place is shown');

  assert.throws(
    () => client.query(TILE, { orderBy: [{ member: 'hp' }], cursor: first.nextCursor }),
    (e) => e instanceof errors.ValidationError && /cursor/.test(e.message),
    'a cursor of another orderBy is refused',
  );
  assert.throws(
    () => client.query(TILE, { orderBy: { member: 'hp' } }),
    (e) => e instanceof errors.ValidationError && /orderBy/.test(e.message),
  );
});

test('a declared (x, y) index answers viewports, orders and counts exactly as a scan', async () => {
  const plain = await started();
  const indexed = await started({ indexes: [{ model: TILE, members: ['x', 'y'] }] });
  const viewport = (x0, x1, y0, y1) => ({
    where: [
      { member: 'x', op: 'gte', value: x0 },
      { member: 'x', op: 'lt', value: x1 },
      { member: 'y', op: 'gte', value: y0 },
      { member: 'y', op: 'lt', value: y1 },
    ],
  });
  const queries = [
    { filter: viewport(2, 5, 3, 7) },
    { filter: viewport(0, 10, 9, 10), orderBy: [{ member: 'x', direction: 'desc' }], limit: 4 },
    { filter: { where: [{ member: 'x', op: 'eq', value: 4 }, { member: 'hp', op: 'gt', value: 2 }] } },
  ];
  const move = delta([
    { entityId: id(1), tag: TILE, members: { x: 3, y: 4, hp: 1 } },
    { entityId: id(50), tag: TILE, members: null },
  ]);
  for (const round of ['before', 'after']) {
    for (const q of queries) {
      assert.deepEqual(indexed.client.query(TILE, q), plain.client.query(TILE, q), `${round}: ${JSON.stringify(q)}`);
      assert.equal(indexed.client.count(TILE, { filter: q.filter }), plain.client.count(TILE, { filter: q.filter }));
    }
    plain.port.send({ type: 'DELTA', buffer: move });
    indexed.port.send({ type: 'DELTA', buffer: move });
  }
  assert.deepEqual(xy(indexed.client.query(TILE, { filter: viewport(3, 4, 4, 5) }).items), [[3, 4], [3, 4]]);
});

test('an index on a member the model lacks fails the client with a ValidationError', async () => {
  const stubs = stubRuntime();
  const client = createClient({ ...options, manifest, indexes: [{ model: TILE, members: ['x', 'z'] }] }, stubs.runtime);
  stubs.ports[0].ack();
  await assert.rejects(client.ready, (e) => e instanceof errors.ValidationError && /z/.test(e.message));
  for (const indexes of [{}, [{ model: TILE }], [{ model: TILE, members: [] }], [{ model: TILE, members: ['x', 'y', 'hp'] }], [{ model: TILE, members: ['x'], extra: 1 }]]) {
    assert.throws(
      () => createClient({ ...options, manifest, indexes }, stubRuntime().runtime),
      (e) => e instanceof errors.ValidationError && /indexes/.test(e.message),
      JSON.stringify(indexes),
    );
  }
});

test('an operator that does not fit the member is a ValidationError naming it', async () => {
  const { client } = await started();
  assert.throws(
    () => client.count(TILE, { filter: { where: [{ member: 'hp', op: 'contains', value: 1 }] } }),
    (e) => e instanceof errors.ValidationError && /contains/.test(e.message) && /array/.test(e.message),
  );
  assert.throws(
    () => client.query(TILE, { filter: { where: [{ or: [] }] } }),
    (e) => e instanceof errors.ValidationError && /at least one condition/.test(e.message),
  );
});

test('subscriptions follow clause filters, orderBy with a limit, and counts', async () => {
  const { client, port, timers } = await started();
  const filter = { where: [{ or: [{ member: 'x', op: 'eq', value: 0 }, { member: 'y', op: 'eq', value: 0 }] }] };
  const counts = [];
  const tops = [];
  const matching = [];
  client.subscribe(TILE, reactiveSelectors.selectCount(filter), (n) => counts.push(n));
  client.subscribe(
    TILE,
    reactiveSelectors.selectMany({}, { orderBy: [{ member: 'hp', direction: 'desc' }, { member: 'y', direction: 'desc' }], limit: 2 }),
    (items) => tops.push(xy(items)),
  );
  client.subscribe(TILE, filter, (items) => matching.push(items.length));
  port.send({
    type: 'DELTA',
    buffer: delta([
      { entityId: id(56), tag: TILE, members: { x: 0, y: 5, hp: 8 } },
      { entityId: id(99), tag: TILE, members: { x: 8, y: 9, hp: 9 } },
    ]),
  });
  timers.frame();
  assert.deepEqual(counts, [19 + 1]);
  assert.deepEqual(matching, [20]);
  assert.deepEqual(tops, [[[8, 9], [0, 5]]]);
});
