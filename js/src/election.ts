/**
 * The writer election of the workers sharing one database (see `docs/tabs.md`): with Web Locks
 * (a lock named after the database; queued, or stolen from a silent leader), or, where
 * `navigator.locks` is missing (a page that is not a secure context), a lease in the database
 * renewed every {@link HEARTBEAT_MS}. Winning only lets a worker try: it leads once it claimed
 * the database's writer record, whose epoch fences every write, so a deposed leader that has
 * not noticed yet (frozen) still cannot write.
 *
 * @module
 */

import { HEARTBEAT_MS } from './tabs.js';

/** How the election runs. */
export type ElectionMode = 'lock' | 'lease';

/** What the election asks of its worker. */
export interface ElectionHooks {
  /** This worker may lead: claim the writer record and start syncing; resolves whether it leads. */
  lead(mode: ElectionMode): Promise<boolean>;
  /** This worker must stop writing now (its lock was stolen or its lease lost). */
  deposed(): void;
  /** Renews the lease (lease mode, while leading); resolves false when another worker holds it. */
  renew(): Promise<boolean>;
}

/** The parts of `navigator.locks` used here. */
export interface LockManagerLike {
  request(
    name: string,
    options: { readonly signal?: AbortSignal; readonly steal?: boolean },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/** The Web Lock manager of this context, if it has one. */
export function lockManager(): LockManagerLike | undefined {
  const navigator = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  const locks = navigator?.locks;
  return locks && typeof locks.request === 'function' ? locks : undefined;
}

/** One worker's part in the election of one database. */
export class Election {
  private leading = false;
  private stopped = false;
  private trying = false;
  /** Ends the held lock's callback (releases the lock). */
  private release: (() => void) | undefined;
  /** Aborts the queued lock request. */
  private queued: AbortController | undefined;
  private renewal: ReturnType<typeof setInterval> | undefined;

  /** An election over the lock (or lease) `name`; `locks` undefined selects the lease. */
  constructor(
    private readonly name: string,
    private readonly locks: LockManagerLike | undefined,
    private readonly hooks: ElectionHooks,
  ) {}

  /** `lock` with Web Locks, else `lease`. */
  get mode(): ElectionMode {
    return this.locks ? 'lock' : 'lease';
  }

  /** Joins: queues for the lock, or tries the lease at once. */
  start(): void {
    if (this.locks) this.request(false);
    else void this.tryLease();
  }

  /** The leader is silent (frozen, gone) or runs older code: take over now. */
  takeOver(): void {
    if (this.leading || this.stopped || this.trying) return;
    if (this.locks) this.request(true);
    else void this.tryLease();
  }

  /** Stops leading (another worker claimed the database) and queues again. */
  stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopRenewal();
    const release = this.release;
    this.release = undefined;
    release?.();
    if (this.locks && !this.stopped) this.request(false);
  }

  /** Leaves the election for good (releases the lock: the next worker leads at once). */
  stop(): void {
    this.stopped = true;
    this.leading = false;
    this.stopRenewal();
    this.queued?.abort();
    this.queued = undefined;
    this.release?.();
    this.release = undefined;
  }

  private request(steal: boolean): void {
    const locks = this.locks;
    if (!locks) return;
    this.queued?.abort();
    const controller = new AbortController();
    this.queued = steal ? undefined : controller;
    this.trying = steal;
    const options = steal ? { steal: true } : { signal: controller.signal };
    locks
      .request(this.name, options, async () => {
        if (this.queued === controller) this.queued = undefined;
        this.trying = false;
        if (this.stopped) return;
        let won = false;
        try {
          won = await this.hooks.lead('lock');
        } catch {
          won = false;
        }
        if (!won || this.stopped) {
          // Let another worker try; queue again after a pause.
          if (!this.stopped) setTimeout(() => this.request(false), HEARTBEAT_MS);
          return;
        }
        this.leading = true;
        await new Promise<void>((resolve) => {
          this.release = resolve;
        });
      })
      .catch(() => {
        // AbortError: this queued request was replaced (a steal), or the held lock was stolen.
        this.trying = false;
        if (!this.leading) return;
        this.leading = false;
        this.release = undefined;
        this.hooks.deposed();
        if (!this.stopped) this.request(false);
      });
  }

  private async tryLease(): Promise<void> {
    if (this.trying || this.leading || this.stopped) return;
    this.trying = true;
    try {
      const won = await this.hooks.lead('lease');
      if (won && !this.stopped) {
        this.leading = true;
        this.renewal = setInterval(() => void this.renew(), HEARTBEAT_MS);
      }
    } catch {
      // The claim failed (storage): the watchdog tries again.
    } finally {
      this.trying = false;
    }
  }

  private async renew(): Promise<void> {
    if (!this.leading) return;
    let held = false;
    try {
      held = await this.hooks.renew();
    } catch {
      held = false;
    }
    if (held || !this.leading) return;
    this.leading = false;
    this.stopRenewal();
    this.hooks.deposed();
  }

  private stopRenewal(): void {
    if (this.renewal !== undefined) clearInterval(this.renewal);
    this.renewal = undefined;
  }
}
