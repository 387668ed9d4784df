import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntityCache } from '../dist/entity-cache.js';

/** A view that counts the objects it builds; every id names an entity with one model. */
function countingView() {
  const built = { entity: 0, item: 0 };
  const view = {
    built,
    entity(id) {
      built.entity += 1;
      return Object.freeze({ entityId: id, models: Object.freeze({}) });
    },
    entityModel(id) {
      built.item += 1;
      return Object.freeze({ entityId: id, models: Object.freeze({}) });
    },
    queryIds(_model, spec) {
      return { ids: spec.ids.join(',') };
    },
    query() {
      throw new Error('not cached queries are not used here');
    },
  };
  return view;
}

const id = (n) => `0x${n.toString(16).padStart(64, '0')}`;

test('a read returns the same object until its entity changes', () => {
  const view = countingView();
  const cache = new EntityCache(8);
  const first = cache.entity(view, id(1));
  assert.equal(cache.entity(view, id(1)), first);
  assert.equal(view.built.entity, 1);
  const [item] = cache.query(view, 'ns-M', { ids: [id(1)] }).items;
  assert.equal(cache.query(view, 'ns-M', { ids: [id(1)] }).items[0], item);
  assert.equal(view.built.item, 1);
  cache.changed([id(1)]);
  assert.notEqual(cache.entity(view, id(1)), first);
  assert.notEqual(cache.query(view, 'ns-M', { ids: [id(1)] }).items[0], item);
  assert.deepEqual(view.built, { entity: 2, item: 2 });
});

test('the cache holds at most twice its generation, and a working set that fits is never rebuilt', () => {
  const view = countingView();
  const cache = new EntityCache(100);
  for (let n = 0; n < 1_000; n++) cache.entity(view, id(n));
  assert.ok(cache.size <= 200, `${cache.size} objects held`);
  // 100 entities read over and over in changing orders: built once each.
  const before = view.built.entity;
  for (let round = 0; round < 20; round++) {
    for (let k = 0; k < 100; k++) cache.entity(view, id(5_000 + ((k * (round + 7)) % 100)));
  }
  assert.equal(view.built.entity - before, 100);
  assert.ok(cache.size <= 200);
  // Items share the bound.
  cache.query(view, 'ns-M', { ids: Array.from({ length: 500 }, (_, n) => id(n)) });
  assert.ok(cache.size <= 200, `${cache.size} objects held`);
});

test('a cleared cache and another view start over', () => {
  const view = countingView();
  const cache = new EntityCache(8);
  const first = cache.entity(view, id(1));
  cache.clear();
  assert.notEqual(cache.entity(view, id(1)), first);
  const other = countingView();
  cache.entity(other, id(1));
  assert.equal(other.built.entity, 1);
});
