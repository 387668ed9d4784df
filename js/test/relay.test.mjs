// The relay between tabs (docs/tabs.md): the leader's view of its followers (who is there, the
// union it syncs, whether to relay at all) and a follower's view of the relayed sequence (when
// a DELTA it never got means reading the database again).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FOLLOWER_GONE_MS, Followers } from '../dist/followers.js';
import { RelayGaps } from '../dist/relay-gaps.js';
import { unionTargets } from '../dist/tabs.js';

test('a follower that stops announcing leaves the union, and with no follower left nothing is relayed', () => {
  const followers = new Followers();
  const own = { models: ['ns-A'], eventMessages: false };
  assert.equal(followers.listening(0), false, 'alone: nothing to relay');
  followers.hear('b', { models: ['ns-B'], eventMessages: false }, 0);
  followers.hear('c', { models: ['ns-C'], eventMessages: true }, 0);
  assert.equal(followers.listening(1), true);
  // b announces again, c's tab has gone.
  followers.hear('b', { models: ['ns-B'], eventMessages: false }, FOLLOWER_GONE_MS - 10);
  const later = FOLLOWER_GONE_MS + 10;
  assert.deepEqual(unionTargets([own, ...followers.live(later)]), { models: ['ns-A', 'ns-B'], eventMessages: false });
  assert.equal(followers.listening(2 * FOLLOWER_GONE_MS), false, 'every follower silent: nothing is relayed');
  followers.hear('c', { models: undefined, eventMessages: false }, 3 * FOLLOWER_GONE_MS);
  assert.equal(unionTargets([own, ...followers.live(3 * FOLLOWER_GONE_MS)]).models, undefined, 'a tab that comes back counts again');
});

test('a follower notices the DELTAs it never got: numbers skipped, a newer epoch that did not start at 1, a heartbeat ahead', () => {
  const gaps = new RelayGaps();
  gaps.restored(3, 10);
  assert.equal(gaps.delta(3, 9), false, 'older than the restore: held');
  assert.equal(gaps.delta(3, 11), false);
  assert.equal(gaps.delta(3, 13), true, '12 was skipped');
  assert.equal(gaps.heartbeat(3, 13), false, 'every numbered DELTA arrived');
  assert.equal(gaps.heartbeat(3, 15), true, '14 and 15 were numbered but never relayed to this tab');
  assert.equal(gaps.heartbeat(3, 15), false, 'reported once: the re-read gets what the store holds');
  assert.equal(gaps.delta(4, 1), false, 'a new leader starts at 1');
  assert.equal(gaps.delta(3, 16), false, 'an old leader is ignored');
  assert.equal(gaps.delta(5, 3), true, 'a newer leader whose first DELTAs never came');
  assert.equal(gaps.heartbeat(6, 0), false, 'a new leader that numbered nothing yet');
  gaps.restored(2, 50);
  assert.equal(gaps.delta(6, 1), false, 'an older mark changes nothing');
});
