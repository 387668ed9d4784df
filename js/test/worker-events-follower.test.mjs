// A follower's worker entry and the leader's relayed event-log changes (docs/events.md, "Tabs"):
// those of a target wait until its own stored log went to the main thread whole (the chunks
// after INIT_ACK, the last flagged `restored`), then every change of its own `eventLog` targets
// reaches the main thread in order, with the leader's flags; another tab's target and an older
// leader's late batches do not.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, send, settle } from './worker-scope.mjs';

const glue = await loadWorker();
const targets = [
  { id: 'world', kind: 'entities' },
  { id: 'feed', kind: 'eventLog' },
];

test('relayed event-log changes wait for the stored log, then apply in order; others are not shown', async () => {
  glue.claimHeld = { epoch: 4, owner: 'leader', protocol: 2 };
  let restored;
  glue.openGate = new Promise((resolve) => (restored = resolve));
  const leader = new BroadcastChannel('dojo-reactive:db-http://x-0x1');
  const relay = (epoch, target, bytes) =>
    leader.postMessage({
      type: 'EVENTS',
      epoch,
      target,
      buffer: new Uint8Array(bytes).buffer,
      persisted: true,
      stored: false,
      restored: true,
      complete: true,
      from: 'leader',
      protocol: 2,
    });
  send({ type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}', targets }, deltas: true });
  await settle(10);
  relay(4, 'feed', [4, 1]);
  relay(4, 'theirs', [4, 9]);
  relay(4, 'feed', [4, 2]);
  await settle(10);
  restored();
  await settle(10);
  const shown = () => posted.filter((m) => m.type === 'EVENTS').map((m) => [...new Uint8Array(m.buffer)]);
  assert.deepEqual(shown(), [], 'nothing relayed is applied before the stored log');
  // The stored log, in chunks after INIT_ACK: relayed changes wait for its last.
  const chunk = (restored, bytes) =>
    glue.emit({ type: 'EVENTS', target: 'feed', persisted: true, stored: true, restored, complete: false }, new Uint8Array(bytes));
  chunk(false, [0, 1]);
  relay(4, 'feed', [4, 3]);
  await settle(10);
  assert.deepEqual(shown(), [[0, 1]], 'nothing relayed is applied while the stored log is sent');
  chunk(true, [0, 2]);
  await settle(10);
  assert.deepEqual(shown(), [[0, 1], [0, 2], [4, 1], [4, 2], [4, 3]], "then in order, the other tab's target left out");
  const flags = posted.filter((m) => m.type === 'EVENTS').map((m) => [m.target, m.stored, m.restored, m.complete]);
  assert.deepEqual(flags.slice(1, 3), [
    ['feed', true, true, false],
    ['feed', false, true, true],
  ], 'each with its own flags: the leader walked the history');

  // A new leader (epoch 5): the old one's late batch is dropped, the new one's applied.
  leader.postMessage({
    type: 'HEARTBEAT',
    epoch: 5,
    sent: 0,
    targets: { models: undefined, eventMessages: false, targets },
    from: 'leader-2',
    protocol: 2,
  });
  await settle(10);
  relay(4, 'feed', [4, 3]);
  relay(5, 'feed', [5, 1]);
  await settle(10);
  assert.deepEqual(shown(), [[0, 1], [0, 2], [4, 1], [4, 2], [4, 3], [5, 1]]);
  leader.close();
  send({ type: 'SHUTDOWN' });
  await settle(10);
});
