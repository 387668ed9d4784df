// The client's runtime for the unit tests: hand-driven timers, a scripted worker port, and the
// real wasm modules loaded in Node (the view module: the view, database names; the worker's
// module: manifest hashing); only what needs a browser (the worker, IndexedDB's deleteDatabase)
// and the panic hook's text are stubbed.

import { readFileSync } from 'node:fs';
import * as workerModule from '../wasm/dojo_reactive.js';
import { initSync } from '../wasm/dojo_reactive_view.js';
import { mainWasm } from '../dist/runtime.js';

export { delta } from './delta.mjs';

export class ManualTimers {
  constructor() {
    this.time = 1000;
    this.timers = [];
    this.frames = [];
    this.nextId = 1;
  }
  now() {
    return this.time;
  }
  after(ms, callback) {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
  nextFrame(callback) {
    const frame = { callback };
    this.frames.push(frame);
    return () => {
      this.frames = this.frames.filter((f) => f !== frame);
    };
  }
  /** Callbacks for when the current task is done: queued with the frames (run by `frame()`, or alone by `drain()`). */
  soon(callback) {
    const frame = { callback, soon: true };
    this.frames.push(frame);
    return () => {
      this.frames = this.frames.filter((f) => f !== frame);
    };
  }
  /** Runs the callbacks `soon` queued (the microtasks after a task), not the frames. */
  drain() {
    const due = this.frames.filter((f) => f.soon);
    this.frames = this.frames.filter((f) => !f.soon);
    for (const f of due) f.callback();
  }
  /** Runs the pending animation frame callbacks (and what `soon` queued before them). */
  frame() {
    const frames = this.frames;
    this.frames = [];
    for (const f of frames) f.callback();
  }
  /** Moves the clock by `ms`, running due timers in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = end;
  }
}

export class StubPort {
  constructor() {
    this.posted = [];
    this.terminated = false;
    this.onMessage = undefined;
    this.onError = undefined;
    this.autoAckShutdown = true;
  }
  post(message) {
    this.posted.push(message);
    if (message.type === 'SHUTDOWN' && this.autoAckShutdown) {
      queueMicrotask(() => this.send({ type: 'SHUTDOWN_ACK' }));
    }
  }
  listen(onMessage, onError) {
    this.onMessage = onMessage;
    this.onError = onError;
  }
  terminate() {
    this.terminated = true;
  }
  /** Delivers a message as the worker would. */
  send(data) {
    this.onMessage(data);
  }
  ack(restored = 0) {
    this.send({ type: 'INIT_ACK', manifestHash: '0xabc', toriiVersion: '1.8.2', dbName: 'db-1', restored });
  }
}

export const ID1 = `0x${'1'.padStart(64, '0')}`;
export const ID2 = `0x${'2'.padStart(64, '0')}`;

/** The real modules, initialised from the bytes `bash js/build.sh` wrote. */
initSync({ module: readFileSync(new URL('../wasm/dojo_reactive_view_bg.wasm', import.meta.url)) });
workerModule.initSync({ module: readFileSync(new URL('../wasm/dojo_reactive_bg.wasm', import.meta.url)) });
const real = mainWasm(async () => workerModule);

/**
 * The real view with what the tests check recorded: its options, how many DELTAs were restored,
 * whether it was freed; `trap()` makes every later call throw what a Rust panic throws (the real
 * view cannot be made to panic on purpose).
 */
function recordedView(manifest, options) {
  const view = real.createView(manifest, options);
  const recorded = {
    ...view,
    options,
    restored: 0,
    freed: false,
    restore(bytes) {
      view.restore(bytes);
      recorded.restored += 1;
    },
    free() {
      recorded.freed = true;
      view.free();
    },
    trap() {
      for (const name of Object.keys(view)) {
        recorded[name] = () => {
          throw new WebAssembly.RuntimeError('unreachable');
        };
      }
    },
  };
  return recorded;
}

/** A runtime of stubs around the real wasm; `holdWasm` holds its load until `release()`. */
export function stubRuntime({ holdWasm = false } = {}) {
  const timers = new ManualTimers();
  const ports = [];
  const views = [];
  const deleted = [];
  let release;
  const gate = holdWasm ? new Promise((resolve) => (release = resolve)) : Promise.resolve();
  const wasm = {
    ...real,
    createView(manifest, options) {
      const view = recordedView(manifest, options);
      views.push(view);
      return view;
    },
    async deleteDatabase(name) {
      deleted.push(name);
    },
    /** Set `panic` to what the module's panic hook would have recorded. */
    panic: undefined,
    takePanicMessage() {
      const panic = this.panic;
      this.panic = undefined;
      return panic;
    },
  };
  const runtime = {
    timers,
    spawnWorker(workerUrl) {
      const port = new StubPort();
      port.workerUrl = workerUrl;
      ports.push(port);
      return port;
    },
    loadWasm: () => gate.then(() => wasm),
  };
  return { runtime, timers, ports, views, wasm, deleted, release: () => release?.() };
}

/** A model of the test world: `u32` members, no keys. */
const model = (tag, selector, ...members) => ({
  tag,
  class_hash: selector,
  selector,
  members: members.map((name) => ({ name, type: 'core::integer::u32', key: false })),
});

export const options = {
  toriiUrl: 'http://127.0.0.1:8080',
  worldAddress: '0x1234',
  manifest: {
    world: { class_hash: '0x1', address: '0x1234' },
    models: [model('ns-Position', '0x10', 'x'), model('ns-Moves', '0x11', 'left'), model('ns-P', '0x12', 'x')],
  },
};

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
