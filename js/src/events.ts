/**
 * Historical event messages on the main thread: the logs of the `eventLog` targets, as the
 * worker sends them (`EVENTS` batches: the stored log after `ready`, in chunks newest first,
 * then each change), read by `client.events.query` and followed by `client.events.subscribe`
 * (see `docs/events.md`).
 *
 * @module
 */

import { ValidationError } from './errors.js';
import type { EventsFlags } from './messages.js';
import type { Entity, ModelTag, RegisteredSchema, WorldSchema } from './schema.js';

/**
 * One event message of an event log: the one model state it carried, in an entity's shape
 * (`models.namespace.Model`), with its identity and times. Frozen.
 */
export interface EventMessage<S extends WorldSchema = RegisteredSchema> {
  /**
   * Its identity, `entityId:model:executedAt:contentHash:occurrence` (Torii sends none: two
   * deliveries of one event get the same, two real events of one second and content differ
   * by their occurrence).
   */
  readonly id: string;
  /** The entity it belongs to (`0x` + 64 hex digits). */
  readonly entityId: string;
  /** Its model tag, `namespace-Model`. */
  readonly model: string;
  /** Block timestamp (Unix seconds). */
  readonly executedAt: number;
  /** When Torii indexed it (Unix seconds). */
  readonly createdAt: number;
  /** Its key members as felts (`0x` + 64 hex digits), in declaration order. */
  readonly keys: readonly string[];
  /** Namespace → model name → member → value: the one model state it carried (typed by the schema, as an entity's). */
  readonly models: Entity<S>['models'];
}

/** A read of the event logs; every field narrows, none is required. */
export interface EventQuery<S extends WorldSchema = RegisteredSchema> {
  /** Only the events of this `eventLog` target (by id); every target's when absent. */
  readonly target?: string;
  /** Only events of these model tags. */
  readonly models?: readonly ModelTag<S>[];
  /** Only events whose key felts start with these (`undefined` / `null` matches any felt). */
  readonly keys?: readonly (string | bigint | null | undefined)[];
  /** Only events executed at or after this second. */
  readonly from?: number;
  /** Only events executed at or before this second. */
  readonly to?: number;
  /** At most this many: the oldest with `order: 'asc'`, the newest with `'desc'`. */
  readonly limit?: number;
  /** `asc` (oldest first, the default) or `desc` (newest first). */
  readonly order?: 'asc' | 'desc';
}

/** The event logs of a client (`client.events`). */
export interface Events<S extends WorldSchema = RegisteredSchema> {
  /** The held events `query` selects, in its order (an event in two targets' logs once). */
  query(query?: EventQuery<S>): readonly EventMessage<S>[];
  /**
   * Calls `listener` with the new events `query` selects (oldest first) as they are added by
   * the live stream or a catch-up (not those of the stored log shown at the start); returns
   * the unsubscribe function. `limit` and `order` do not apply.
   */
  subscribe(query: EventQuery<S> | undefined, listener: (events: readonly EventMessage<S>[]) => void): () => void;
  /** Calls `listener` after every change of any log (also each chunk of a stored log as it arrives); returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** A decoded EVENTS batch (`View.decodeEvents`). */
export interface DecodedEvents {
  readonly target: string;
  readonly snapshot: boolean;
  readonly added: readonly EventMessage[];
  readonly positions: readonly number[];
  readonly evicted: readonly string[];
}

/** Where one target's event log stands on the page. */
export interface EventLogState {
  /** Whether its whole stored log is on the page (after a start, chunks arrive newest first until it is). */
  readonly restored: boolean;
  /** Whether it is complete: restored, and a walk read its whole history within the retention. */
  readonly complete: boolean;
}

/** A live change (not a chunk of the stored log): what a batch without flags is. */
const LIVE: EventsFlags = { stored: false, restored: true, complete: false };

const UNKNOWN: EventLogState = Object.freeze({ restored: false, complete: false });

interface Held {
  readonly event: EventMessage;
  readonly position: number;
}

/** A checked query: keys canonicalised. */
interface Checked {
  readonly target?: string;
  readonly models?: ReadonlySet<string>;
  readonly keys?: readonly (bigint | undefined)[];
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly desc: boolean;
}

function felt(value: string | bigint, at: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(value)) return BigInt(value);
  throw new ValidationError(`${at} must be a 0x-prefixed felt or a bigint, got ${JSON.stringify(String(value))}`, {
    argument: at,
  });
}

function check(query: EventQuery | undefined): Checked {
  if (query === undefined) return { from: 0, to: Infinity, limit: Infinity, desc: false };
  if (typeof query !== 'object' || query === null) {
    throw new ValidationError('an event query must be an object', { argument: 'query' });
  }
  const number = (value: unknown, at: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new ValidationError(`query.${at} must be a number ≥ 0`, { argument: `query.${at}` });
    }
    return value;
  };
  if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc') {
    throw new ValidationError("query.order must be 'asc' or 'desc'", { argument: 'query.order' });
  }
  return {
    ...(query.target === undefined ? {} : { target: query.target }),
    ...(query.models === undefined ? {} : { models: new Set(query.models) }),
    ...(query.keys === undefined
      ? {}
      : { keys: query.keys.map((k, i) => (k === undefined || k === null ? undefined : felt(k, `query.keys[${i}]`))) }),
    from: number(query.from, 'from', 0),
    to: number(query.to, 'to', Infinity),
    limit: number(query.limit, 'limit', Infinity),
    desc: query.order === 'desc',
  };
}

function matches(query: Checked, event: EventMessage): boolean {
  if (event.executedAt < query.from || event.executedAt > query.to) return false;
  if (query.models && !query.models.has(event.model)) return false;
  const keys = query.keys;
  if (keys) {
    if (keys.length > event.keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const want = keys[i];
      if (want !== undefined && BigInt(event.keys[i] ?? '0x0') !== want) return false;
    }
  }
  return true;
}

const before = (a: Held, b: Held): boolean =>
  a.event.executedAt < b.event.executedAt || (a.event.executedAt === b.event.executedAt && a.position < b.position);

/**
 * One target's log: its events in the log's order (by second, then position), each id once.
 * Held as `older` (in reverse: the oldest last) followed by `newer`, so that both a stored log's
 * chunks (each older than what is held) and a stream's batches (each newer) are added without
 * copying what is held.
 */
class Log {
  private older: Held[] = [];
  private newer: Held[] = [];
  readonly ids = new Set<string>();

  get length(): number {
    return this.older.length + this.newer.length;
  }

  /** The `i`th event in the log's order. */
  at(i: number): Held {
    const older = this.older.length;
    return (i < older ? this.older[older - 1 - i] : this.newer[i - older])!;
  }

  /** Every event, in the log's order. */
  all(): Held[] {
    return this.older.length === 0 ? this.newer : [...this.older].reverse().concat(this.newer);
  }

  /**
   * Adds `items` (in the log's order, as a batch carries them) that are not held; returns the
   * added events. A stream's batch goes after what is held, a stored log's chunk or a walk's
   * page of history before it: both without copying what is held; anything else is one merge.
   */
  insertAll(items: readonly Held[]): EventMessage[] {
    const fresh = items.filter((held) => !this.ids.has(held.event.id) && (this.ids.add(held.event.id), true));
    const first = fresh[0];
    const last = fresh[fresh.length - 1];
    if (!first || !last) return [];
    const length = this.length;
    if (length === 0 || !before(first, this.at(length - 1))) {
      for (const held of fresh) this.newer.push(held);
    } else if (before(last, this.at(0))) {
      for (let i = fresh.length - 1; i >= 0; i--) this.older.push(fresh[i]!);
    } else {
      const events = this.all();
      const merged: Held[] = [];
      let i = 0;
      for (const held of fresh) {
        while (i < events.length && !before(held, events[i]!)) merged.push(events[i++]!);
        merged.push(held);
      }
      while (i < events.length) merged.push(events[i++]!);
      this.older = [];
      this.newer = merged;
    }
    return fresh.map((held) => held.event);
  }

  evict(ids: readonly string[]): void {
    const gone = new Set(ids.filter((id) => this.ids.delete(id)));
    if (gone.size === 0) return;
    this.newer = this.all().filter((held) => !gone.has(held.event.id));
    this.older = [];
  }
}

/** The logs of every `eventLog` target of a client. */
export class EventLogs implements Events {
  private readonly logs = new Map<string, Log>();
  private readonly listeners = new Set<{ readonly query: Checked; readonly listener: (events: readonly EventMessage[]) => void }>();
  private readonly changeListeners = new Set<() => void>();
  private readonly states = new Map<string, EventLogState>();

  constructor(private readonly report: (error: unknown) => void) {}

  /** Where the log of target `id` stands (neither restored nor complete before its first batch). */
  state(id: string): EventLogState {
    return this.states.get(id) ?? UNKNOWN;
  }

  /**
   * Applies one decoded batch, then tells the listeners: `subscribe`'s of the new events (none
   * for a chunk of the stored log), then `onChange`'s.
   */
  apply(batch: DecodedEvents, flags: EventsFlags = LIVE): void {
    let log = this.logs.get(batch.target);
    if (batch.snapshot || !log) {
      log = new Log();
      this.logs.set(batch.target, log);
    }
    const added = log.insertAll(batch.added.map((event, i) => ({ event, position: batch.positions[i] ?? 0 })));
    log.evict(batch.evicted);
    if (batch.snapshot && batch.added.length === 0 && batch.evicted.length === 0) this.logs.delete(batch.target);
    this.states.set(batch.target, Object.freeze({ restored: flags.restored, complete: flags.restored && flags.complete }));
    if (!batch.snapshot && !flags.stored && added.length > 0) {
      for (const { query, listener } of [...this.listeners]) {
        if (query.target !== undefined && query.target !== batch.target) continue;
        const selected = added.filter((event) => matches(query, event));
        if (selected.length > 0) this.call(() => listener(selected));
      }
    }
    for (const listener of [...this.changeListeners]) this.call(listener);
  }

  private call(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.report(error);
    }
  }

  query(query?: EventQuery): readonly EventMessage[] {
    const checked = check(query);
    const logs =
      checked.target === undefined ? [...this.logs.values()] : [this.logs.get(checked.target)].filter((l) => l !== undefined);
    let held: Pick<Log, 'length' | 'at'>;
    if (logs.length === 1) {
      held = logs[0]!;
    } else {
      const seen = new Set<string>();
      const merged = logs
        .flatMap((log) => log.all())
        .filter((h) => !seen.has(h.event.id) && (seen.add(h.event.id), true))
        .sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      held = { length: merged.length, at: (i) => merged[i]! };
    }
    const out: EventMessage[] = [];
    const step = checked.desc ? -1 : 1;
    for (let i = checked.desc ? held.length - 1 : 0; i >= 0 && i < held.length && out.length < checked.limit; i += step) {
      const event = held.at(i).event;
      if (matches(checked, event)) out.push(event);
    }
    return Object.freeze(out);
  }

  subscribe(query: EventQuery | undefined, listener: (events: readonly EventMessage[]) => void): () => void {
    if (typeof listener !== 'function') {
      throw new ValidationError('events.subscribe needs a listener function', { argument: 'listener' });
    }
    const entry = { query: check(query), listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }
}
