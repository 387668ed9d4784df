/**
 * Cartridge controllers (usernames of accounts), read from Torii's `RetrieveControllers`
 * through the sync worker, cached in memory: {@link Controllers}.
 *
 * The cache keeps every answer (a username, or "no controller") for {@link CONTROLLER_TTL_MS};
 * a stale entry is still returned by `peek` while it is fetched again. It is not persisted:
 * usernames are small, asked for on demand, and a reload asks Torii once more. Lookups made in
 * the same tick (every `useController` of a render) go to Torii as one request.
 *
 * @module
 */

import { ValidationError } from './errors.js';
import { canonicalEntityId, isEntityId } from './selectors.js';
import type { Unsubscribe } from './stream.js';

/** A Cartridge controller: an account and its username. */
export interface Controller {
  /** The account address, `0x` + 64 lower-case hex digits. */
  readonly address: string;
  /** The Cartridge username. */
  readonly username: string;
  /** When the account was deployed (Unix seconds). */
  readonly deployedAt: number;
}

/** How long an answer is kept before it is asked for again (10 minutes). */
export const CONTROLLER_TTL_MS = 10 * 60 * 1000;

/** Usernames of accounts: `client.controllers`. */
export interface Controllers {
  /**
   * The controller of an account (`0x` address), undefined when it has none. Cached; calls in
   * the same tick are batched. Rejects with a ValidationError for a bad address, or the
   * TransportError of the call (nothing is cached then).
   */
  get(address: string): Promise<Controller | undefined>;
  /** The controllers of these accounts (one request for the ones not cached), by canonical address. */
  lookup(addresses: readonly string[]): Promise<ReadonlyMap<string, Controller>>;
  /** The controller with this username, undefined when there is none (asks Torii; caches the answer by address). */
  byUsername(username: string): Promise<Controller | undefined>;
  /**
   * The cached controller of an account, without asking Torii: the controller, `null` when it
   * is known to have none, `undefined` when not asked for yet. The same object until it changes.
   */
  peek(address: string): Controller | null | undefined;
  /** Calls `listener` whenever a cached answer changes. */
  subscribe(listener: () => void): Unsubscribe;
  /** Forgets every cached answer (the next lookups ask Torii again). */
  clear(): void;
}

/** `RetrieveControllers` of these addresses and usernames (every page), as the worker answers. */
export type ControllerCall = (addresses: readonly string[], usernames: readonly string[]) => Promise<unknown>;

/** `0x` + 64 lower-case hex digits, or undefined when `address` is not a `0x` felt. */
export function canonicalAddress(address: unknown): string | undefined {
  return typeof address === 'string' && isEntityId(address) ? canonicalEntityId(address) : undefined;
}

function controllersOf(result: unknown): Controller[] {
  if (!Array.isArray(result)) return [];
  const found: Controller[] = [];
  for (const item of result) {
    if (typeof item !== 'object' || item === null) continue;
    const { address, username, deployedAt } = item as { [key: string]: unknown };
    const canonical = canonicalAddress(address);
    if (canonical === undefined || typeof username !== 'string') continue;
    found.push(
      Object.freeze({ address: canonical, username, deployedAt: typeof deployedAt === 'number' ? deployedAt : 0 }),
    );
  }
  return found;
}

interface Entry {
  readonly controller: Controller | null;
  readonly at: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** The {@link Controllers} of a client: a cache over `call`. */
export class ControllerCache implements Controllers {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  /** Addresses asked for in this tick, and who waits for them. */
  private batch: { addresses: Set<string>; waiters: Waiter[] } | undefined;
  /** Addresses sent and not answered yet, with the promise of their answer. */
  private readonly inflight = new Map<string, Promise<void>>();

  /** A cache asking `call`, timing entries with `now`. */
  constructor(
    private readonly call: ControllerCall,
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = CONTROLLER_TTL_MS,
  ) {}

  async get(address: string): Promise<Controller | undefined> {
    const found = await this.lookup([address]);
    return found.get(canonicalAddress(address) ?? '');
  }

  async lookup(addresses: readonly string[]): Promise<ReadonlyMap<string, Controller>> {
    if (!Array.isArray(addresses)) {
      throw new ValidationError('controllers.lookup takes an array of 0x addresses', { argument: 'addresses' });
    }
    const wanted = addresses.map((address) => {
      const canonical = canonicalAddress(address);
      if (canonical === undefined) {
        throw new ValidationError(`controllers: ${JSON.stringify(address)} is not a 0x address`, {
          argument: 'address',
        });
      }
      return canonical;
    });
    const waits: Promise<void>[] = [];
    for (const address of new Set(wanted)) {
      if (this.fresh(address)) continue;
      waits.push(this.inflight.get(address) ?? this.enqueue(address));
    }
    await Promise.all(waits);
    const found = new Map<string, Controller>();
    for (const address of wanted) {
      const controller = this.entries.get(address)?.controller;
      if (controller) found.set(address, controller);
    }
    return found;
  }

  async byUsername(username: string): Promise<Controller | undefined> {
    if (typeof username !== 'string' || username === '') {
      throw new ValidationError('controllers.byUsername takes a non-empty username', { argument: 'username' });
    }
    const found = controllersOf(await this.call([], [username]));
    const at = this.now();
    for (const controller of found) this.store(controller.address, controller, at);
    this.announce();
    return found.find((controller) => controller.username === username);
  }

  peek(address: string): Controller | null | undefined {
    const canonical = canonicalAddress(address);
    return canonical === undefined ? undefined : this.entries.get(canonical)?.controller;
  }

  subscribe(listener: () => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.entries.clear();
    this.announce();
  }

  /** Whether `address` has an answer younger than the TTL. */
  fresh(address: string): boolean {
    const entry = this.entries.get(address);
    return entry !== undefined && this.now() - entry.at < this.ttlMs;
  }

  /** Adds `address` to this tick's request (sent at the end of the tick). */
  private enqueue(address: string): Promise<void> {
    if (!this.batch) {
      const batch = { addresses: new Set<string>(), waiters: [] as Waiter[] };
      this.batch = batch;
      queueMicrotask(() => void this.send(batch));
    }
    const batch = this.batch;
    batch.addresses.add(address);
    const wait = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.inflight.set(address, wait);
    return wait;
  }

  private async send(batch: { addresses: Set<string>; waiters: Waiter[] }): Promise<void> {
    if (this.batch === batch) this.batch = undefined;
    const addresses = [...batch.addresses];
    try {
      const found = controllersOf(await this.call(addresses, []));
      const at = this.now();
      const byAddress = new Map(found.map((controller) => [controller.address, controller]));
      for (const address of addresses) this.store(address, byAddress.get(address) ?? null, at);
      for (const waiter of batch.waiters) waiter.resolve();
      this.announce();
    } catch (error) {
      for (const waiter of batch.waiters) waiter.reject(error);
    } finally {
      for (const address of addresses) this.inflight.delete(address);
    }
  }

  /** Keeps an answer; the entry keeps its controller object when nothing changed. */
  private store(address: string, controller: Controller | null, at: number): void {
    const old = this.entries.get(address)?.controller;
    const same =
      old === controller ||
      (old && controller && old.username === controller.username && old.deployedAt === controller.deployedAt);
    this.entries.set(address, { controller: same ? (old ?? null) : controller, at });
  }

  private announce(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
