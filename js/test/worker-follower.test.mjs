// A follower's worker entry (docs/tabs.md): relayed DELTAs that arrive while it reads the
// database wait for the read; then those the store already held (by the relay marks the read
// saw: the wasm `holdsRelayed`) are dropped, the others reach the main thread in order, and so
// do later ones unless the store held them too.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, send, settle as settleNow } from './worker-scope.mjs';

const settle = () => settleNow(10);
const glue = await loadWorker();

test('relayed DELTAs the restored store held are dropped, the newer ones applied in order', async () => {
  // Another tab leads under epoch 4; the store this tab reads holds its DELTAs up to n = 2.
  glue.claimHeld = { epoch: 4, owner: 'leader', protocol: 2 };
  glue.holds = (target, epoch, n, persisted) => target === 'entities' && ((epoch === 4 && n <= 2) || (epoch < 4 && persisted));
  let restored;
  glue.openGate = new Promise((resolve) => (restored = resolve));
  const leader = new BroadcastChannel('dojo-reactive:db-http://x-0x1');
  const relay = (epoch, n, persisted = true) =>
    leader.postMessage({ type: 'DELTA', epoch, n, target: 'entities', buffer: new Uint8Array([epoch, n]).buffer, persisted, from: 'leader', protocol: 2 });
  send({ type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' }, deltas: true });
  await settle();
  relay(3, 9, true); // an older leader's stored DELTA
  relay(3, 10, false); // an older leader's DELTA that was never stored
  relay(4, 1);
  relay(4, 2);
  relay(4, 3);
  await settle();
  const shown = () => posted.filter((m) => m.type === 'DELTA').map((m) => [...new Uint8Array(m.buffer)]);
  assert.deepEqual(shown(), [], 'nothing relayed is applied while the stored state is read');
  restored();
  await settle();
  assert.deepEqual(shown(), [[3, 10], [4, 3]], 'what the store held is dropped, the rest applied in order');
  relay(4, 2); // late: the store held it
  relay(4, 4);
  await settle();
  assert.deepEqual(shown(), [[3, 10], [4, 3], [4, 4]]);
  leader.close();
  send({ type: 'SHUTDOWN' });
  await settle();
});
