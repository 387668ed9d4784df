/**
 * One sync worker's lifetime seen from the main thread: starts it with INIT, turns its messages
 * into status, errors and DELTA callbacks, stops it with SHUTDOWN. A {@link SyncSession} keeps
 * its streams across restarts (`reset`).
 *
 * @module
 */

import {
  ReactiveError,
  SyncFatalError,
  ValidationError,
  toReactiveError,
} from './errors.js';
import { errorFields, type LogSink } from './log.js';
import { parseWorkerMessage, type MainMessage, type WorkerMessage } from './messages.js';
import type { Timers } from './schedule.js';
import { SignalSource, StreamSource } from './stream.js';
import type {
  StartTimings,
  StoreReport,
  SyncState,
  SyncTick,
  TabRole,
  Transition,
  WorkerConfig,
} from './types.js';

/** A started worker, as the session talks to it (the runtime wraps a `Worker`). */
export interface WorkerPort {
  /** Posts a message to the worker. */
  post(message: MainMessage): void;
  /** Receives the worker's messages and load/runtime errors. */
  listen(onMessage: (data: unknown) => void, onError: (error: ReactiveError) => void): void;
  /** Ends the worker at once. */
  terminate(): void;
}

/** What the worker said when it finished loading persisted state. */
export interface InitInfo {
  /** Hash of the manifest the database is keyed on. */
  readonly manifestHash: string;
  /** The Torii version the stored data was synced from; null when none is recorded (a first visit). */
  readonly toriiVersion: string | null;
  /** The database name. */
  readonly dbName: string;
  /** Model states (entity × model) restored from the database. */
  readonly restored: number;
  /** How the worker's start went: when it began and how long each step took. */
  readonly timings?: StartTimings;
}

/** Where the client is in its life. */
export type SyncPhase = 'starting' | 'ready' | 'failed' | 'stopped';

/** The sync status: the client's phase plus the worker's last ticks and transition. */
export interface SyncStatus {
  /** `starting` until INIT_ACK, `ready` while syncing, `failed` after SYNC_FATAL, `stopped` after shutdown. */
  readonly phase: SyncPhase;
  /** The entity synchronizer's state (`idle` before the first report). */
  readonly state: SyncState;
  /** Last tick per target. */
  readonly ticks: { readonly entities?: SyncTick; readonly eventMessages?: SyncTick };
  /** Last transition of any target. */
  readonly lastTransition?: Transition;
  /** What INIT_ACK reported, once it came. */
  readonly init?: InitInfo;
  /** The fatal error, in phase `failed`. */
  readonly error?: ReactiveError;
  /** Whether this tab's worker syncs and writes (`leader`) or shows another tab's (`follower`). */
  readonly tab?: TabRole;
}

/** The status before the worker reported anything. */
export const initialStatus: SyncStatus = { phase: 'starting', state: 'idle', ticks: {} };

/** Sees what the worker reports, beyond the status (the development inspector). */
export interface SessionObserver {
  /** A synchronizer state change. */
  transition(transition: Transition): void;
  /** A status tick. */
  tick(tick: SyncTick): void;
}

/** What a session needs from its host. */
export interface SessionDeps {
  /** Starts a worker. */
  spawnWorker(): WorkerPort;
  /** Timers. */
  readonly timers: Timers;
  /** Log records. */
  readonly log: LogSink;
  /** Sees every transition and tick (the development inspector). */
  readonly observer?: SessionObserver;
  /** How long `stop` waits for SHUTDOWN_ACK before terminating the worker anyway. */
  readonly shutdownGraceMs: number;
}

/** Streams and status of the sync worker across its restarts. */
export class SyncSession {
  /** The status. */
  readonly status: SignalSource<SyncStatus>;
  /** Typed errors. */
  readonly errors: StreamSource<ReactiveError>;
  private port: WorkerPort | undefined;
  private readyPromise: Promise<InitInfo> | undefined;
  private settleReady: { resolve(info: InitInfo): void; reject(error: ReactiveError): void } | undefined;
  private stopping: Promise<void> | undefined;
  private acknowledge: (() => void) | undefined;
  private closed = false;
  /** INSPECT_STORE requests waiting for their STORE_REPORT, by id. */
  private readonly inspections = new Map<
    number,
    { resolve(report: StoreReport): void; reject(error: ReactiveError): void }
  >();
  private nextInspection = 1;

  /** Whether the current worker sent INIT_ACK (its DELTAs before it are the persisted state). */
  private acknowledged = false;

  /**
   * A session for `config`; `onDelta` receives every DELTA buffer (unless `deltas` is false),
   * with `restored` set for those of the persisted state (sent before INIT_ACK); `onInit` runs
   * when INIT_ACK arrives, before `ready` resolves.
   */
  constructor(
    private readonly deps: SessionDeps,
    private readonly config: WorkerConfig,
    private readonly deltas: boolean,
    private readonly onDelta: (buffer: ArrayBuffer, restored: boolean) => void,
    private readonly onInit: (info: InitInfo) => void = () => {},
  ) {
    const report = (error: unknown) => this.report(toReactiveError(error, ValidationError), 'a listener threw');
    this.status = new SignalSource<SyncStatus>(initialStatus, report);
    this.errors = new StreamSource<ReactiveError>((error) => {
      deps.log.emit('error', 'listener.error', `an errors listener threw: ${String(error)}`, {
        data: { error },
      });
    });
    this.readyPromise = this.start();
  }

  /** Resolves on INIT_ACK of the current worker; rejects with its fatal error. */
  get ready(): Promise<InitInfo> {
    return this.readyPromise ?? this.start();
  }

  /** Whether `shutdown` ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts a worker and sends INIT (the constructor does it once); `ready` follows it. */
  start(): Promise<InitInfo> {
    const ready = new Promise<InitInfo>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    ready.catch(() => {});
    this.readyPromise = ready;
    this.acknowledged = false;
    this.status.set({ ...initialStatus });
    let port: WorkerPort;
    try {
      port = this.deps.spawnWorker();
    } catch (error) {
      this.fail(
        new SyncFatalError(
          `the sync worker could not be started: ${String(error)}`,
          { reason: 'spawn' },
          { cause: error },
        ),
      );
      return ready;
    }
    this.port = port;
    this.deps.log.emit('info', 'worker.start', 'sync worker started');
    port.listen(
      (data) => {
        if (this.port === port) this.receive(data);
      },
      (error) => {
        if (this.port === port) this.fail(error);
      },
    );
    port.post({ type: 'INIT', config: this.config, deltas: this.deltas });
    return ready;
  }

  /** Asks the worker to re-page the snapshot now. */
  forceReplay(): void {
    this.port?.post({ type: 'FORCE_REPLAY' });
  }

  /** Asks the worker to read back its persisted store (states, ledger, sync state). */
  inspectStore(): Promise<StoreReport> {
    const port = this.port;
    if (!port || this.stopping) {
      return Promise.reject(
        new ValidationError('the store can be inspected only while the sync worker runs', {
          where: 'inspectStore',
        }),
      );
    }
    const id = this.nextInspection++;
    return new Promise<StoreReport>((resolve, reject) => {
      this.inspections.set(id, { resolve, reject });
      port.post({ type: 'INSPECT_STORE', id });
    });
  }

  /** Rejects every inspection still waiting (the worker that would answer is gone). */
  private abandonInspections(): void {
    for (const { reject } of this.inspections.values()) {
      reject(new ValidationError('the sync worker stopped before it read the store', { where: 'inspectStore' }));
    }
    this.inspections.clear();
  }

  /**
   * Sends SHUTDOWN, waits for SHUTDOWN_ACK (at most the grace period), terminates the worker.
   * Concurrent calls share one stop.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopPort();
    return this.stopping;
  }

  private async stopPort(): Promise<void> {
    const port = this.port;
    if (port) {
      await new Promise<void>((resolve) => {
        const cancel = this.deps.timers.after(this.deps.shutdownGraceMs, () => {
          this.acknowledge = undefined;
          resolve();
        });
        this.acknowledge = () => {
          this.acknowledge = undefined;
          cancel();
          resolve();
        };
        port.post({ type: 'SHUTDOWN' });
      });
      port.terminate();
      if (this.port === port) this.port = undefined;
      this.abandonInspections();
      this.deps.log.emit('info', 'worker.shutdown', 'sync worker stopped');
    }
    this.settleReady?.reject(
      new SyncFatalError('the client was shut down before sync was ready', { reason: 'shutdown' }),
    );
    this.settleReady = undefined;
    this.stopping = undefined;
  }

  /** Stops the worker for good and ends the streams. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    this.status.set({ ...this.status.get(), phase: 'stopped' });
    this.status.end();
    this.errors.end();
  }

  /** Reports an error through `errors` and the logger. */
  report(error: ReactiveError, context = 'error'): void {
    this.deps.log.emit('warn', 'sync.error', `${context}: ${error.message}`, {
      ...errorFields(error.details),
      data: { name: error.name, message: error.message, context, details: error.details },
    });
    this.errors.emit(error);
  }

  /** Marks sync as failed for good: status `failed`, the error on `errors`, `ready` rejected. */
  fail(error: ReactiveError): void {
    this.deps.log.emit('error', 'sync.fatal', `sync stopped: ${error.message}`, {
      ...errorFields(error.details),
      data: { name: error.name, message: error.message, details: error.details },
    });
    this.status.set({ ...this.status.get(), phase: 'failed', error });
    this.errors.emit(error);
    this.settleReady?.reject(error);
    this.settleReady = undefined;
  }

  private receive(data: unknown): void {
    const message = parseWorkerMessage(data);
    if (message instanceof ValidationError) {
      this.report(message, 'worker message');
      return;
    }
    this.handle(message);
  }

  private handle(message: WorkerMessage): void {
    switch (message.type) {
      case 'DELTA':
        if (this.deltas) this.onDelta(message.buffer, !this.acknowledged);
        return;
      case 'INIT_ACK': {
        const init: InitInfo = {
          manifestHash: message.manifestHash,
          toriiVersion: message.toriiVersion,
          dbName: message.dbName,
          restored: message.restored,
          ...(message.timings ? { timings: message.timings } : {}),
        };
        this.deps.log.emit('info', 'sync.ready', `sync ready: ${init.restored} model states restored from ${init.dbName}`, {
          data: { ...init },
        });
        this.acknowledged = true;
        this.onInit(init);
        const current = this.status.get();
        this.status.set({ ...current, phase: current.phase === 'failed' ? 'failed' : 'ready', init });
        this.settleReady?.resolve(init);
        this.settleReady = undefined;
        return;
      }
      case 'SYNC_TICK': {
        const current = this.status.get();
        const target = message.tick.target === 'eventMessages' ? 'eventMessages' : 'entities';
        this.deps.observer?.tick(message.tick);
        this.deps.log.emit('debug', 'sync.tick', `sync tick (${message.tick.target})`, {
          target: message.tick.target,
          state: message.tick.overall.state,
          data: { tick: message.tick },
        });
        this.status.set({
          ...current,
          state: target === 'entities' ? message.tick.overall.state : current.state,
          ticks: { ...current.ticks, [target]: message.tick },
        });
        return;
      }
      case 'TRANSITION': {
        const transition = message.transition;
        const current = this.status.get();
        this.deps.observer?.transition(transition);
        this.deps.log.emit(
          'info',
          'sync.transition',
          `sync ${transition.target}: ${transition.from} → ${transition.to} (${transition.reason.kind})`,
          {
            target: transition.target,
            state: transition.to,
            data: { from: transition.from, to: transition.to, reason: transition.reason },
          },
        );
        this.status.set({
          ...current,
          state: transition.target === 'eventMessages' ? current.state : transition.to,
          lastTransition: transition,
        });
        return;
      }
      case 'ROLE':
        this.deps.log.emit('info', 'tabs.role', `this tab's worker is ${message.role.role} (epoch ${message.role.epoch})`, {
          data: { ...message.role },
        });
        this.status.set({ ...this.status.get(), tab: message.role });
        return;
      case 'SYNC_ERROR':
        this.report(toReactiveError(message.error), 'sync error');
        return;
      case 'SYNC_FATAL':
        this.fail(toReactiveError(message.error, SyncFatalError));
        return;
      case 'SHUTDOWN_ACK':
        if (message.error) this.report(toReactiveError(message.error), 'shutdown');
        this.acknowledge?.();
        return;
      case 'STORE_REPORT': {
        const waiting = this.inspections.get(message.id);
        this.inspections.delete(message.id);
        if (message.report) waiting?.resolve(message.report);
        else waiting?.reject(toReactiveError(message.error));
        return;
      }
    }
  }
}
