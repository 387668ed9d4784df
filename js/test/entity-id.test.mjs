import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { options, stubRuntime } from './stubs.mjs';

const member = (name, type, key = false) => ({ name, type, key });
const keyed = {
  ...options,
  manifest: {
    world: { class_hash: '0x1', address: '0x1234' },
    models: [
      {
        tag: 'ns-Tile',
        class_hash: '0x20',
        members: [member('x', 'core::integer::u32', true), member('y', 'core::integer::u32', true), member('owner', 'core::felt252')],
      },
      { tag: 'ns-Score', class_hash: '0x21', members: [member('player', 'core::starknet::contract_address::ContractAddress', true), member('points', 'core::integer::u256')] },
    ],
  },
};

async function started(stubs = stubRuntime()) {
  const client = createClient(keyed, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  return client;
}

test('entityId hashes a model\'s keys in declaration order, whatever the order of the properties', async () => {
  const client = await started();
  const id = client.entityId('ns-Tile', { x: 1, y: 2 });
  assert.match(id, /^0x[0-9a-f]{64}$/);
  assert.equal(client.entityId('ns-Tile', { y: 2, x: 1 }), id);
  assert.equal(client.entityId('ns-Tile', { x: 1n, y: '2' }), id, 'a BigInt or a decimal string is the same key');
  assert.notEqual(client.entityId('ns-Tile', { x: 2, y: 1 }), id);
  assert.notEqual(client.entityId('ns-Score', { player: '0x1' }), client.entityId('ns-Score', { player: '0x2' }));
  await client.shutdown();
});

test('entityId refuses missing, unknown and ill-typed keys, unknown models, and a client not loaded yet', async () => {
  const client = await started();
  const refusals = [
    [() => client.entityId('ns-Tile', { x: 1 }), /need `y`/],
    [() => client.entityId('ns-Tile', { x: 1, y: 2, owner: '0x1' }), /no key member `owner` \(its keys: x, y\)/],
    [() => client.entityId('ns-Tile', { x: -1, y: 2 }), /ns-Tile\.x must be a u32/],
    [() => client.entityId('ns-Nope', { x: 1 }), /ns-Nope/],
    [() => client.entityId('ns-Tile', null), /`keys` must be an object/],
  ];
  for (const [call, message] of refusals) {
    assert.throws(call, (error) => error instanceof errors.ValidationError && message.test(error.message), call.toString());
  }
  await client.shutdown();
  const loading = createClient(keyed, stubRuntime({ holdWasm: true }).runtime);
  assert.throws(() => loading.entityId('ns-Tile', { x: 1, y: 2 }), /await client\.ready/);
  await loading.shutdown();
});

test('mutate refuses an entity id that is not spelt as one, with a typed error saying how to get one', async () => {
  const client = await started();
  for (const entityId of ['', '42', 'player-1', '0x', '0xZZ', `0x${'1'.repeat(65)}`, 42, undefined]) {
    assert.throws(
      () => client.mutate('ns-Tile', { owner: '0x1' }, { entityId }),
      (error) =>
        error instanceof errors.ValidationError &&
        error.argument === 'entityId' &&
        error.message.includes('client.entityId("ns-Tile", { key: value })'),
      String(entityId),
    );
  }
  await client.shutdown();
});

test('mutate refuses an entity id other than the one the payload\'s keys name, and takes the right one', async () => {
  const client = await started();
  const id = client.entityId('ns-Tile', { x: 1, y: 2 });
  assert.throws(
    () => client.mutate('ns-Tile', { x: 1, y: 2, owner: '0x5' }, { entityId: '0x1' }),
    (error) => error instanceof errors.ValidationError && error.reason === 'keysMismatch' && error.details.expected === id,
  );
  const mutation = client.mutate('ns-Tile', { x: 1, y: 2, owner: '0x5' }, { entityId: id.replace(/^0x0+/, '0x').toUpperCase().replace('0X', '0x') });
  assert.equal(client.getOverlayFor(id).length, 1, 'the same id spelt otherwise is accepted');
  mutation.rollback();
  const partial = client.mutate('ns-Tile', { owner: '0x6' }, { entityId: '0x1' });
  assert.equal(client.getOverlayFor('0x1').length, 1, 'a payload without every key is not checked');
  partial.rollback();
  await client.shutdown();
});

test('a transaction refuses a write whose entity id is not spelt as one or is not its keys\' id, naming the write', async () => {
  const client = await started();
  const id = client.entityId('ns-Tile', { x: 1, y: 2 });
  assert.throws(
    () => client.mutate([{ entityId: 'player-1', model: 'ns-Tile', set: { owner: '0x5' } }]),
    (error) => error instanceof errors.ValidationError && error.argument === 'writes[0].entityId',
  );
  assert.throws(
    () =>
      client.mutate([
        { entityId: id, model: 'ns-Tile', set: { owner: '0x5' } },
        { entityId: '0x1', model: 'ns-Tile', set: { x: 1, y: 2, owner: '0x6' } },
      ]),
    (error) =>
      error instanceof errors.ValidationError &&
      error.reason === 'keysMismatch' &&
      error.argument === 'writes[1].entityId' &&
      error.details.expected === id,
  );
  assert.equal(client.getOverlayFor(id).length, 0, 'a refused transaction shows nothing');
  const mutation = client.mutate([{ entityId: id, model: 'ns-Tile', set: { x: 1, y: 2, owner: '0x5' } }]);
  assert.equal(client.getOverlayFor(id).length, 1);
  mutation.rollback();
  await client.shutdown();
});
