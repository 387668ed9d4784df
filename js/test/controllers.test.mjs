import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControllerCache, canonicalAddress } from '../dist/controllers.js';

const addr = (n) => `0x${n.toString(16).padStart(64, '0')}`;

/** A fake RetrieveControllers that records its requests. */
function fakeTorii(known) {
  const calls = [];
  const call = async (addresses, usernames) => {
    calls.push({ addresses: [...addresses], usernames: [...usernames] });
    return Object.entries(known)
      .filter(([address, username]) => addresses.includes(address) || usernames.includes(username))
      .map(([address, username]) => ({ address, username, deployedAt: 1 }));
  };
  return { call, calls };
}

test('lookups of one tick are one request; answers are cached, absent ones too', async () => {
  const torii = fakeTorii({ [addr(1)]: 'alice', [addr(2)]: 'bob' });
  const cache = new ControllerCache(torii.call);
  const [a, b, none] = await Promise.all([cache.get('0x1'), cache.get(addr(2)), cache.get('0x3')]);
  assert.equal(a.username, 'alice');
  assert.equal(b.username, 'bob');
  assert.equal(none, undefined);
  assert.equal(torii.calls.length, 1, 'one batched request');
  assert.deepEqual(torii.calls[0].addresses.sort(), [addr(1), addr(2), addr(3)]);
  assert.equal(await cache.get('0x01'), a, 'cached, same object');
  assert.equal(await cache.get('0x3'), undefined);
  assert.equal(torii.calls.length, 1, 'no second request, even for the account without a controller');
  assert.equal(cache.peek('0x1'), a);
  assert.equal(cache.peek('0x3'), null, 'known to have none');
  assert.equal(cache.peek('0x4'), undefined, 'not asked for');
});

test('entries older than the TTL are fetched again; a rename is announced', async () => {
  let now = 0;
  const known = { [addr(1)]: 'alice' };
  const torii = fakeTorii(known);
  const cache = new ControllerCache(torii.call, () => now, 1000);
  let announced = 0;
  cache.subscribe(() => announced++);
  const first = await cache.get('0x1');
  now = 999;
  await cache.get('0x1');
  assert.equal(torii.calls.length, 1);
  known[addr(1)] = 'alice2';
  now = 1000;
  assert.equal(cache.peek('0x1'), first, 'a stale entry is still shown');
  const renamed = await cache.get('0x1');
  assert.equal(torii.calls.length, 2);
  assert.equal(renamed.username, 'alice2');
  assert.ok(announced >= 2);
});

test('a failed lookup rejects every waiter and caches nothing; byUsername caches by address', async () => {
  let fail = true;
  const torii = fakeTorii({ [addr(5)]: 'eve' });
  const cache = new ControllerCache(async (a, u) => {
    if (fail) throw new Error('Torii down');
    return torii.call(a, u);
  });
  await assert.rejects(Promise.all([cache.get('0x5'), cache.lookup(['0x5'])]), /Torii down/);
  assert.equal(cache.peek('0x5'), undefined);
  fail = false;
  const eve = await cache.byUsername('eve');
  assert.equal(eve.address, addr(5));
  assert.equal(cache.peek('0x5'), eve);
  assert.equal(await cache.byUsername('nobody'), undefined);
  await assert.rejects(cache.get('not an address'), { name: 'ValidationError' });
  assert.equal(canonicalAddress('0xAB'), addr(0xab));
});
