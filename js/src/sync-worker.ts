/**
 * A sync worker without a view: keeps the local database converged to Torii (for a later page
 * load, or another tab's client) and reports status and errors; no entity data reaches the
 * main thread.
 *
 * @module
 */

import type { Runtime } from './client.js';
import { ValidationError, type ReactiveError } from './errors.js';
import { checkOptions, type SyncWorkerOptions } from './options.js';
import { LogSink } from './log.js';
import { SyncSession, type InitInfo, type SyncStatus } from './session.js';
import type { EventStream, Signal } from './stream.js';

/** What `createSyncWorker` returns. */
export interface SyncWorkerHandle {
  /** Resolves when the worker has loaded the database and resumed syncing (INIT_ACK). */
  readonly ready: Promise<InitInfo>;
  /** The current sync status. */
  getSyncStatus(): SyncStatus;
  /** The sync status as it changes. */
  readonly syncStatus: Signal<SyncStatus>;
  /** Typed errors. */
  readonly errors: EventStream<ReactiveError>;
  /** Re-pages the snapshot now. */
  forceReplay(): void;
  /** Stops the worker (SHUTDOWN, awaits its confirmation), ends the streams. */
  shutdown(): Promise<void>;
}

/** A sync-only worker on `runtime` (the package's `createSyncWorker` passes the browser runtime). */
export function createSyncWorkerOn(options: SyncWorkerOptions, runtime: Runtime): SyncWorkerHandle {
  const checked = checkOptions('createSyncWorker', options, false);
  const session = new SyncSession(
    {
      spawnWorker: () => runtime.spawnWorker(checked.workerUrl),
      timers: runtime.timers,
      log: new LogSink(checked.logger, checked.logLevel, () => runtime.timers.now()),
      shutdownGraceMs: 5000,
      supervision: checked.supervision,
    },
    checked.config,
    false,
    () => {},
  );
  return {
    get ready() {
      return session.ready;
    },
    getSyncStatus: () => session.status.get(),
    syncStatus: session.status,
    errors: session.errors,
    forceReplay() {
      if (session.isClosed) {
        throw new ValidationError('forceReplay: the sync worker was shut down', { where: 'forceReplay' });
      }
      session.forceReplay();
    },
    shutdown: () => session.shutdown(),
  };
}
