import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalEntityId, reactiveSelectors, splitTag } from '../dist/selectors.js';

const entity = { entityId: '0x1', models: { ns: { Position: { x: 1 }, Moves: { left: 3 } } } };
const reader = {
  entity: (id) => (id === '0x1' ? entity : undefined),
  query: (model, spec) => ({ items: model === 'ns-Position' ? [entity, spec] : [] }),
};

test('selectEntity returns the entity and names its id as its only dependency', () => {
  const selector = reactiveSelectors.selectEntity('0x1');
  assert.equal(selector(reader, null), entity);
  assert.deepEqual(selector.entityIds, [`0x${'1'.padStart(64, '0')}`], 'the canonical id');
  assert.equal(reactiveSelectors.selectEntity('0x2')(reader, null), undefined);
});

test('selectComponent returns one model of one entity', () => {
  assert.deepEqual(reactiveSelectors.selectComponent('0x1', 'ns-Moves')(reader, null), { left: 3 });
  assert.equal(reactiveSelectors.selectComponent('0x1', 'ns-Other')(reader, null), undefined);
  assert.equal(reactiveSelectors.selectComponent('0x1', 'bad')(reader, null), undefined);
  assert.deepEqual(reactiveSelectors.selectComponent('0xAB', 'ns-Moves').entityIds, [`0x${'ab'.padStart(64, '0')}`]);
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

test('entity ids are canonicalised to 0x + 64 lowercase hex; other text is kept for the view to refuse', () => {
  assert.equal(canonicalEntityId('0xAbC'), `0x${'abc'.padStart(64, '0')}`);
  assert.equal(canonicalEntityId('player-1'), 'player-1');
  assert.equal(canonicalEntityId(`0x${'f'.repeat(65)}`), `0x${'f'.repeat(65)}`);
});
