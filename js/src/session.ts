/**
 * One sync worker's lifetime seen from the main thread: starts it with INIT, turns its messages
 * into status, errors and DELTA callbacks, stops it with SHUTDOWN, and supervises it: a worker
 * that dies (an error event, a panic, or no message for `watchdogMs` after its first SYNC_TICK) is
 * terminated and started again on the same database, with backoff, a bounded number of times
 * in a row. A {@link SyncSession} keeps its streams across restarts (supervised, or `reset`).
 *
 * @module
 */

import {
  ReactiveError,
  SyncFatalError,
  TransportError,
  ValidationError,
  WorkerRestartError,
  toReactiveError,
} from './errors.js';
import { errorFields, type LogSink } from './log.js';
import {
  parseWorkerMessage,
  type EventsFlags,
  type MainMessage,
  type ToriiCall,
  type ToriiCallMessage,
  type WorkerMessage,
} from './messages.js';
import type { CheckedSupervision } from './options.js';
import type { Cancel, Timers } from './schedule.js';
import { SignalSource, StreamSource } from './stream.js';
import type {
  Persistence,
  RestoredTargets,
  StartTimings,
  StoreReport,
  SyncState,
  SyncTargetSpec,
  SyncTick,
  TabRole,
  TargetKind,
  TargetState,
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
  /**
   * Where the data is kept: `indexedDb`, or `memory` when the browser offers no IndexedDB
   * (some private modes; a StorageError with `reason: 'unavailable'` says so too).
   */
  readonly persistence?: Persistence;
  /**
   * Where each of the page's sync targets stands once the stored data is in the view, by kind:
   * a target stored complete under the same definition is complete from here, before Torii is
   * asked anything (`client.targets` reads it until the kind's first tick).
   */
  readonly targets?: RestoredTargets;
}

/** Where the client is in its life. */
export type SyncPhase = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

/** The sync status: the client's phase plus the worker's last ticks and transition. */
export interface SyncStatus {
  /**
   * `starting` until INIT_ACK, `ready` once the persisted state is in the view (whatever Torii
   * does), `restarting` from a worker's death to its successor's INIT_ACK (the view keeps what
   * it showed), `failed` after SYNC_FATAL (or too many restarts), `stopped` after shutdown.
   */
  readonly phase: SyncPhase;
  /** Times the worker died and was restarted since the client was created. */
  readonly restarts: number;
  /**
   * The client's sync state (`idle` before the first report): the entity synchronizer's when
   * the client syncs entities; otherwise (only token or event-message targets) the least
   * advanced state of its synchronizers (a token kind's periodic re-read of a quiet stream does
   * not show through an entity client's state); `offline` while Torii cannot be
   * reached or does not answer in time (retried with backoff, the stored data shown). Each
   * kind's own state is in `ticks[kind].overall.state`.
   */
  readonly state: SyncState;
  /** Last tick per target. */
  readonly ticks: { readonly [K in TargetKind]?: SyncTick };
  /** Last transition of any target. */
  readonly lastTransition?: Transition;
  /** What INIT_ACK reported, once it came. */
  readonly init?: InitInfo;
  /**
   * Before the first INIT_ACK: where the targets of each kind whose stored data is already in
   * the view stand (kinds are restored in the order the page declares their first target, so
   * the first kind's targets are complete before the others are read). Cleared at INIT_ACK,
   * whose `targets` say the same for every kind.
   */
  readonly restoring?: RestoredTargets;
  /** The fatal error, in phase `failed`. */
  readonly error?: ReactiveError;
  /** Whether this tab's worker syncs and writes (`leader`) or shows another tab's (`follower`). */
  readonly tab?: TabRole;
}

/** How far from synced each state is, for {@link leadState}: the first listed is shown first. */
const urgency: readonly SyncState[] = [
  'halted',
  'offline',
  'retrying',
  'lagging',
  'bootstrapping',
  'replaying',
  'pausing',
  'streaming',
  'idle',
];

/**
 * The client's state from its synchronizers' (by kind, those that reported): the entity
 * synchronizer's when there is one (a token kind's periodic re-read of a quiet stream does not
 * show through); otherwise the least advanced of them, so that a client of only token targets
 * is `streaming` once every kind is; `idle` when none reported.
 */
function leadState(states: ReadonlyMap<TargetKind, SyncState>): SyncState {
  const entities = states.get('entities');
  if (entities !== undefined) return entities;
  let lead: SyncState = 'idle';
  for (const state of states.values()) {
    if (urgency.indexOf(state) < urgency.indexOf(lead)) lead = state;
  }
  return lead;
}

/** The status before the worker reported anything. */
export const initialStatus: SyncStatus = { phase: 'starting', restarts: 0, state: 'idle', ticks: {} };

/** Optimistic writes pending on the main thread, which SYNC_TICKs are completed with. */
export interface OverlayCounts {
  /** Every pending write. */
  readonly total: number;
  /** Pending writes per model tag. */
  readonly perModel: ReadonlyMap<string, number>;
}

/** Why the worker is restarted (`reason` of {@link WorkerRestartError}). */
export type RestartReason = 'error' | 'watchdog' | 'panic' | 'viewPanic';

/** A worker that ran this long since its last restart without dying ends the row of restarts. */
export const stableAfterMs = 60_000;

/** How long a watchdog that found the worker silent waits for queued messages before giving up on it. */
export function watchdogConfirmMs(watchdogMs: number): number {
  return Math.min(1000, watchdogMs / 4);
}

/** The wait before the `n`th restart in a row (1-based): 500 ms doubling, at most 8 s. */
export function restartDelayMs(n: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, n - 1));
}

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
  /** How the worker is watched and restarted. */
  readonly supervision: CheckedSupervision;
  /** The main thread's pending optimistic writes (a client's overlay), put into SYNC_TICKs. */
  overlayCounts?(): OverlayCounts;
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
  /** SET_TARGETS requests waiting for their TARGETS_SET, by id. */
  private readonly retargets = new Map<
    number,
    { resolve(digests: { readonly [id: string]: string }): void; reject(error: ReactiveError): void }
  >();
  /** TORII_CALL requests waiting for their TORII_ANSWER, by id. */
  private readonly calls = new Map<number, { resolve(result: unknown): void; reject(error: ReactiveError): void }>();
  /** The sync targets set at run time (a restarted worker starts from them). */
  private targets: readonly SyncTargetSpec[] | undefined;
  /** The current worker's last reported state per kind (the status's `state` is {@link leadState} of it). */
  private readonly kindStates = new Map<TargetKind, SyncState>();

  /** Whether the current worker sent INIT_ACK (its DELTAs before it are the persisted state). */
  private acknowledged = false;
  /** Whether the current worker posted anything (an error before that is a failed load). */
  private heardFrom = false;
  /** When the current worker last posted a message (main-thread clock). */
  private lastHeardAt = 0;
  /** The armed watchdog (from the worker's first SYNC_TICK). */
  private watchdog: Cancel | undefined;
  /** The restart waiting for its backoff. */
  private restartTimer: Cancel | undefined;
  /** Restarts since the client was created. */
  private restarts = 0;
  /** Restarts in a row (reset by a worker that lived `stableAfterMs`). */
  private restartRow = 0;
  /** When the last restart was decided. */
  private lastRestartAt = Number.NEGATIVE_INFINITY;

  /**
   * A session for `config`; `onDelta` receives every DELTA buffer (unless `deltas` is false),
   * with `restored` set for those of the persisted state (sent before INIT_ACK); `onInit` runs
   * when INIT_ACK arrives, before `ready` resolves; `onEvents` receives every EVENTS buffer
   * (unless `deltas` is false); `onRestart` runs just before a supervised
   * restart starts the new worker (whose persisted state then follows as restored DELTAs);
   * `onRestored` receives each RESTORED before INIT_ACK, in order with the DELTAs (the view
   * reports it back through {@link SyncSession.kindRestored} once they are applied).
   */
  constructor(
    private readonly deps: SessionDeps,
    private readonly config: WorkerConfig,
    private readonly deltas: boolean,
    private readonly onDelta: (buffer: ArrayBuffer, restored: boolean) => void,
    private readonly onInit: (info: InitInfo) => void = () => {},
    private readonly onRestart: () => void = () => {},
    private readonly onEvents: (buffer: ArrayBuffer, flags: EventsFlags) => void = () => {},
    private readonly onRestored: (kind: TargetKind, targets: readonly TargetState[]) => void = () => {},
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

  /**
   * One kind's stored data is in the shown view (its RESTORED, after the DELTAs before it):
   * its targets stand as `targets` until INIT_ACK. Ignored once INIT_ACK came or outside the
   * first start (a restarted worker's restore is shown at its INIT_ACK).
   */
  kindRestored(kind: TargetKind, targets: readonly TargetState[]): void {
    const current = this.status.get();
    if (this.acknowledged || current.phase !== 'starting') return;
    this.status.set({ ...current, restoring: { ...current.restoring, [kind]: targets } });
  }

  /**
   * Resolves on the first INIT_ACK (again after `start`, and after a restart for a view panic);
   * rejects with the fatal error.
   */
  get ready(): Promise<InitInfo> {
    return this.readyPromise ?? this.start();
  }

  /** Whether `shutdown` ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts a worker and sends INIT (the constructor does it once); `ready` follows it. */
  start(): Promise<InitInfo> {
    const ready = this.renewReady();
    this.kindStates.clear();
    this.status.set({ ...initialStatus, restarts: this.restarts });
    this.spawn();
    return ready;
  }

  /** A new pending `ready` (the current one when it has not settled yet). */
  private renewReady(): Promise<InitInfo> {
    if (this.settleReady && this.readyPromise) return this.readyPromise;
    const ready = new Promise<InitInfo>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    ready.catch(() => {});
    this.readyPromise = ready;
    return ready;
  }

  /** Starts a worker on the session's configuration and sends INIT. */
  private spawn(): void {
    this.acknowledged = false;
    this.heardFrom = false;
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
      return;
    }
    this.port = port;
    this.deps.log.emit('info', 'worker.start', 'sync worker started');
    port.listen(
      (data) => {
        if (this.port !== port) return;
        this.heardFrom = true;
        this.lastHeardAt = this.deps.timers.now();
        this.receive(data);
      },
      (error) => {
        if (this.port !== port) return;
        // An error before the worker said anything is its script failing to load: fatal.
        if (this.heardFrom) this.restart('error', error);
        else this.fail(error);
      },
    );
    // A restarted worker starts from the targets set last (`client.targets`).
    const config = this.targets ? { ...this.config, targets: this.targets } : this.config;
    port.post({ type: 'INIT', config, deltas: this.deltas });
  }

  /**
   * Takes the current worker as dead: terminates it and, unless this was one restart too many
   * in a row, starts another on the same database after a backoff (status `restarting`, a
   * WorkerRestartError on `errors`). `cause` is what showed the death; `panic` the panic text.
   * Does nothing while no worker runs (stopped, or a restart already under way).
   */
  restart(reason: RestartReason, cause?: ReactiveError, panic?: string): void {
    const port = this.port;
    if (!port || this.stopping || this.closed || this.status.get().phase === 'failed') return;
    this.disarm();
    port.terminate();
    this.port = undefined;
    this.abandonInspections();
    const now = this.deps.timers.now();
    if (now - this.lastRestartAt >= stableAfterMs) this.restartRow = 0;
    this.lastRestartAt = now;
    const what = {
      error: 'the sync worker failed',
      watchdog: `the sync worker sent nothing for ${this.deps.supervision.watchdogMs} ms`,
      panic: 'the sync worker panicked',
      viewPanic: 'the main-thread view panicked',
    }[reason];
    const detail = `${panic ?? cause?.message ?? ''}`;
    const why = detail === '' ? '' : `: ${detail}`;
    if (this.restartRow >= this.deps.supervision.maxRestarts) {
      this.fail(
        new SyncFatalError(
          `${what}${why}; the sync worker was restarted ${this.restartRow} times in a row, so it is not restarted again (reload the page or create a new client)`,
          { reason: 'workerCrashed', attempts: this.restartRow + 1, ...(panic === undefined ? {} : { panic }) },
          { cause },
        ),
      );
      return;
    }
    this.restartRow += 1;
    this.restarts += 1;
    const delayMs = reason === 'viewPanic' ? 0 : restartDelayMs(this.restartRow);
    const error = new WorkerRestartError(
      `${what}${why}; the sync worker is restarted on the same database in ${delayMs} ms (restart ${this.restarts}) and the view is rebuilt from the stored state`,
      { reason, restarts: this.restarts, delayMs, ...(panic === undefined ? {} : { panic }) },
      { cause },
    );
    this.deps.log.emit('warn', 'worker.restart', error.message, {
      data: { reason, restarts: this.restarts, delayMs, panic, cause: cause?.message },
    });
    // The view still shows the stored state, so `ready` stays resolved, unless the view is gone.
    if (reason === 'viewPanic') this.renewReady();
    this.kindStates.clear();
    this.status.set({
      ...this.status.get(),
      phase: 'restarting',
      restarts: this.restarts,
      state: 'idle',
      ticks: {},
      restoring: undefined,
    });
    this.errors.emit(error);
    this.restartTimer = this.deps.timers.after(delayMs, () => {
      this.restartTimer = undefined;
      if (this.closed || this.stopping) return;
      this.onRestart();
      this.spawn();
    });
  }

  /** Arms the watchdog of the current worker: restarted when it posts nothing for `watchdogMs`. */
  private arm(): void {
    const port = this.port;
    if (!port) return;
    this.disarm();
    const limit = this.deps.supervision.watchdogMs;
    const wait = Math.max(0, this.lastHeardAt + limit - this.deps.timers.now());
    const due = this.deps.timers.now() + wait;
    this.watchdog = this.deps.timers.after(wait, () => {
      this.watchdog = undefined;
      if (this.port !== port) return;
      const now = this.deps.timers.now();
      // Fired this late, the page itself was frozen or busy: the worker gets a full window.
      if (now - due > limit / 2) this.lastHeardAt = now;
      if (now - this.lastHeardAt < limit) {
        this.arm();
        return;
      }
      // Messages queued behind a busy main thread are read before the worker is given up.
      const heard = this.lastHeardAt;
      this.watchdog = this.deps.timers.after(watchdogConfirmMs(limit), () => {
        this.watchdog = undefined;
        if (this.port !== port) return;
        if (this.lastHeardAt === heard) this.restart('watchdog');
        else this.arm();
      });
    });
  }

  private disarm(): void {
    this.watchdog?.();
    this.watchdog = undefined;
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

  /**
   * Asks the worker to sync `targets` from now on; resolves each target's digest by id (a
   * SYNC_TICK's `targets[i].digest`), rejects with the ValidationError the worker found.
   */
  setTargets(targets: readonly SyncTargetSpec[]): Promise<{ readonly [id: string]: string }> {
    const port = this.port;
    if (!port || this.stopping) {
      return Promise.reject(
        new ValidationError('sync targets can be changed only while the sync worker runs', { where: 'targets' }),
      );
    }
    const id = this.nextInspection++;
    return new Promise<{ readonly [id: string]: string }>((resolve, reject) => {
      this.retargets.set(id, {
        resolve: (digests) => {
          this.targets = targets;
          resolve(digests);
        },
        reject,
      });
      port.post({ type: 'SET_TARGETS', id, targets });
    });
  }

  /**
   * A one-shot Torii call through the worker's client (see `ToriiCallMessage`); rejects with
   * the worker's typed error, or a TransportError when the worker stops first.
   */
  toriiCall(call: ToriiCall, args: ToriiCallMessage['args']): Promise<unknown> {
    const port = this.port;
    if (!port || this.stopping) {
      return Promise.reject(new ValidationError('Torii can be called only while the sync worker runs', { where: call }));
    }
    const id = this.nextInspection++;
    return new Promise<unknown>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      port.post({ type: 'TORII_CALL', id, call, args });
    });
  }

  /** Rejects every inspection and target change still waiting (the worker that would answer is gone). */
  private abandonInspections(): void {
    for (const { reject } of this.inspections.values()) {
      reject(new ValidationError('the sync worker stopped before it read the store', { where: 'inspectStore' }));
    }
    this.inspections.clear();
    for (const { reject } of this.retargets.values()) {
      reject(new ValidationError('the sync worker stopped before it took the targets; set them again', { where: 'targets' }));
    }
    this.retargets.clear();
    for (const { reject } of this.calls.values()) {
      reject(new TransportError('the sync worker stopped before Torii answered; call again', { retryable: true }));
    }
    this.calls.clear();
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
    this.disarm();
    this.restartTimer?.();
    this.restartTimer = undefined;
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

  private shuttingDown: Promise<void> | undefined;

  /** Stops the worker for good and ends the streams; every call resolves when that is done. */
  shutdown(): Promise<void> {
    this.closed = true;
    this.shuttingDown ??= this.stop().then(() => {
      this.status.set({ ...this.status.get(), phase: 'stopped' });
      this.status.end();
      this.errors.end();
    });
    return this.shuttingDown;
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
    this.disarm();
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
      case 'EVENTS':
        if (this.deltas) this.onEvents(message.buffer, message);
        return;
      case 'RESTORED':
        if (this.deltas && !this.acknowledged) this.onRestored(message.target, message.targets);
        return;
      case 'INIT_ACK': {
        const init: InitInfo = {
          manifestHash: message.manifestHash,
          toriiVersion: message.toriiVersion,
          dbName: message.dbName,
          restored: message.restored,
          ...(message.timings ? { timings: message.timings } : {}),
          ...(message.persistence ? { persistence: message.persistence } : {}),
          ...(message.targets ? { targets: message.targets } : {}),
        };
        this.deps.log.emit('info', 'sync.ready', `sync ready: ${init.restored} model states restored from ${init.dbName}`, {
          data: { ...init },
        });
        this.acknowledged = true;
        this.onInit(init);
        const current = this.status.get();
        this.status.set({
          ...current,
          phase: current.phase === 'failed' ? 'failed' : 'ready',
          init,
          restoring: undefined,
        });
        this.settleReady?.resolve(init);
        this.settleReady = undefined;
        return;
      }
      case 'SYNC_TICK': {
        // A worker that ticks is expected to keep ticking: watched from its first tick on.
        if (!this.watchdog) this.arm();
        const current = this.status.get();
        const tick = this.withOverlay(message.tick);
        const target: TargetKind = tick.target;
        this.deps.observer?.tick(tick);
        this.deps.log.emit('debug', 'sync.tick', `sync tick (${tick.target})`, {
          target: tick.target,
          state: tick.overall.state,
          data: { tick },
        });
        this.kindStates.set(target, tick.overall.state);
        this.status.set({
          ...current,
          state: leadState(this.kindStates),
          ticks: { ...current.ticks, [target]: tick },
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
        this.kindStates.set(transition.target, transition.to);
        this.status.set({
          ...current,
          state: leadState(this.kindStates),
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
      case 'SYNC_FATAL': {
        const error = toReactiveError(message.error, SyncFatalError);
        const panic = error.details.panic;
        if (error.details.reason === 'panic') this.restart('panic', error, typeof panic === 'string' ? panic : undefined);
        else this.fail(error);
        return;
      }
      case 'SHUTDOWN_ACK':
        if (message.error) this.report(toReactiveError(message.error), 'shutdown');
        this.acknowledge?.();
        return;
      case 'TARGETS_SET': {
        const waiting = this.retargets.get(message.id);
        this.retargets.delete(message.id);
        if (message.digests) waiting?.resolve(message.digests);
        else waiting?.reject(toReactiveError(message.error));
        return;
      }
      case 'TORII_ANSWER': {
        const waiting = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (message.error) waiting?.reject(toReactiveError(message.error, TransportError));
        else waiting?.resolve(message.result);
        return;
      }
      case 'STORE_REPORT': {
        const waiting = this.inspections.get(message.id);
        this.inspections.delete(message.id);
        if (message.report) waiting?.resolve(message.report);
        else waiting?.reject(toReactiveError(message.error));
        return;
      }
    }
  }

  /**
   * The tick with the main thread's pending optimistic writes: the overlay lives in the view,
   * so the worker's `pendingOverlayCount` (0) and `overlayPending` (absent) are filled in here.
   */
  private withOverlay(tick: SyncTick): SyncTick {
    const counts = this.deps.overlayCounts?.();
    if (!counts) return tick;
    return {
      ...tick,
      overall: { ...tick.overall, pendingOverlayCount: counts.total },
      models: Array.isArray(tick.models)
        ? tick.models.map((model) => ({ ...model, overlayPending: counts.perModel.get(model.model) ?? 0 }))
        : tick.models,
    };
  }
}
