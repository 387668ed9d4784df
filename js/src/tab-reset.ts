/**
 * `reset()` across the tabs of one database (see `docs/tabs.md`): the tab that resets says so
 * on the database's channel before it deletes the database and again once it is deleted; every
 * other tab stops its worker when the reset starts (so that its connection does not hold the
 * deletion up) and, once the database is deleted, drops its view and rejoins.
 *
 * @module
 */

import { TAB_PROTOCOL, openTabChannel, parseTabMessage, type ResetMessage, type TabChannel } from './tabs.js';

/** How long a tab waits for another tab's deletion before it rejoins anyway (ms). */
export const RESET_WAIT_MS = 5000;

/** The main thread's end of a database's channel, for `reset`. */
export class ResetChannel {
  private readonly channel: TabChannel | undefined;
  private readonly id = `main-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  private deletedWaiters: (() => void)[] = [];

  /** Listens on `dbName`'s channel; `onStarted` runs when another tab starts a reset. */
  constructor(dbName: string, onStarted: () => void) {
    this.channel = openTabChannel(dbName);
    this.channel?.addEventListener('message', (event) => {
      const message = parseTabMessage(event.data);
      if (message?.type !== 'RESET') return;
      if (message.phase === 'started') onStarted();
      else this.settle();
    });
  }

  /** Tells the other tabs where this tab's reset is. */
  announce(phase: ResetMessage['phase']): void {
    try {
      this.channel?.postMessage({ type: 'RESET', phase, from: this.id, protocol: TAB_PROTOCOL });
    } catch {
      // Closed: the client is shutting down.
    }
  }

  /** Resolves when another tab says the database is deleted, or after `timeoutMs`. */
  deleted(timeoutMs: number = RESET_WAIT_MS): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.settle(), timeoutMs);
      this.deletedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private settle(): void {
    const waiters = this.deletedWaiters;
    this.deletedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Stops listening. */
  close(): void {
    this.settle();
    this.channel?.close();
  }
}
