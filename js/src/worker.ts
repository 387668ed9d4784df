/**
 * The sync worker entry (`dist/worker.js`, started by the client as a module worker): opens the
 * database with the wasm `SyncWorker` and sends the stored state to the main thread, then takes
 * part in the writer election of its database (see `docs/tabs.md`). Only the elected leader
 * syncs and writes; it relays every stored DELTA, every change of its event logs and its status
 * on the database's BroadcastChannel, and the other tabs' workers (followers) forward those to
 * their main thread.
 * DELTA batches reach the main thread as transferred buffers.
 *
 * @module
 */

import init, { SyncWorker, defaultDbName, takePanicMessage } from '../wasm/dojo_reactive.js';
import { ManifestWatch, type ManifestJudgement } from './deploy.js';
import { Election, lockManager, type ElectionMode } from './election.js';
import { ANNOUNCE_MS, Followers } from './followers.js';
import { RelayGaps } from './relay-gaps.js';
import { ValidationError, errorInfo, type ReactiveErrorInfo } from './errors.js';
import {
  isDeltaRelay,
  parseMainMessage,
  type DeltaRelay,
  type EventsFlags,
  type InitMessage,
  type ToriiCallMessage,
  type WorkerMessage,
} from './messages.js';
import {
  HEARTBEAT_MS,
  LEADER_SILENT_MS,
  TAB_PROTOCOL,
  channelName,
  covers,
  coversAll,
  coversTargets,
  isSameTarget,
  targetsOf,
  openTabChannel,
  parseTabMessage,
  unionTargets,
  type TabBody,
  type TabChannel,
  type TabMessage,
  type TabTargets,
} from './tabs.js';
import type { SyncTargetSpec, WorkerConfig } from './types.js';

/** The parts of a dedicated worker's global scope this script uses. */
interface WorkerScope {
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: Event) => void): void;
  close(): void;
}

/** A DELTA relayed by the leader: its bytes, whether the leader's store has them, its number. */
interface Relayed {
  readonly buffer: ArrayBuffer;
  readonly persisted: boolean;
  readonly relay: DeltaRelay;
}

/** A change of an event log relayed by the leader: the log's target id, its bytes, whether stored, its flags. */
interface RelayedEvents extends EventsFlags {
  readonly log: string;
  readonly buffer: ArrayBuffer;
  readonly persisted: boolean;
}

/** An event of the wasm worker, and a DELTA's bytes. */
type Emit = (event: { readonly type: string; readonly [field: string]: unknown }, delta?: Uint8Array) => void;

const scope = globalThis as unknown as WorkerScope;
/** The error of a manifest Torii contradicts (a deploy: see `deploy.ts`). */
const OUTDATED = 'OutdatedManifestError';
/**
 * This worker's id in the election and on the channel. Not named `self`: bundlers rewrite
 * `import.meta.url` in a worker to `self.location.href`, which a module-level `self` would capture.
 */
const workerId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
let memory: WebAssembly.Memory | undefined;
let starting: Promise<Tab | undefined> | undefined;
let stopped = false;

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/**
 * The SYNC_FATAL error of a panic the module's hook recorded (the trap that follows it only
 * says `unreachable`), if one did; the main thread restarts the worker on it.
 */
function panicked(): ReactiveErrorInfo | undefined {
  let panic: string | undefined;
  try {
    panic = takePanicMessage();
  } catch {
    return undefined; // the module is not loaded
  }
  if (panic === undefined) return undefined;
  return { name: 'SyncFatalError', message: `the sync worker panicked: ${panic}`, reason: 'panic', panic };
}

/**
 * Whether a synchronizer's error is a commit refused by the writer fence: another worker
 * claimed the database (core's sync error kind `lostLeadership`).
 */
function lostLeadership(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { kind?: unknown }).kind === 'lostLeadership';
}

/** A trap outside `start` (a synchronizer's task, an IndexedDB callback): report its panic. */
function reportPanic(event: Event): void {
  const error = panicked();
  if (!error || stopped) return;
  event.preventDefault();
  post({ type: 'SYNC_FATAL', error });
}

scope.addEventListener('error', reportPanic);
scope.addEventListener('unhandledrejection', reportPanic);

/** The batch's bytes as a buffer of their own (never the wasm memory), ready to transfer. */
function ownBuffer(delta: Uint8Array): ArrayBuffer {
  const buffer = delta.buffer;
  const whole =
    buffer instanceof ArrayBuffer &&
    buffer !== memory?.buffer &&
    delta.byteOffset === 0 &&
    delta.byteLength === buffer.byteLength;
  return whole ? buffer : delta.slice().buffer;
}

/** Opens the database; `live`: into a view that shows data already (see `SyncWorker.open`). */
function open(config: WorkerConfig, emit: Emit, live = false): Promise<SyncWorker> {
  return SyncWorker.open(config as Parameters<typeof SyncWorker.open>[0], emit, live);
}

/** This worker's tab in the election of its database: a follower or the leader. */
class Tab {
  private worker: SyncWorker | undefined;
  private readonly channel: TabChannel | undefined;
  private readonly election: Election;
  private own: TabTargets;
  /** What the open worker was configured to sync (the union, while leading). */
  private syncing: TabTargets;
  /** Leading: syncing, under this epoch; DELTAs are numbered within it. */
  private leading: { epoch: number; sent: number } | undefined;
  /**
   * Relayed DELTAs and event-log changes received while the stored state is read (at the start
   * and at every reopen): after it, the DELTAs the store held are dropped and the others
   * applied, and the event-log changes applied in order (the events the stored log holds
   * already are recognised by their identity).
   */
  private buffered: (Relayed | RelayedEvents)[] | undefined = [];
  /** The `eventLog` targets whose stored log the open wasm worker sent whole. */
  private readonly logsRestored = new Set<string>();
  /** Relayed changes of the other event logs, by target: applied once its stored log is sent. */
  private readonly waitingLogs = new Map<string, RelayedEvents[]>();
  /** The leader last heard: its epoch, protocol and when. */
  private leader = { epoch: 0, protocol: TAB_PROTOCOL, heardAt: Date.now() };
  /** The leader's relayed sequence as this tab holds it (a gap means a re-read). */
  private readonly gaps = new RelayGaps();
  /** The followers heard and their targets (kept while following too, for a takeover). */
  private readonly followers = new Followers();
  private acknowledged = false;
  private busy: Promise<unknown> = Promise.resolve();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;
  private announcedAt = 0;
  /** The manifests of the tabs heard (a deploy). */
  private readonly manifests: ManifestWatch = new ManifestWatch(undefined, {
    judge: () => this.judge(),
    takeOver: () => this.election.takeOver(),
    outdated: (error) => this.outdated(error),
    reread: () => void this.serially(() => this.reread()),
  });

  constructor(
    private readonly config: WorkerConfig,
    private readonly deltas: boolean,
    dbName: string,
  ) {
    this.own = { models: config.models, eventMessages: config.eventMessages ?? false };
    if (config.targets) {
      const eventMessages = this.own.eventMessages || config.targets.some((t) => t.kind === 'eventMessages');
      this.own = { ...this.own, eventMessages, targets: config.targets };
    }
    this.syncing = this.own;
    // Listening starts before the database is read: nothing stored after the read is missed.
    this.channel = openTabChannel(dbName);
    this.channel?.addEventListener('message', (event) => this.receive(parseTabMessage(event.data)));
    this.election = new Election(channelName(dbName), lockManager(), {
      lead: (mode) => this.serially(() => this.lead(mode)),
      deposed: () => void this.serially(() => this.follow()),
      renew: () => this.renew(),
    });
    this.watchdog = setInterval(() => this.watch(), HEARTBEAT_MS / 2);
  }

  /** Opens the database (the stored state goes to the main thread), then joins the election. */
  async start(): Promise<void> {
    // Announced before the store is read: a leader that relays nothing while it hears no
    // follower relays what it commits after the read (or a heartbeat shows the gap).
    this.announce();
    try {
      this.restored((this.worker = await open(this.config, this.emit)));
      this.manifests.own = this.worker.manifestHash;
    } finally {
      this.flush();
    }
    this.leader.heardAt = Date.now();
    this.tell('follower', this.leader.epoch);
    this.election.start();
  }

  /** A restore read the store: the relayed DELTAs it held count as received. */
  private restored(worker: SyncWorker): void {
    const mark = worker.restoredMark();
    if (mark) this.gaps.restored(mark.epoch, mark.n);
  }

  /** Tells the main thread this tab's part in the election. */
  private tell(role: 'leader' | 'follower', epoch: number): void {
    post({ type: 'ROLE', role: { role, epoch } });
  }

  /** Runs one change of role at a time. */
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.busy.then(step, step);
    this.busy = run.catch(() => {});
    return run;
  }

  /** The wasm worker's events: DELTAs (stored) and, while leading, status. */
  private readonly emit: Emit = (event, delta) => {
    if (stopped) return;
    switch (event.type) {
      case 'DELTA': {
        if (!delta) return;
        const persisted = event.persisted !== false;
        // Numbered by the wasm worker once it claimed the database (restored DELTAs are not).
        const relay = isDeltaRelay(event.relay) ? event.relay : undefined;
        if (this.leading && relay?.epoch === this.leading.epoch) {
          this.leading.sent = relay.n;
          // Nobody listens: a follower that comes restores from the store (docs/tabs.md).
          if (this.followers.listening(Date.now())) {
            const { target, epoch, n } = relay;
            this.send({ type: 'DELTA', epoch, n, target, buffer: delta.slice().buffer, persisted });
          }
        }
        if (this.deltas) {
          const buffer = ownBuffer(delta);
          post({ type: 'DELTA', buffer, persisted }, [buffer]);
        }
        return;
      }
      case 'EVENTS': {
        if (!delta) return;
        const log = typeof event.target === 'string' ? event.target : '';
        const persisted = event.persisted !== false;
        const flags = { stored: event.stored === true, restored: event.restored !== false, complete: event.complete === true };
        // Relayed even while no follower is heard: nothing numbers them, so a tab that comes
        // later could not tell which ones it missed (docs/events.md). A stored log's chunks
        // before its last are not: a follower restores the stored log itself.
        if (this.leading && (!flags.stored || flags.restored)) {
          this.send({ type: 'EVENTS', epoch: this.leading.epoch, target: log, buffer: delta.slice().buffer, persisted, ...flags });
        }
        if (this.showsLog(log)) {
          const buffer = ownBuffer(delta);
          post({ type: 'EVENTS', target: log, buffer, persisted, ...flags }, [buffer]);
        }
        if (flags.restored) this.logRestored(log);
        return;
      }
      case 'RESTORED':
        // The first open's, like its INIT_ACK: later ones restore into a live view.
        if (!this.acknowledged) post(event as unknown as WorkerMessage);
        return;
      case 'INIT_ACK':
        // Only the first open's: later ones (a change of role) restore into a live view.
        if (this.acknowledged) return;
        this.acknowledged = true;
        post(event as unknown as WorkerMessage);
        return;
      case 'SYNC_TICK':
      case 'TRANSITION':
      case 'SYNC_ERROR':
      case 'SYNC_FATAL':
        // A synchronizer that stopped leading is not this tab's news; a commit refused by the
        // epoch fence (another worker claimed the database) means exactly that. What the first
        // open reports (e.g. no IndexedDB: the data is kept in memory) is this tab's own.
        if (!this.leading) {
          if (!this.acknowledged && (event.type === 'SYNC_ERROR' || event.type === 'SYNC_FATAL')) {
            post(event as unknown as WorkerMessage);
          }
          return;
        }
        if ((event.error as { name?: unknown } | undefined)?.name === OUTDATED) {
          this.manifests.report(event.error as ReactiveErrorInfo);
          return;
        }
        if ((event.type === 'SYNC_ERROR' || event.type === 'SYNC_FATAL') && lostLeadership(event.error)) {
          this.election.stepDown();
          void this.serially(() => this.follow());
          return;
        }
        this.send({ type: 'STATUS', epoch: this.leading.epoch, event: event as never });
        post(event as unknown as WorkerMessage);
        return;
      default:
        if (this.leading) post(event as unknown as WorkerMessage);
    }
  };

  private send(body: TabBody): void {
    try {
      this.channel?.postMessage({ ...body, from: workerId, protocol: TAB_PROTOCOL, manifest: this.manifests.own } as TabMessage);
    } catch {
      // A closed channel (shutting down): nothing to tell.
    }
  }

  /**
   * Whether this tab's main thread shows the event log of target `id` (one of its own
   * `eventLog` targets: the leader syncs other tabs' too).
   */
  private showsLog(id: string): boolean {
    return this.deltas && (this.own.targets?.some((t) => t.kind === 'eventLog' && t.id === id) ?? false);
  }

  /**
   * A relayed DELTA or event-log change to the main thread: buffered while the stored state is
   * read; a DELTA is dropped when that state held it already (applying it again could bring
   * back what a later DELTA deleted).
   */
  private forward(item: Relayed | RelayedEvents): void {
    if (this.buffered) {
      this.buffered.push(item);
      return;
    }
    if ('log' in item) {
      if (!this.showsLog(item.log)) return;
      if (!this.logsRestored.has(item.log)) {
        const waiting = this.waitingLogs.get(item.log);
        if (waiting) waiting.push(item);
        else this.waitingLogs.set(item.log, [item]);
        return;
      }
      const { log, buffer, persisted, stored, restored, complete } = item;
      post({ type: 'EVENTS', target: log, buffer, persisted, stored, restored, complete }, [buffer]);
      return;
    }
    const { target, epoch, n } = item.relay;
    // A DELTA missed (never seen between live contexts) is in the database: read it again
    // (the view keeps whatever is newer).
    if (this.gaps.delta(epoch, n)) void this.serially(() => this.reread());
    if (this.worker?.holdsRelayed(target, epoch, n, item.persisted)) return;
    if (this.deltas) post({ type: 'DELTA', buffer: item.buffer, persisted: item.persisted }, [item.buffer]);
  }

  /**
   * The open wasm worker sent the stored log of target `log` whole: the relayed changes that
   * waited for it go on, in order (the events it held already are recognised by their identity).
   */
  private logRestored(log: string): void {
    if (this.logsRestored.has(log)) return;
    this.logsRestored.add(log);
    const waiting = this.waitingLogs.get(log) ?? [];
    this.waitingLogs.delete(log);
    for (const item of waiting) this.forward(item);
  }

  /** The stored state was read: what was buffered meanwhile goes on (or is dropped). */
  private flush(): void {
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    for (const item of buffered) this.forward(item);
  }

  private receive(message: TabMessage | undefined): void {
    if (!message || stopped) return;
    switch (message.type) {
      case 'HEARTBEAT':
        if (message.epoch < this.leader.epoch) return;
        if (!this.leading && message.epoch > this.leader.epoch) this.tell('follower', message.epoch);
        // DELTAs the leader numbered but this tab never got (relayed before the leader heard
        // it): the database holds them. While a restore runs, the next heartbeat tells.
        if (!this.leading && !this.buffered && this.gaps.heartbeat(message.epoch, message.sent)) {
          void this.serially(() => this.reread());
        }
        this.leader = { epoch: message.epoch, protocol: message.protocol, heardAt: Date.now() };
        if (this.leading && message.epoch > this.leading.epoch) {
          // Another worker claimed the database: its epoch fences our writes already.
          this.election.stepDown();
          void this.serially(() => this.follow());
          return;
        }
        if (this.leading) return;
        if (this.manifests.differs(message.manifest)) this.manifests.heardOther();
        else if (message.protocol < TAB_PROTOCOL) this.election.takeOver();
        else if (!coversAll(message.targets, this.own)) this.announce();
        return;
      case 'DELTA':
        if (this.leading) return;
        if (this.manifests.differs(message.manifest)) {
          // Another code version's data: the database holds it, read as this manifest can.
          this.manifests.dropped();
          return;
        }
        this.forward({
          buffer: message.buffer,
          persisted: message.persisted,
          relay: { target: message.target, epoch: message.epoch, n: message.n },
        });
        return;
      case 'EVENTS':
        // An older leader's late batch is news no more: the new one's log continues from the store.
        if (this.leading || message.epoch < this.leader.epoch || this.manifests.differs(message.manifest)) return;
        this.forward({
          log: message.target,
          buffer: message.buffer,
          persisted: message.persisted,
          stored: message.stored,
          restored: message.restored,
          complete: message.complete,
        });
        return;
      case 'STATUS':
        if (this.manifests.differs(message.manifest)) return;
        if (!this.leading && message.epoch >= this.leader.epoch) post(message.event as WorkerMessage);
        return;
      case 'REPLAY':
        if (this.leading) this.worker?.forceReplay();
        return;
      case 'TARGETS':
        this.followers.hear(message.from, message.targets, Date.now());
        if (this.leading) {
          void this.serially(() => this.widen());
        }
        return;
      case 'RESET':
        // The main thread handles a reset (it stops this worker).
        return;
    }
  }

  /** Tells the leader what this tab needs (at most once a second). */
  private announce(): void {
    if (this.leading) return;
    const now = Date.now();
    if (now - this.announcedAt < 1000) return;
    this.announcedAt = now;
    this.send({ type: 'TARGETS', targets: this.own });
  }

  /** Followers: takes over from a leader silent for too long (frozen, crashed, closed). */
  private watch(): void {
    if (stopped || this.leading) return;
    // Followers say they are still there (the leader forgets a silent one).
    if (Date.now() - this.announcedAt >= ANNOUNCE_MS) this.announce();
    if (this.buffered) return;
    const silent = Date.now() - this.leader.heardAt > LEADER_SILENT_MS;
    // Older code never steals from newer code holding the lock (with a lease, staleness rules).
    const mayTake = this.election.mode === 'lease' || this.leader.protocol <= TAB_PROTOCOL;
    if (silent && mayTake) this.election.takeOver();
  }

  /** Reopens the database configured for `targets` (the open restores into the live view). */
  private async reopen(targets: TabTargets): Promise<SyncWorker> {
    // Relayed DELTAs wait for the stored state, as at the start.
    this.buffered ??= [];
    // The new wasm worker sends the stored logs again: relayed changes wait for them.
    this.logsRestored.clear();
    try {
      const old = this.worker;
      this.worker = undefined;
      await old?.shutdown();
      const config: { -readonly [K in keyof WorkerConfig]: WorkerConfig[K] } = {
        ...this.config,
        models: targets.models,
        eventMessages: targets.eventMessages,
      };
      if (targets.targets) config.targets = targets.targets;
      else delete config.targets;
      const worker = await open(config, this.emit, true);
      this.worker = worker;
      this.syncing = targets;
      this.restored(worker);
      return worker;
    } finally {
      this.flush();
    }
  }

  /** Elected: claims the writer record, then syncs the union of the tabs' targets. */
  private async lead(mode: ElectionMode): Promise<boolean> {
    if (stopped) return false;
    const union = unionTargets([this.own, ...this.followers.live(Date.now())]);
    let worker = this.worker;
    if (!worker || !covers(this.syncing, union)) worker = await this.reopen(union);
    else if (!coversTargets(targetsOf(this.syncing), targetsOf(union))) {
      try {
        this.retarget(worker, union);
      } catch (error) {
        post({ type: 'SYNC_ERROR', error: errorInfo(error, 'ValidationError') });
      }
    }
    const claim = await worker.claimWriter(workerId, TAB_PROTOCOL, mode === 'lease', Date.now());
    if (!claim.won && claim.outdated) this.manifests.report(claim.outdated);
    if (!claim.won || stopped) return false;
    this.startLeading(claim.epoch);
    await worker.lead();
    return true;
  }

  /** Asks Torii (through the wasm worker) whether this tab's manifest is the current one. */
  private async judge(): Promise<ManifestJudgement> {
    const worker = this.worker;
    if (!worker) throw new ValidationError('the database is being reopened');
    return worker.judgeManifest();
  }

  /**
   * Torii contradicts this tab's manifest: it reports so, leaves the election for good (it never
   * writes again) and, if it led, reads the database as a follower.
   */
  private outdated(error: ReactiveErrorInfo): void {
    post({ type: 'SYNC_ERROR', error });
    this.election.stop();
    if (this.leading) void this.serially(() => this.follow());
  }

  /** Claimed under `epoch`: relays from now on and beats. */
  private startLeading(epoch: number): void {
    this.leading = { epoch, sent: 0 };
    // Its own worker reads the stored logs again before it follows them (news to no one here).
    this.waitingLogs.clear();
    this.leader = { epoch, protocol: TAB_PROTOCOL, heardAt: Date.now() };
    this.tell('leader', epoch);
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
  }

  private beat(): void {
    const leading = this.leading;
    if (leading) this.send({ type: 'HEARTBEAT', epoch: leading.epoch, sent: leading.sent, targets: this.syncing });
  }

  private async renew(): Promise<boolean> {
    const leading = this.leading;
    if (!leading || !this.worker) return false;
    try {
      await this.worker.renewWriter(leading.epoch, Date.now());
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The tabs' targets changed. Only sync targets differ: the leader's subscriptions change in
   * place (a follower's removed target leaves too). A tab asked for models or a kind the leader
   * does not sync: restart syncing the union of the live tabs' targets (and re-page it); the
   * models of tabs gone since leave it.
   */
  private async widen(): Promise<void> {
    if (!this.leading || stopped) return;
    const union = unionTargets([this.own, ...this.followers.live(Date.now())]);
    const sameTargets =
      coversTargets(targetsOf(this.syncing), targetsOf(union)) && coversTargets(targetsOf(union), targetsOf(this.syncing));
    if (covers(this.syncing, union) && sameTargets) return;
    if (covers(this.syncing, union) && this.worker) {
      try {
        this.retarget(this.worker, union);
      } catch (error) {
        // Another tab's target this worker refuses: that tab's own worker checked it already.
        post({ type: 'SYNC_ERROR', error: errorInfo(error, 'ValidationError') });
      }
      return;
    }
    this.stopBeating();
    this.leading = undefined;
    const worker = await this.reopen(union);
    const claim = await worker.claimWriter(workerId, TAB_PROTOCOL, this.election.mode === 'lease', Date.now());
    if (!claim.won || stopped) {
      this.election.stepDown();
      return;
    }
    this.startLeading(claim.epoch);
    await worker.lead();
    // The stored cursors were for fewer models: page the new ones from the start.
    worker.forceReplay();
  }

  /**
   * Syncs `union`'s targets with the open worker (in place: one stream per kind stays); a
   * target the worker refuses (another tab's, for a kind this worker does not sync) is reported.
   * Returns the digest of each target by id.
   */
  private retarget(worker: SyncWorker, union: TabTargets): Record<string, string> {
    const digests = worker.setTargets(targetsOf(union) as Parameters<SyncWorker['setTargets']>[0]);
    this.syncing = union;
    return digests;
  }

  /**
   * The app changed this tab's sync targets (`client.targets`). The leader syncs the union of
   * every tab's targets in place; a follower checks them with its worker and tells the leader.
   * Returns the digest of each of this tab's targets by id; throws a ValidationError-shaped
   * error for targets the worker refuses.
   */
  setTargets(targets: readonly SyncTargetSpec[]): Promise<Record<string, string>> {
    return this.serially(async () => {
      const worker = this.worker;
      if (!worker) throw new ValidationError('the database is being reopened; set the targets again');
      const own: TabTargets = { ...this.own, targets };
      if (!this.leading) {
        const digests = worker.setTargets(targets as Parameters<SyncWorker['setTargets']>[0]);
        this.own = own;
        this.announcedAt = 0;
        this.announce();
        return digests;
      }
      const union = unionTargets([own, ...this.followers.live(Date.now())]);
      const byId = this.retarget(worker, union);
      this.own = own;
      // A target renamed in the union (another tab uses its id) reports under its new id.
      const digests: Record<string, string> = {};
      for (const target of targets) {
        const entry = targetsOf(union).find((t) => isSameTarget(t, target));
        const digest = entry ? byId[entry.id] : undefined;
        if (digest !== undefined) digests[target.id] = digest;
      }
      return digests;
    });
  }

  /** Follower: reads the database again (after a missed DELTA). */
  private async reread(): Promise<void> {
    if (this.leading || stopped) return;
    await this.reopen(this.syncing);
  }

  /** Deposed: stops syncing and reads the database again as a follower. */
  private async follow(): Promise<void> {
    if (!this.leading) return;
    this.stopBeating();
    this.leading = undefined;
    this.leader.heardAt = Date.now();
    if (stopped) return;
    this.tell('follower', this.leader.epoch);
    this.announcedAt = 0;
    this.announce();
    await this.reopen(this.syncing);
  }

  private stopBeating(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** The open wasm worker (to inspect the store, re-page). */
  get current(): SyncWorker | undefined {
    return this.worker;
  }

  /** Re-pages the snapshot now: here when leading, else the leader is asked. */
  forceReplay(): void {
    if (this.leading) this.worker?.forceReplay();
    else this.send({ type: 'REPLAY' });
  }

  /** Stops syncing, leaves the election (the next tab leads at once), closes the database. */
  async stop(): Promise<void> {
    clearInterval(this.watchdog);
    this.manifests.stop();
    this.stopBeating();
    await this.busy;
    const worker = this.worker;
    this.worker = undefined;
    try {
      await worker?.shutdown();
    } finally {
      this.leading = undefined;
      this.election.stop();
      this.channel?.close();
    }
  }
}

async function start(message: InitMessage): Promise<Tab | undefined> {
  try {
    const output = await init({ module_or_path: new URL('../wasm/dojo_reactive_bg.wasm', import.meta.url) });
    memory = output.memory;
    const config = message.config;
    const dbName = config.dbName || defaultDbName(config.toriiUrl, config.worldAddress);
    const tab = new Tab(config, message.deltas, dbName);
    try {
      await tab.start();
    } catch (error) {
      await tab.stop().catch(() => {});
      throw error;
    }
    return tab;
  } catch (error) {
    post({ type: 'SYNC_FATAL', error: panicked() ?? errorInfo(error) });
    return undefined;
  }
}

async function inspectStore(id: number): Promise<void> {
  try {
    const worker = (await starting)?.current;
    if (!worker || stopped) throw new ValidationError('the store can be read only while the worker runs');
    post({ type: 'STORE_REPORT', id, report: await worker.inspectStore() });
  } catch (error) {
    post({ type: 'STORE_REPORT', id, error: errorInfo(error, 'StorageError') });
  }
}

async function shutdown(): Promise<void> {
  stopped = true;
  try {
    const tab = await starting;
    await tab?.stop();
    post({ type: 'SHUTDOWN_ACK' });
  } catch (error) {
    post({ type: 'SHUTDOWN_ACK', error: errorInfo(error, 'StorageError') });
  }
  scope.close();
}

/** Answers SET_TARGETS: the targets' digests, or why they were refused. */
async function setTargets(id: number, targets: readonly SyncTargetSpec[]): Promise<void> {
  try {
    const tab = await starting;
    if (!tab) throw new ValidationError('the worker did not start');
    post({ type: 'TARGETS_SET', id, digests: await tab.setTargets(targets) });
  } catch (error) {
    post({ type: 'TARGETS_SET', id, error: errorInfo(error, 'ValidationError') });
  }
}

/** `publishBatch`: every message's signature felts go to the wasm as one list and their lengths. */
function publishBatch(worker: SyncWorker, typedData: readonly string[], signatures: readonly (readonly string[])[]): Promise<unknown> {
  return worker.publishMessages([...typedData], signatures.flat(), Uint32Array.from(signatures, (felts) => felts.length));
}

/** Answers TORII_CALL: a one-shot Torii call through the worker's client. */
async function toriiCall(message: ToriiCallMessage): Promise<void> {
  try {
    const worker = (await starting)?.current;
    if (!worker || stopped) throw new ValidationError('Torii can be called only while the sync worker runs');
    const [first, second] = message.args;
    const result =
      message.call === 'controllers'
        ? await worker.retrieveControllers([...(first as readonly string[])], [...(second as readonly string[])])
        : message.call === 'publish'
          ? await worker.publishMessage(first as string, [...(second as readonly string[])])
          : await publishBatch(worker, first as readonly string[], second as readonly (readonly string[])[]);
    post({ type: 'TORII_ANSWER', id: message.id, result });
  } catch (error) {
    post({ type: 'TORII_ANSWER', id: message.id, error: errorInfo(error, 'TransportError') });
  }
}

scope.addEventListener('message', (event) => {
  const message = parseMainMessage(event.data);
  if (message instanceof ValidationError) {
    post({ type: 'SYNC_ERROR', error: errorInfo(message, 'ValidationError') });
    return;
  }
  switch (message.type) {
    case 'INIT':
      if (starting) {
        post({
          type: 'SYNC_ERROR',
          error: { name: 'ValidationError', message: 'INIT was sent twice; the second one is ignored' },
        });
        return;
      }
      starting = start(message);
      return;
    case 'FORCE_REPLAY':
      void starting?.then((tab) => tab?.forceReplay());
      return;
    case 'INSPECT_STORE':
      void inspectStore(message.id);
      return;
    case 'SET_TARGETS':
      void setTargets(message.id, message.targets);
      return;
    case 'TORII_CALL':
      void toriiCall(message);
      return;
    case 'SHUTDOWN':
      void shutdown();
      return;
  }
});
