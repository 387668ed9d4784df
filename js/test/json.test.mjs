import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bigintReplacer, parse, stringify } from '../dist/index.js';

const entity = {
  entityId: '0xabc',
  models: { ns: { Player: { gold: 2n ** 100n, debt: -5n, name: '5n', class: { variant: 'Rogue', value: 3 }, items: [1n, 2] } } },
};

test('stringify writes BigInts that JSON.stringify refuses, and parse reads them back', () => {
  assert.throws(() => JSON.stringify(entity), TypeError);
  const text = stringify(entity);
  assert.deepEqual(parse(text), entity);
  assert.equal(typeof parse(text).models.ns.Player.gold, 'bigint');
  assert.equal(parse(text).models.ns.Player.name, '5n', 'strings stay strings');
  assert.equal(stringify(7n, 2), '{\n  "$bigint": "7"\n}');
  assert.equal(stringify(undefined), 'null');
});

test('parse leaves objects that only look like a BigInt alone, and keeps __proto__ an own property', () => {
  assert.deepEqual(parse('{"$bigint":"1.5"}'), { $bigint: '1.5' });
  assert.deepEqual(parse('{"$bigint":"1","other":2}'), { $bigint: '1', other: 2 });
  const hostile = parse('{"__proto__":{"$bigint":"9"}}');
  assert.equal(Object.getPrototypeOf(hostile), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(hostile, '__proto__')?.value, 9n);
  assert.throws(() => parse('{'), SyntaxError);
});

test('bigintReplacer writes BigInts as decimal strings', () => {
  assert.equal(JSON.stringify({ gold: 2n ** 70n, x: 1 }, bigintReplacer), '{"gold":"1180591620717411303424","x":1}');
});
