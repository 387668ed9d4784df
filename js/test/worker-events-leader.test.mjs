// The leader's worker entry relays every change of its event logs (docs/events.md, "Tabs"):
// each EVENTS batch goes on the channel, under its epoch and target, with its flags, whether or
// not a follower was heard (a stored log's chunks but the last excepted: a follower restores it
// itself); its own main thread gets only the batches of its own `eventLog` targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, send, settle } from './worker-scope.mjs';

const glue = await loadWorker();
const targets = [
  { id: 'world', kind: 'entities' },
  { id: 'feed', kind: 'eventLog' },
];

test("the leader relays each event-log change on the channel and shows its own targets' only", async () => {
  const tab = new BroadcastChannel('dojo-reactive:db-http://x-0x1');
  const heard = [];
  tab.onmessage = ({ data }) => heard.push(data);
  send({ type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}', targets }, deltas: true });
  await settle(10);
  assert.equal(glue.led, 1);
  const stored = { stored: true, restored: false, complete: false };
  // Its stored log, in two chunks: only the last is relayed (a follower reads the store itself).
  glue.emit({ type: 'EVENTS', target: 'feed', persisted: true, ...stored }, new Uint8Array([0, 1]));
  glue.emit({ type: 'EVENTS', target: 'feed', persisted: true, ...stored, restored: true, complete: true }, new Uint8Array([0, 2]));
  // No follower heard: relayed all the same.
  glue.emit({ type: 'EVENTS', target: 'feed', persisted: true, stored: false, restored: true, complete: true }, new Uint8Array([1, 2]));
  // Another tab's target, synced in the union: relayed, not shown here.
  glue.emit({ type: 'EVENTS', target: 'theirs', persisted: false, stored: false, restored: true, complete: false }, new Uint8Array([3]));
  await settle(10);
  const relayed = heard
    .filter((m) => m.type === 'EVENTS')
    .map((m) => [m.epoch, m.target, [...new Uint8Array(m.buffer)], m.persisted, m.stored, m.restored, m.complete]);
  assert.deepEqual(relayed, [
    [1, 'feed', [0, 2], true, true, true, true],
    [1, 'feed', [1, 2], true, false, true, true],
    [1, 'theirs', [3], false, false, true, false],
  ]);
  const shown = posted.filter((m) => m.type === 'EVENTS').map((m) => [...new Uint8Array(m.buffer)]);
  assert.deepEqual(shown, [[0, 1], [0, 2], [1, 2]]);
  tab.close();
  send({ type: 'SHUTDOWN' });
  await settle(10);
});
