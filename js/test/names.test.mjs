// Names from the world that are special in JavaScript (`__proto__`, `constructor`, `prototype`)
// are ordinary keys for the selectors and the result comparison: read back, compared, and never
// a way to a prototype.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepEqual } from '../dist/equal.js';
import { ownProperty, reactiveSelectors } from '../dist/selectors.js';

/** An object with these own properties, defined as the view defines them (never assigned). */
function own(entries) {
  const object = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return object;
}

const hostile = own([
  ['__proto__', own([['constructor', own([['prototype', 1], ['__proto__', 2]])]])],
  ['constructor', own([['prototype', own([['__proto__', 3]])]])],
]);
const plain = { entityId: '0x1', models: { ns: { Position: { x: 1 } } } };
const reader = {
  entity: (id) => (id === '0x2' ? { entityId: '0x2', models: hostile } : id === '0x1' ? plain : undefined),
  query: () => ({ items: [] }),
};

test('selectComponent reads models of namespaces and names that are special in JavaScript', () => {
  const select = (tag, id = '0x2') => reactiveSelectors.selectComponent(id, tag)(reader, null);
  assert.deepEqual(Object.keys(select('__proto__-constructor')), ['prototype', '__proto__']);
  assert.equal(select('__proto__-constructor').prototype, 1);
  assert.equal(select('__proto__-constructor').__proto__, 2);
  assert.equal(select('constructor-prototype').__proto__, 3);
});

test('selectComponent never answers with a prototype or a global for a model the entity lacks', () => {
  const select = (tag, id) => reactiveSelectors.selectComponent(id, tag)(reader, null);
  for (const tag of ['__proto__-constructor', 'constructor-assign', 'ns-constructor', 'ns-__proto__', 'toString-call']) {
    assert.equal(select(tag, '0x1'), undefined, tag);
  }
  assert.equal(select('__proto__-isPrototypeOf', '0x2'), undefined);
  assert.equal(select('constructor-name', '0x2'), undefined);
});

test('ownProperty reads own properties only', () => {
  assert.equal(ownProperty({}, '__proto__'), undefined);
  assert.equal(ownProperty({}, 'constructor'), undefined);
  assert.equal(ownProperty({ constructor: 5 }, 'constructor'), 5);
  assert.equal(ownProperty(own([['__proto__', 6]]), '__proto__'), 6);
  assert.equal(ownProperty(null, 'x'), undefined);
  assert.equal(ownProperty('text', 'length'), undefined);
});

test('deepEqual compares keys named __proto__, constructor and prototype like any other', () => {
  const a = own([['__proto__', own([['x', 1n]])], ['constructor', 'c']]);
  const b = own([['__proto__', own([['x', 1n]])], ['constructor', 'c']]);
  const c = own([['__proto__', own([['x', 2n]])], ['constructor', 'c']]);
  assert.ok(deepEqual(a, b));
  assert.ok(!deepEqual(a, c));
  // An object without an own `__proto__` key is not equal to one that has it, whatever its prototype.
  assert.ok(!deepEqual(own([['__proto__', {}], ['k', 1]]), { k: 1, extra: 1 }));
  assert.ok(!deepEqual({ k: 1, constructor: Object }, own([['k', 1], ['__proto__', Object]])));
  assert.ok(deepEqual(own([['prototype', [1, 2]]]), { prototype: [1, 2] }));
  assert.equal(({}).isAdmin, undefined);
  assert.equal(typeof Object.assign, 'function');
});
