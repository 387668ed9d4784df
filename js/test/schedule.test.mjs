import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from '../dist/schedule.js';
import { SignalSource, StreamSource } from '../dist/stream.js';
import { deepEqual } from '../dist/equal.js';
import { ManualTimers } from './stubs.mjs';

test('requests are coalesced into one flush per animation frame, at once when it last ran a frame ago', () => {
  const timers = new ManualTimers();
  let flushes = 0;
  const coalescer = new Coalescer(timers, () => flushes++, undefined);
  for (let i = 0; i < 50; i++) coalescer.request();
  assert.equal(flushes, 0, 'nothing runs within the task that asked');
  timers.drain();
  assert.equal(flushes, 1, 'an idle coalescer flushes once the task is done, not at the next frame');
  coalescer.request();
  timers.drain();
  assert.equal(flushes, 1, 'within the same frame the next flush waits for the frame');
  timers.frame();
  assert.equal(flushes, 2);
  timers.frame();
  assert.equal(flushes, 2, 'no request, no flush');
  timers.advance(16);
  coalescer.request();
  timers.drain();
  assert.equal(flushes, 3, 'a frame after the last flush, it runs at once again');
});

test('with throttleMs, flushes are at least throttleMs apart', () => {
  const timers = new ManualTimers();
  const at = [];
  const coalescer = new Coalescer(timers, () => at.push(timers.now()), 100);
  coalescer.request();
  timers.advance(0);
  assert.deepEqual(at, [1000], 'the first flush is immediate');
  coalescer.request();
  coalescer.request();
  timers.advance(40);
  assert.deepEqual(at, [1000], 'the second waits for the throttle window');
  timers.advance(60);
  assert.deepEqual(at, [1000, 1100]);
  timers.advance(500);
  coalescer.request();
  timers.advance(0);
  assert.deepEqual(at, [1000, 1100, 1600], 'after a quiet period it runs at once');
});

test('cancel drops a scheduled flush', () => {
  const timers = new ManualTimers();
  let flushes = 0;
  const coalescer = new Coalescer(timers, () => flushes++, undefined);
  coalescer.request();
  coalescer.cancel();
  timers.frame();
  assert.equal(flushes, 0);
});

test('streams deliver to subscribers until they end, then call onEnd once', () => {
  const thrown = [];
  const stream = new StreamSource((e) => thrown.push(e));
  const seen = [];
  let ended = 0;
  const off = stream.subscribe((v) => seen.push(v), () => ended++);
  stream.subscribe(() => {
    throw new Error('listener bug');
  });
  stream.emit(1);
  off();
  stream.emit(2);
  assert.deepEqual(seen, [1]);
  assert.equal(thrown.length, 2, 'a throwing listener is reported, not fatal');
  stream.subscribe(() => {}, () => ended++);
  stream.end();
  stream.end();
  assert.equal(ended, 1);
  stream.subscribe(() => {}, () => ended++);
  assert.equal(ended, 2, 'subscribing after the end calls onEnd at once');
  assert.equal(stream.ended, true);
});

test('signals hold the current value', () => {
  const signal = new SignalSource('a');
  const seen = [];
  signal.subscribe((v) => seen.push(v));
  signal.set('b');
  assert.equal(signal.get(), 'b');
  assert.deepEqual(seen, ['b']);
});

test('deepEqual compares structure, bigints and arrays', () => {
  assert.ok(deepEqual({ a: [1, { b: 2n }] }, { a: [1, { b: 2n }] }));
  assert.ok(!deepEqual({ a: [1, { b: 2n }] }, { a: [1, { b: 3n }] }));
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!deepEqual([1], { 0: 1 }));
  assert.ok(!deepEqual(undefined, null));
  assert.ok(deepEqual(NaN, NaN));
});
