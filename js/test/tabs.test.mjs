import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TAB_PROTOCOL, covers, coversAll, parseTabMessage, unionTargets } from '../dist/tabs.js';

test('the leader syncs the union of the tabs\' targets: every model when one tab asks for every model', () => {
  const a = { models: ['ns-A'], eventMessages: false };
  const b = { models: [{ tag: 'ns-B', versionMember: 'v' }, 'ns-A'], eventMessages: true };
  const union = unionTargets([a, b]);
  assert.deepEqual(union, { models: ['ns-A', { tag: 'ns-B', versionMember: 'v' }], eventMessages: true });
  assert.ok(covers(union, a) && covers(union, b));
  assert.ok(!covers(a, b), 'fewer models, no event messages');
  const every = unionTargets([a, { models: undefined, eventMessages: false }]);
  assert.equal(every.models, undefined);
  assert.ok(covers(every, a));
  assert.ok(!covers(a, every));
});

test("the leader syncs every tab's sync targets, each definition once; an id taken for another definition becomes id~n", () => {
  const region = (x) => ({ Member: { model: 'ns-P', member: 'x', operator: 'Gte', value: x } });
  const a = { models: ['ns-P'], eventMessages: false, targets: [{ id: 'me', kind: 'entities', clause: { HashedKeys: ['0x1'] } }, { id: 'r', kind: 'entities', clause: region(1) }] };
  const b = { models: ['ns-P'], eventMessages: false, targets: [{ id: 'r', kind: 'entities', clause: region(1) }, { id: 'me', kind: 'entities', clause: { HashedKeys: ['0x2'] } }] };
  const union = unionTargets([a, b]);
  assert.deepEqual(
    union.targets.map((t) => [t.id, JSON.stringify(t.clause)]),
    [
      ['me', JSON.stringify({ HashedKeys: ['0x1'] })],
      ['r', JSON.stringify(region(1))],
      ['me~2', JSON.stringify({ HashedKeys: ['0x2'] })],
    ],
  );
  assert.ok(coversAll(union, a) && coversAll(union, b));
  assert.ok(!coversAll(a, b), "b's `me` is another definition");
  // A tab without targets stands for its whole kinds.
  const whole = unionTargets([a, { models: ['ns-P'], eventMessages: false }]);
  assert.deepEqual(whole.targets.map((t) => t.id), ['me', 'r', 'entities']);
  // A target in the query language is a definition of its own.
  const filtered = { models: ['ns-P'], eventMessages: false, targets: [{ id: 'r', kind: 'entities', filter: { where: [{ member: 'x', op: 'gte', value: 1 }] } }] };
  assert.deepEqual(unionTargets([a, filtered]).targets.map((t) => t.id), ['me', 'r', 'r~2']);
  assert.ok(!coversAll(a, filtered));
});

test('channel messages are checked: unknown or malformed ones are ignored, every one names its sender and protocol', () => {
  const from = 'w1';
  const protocol = TAB_PROTOCOL;
  const targets = { models: ['ns-A'], eventMessages: false };
  const beat = { type: 'HEARTBEAT', epoch: 3, sent: 7, targets, from, protocol };
  assert.deepEqual(parseTabMessage(beat), beat);
  const delta = { type: 'DELTA', epoch: 3, n: 8, target: 'entities', buffer: new ArrayBuffer(2), persisted: false, from, protocol };
  assert.equal(parseTabMessage(delta), delta);
  assert.ok(parseTabMessage({ type: 'RESET', phase: 'deleted', from, protocol }));
  assert.ok(parseTabMessage({ type: 'TARGETS', targets, from, protocol }));
  // A tab's event-log targets travel in its announcements and the leader's heartbeats.
  const withLog = { ...targets, targets: [{ id: 'feed', kind: 'eventLog', models: ['ns-Moved'] }] };
  assert.ok(parseTabMessage({ type: 'TARGETS', targets: withLog, from, protocol }));
  assert.ok(parseTabMessage({ ...beat, targets: withLog }));
  const events = {
    type: 'EVENTS',
    epoch: 3,
    target: 'feed',
    buffer: new ArrayBuffer(2),
    persisted: true,
    stored: false,
    restored: true,
    complete: false,
    from,
    protocol,
  };
  assert.equal(parseTabMessage(events), events);
  for (const bad of [
    { ...events, target: 1 },
    { ...events, complete: undefined },
    { ...events, buffer: undefined },
    { ...events, epoch: -1 },
    { ...beat, targets: { ...targets, targets: [{ id: 'x', kind: 'coins' }] } },
    { ...beat, protocol: undefined },
    { ...beat, from: 1 },
    { ...beat, sent: -1 },
    { ...delta, buffer: [1, 2] },
    { ...delta, epoch: 1.5 },
    { ...delta, persisted: undefined },
    { ...delta, target: 'coins' },
    { type: 'TARGETS', targets: { models: [1] , eventMessages: false }, from, protocol },
    { type: 'RESET', phase: 'later', from, protocol },
    { type: 'FUTURE', from, protocol: protocol + 1 },
    null,
    'HEARTBEAT',
  ]) {
    assert.equal(parseTabMessage(bad), undefined, JSON.stringify(bad));
  }
});
