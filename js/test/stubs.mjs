// Test doubles for the client's runtime: hand-driven timers, a scripted worker port and an
// in-memory view that implements the wasm View contract (API.md) closely enough for the client.

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

/** A DELTA buffer for the stub view: JSON of `[{ entityId, tag, members }]` (members null = deletion). */
export function delta(changes) {
  return new TextEncoder().encode(JSON.stringify(changes)).buffer;
}

export const ID1 = `0x${'1'.padStart(64, '0')}`;
export const ID2 = `0x${'2'.padStart(64, '0')}`;

function split(tag) {
  const at = tag.indexOf('-');
  return [tag.slice(0, at), tag.slice(at + 1)];
}

export class StubView {
  constructor(manifest, options) {
    this.manifest = manifest;
    this.options = options;
    this.synced = new Map(); // id -> Map(tag -> members)
    this.overlay = new Map(); // tx -> { entityId, model, payload, deadline, guard }
    this.queued = [];
    this.next = 1;
    this.freed = false;
  }
  applyDelta(bytes) {
    const changes = JSON.parse(new TextDecoder().decode(bytes));
    if (!Array.isArray(changes)) throw { name: 'ValidationError', message: 'bad delta' };
    const ids = [];
    for (const { entityId, tag, members } of changes) {
      const models = this.synced.get(entityId) ?? new Map();
      if (members === null) models.delete(tag);
      else models.set(tag, members);
      if (models.size === 0) this.synced.delete(entityId);
      else this.synced.set(entityId, models);
      if (!ids.includes(entityId)) ids.push(entityId);
      for (const [tx, entry] of this.overlay) {
        if (entry.entityId !== entityId || entry.model !== tag) continue;
        const state = members ?? undefined;
        const ok = entry.guard
          ? entry.guard(state)
          : state !== undefined && Object.entries(entry.payload).every(([k, v]) => state[k] === v);
        if (ok) {
          this.overlay.delete(tx);
          this.queued.push({ type: 'confirmed', transactionId: tx, entityId, model: tag });
        }
      }
    }
    return ids;
  }
  restore(bytes) {
    this.restored = (this.restored ?? 0) + 1;
    this.applyDelta(bytes);
  }
  size() {
    return this.synced.size;
  }
  merged(entityId, consistency) {
    const models = new Map(this.synced.get(entityId) ?? []);
    if (consistency !== 'synced') {
      for (const entry of this.overlay.values()) {
        if (entry.entityId === entityId) models.set(entry.model, { ...(models.get(entry.model) ?? {}), ...entry.payload });
      }
    }
    return models;
  }
  entity(entityId, consistency) {
    const models = this.merged(entityId, consistency);
    if (models.size === 0) return undefined;
    const out = { entityId, models: {} };
    for (const [tag, members] of models) {
      const [ns, name] = split(tag);
      out.models[ns] ??= {};
      out.models[ns][name] = { ...members };
    }
    return out;
  }
  query(model, spec, consistency) {
    if (!model.includes('-')) throw { name: 'ValidationError', message: `unknown model ${model}`, model };
    const ids = new Set([...this.synced.keys(), ...[...this.overlay.values()].map((e) => e.entityId)]);
    const items = [];
    for (const id of [...ids].sort()) {
      const members = this.merged(id, consistency).get(model);
      if (!members) continue;
      const where = spec.filter?.where ?? [];
      if (!where.every((p) => p.op === 'eq' && members[p.member] === p.value)) continue;
      const [ns, name] = split(model);
      items.push({ entityId: id, models: { [ns]: { [name]: { ...members } } } });
    }
    const limited = spec.limit ? items.slice(0, spec.limit) : items;
    return limited.length < items.length ? { items: limited, nextCursor: limited.at(-1).entityId } : { items };
  }
  queryIds(model, spec, consistency) {
    const { items, nextCursor } = this.query(model, spec, consistency);
    const ids = items.map((item) => item.entityId).join(',');
    return nextCursor === undefined ? { ids } : { ids, nextCursor };
  }
  entityModel(entityId, model, consistency) {
    const members = this.merged(entityId, consistency).get(model);
    if (!members) return undefined;
    const [ns, name] = split(model);
    return { entityId, models: { [ns]: { [name]: { ...members } } } };
  }
  submitOverlay(submission, nowMs) {
    const tx = submission.transactionId ?? `overlay-${this.next++}`;
    if (this.overlay.has(tx)) throw { name: 'OverlayError', message: `transaction id ${tx} is already pending`, reason: 'duplicateTransaction' };
    const timeout = submission.timeoutMs ?? this.options.overlayTimeoutMs ?? 30000;
    this.overlay.set(tx, { ...submission, deadline: nowMs + timeout });
    return { transactionId: tx };
  }
  overlayFor(entityId) {
    return [...this.overlay.entries()]
      .filter(([, e]) => e.entityId === entityId)
      .map(([tx, e]) => ({ transactionId: tx, entityId, model: e.model, payload: e.payload, submittedAtMs: 0, deadlineMs: e.deadline, guard: 'stub' }));
  }
  ackOverlay(tx) {
    if (!this.overlay.delete(tx)) throw { name: 'OverlayError', message: `no pending write ${tx}`, reason: 'unknownTransaction' };
  }
  rollbackOverlay(tx) {
    if (!this.overlay.delete(tx)) throw { name: 'OverlayError', message: `no pending write ${tx}`, reason: 'unknownTransaction' };
  }
  poll(nowMs) {
    this.polledAt = nowMs;
    for (const [tx, entry] of this.overlay) {
      if (entry.deadline <= nowMs) {
        this.overlay.delete(tx);
        this.queued.push({
          type: 'timedOut',
          transactionId: tx,
          entityId: entry.entityId,
          model: entry.model,
          error: { name: 'OverlayTimeoutError', message: `write ${tx} timed out`, transactionId: tx, entityId: entry.entityId, guardDescription: 'stub' },
        });
      }
    }
    const events = this.queued;
    this.queued = [];
    return { events, changed: [...new Set(events.map((e) => e.entityId))] };
  }
  nextWakeupMs() {
    if (this.queued.length > 0) return 0;
    const deadlines = [...this.overlay.values()].map((e) => e.deadline);
    return deadlines.length ? Math.min(...deadlines) : undefined;
  }
  free() {
    this.freed = true;
  }
  /** Makes every later call trap as a Rust panic does (and leave the object borrowed). */
  trap() {
    for (const name of ['applyDelta', 'restore', 'size', 'entity', 'query', 'queryIds', 'entityModel', 'submitOverlay', 'overlayFor', 'ackOverlay', 'rollbackOverlay', 'poll', 'nextWakeupMs', 'free']) {
      this[name] = () => {
        throw new WebAssembly.RuntimeError('unreachable');
      };
    }
  }
}

/** A runtime of stubs; `wasmGate` holds the wasm load until `release()`. */
export function stubRuntime({ holdWasm = false } = {}) {
  const timers = new ManualTimers();
  const ports = [];
  const views = [];
  const deleted = [];
  let release;
  const gate = holdWasm ? new Promise((resolve) => (release = resolve)) : Promise.resolve();
  const wasm = {
    createView(manifest, options) {
      const view = new StubView(manifest, options);
      views.push(view);
      return view;
    },
    async deleteDatabase(name) {
      deleted.push(name);
    },
    defaultDbName: (url, world) => `default-${url}-${world}`,
    computeManifestHash(manifest) {
      const parsed = JSON.parse(manifest);
      if (!parsed.world) throw Object.assign(new Error('manifest: no world'), { name: 'ValidationError' });
      return `manifest-hash:v1:${manifest.length}`;
    },
    buildManifestFingerprint(manifest) {
      return { hash: this.computeManifestHash(manifest), worldClassHash: '0x0', entries: [] };
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

export const options = {
  toriiUrl: 'http://127.0.0.1:8080',
  worldAddress: '0x1234',
  manifest: { world: { address: '0x1234' }, models: [] },
};

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
