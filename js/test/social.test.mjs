import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../dist/client.js';
import * as errors from '../dist/errors.js';
import { options, settle, stubRuntime } from './stubs.mjs';

const chat = {
  tag: 'ns-Chat',
  class_hash: '0x20',
  selector: '0x20',
  members: [
    { name: 'identity', type: 'core::starknet::contract_address::ContractAddress', key: true },
    { name: 'channel', type: 'core::felt252', key: true },
    { name: 'text', type: 'core::byte_array::ByteArray', key: false },
  ],
};

async function started() {
  const stubs = stubRuntime();
  const manifest = { ...options.manifest, models: [...options.manifest.models, chat] };
  const client = createClient({ ...options, manifest }, stubs.runtime);
  const port = stubs.ports[0];
  port.ack();
  await client.ready;
  return { client, port };
}

const typedData = (text, primaryType = 'ns-Chat') => ({
  types: {},
  primaryType,
  domain: { name: 'game', version: '1', chainId: 'SN_SEPOLIA', revision: '1' },
  message: { identity: '0xabc', channel: '0x1', text },
});

test('controller lookups of one tick are one TORII_CALL; the answer is cached', async () => {
  const { client, port } = await started();
  const both = Promise.all([client.controllers.get('0x1'), client.controllers.get('0x2')]);
  await settle();
  const calls = port.posted.filter((m) => m.type === 'TORII_CALL');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].call, 'controllers');
  assert.deepEqual([...calls[0].args[0]].sort(), [`0x${'1'.padStart(64, '0')}`, `0x${'2'.padStart(64, '0')}`]);
  port.send({ type: 'TORII_ANSWER', id: calls[0].id, result: [{ address: '0x1', username: 'alice', deployedAt: 3 }] });
  const [alice, none] = await both;
  assert.deepEqual(alice, { address: `0x${'1'.padStart(64, '0')}`, username: 'alice', deployedAt: 3 });
  assert.equal(none, undefined);
  assert.equal(await client.controllers.get('0x1'), alice);
  assert.equal(port.posted.filter((m) => m.type === 'TORII_CALL').length, 1, 'cached');
  const failing = client.controllers.get('0x9');
  await settle();
  port.send({ type: 'TORII_ANSWER', id: port.posted.at(-1).id, error: { name: 'TransportError', message: 'Torii call failed' } });
  await assert.rejects(failing, errors.TransportError);
});

test('publishMessage shows the message at once, sends the typed data, and rolls back on a PublishError', async () => {
  const { client, port } = await started();
  const sent = client.publishMessage(typedData('hi'), ['0x1', 2n]);
  const entityId = client.entityId('ns-Chat', { identity: '0xabc', channel: '0x1' });
  assert.equal(client.getOverlayFor(entityId).length, 1, 'shown at once');
  assert.equal(client.query('ns-Chat').items[0]?.models.ns.Chat.text, 'hi');
  const call = port.posted.at(-1);
  assert.equal(call.type, 'TORII_CALL');
  assert.equal(call.call, 'publish');
  assert.deepEqual(JSON.parse(call.args[0]), typedData('hi'));
  assert.deepEqual(call.args[1], ['0x1', '0x2']);
  port.send({
    type: 'TORII_ANSWER',
    id: call.id,
    error: { name: 'PublishError', message: 'Torii refused the message: Invalid signature', reason: 'Invalid signature', code: 'Internal' },
  });
  await assert.rejects(sent.published, (e) => e instanceof errors.PublishError && e.reason === 'Invalid signature');
  await assert.rejects(sent.confirmed, (e) => e instanceof errors.OverlayError && e.cause instanceof errors.PublishError);
  assert.equal(client.getOverlayFor(entityId).length, 0, 'rolled back');

  const ok = client.publishMessage(typedData('again'), ['0x1']);
  const second = port.posted.at(-1);
  port.send({ type: 'TORII_ANSWER', id: second.id, result: { id: `0x1234:${entityId}`, entityId } });
  assert.deepEqual(await ok.published, { id: `0x1234:${entityId}`, entityId });
  assert.equal(client.getOverlayFor(entityId).length, 1, 'pending until the indexed message arrives');

  assert.throws(() => client.publishMessage(typedData('x', 'ns-Nope'), ['0x1']), errors.ValidationError);
  assert.throws(() => client.publishMessage(typedData('x'), []), errors.ValidationError);
  assert.throws(() => client.publishMessage(typedData('x'), ['not a felt']), errors.ValidationError);
});

test('publishMessages shows every message at once as one transaction, sends one batch, and rolls all back on a refusal', async () => {
  const { client, port } = await started();
  const message = (channel, text) => ({ ...typedData(text), message: { identity: '0xabc', channel, text } });
  const ids = ['0x1', '0x2'].map((channel) => client.entityId('ns-Chat', { identity: '0xabc', channel }));
  const batch = [
    { typedData: message('0x1', 'one'), signature: ['0x1'] },
    { typedData: message('0x2', 'two'), signature: [2n, '0x3'] },
  ];
  const refused = client.publishMessages(batch);
  assert.deepEqual(ids.map((id) => client.getOverlayFor(id).length), [1, 1], 'both shown at once');
  const call = port.posted.at(-1);
  assert.equal(call.call, 'publishBatch');
  assert.deepEqual(call.args[0].map((json) => JSON.parse(json).message.text), ['one', 'two']);
  assert.deepEqual(call.args[1], [['0x1'], ['0x2', '0x3']]);
  port.send({
    type: 'TORII_ANSWER',
    id: call.id,
    error: { name: 'PublishError', message: 'Torii refused the message: Invalid signature', reason: 'Invalid signature', code: 'Internal' },
  });
  await assert.rejects(refused.published, errors.PublishError);
  await assert.rejects(refused.confirmed, errors.OverlayError);
  assert.deepEqual(ids.map((id) => client.getOverlayFor(id).length), [0, 0], 'all rolled back as one');

  const ok = client.publishMessages(batch);
  const second = port.posted.at(-1);
  port.send({ type: 'TORII_ANSWER', id: second.id, result: ids.map((entityId) => ({ id: `0x1234:${entityId}`, entityId })) });
  assert.deepEqual(
    (await ok.published).map((p) => p.entityId),
    ids,
    'one answer per message, in order',
  );
  assert.deepEqual(ids.map((id) => client.getOverlayFor(id).length), [1, 1], 'pending until the indexed messages arrive');

  assert.throws(() => client.publishMessages([]), errors.ValidationError);
  assert.throws(
    () => client.publishMessages([batch[0], { typedData: message('0x3', 'x'), signature: ['nope'] }]),
    (e) => e instanceof errors.ValidationError && e.message.includes('messages[1].signature[0]'),
  );
  assert.equal(port.posted.at(-1), second, 'nothing sent for a refused argument');
});
