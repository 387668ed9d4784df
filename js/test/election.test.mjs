import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Election } from '../dist/election.js';

/** Web Locks as the election uses them: one holder, a queue, `signal` aborts, `steal` preempts. */
class FakeLocks {
  holder = null;
  queue = [];
  request(_name, options, callback) {
    return new Promise((resolve, reject) => {
      const request = { callback, resolve, reject };
      if (options.steal) {
        this.holder?.reject(Object.assign(new Error('the lock was stolen'), { name: 'AbortError' }));
        this.grant(request);
        return;
      }
      options.signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(request);
        if (at >= 0) {
          this.queue.splice(at, 1);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        }
      });
      if (this.holder) this.queue.push(request);
      else this.grant(request);
    });
  }
  grant(request) {
    this.holder = request;
    Promise.resolve()
      .then(request.callback)
      .then((value) => {
        if (this.holder !== request) return;
        this.holder = null;
        request.resolve(value);
        const next = this.queue.shift();
        if (next) this.grant(next);
      });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function worker(locks, log, name) {
  const election = new Election('db', locks, {
    lead: async (mode) => (log.push(`${name} leads (${mode})`), true),
    deposed: () => log.push(`${name} deposed`),
    renew: async () => true,
  });
  return election;
}

test('Web Locks: the first worker leads, a takeover steals the lock and deposes it, a stop hands over', async () => {
  const locks = new FakeLocks();
  const log = [];
  const a = worker(locks, log, 'a');
  const b = worker(locks, log, 'b');
  a.start();
  b.start();
  await settle();
  assert.deepEqual(log, ['a leads (lock)'], 'b waits in the queue');
  b.takeOver();
  await settle();
  assert.deepEqual(log, ['a leads (lock)', 'a deposed', 'b leads (lock)'], 'a silent leader is replaced');
  b.stop();
  await settle();
  assert.deepEqual(log.at(-1), 'a leads (lock)', 'the deposed worker queued again and leads once b leaves');
  a.stop();
});

test('the lease: a worker that loses its renewal is deposed; without a lock the claim decides', async () => {
  const log = [];
  let held = true;
  const election = new Election('db', undefined, {
    lead: async (mode) => (log.push(`leads (${mode})`), true),
    deposed: () => log.push('deposed'),
    renew: async () => held,
  });
  election.start();
  await settle();
  assert.deepEqual(log, ['leads (lease)']);
  held = false;
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.deepEqual(log, ['leads (lease)', 'deposed']);
  election.stop();
});
