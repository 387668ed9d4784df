import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reactiveSelectors, splitTag } from '../dist/selectors.js';

const entity = { entityId: '0x1', models: { ns: { Position: { x: 1 }, Moves: { left: 3 } } } };
const reader = {
  entity: (id) => (id === '0x1' ? entity : undefined),
  query: (model, spec) => ({ items: model === 'ns-Position' ? [entity, spec] : [] }),
};

test('selectEntity returns the entity and names its id as its only dependency', () => {
  const selector = reactiveSelectors.selectEntity('0x1');
  assert.equal(selector(reader, null), entity);
  assert.deepEqual(selector.entityIds, ['0x1']);
  assert.equal(reactiveSelectors.selectEntity('0x2')(reader, null), undefined);
});

test('selectComponent returns one model of one entity', () => {
  assert.deepEqual(reactiveSelectors.selectComponent('0x1', 'ns-Moves')(reader, null), { left: 3 });
  assert.equal(reactiveSelectors.selectComponent('0x1', 'ns-Other')(reader, null), undefined);
  assert.equal(reactiveSelectors.selectComponent('0x1', 'bad')(reader, null), undefined);
  assert.deepEqual(reactiveSelectors.selectComponent('0x1', 'ns-Moves').entityIds, ['0x1']);
});

test('selectMany queries the subscription model with the filter', () => {
  const filter = { where: [{ member: 'x', op: 'eq', value: 1 }] };
  const [first, spec] = reactiveSelectors.selectMany(filter)(reader, 'ns-Position');
  assert.equal(first, entity);
  assert.deepEqual(spec, { filter });
  assert.equal(reactiveSelectors.selectMany(filter).entityIds, undefined);
  assert.throws(() => reactiveSelectors.selectMany(filter)(reader, null), { name: 'ValidationError' });
});

test('model tags split at the first dash', () => {
  assert.deepEqual(splitTag('ns-Model'), { namespace: 'ns', name: 'Model' });
  assert.deepEqual(splitTag('dojo_starter-Moves-x'), { namespace: 'dojo_starter', name: 'Moves-x' });
  assert.equal(splitTag('nodash'), undefined);
  assert.equal(splitTag('-x'), undefined);
});
