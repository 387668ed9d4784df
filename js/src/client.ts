/**
 * The reactive client: a sync worker feeding a main-thread wasm view, with queries,
 * coalesced subscriptions and optimistic writes. Built on an injectable {@link Runtime} so the
 * same code runs against the real worker and wasm module, or against stubs in tests.
 *
 * @module
 */

import { ControllerCache, type Controllers } from './controllers.js';
import { EntityCache } from './entity-cache.js';
import { EventLogs, type Events } from './events.js';
import type { EventsFlags } from './messages.js';
import { deepEqual } from './equal.js';
import {
  OverlayError,
  OverlayTimeoutError,
  ReactiveError,
  StorageError,
  SyncFatalError,
  ValidationError,
  WorkerRestartError,
  toReactiveError,
} from './errors.js';
import { Inspector, inspectorMode, registerInspector } from './inspector.js';
import { LogSink } from './log.js';
import { checkOptions, type CheckedOptions, type ReactiveClientOptions } from './options.js';
import { Coalescer, type Cancel, type Timers } from './schedule.js';
import { keysMismatch, targetEntityId } from './entity-id.js';
import { canonicalEntityId, reactiveSelectors, type Selector, type ViewReader } from './selectors.js';
import {
  checkMessage,
  publishedOf,
  type CheckedMessage,
  type Published,
  type PublishOptions,
  type SignedMessage,
  type TypedData,
} from './publish.js';
import { ResetChannel } from './tab-reset.js';
import { SyncSession, type InitInfo, type OverlayCounts, type SyncStatus, type WorkerPort } from './session.js';
import { StreamSource, type EventStream, type Signal, type Unsubscribe } from './stream.js';
import { TargetControl, type SyncTargets } from './targets.js';
import type {
  CountOptions,
  Filter,
  Guard,
  IndexDeclaration,
  InputValue,
  OverlayEntryInfo,
  OverlaySubmission,
  QueryOptions,
  QueryResult,
  QuerySpec,
  TargetKind,
  TargetState,
  TransactionSubmission,
  TransactionWrite,
  WorkerConfig,
  WriteMembers,
} from './types.js';
import type {
  Entity,
  EntityOf,
  FilterOf,
  ModelInput,
  ModelKeys,
  ModelTag,
  QueryOptionsOf,
  QueryResultOf,
  RegisteredSchema,
  WorldSchema,
} from './schema.js';
import { trapGuarded } from './trap.js';
import { Check } from './validate.js';
import type { MainWasm, OverlayEventInfo, ViewApi } from './wasm-api.js';

/** What the client runs on: the worker, the wasm module and timers. */
export interface Runtime {
  /** Starts a sync worker (`workerUrl` overrides the package's own script). */
  spawnWorker(workerUrl: string | URL | undefined): WorkerPort;
  /** Loads the wasm module on the main thread (once). */
  loadWasm(): Promise<MainWasm>;
  /** Timers. */
  readonly timers: Timers;
}

/**
 * Entities whose state changed, per DELTA (`sync`) or overlay change (`overlay`). `restore` (the
 * persisted state was loaded, at `ready`) and `reset` name no ids: any entity may have changed.
 */
export interface EntityUpdate {
  /** The changed entity ids (empty for `restore` and `reset`). */
  readonly ids: readonly string[];
  /** What changed them. */
  readonly source: 'sync' | 'overlay' | 'restore' | 'reset';
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /**
   * Call the listener at most once per this many ms (default: at most once per animation frame,
   * right after the change when it last ran a frame or more ago).
   */
  readonly throttleMs?: number;
}

/** Options of `mutate` with an array of writes (one transaction). */
export interface TransactionOptions {
  /** Time before rollback (default: `overlayOptions.timeoutMs`). */
  readonly timeoutMs?: number;
  /** Sends the transaction (e.g. to Starknet); a rejection rolls the overlay back at once. */
  readonly send?: (context: { readonly transactionId: string }) => Promise<unknown> | unknown;
  /** The transaction's id (e.g. its hash); generated when absent. */
  readonly transactionId?: string;
}

/** Options of `mutate` with one model's payload. */
export interface MutateOptions extends TransactionOptions {
  /** The entity written (`0x` + 64 hex). */
  readonly entityId: string;
  /** What confirms the write against synced data (default: synced state has the payload's values). */
  readonly guard?: Guard;
}

/** What `mutate` returns. */
export interface Mutation {
  /** The write's id. */
  readonly transactionId: string;
  /** Removes the optimistic write now. */
  rollback(): void;
  /**
   * Resolves when the guard confirms the write against synced data; rejects with
   * OverlayTimeoutError on timeout, or OverlayError when `send` failed, the write was rolled
   * back or replaced.
   */
  readonly confirmed: Promise<void>;
}

/** A selector as `subscribe` takes it: an entity id, a filter on the model, or a function. */
export type SelectorInput<T> = string | Filter | Selector<T>;

/**
 * The reactive client. `S` is the world's schema (`npx dojo-reactive-types` writes it and
 * registers it as the default): model tags, filters, results and payloads are typed by it;
 * without one, everything takes and returns the untyped forms.
 */
export interface ReactiveClient<S extends WorldSchema = RegisteredSchema> {
  /** Resolves when the worker has sent the persisted state (INIT_ACK); rejects with its fatal error. */
  readonly ready: Promise<InitInfo>;
  /** One page of a model's entities from memory, overlay-first unless `consistency: 'synced'`. */
  query<T extends ModelTag<S>>(model: T, options?: QueryOptionsOf<T, S>): QueryResultOf<T, S>;
  /** How many of a model's entities match a filter (all of them without one), without building them. */
  count(model: ModelTag<S>, options?: CountOptions): number;
  /** Follows an entity by id (listener gets the entity or undefined). */
  subscribe(
    model: ModelTag<S> | null,
    selector: string,
    listener: (entity: Entity<S> | undefined) => void,
    options?: SubscribeOptions,
  ): Unsubscribe;
  /** Follows the model's entities matching a filter (listener gets them, ordered by id). */
  subscribe<T extends ModelTag<S>>(
    model: T,
    selector: FilterOf<T, S>,
    listener: (entities: readonly EntityOf<T, S>[]) => void,
    options?: SubscribeOptions,
  ): Unsubscribe;
  /** Follows whatever a selector derives (listener gets its result when it changes). */
  subscribe<R>(
    model: ModelTag<S> | null,
    selector: Selector<R>,
    listener: (result: R) => void,
    options?: SubscribeOptions,
  ): Unsubscribe;
  /**
   * Shows a write at once, sends it, confirms or rolls it back. Throws a ValidationError for an
   * `entityId` that is not `0x` + 1-64 hex digits, or that is not the id of the entity whose
   * keys the payload holds (see `entityId`).
   */
  mutate<T extends ModelTag<S>>(model: T, payload: ModelInput<T, S>, options: MutateOptions): Mutation;
  /**
   * Shows a transaction at once (writes on several models and entities, absolute `set` and
   * relative `add`), sends it, confirms or rolls it back as one.
   */
  mutate(writes: readonly TransactionWrite[], options?: TransactionOptions): Mutation;
  /**
   * The id of the entity of `model` with these key members (every key member, nothing else):
   * the Poseidon hash of their Cairo serialization, as Dojo and Torii compute it. Throws a
   * ValidationError before the wasm module is loaded (`await client.ready`), for an unknown
   * model, a missing or unknown key member, or a value of the wrong type.
   */
  entityId<T extends ModelTag<S>>(model: T, keys: ModelKeys<T, S>): string;
  /** Submits an optimistic write without sending anything. */
  submitOverlay(submission: OverlaySubmission): { readonly transactionId: string };
  /** Submits an optimistic transaction without sending anything. */
  submitTransaction(transaction: TransactionSubmission): { readonly transactionId: string };
  /** Pending optimistic writes on an entity. */
  getOverlayFor(entityId: string): readonly OverlayEntryInfo[];
  /** Drops a pending write as confirmed (its `confirmed` resolves). */
  ackOverlay(transactionId: string): void;
  /** Drops a pending write, showing synced state again (its `confirmed` rejects). */
  rollbackOverlay(transactionId: string): void;
  /** The current sync status. */
  getSyncStatus(): SyncStatus;
  /** The sync status as it changes. */
  readonly syncStatus: Signal<SyncStatus>;
  /** Ids of entities changed by each DELTA or overlay change. */
  readonly entityUpdates: EventStream<EntityUpdate>;
  /** Typed errors. */
  readonly errors: EventStream<ReactiveError>;
  /** Re-pages the snapshot now. */
  forceReplay(): void;
  /**
   * The sync targets, changed at run time (`add`, `update`, `remove`), with a status each
   * (`list`, `complete`). The targets of a kind share one live stream.
   */
  readonly targets: SyncTargets;
  /**
   * The logs of the `eventLog` targets (every event message of their models, in order, within
   * their retention): `query` them, `subscribe` to new events (see `docs/events.md`).
   */
  readonly events: Events<S>;
  /** Stops the worker, deletes the database, starts again from Torii; resolves at the new INIT_ACK. */
  reset(): Promise<InitInfo>;
  /** Stops the worker (SHUTDOWN, awaits its confirmation), ends the streams. */
  shutdown(): Promise<void>;
  /** Cartridge usernames of accounts (Torii's `RetrieveControllers`), cached and batched. */
  readonly controllers: Controllers;
  /**
   * Publishes an offchain message (Torii's `PublishMessage`): SNIP-12 typed data whose
   * `primaryType` is a model tag, and its signature by the message's `identity`. The message
   * shows at once as an optimistic write of that model on the entity of its keys; `confirmed`
   * resolves when Torii's indexed message arrives through sync, `published` with Torii's
   * answer. When Torii refuses it, `published` rejects with a PublishError (Torii's reason)
   * and the write is rolled back (`confirmed` rejects with an OverlayError, reason
   * `sendFailed`); when it is not indexed in time, with an OverlayTimeoutError. Throws a
   * ValidationError before the wasm loads, for a model the manifest lacks, missing key
   * members, or a bad signature.
   */
  publishMessage(typedData: TypedData, signature: readonly (string | bigint)[], options?: PublishOptions): PublishedMessage;
  /**
   * Publishes several offchain messages in one call (Torii's `PublishMessageBatch`), each as
   * `publishMessage` takes it: they show at once as one optimistic transaction (a write per
   * message, at most one per entity and model), confirmed when every message arrived through
   * sync, rolled back as one when Torii refuses any of them (`published` rejects with a
   * PublishError) or when they are not all indexed in time. Torii stores a batch in order and
   * stops at the first message it refuses: the ones before it may be stored, and then arrive
   * through sync as synced data after the rollback. Throws a ValidationError as
   * `publishMessage` does (naming `messages[i]`), or for an empty list.
   */
  publishMessages(messages: readonly SignedMessage[], options?: PublishOptions): PublishedMessages;
}

/** What `publishMessage` returns: the optimistic write, and Torii's answer. */
export interface PublishedMessage extends Mutation {
  /** Resolves with Torii's answer; rejects with a PublishError (refused) or a TransportError. */
  readonly published: Promise<Published>;
}

/** What `publishMessages` returns: the optimistic transaction, and Torii's answers. */
export interface PublishedMessages extends Mutation {
  /** Resolves with Torii's answer to each message, in order; rejects with a PublishError (one was refused) or a TransportError. */
  readonly published: Promise<readonly Published[]>;
}

interface Subscription {
  readonly model: string | null;
  readonly selector: Selector<unknown>;
  readonly listener: (result: unknown) => void;
  readonly coalescer: Coalescer;
  last: unknown;
}

interface PendingWrite {
  resolve(): void;
  reject(error: ReactiveError): void;
}

/** An (entity, model) a pending transaction writes. */
interface Target {
  readonly entityId: string;
  readonly model: string;
}

/** An optimistic transaction held in the view: what it was, to submit it again to a rebuilt view. */
interface HeldWrite {
  /** What it writes (canonical entity ids), in the order given. */
  readonly targets: readonly Target[];
  /**
   * Submits it again to `view` under `transactionId`, with `timeoutMs` left; `open`: its
   * unconfirmed writes in the view it leaves (what is left to show), when that view could say.
   */
  readonly resubmit: (
    view: ViewApi,
    transactionId: string,
    timeoutMs: number,
    now: number,
    open?: readonly OverlayEntryInfo[],
  ) => void;
  /** When the view rolls it back (main-thread clock). */
  readonly deadlineMs: number;
}

const consistencies = ['overlay', 'synced'] as const;

function toSelector(check: Check, model: string | null, input: unknown): Selector<unknown> {
  if (typeof input === 'string') {
    if (input === '') throw check.fail('selector', 'an entity id, a filter or a function', input);
    return reactiveSelectors.selectEntity(input);
  }
  if (typeof input === 'function') return input as Selector<unknown>;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    if (model === null) throw check.fail('model', 'a model tag for a filter selector', model);
    return reactiveSelectors.selectMany(input as Filter);
  }
  throw check.fail('selector', 'an entity id, a filter or a function', input);
}

/**
 * What is left to show of a transaction's `writes` given its unconfirmed writes in a view
 * (`open`): a write the view no longer lists was confirmed and is left out, and so is each
 * relative member already confirmed (synced state has it: adding it again would count it twice).
 * Absolute members stay (synced state confirms them again).
 */
function unconfirmedWrites(
  writes: readonly TransactionWrite[],
  open: readonly OverlayEntryInfo[],
): TransactionWrite[] {
  const left: TransactionWrite[] = [];
  for (const write of writes) {
    const entry = open.find((e) => e.entityId === canonicalEntityId(write.entityId) && e.model === write.model);
    if (!entry) continue;
    if (write.add === undefined) {
      left.push(write);
      continue;
    }
    const add = Object.fromEntries(Object.entries(write.add).filter(([member]) => Object.hasOwn(entry.add, member)));
    const base = { entityId: write.entityId, model: write.model, ...(write.guard ? { guard: write.guard } : {}) };
    if (Object.keys(add).length > 0) left.push({ ...base, ...(write.set ? { set: write.set } : {}), add });
    else if (write.set !== undefined) left.push({ ...base, set: write.set });
  }
  return left;
}

/** The distinct entity ids of `targets`, in order. */
function entityIds(targets: readonly Target[]): string[] {
  return [...new Set(targets.map((target) => target.entityId))];
}

/** A client on `runtime` (the package's `createReactiveClient` passes the browser runtime). */
export function createClient(options: ReactiveClientOptions, runtime: Runtime): ReactiveClient {
  return new Client(checkOptions('createReactiveClient', options, true), runtime);
}

class Client implements ReactiveClient {
  readonly entityUpdates: StreamSource<EntityUpdate>;
  readonly targets: SyncTargets;
  readonly events: EventLogs;
  readonly controllers: ControllerCache;
  private readonly session: SyncSession;
  private wasm: MainWasm | undefined;
  /** The view reads answer from (undefined before the wasm loads, and after it trapped until rebuilt). */
  private view: ViewApi | undefined;
  /** The view a restarted worker's persisted state is restored into, shown at its INIT_ACK. */
  private incoming: ViewApi | undefined;
  private readonly viewReady: Promise<void>;
  /** What arrived before the view existed, in order: DELTAs, RESTOREDs and INIT_ACK (`init`). */
  private queued: (
    | { readonly buffer: ArrayBuffer; readonly restored: boolean }
    | { readonly kind: TargetKind; readonly targets: readonly TargetState[] }
    | 'init'
  )[] = [];
  /**
   * EVENTS batches that arrived before the view existed, and those after them: applied in
   * order, one per task (a stored log's chunks never make one long task).
   */
  private eventsBacklog: { readonly buffer: ArrayBuffer; readonly flags: EventsFlags }[] = [];
  private eventsTimer: Cancel | undefined;
  /** Whether restored DELTAs were applied since the last announcement. */
  private restoredSince = false;
  private readonly subscriptions = new Set<Subscription>();
  private readonly pending = new Map<string, PendingWrite>();
  private readonly writeEntity = new Map<string, HeldWrite>();
  private pollTimer: Cancel | undefined;
  private readonly reader: ViewReader;
  /** The view's entity objects, each built once per change. */
  private readonly cache = new EntityCache();
  private readyFor: { session: Promise<InitInfo>; both: Promise<InitInfo> } | undefined;
  private readonly config: WorkerConfig;
  private readonly overlay: { overlayTimeoutMs?: number; overlayPollMs?: number };
  private readonly indexes: readonly IndexDeclaration[];
  private readonly log: LogSink;
  private readonly unregister: (() => void) | undefined;
  private shuttingDown: Promise<void> | undefined;
  /** The running reset (this tab's or another's), shared by concurrent calls. */
  private resetting: Promise<InitInfo> | undefined;
  /** The database's channel, for resets across tabs (once the wasm is loaded). */
  private resets: ResetChannel | undefined;

  constructor(
    checked: CheckedOptions,
    private readonly runtime: Runtime,
  ) {
    this.config = checked.config;
    this.overlay = checked.overlay;
    this.indexes = checked.indexes;
    this.log = new LogSink(checked.logger, checked.logLevel, () => runtime.timers.now());
    const mode = inspectorMode(checked.debug);
    const inspector = mode ? this.inspector() : undefined;
    this.session = new SyncSession(
      {
        spawnWorker: () => runtime.spawnWorker(checked.workerUrl),
        timers: runtime.timers,
        log: this.log,
        observer: inspector,
        shutdownGraceMs: 5000,
        supervision: checked.supervision,
        overlayCounts: () => this.overlayCounts(),
      },
      checked.config,
      true,
      (buffer, restored) => this.receiveDelta(buffer, restored),
      () => this.restored(),
      () => this.restarting(),
      (buffer, flags) => this.receiveEvents(buffer, flags),
      (kind, targets) => this.kindRestored(kind, targets),
    );
    if (inspector && mode) {
      this.session.errors.subscribe((error) => inspector.error(error));
      this.unregister = registerInspector(inspector.entry(mode));
    }
    this.entityUpdates = new StreamSource<EntityUpdate>((error) => this.report(error));
    this.events = new EventLogs((error) => this.report(toReactiveError(error, ValidationError)));
    this.targets = new TargetControl(checked.config, this.session, (where) => this.open(where), this.events);
    this.controllers = new ControllerCache(
      (addresses, usernames) => this.session.toriiCall('controllers', [addresses, usernames]),
      () => runtime.timers.now(),
    );
    this.reader = {
      entity: (id, consistency) => {
        const view = this.view;
        return view && this.cache.entity(view, id, consistency);
      },
      query: (model, spec, consistency) => {
        const view = this.view;
        return view ? this.cache.query(view, model, spec, consistency) : { items: [] };
      },
      count: (model, spec, consistency) => this.view?.count(model, spec, consistency) ?? 0,
    };
    this.viewReady = runtime.loadWasm().then(
      (wasm) => {
        if (this.session.isClosed) return;
        this.wasm = wasm;
        try {
          this.view = this.newView(wasm);
        } catch (error) {
          const failure = toReactiveError(error, SyncFatalError);
          this.session.fail(failure);
          throw failure;
        }
        this.resets = this.listenForResets(wasm);
        const queued = this.queued;
        this.queued = [];
        for (const item of queued) {
          if (item === 'init') this.restored();
          else if ('kind' in item) this.kindRestored(item.kind, item.targets);
          else this.receiveDelta(item.buffer, item.restored);
        }
        this.drainEvents();
      },
      (error: unknown) => {
        const fatal = new SyncFatalError(
          `the wasm module could not be loaded on the main thread: ${toReactiveError(error).message}`,
          { reason: 'wasm' },
          { cause: error },
        );
        this.session.fail(fatal);
        throw fatal;
      },
    );
    this.viewReady.catch(() => {});
  }

  get ready(): Promise<InitInfo> {
    const session = this.session.ready;
    if (this.readyFor?.session !== session) {
      const both = Promise.all([this.viewReady, session]).then(([, init]) => init);
      both.catch(() => {});
      this.readyFor = { session, both };
    }
    return this.readyFor.both;
  }

  get syncStatus(): Signal<SyncStatus> {
    return this.session.status;
  }

  get errors(): EventStream<ReactiveError> {
    return this.session.errors;
  }

  getSyncStatus(): SyncStatus {
    return this.session.status.get();
  }

  query(model: string, options: QueryOptions = {}): QueryResult {
    const check = this.open('query');
    check.string('model', model);
    const o = check.record('options', options);
    check.knownKeys('options', o, ['filter', 'select', 'orderBy', 'limit', 'cursor', 'consistency']);
    const consistency = check.optionalOneOf('consistency', o.consistency, consistencies);
    const limit = check.optionalCount('limit', o.limit, true, 1);
    const cursor = check.optionalString('cursor', o.cursor);
    if (o.filter !== undefined) check.record('filter', o.filter);
    if (o.select !== undefined) check.record('select', o.select);
    if (o.orderBy !== undefined && !Array.isArray(o.orderBy)) {
      throw check.fail('orderBy', 'an array of { member, direction? }', o.orderBy);
    }
    const spec: { -readonly [K in keyof QuerySpec]: QuerySpec[K] } = {};
    if (options.filter) spec.filter = options.filter;
    if (options.select) spec.select = options.select;
    if (options.orderBy) spec.orderBy = options.orderBy;
    if (limit !== undefined) spec.limit = limit;
    if (cursor !== undefined) spec.cursor = cursor;
    const view = this.requireView(check);
    try {
      return this.cache.query(view, model, spec, consistency);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
  }

  count(model: string, options: CountOptions = {}): number {
    const check = this.open('count');
    check.string('model', model);
    const o = check.record('options', options);
    check.knownKeys('options', o, ['filter', 'consistency']);
    const consistency = check.optionalOneOf('consistency', o.consistency, consistencies);
    if (o.filter !== undefined) check.record('filter', o.filter);
    const view = this.requireView(check);
    try {
      return view.count(model, options.filter ? { filter: options.filter } : {}, consistency);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
  }

  subscribe<T>(
    model: string | null,
    selector: SelectorInput<T>,
    listener: (result: T) => void,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    const check = this.open('subscribe');
    if (model !== null) check.string('model', model);
    const select = toSelector(check, model, selector);
    check.func('listener', listener);
    const o = check.record('options', options);
    check.knownKeys('options', o, ['throttleMs']);
    const throttleMs = check.optionalCount('throttleMs', o.throttleMs, false);
    const subscription: Subscription = {
      model,
      selector: select,
      listener: listener as (result: unknown) => void,
      coalescer: new Coalescer(this.runtime.timers, () => this.flush(subscription), throttleMs),
      last: undefined,
    };
    try {
      subscription.last = this.evaluate(select, model);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
    this.subscriptions.add(subscription);
    return () => {
      subscription.coalescer.cancel();
      this.subscriptions.delete(subscription);
    };
  }

  mutate(
    model: string,
    payload: { readonly [member: string]: InputValue },
    options: MutateOptions,
  ): Mutation;
  mutate(writes: readonly TransactionWrite[], options?: TransactionOptions): Mutation;
  mutate(
    target: string | readonly TransactionWrite[],
    payloadOrOptions?: WriteMembers | TransactionOptions,
    writeOptions?: MutateOptions,
  ): Mutation {
    const check = this.open('mutate');
    let transactionId: string;
    let send: TransactionOptions['send'];
    if (Array.isArray(target)) {
      const options = (payloadOrOptions ?? {}) as TransactionOptions;
      const o = check.record('options', options);
      check.knownKeys('options', o, ['timeoutMs', 'send', 'transactionId']);
      send = check.optionalFunction('send', o.send) as TransactionOptions['send'];
      ({ transactionId } = this.submitWrites(check, {
        writes: target as readonly TransactionWrite[],
        timeoutMs: options.timeoutMs,
        transactionId: options.transactionId,
      }));
    } else {
      const options = writeOptions as MutateOptions;
      const o = check.record('options', options);
      check.knownKeys('options', o, ['entityId', 'guard', 'timeoutMs', 'send', 'transactionId']);
      send = check.optionalFunction('send', o.send) as MutateOptions['send'];
      ({ transactionId } = this.submit(check, {
        model: target as string,
        payload: payloadOrOptions as WriteMembers,
        entityId: options.entityId,
        guard: options.guard,
        timeoutMs: options.timeoutMs,
        transactionId: options.transactionId,
      }));
    }
    const confirmed = new Promise<void>((resolve, reject) => {
      this.pending.set(transactionId, { resolve, reject });
    });
    confirmed.catch(() => {});
    if (send) {
      const failed = (error: unknown) => {
        if (!this.pending.has(transactionId)) return;
        this.dropWrite(
          transactionId,
          new OverlayError(
            `sending write ${transactionId} failed, so it was rolled back: ${error instanceof Error ? error.message : String(error)}`,
            { reason: 'sendFailed', transactionId },
            { cause: error },
          ),
        );
      };
      try {
        Promise.resolve(send({ transactionId })).catch(failed);
      } catch (error) {
        failed(error);
      }
    }
    return {
      transactionId,
      confirmed,
      rollback: () => {
        if (this.pending.has(transactionId)) this.rollbackOverlay(transactionId);
      },
    };
  }

  /** The entity a checked message is stored under (its model's key members); `at` names it in errors. */
  private messageEntity(check: Check, message: CheckedMessage, at: string): string {
    const view = this.requireView(check);
    let entityId: string | undefined;
    try {
      entityId = view.entityIdOfKeys(message.model, message.payload, false);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
    if (entityId === undefined) throw check.fail(`${at}.message`, `every key member of ${message.model}`, message.payload);
    return entityId;
  }

  publishMessages(messages: readonly SignedMessage[], options: PublishOptions = {}): PublishedMessages {
    const check = this.open('publishMessages');
    const o = check.record('options', options);
    check.knownKeys('options', o, ['timeoutMs', 'transactionId']);
    if (!Array.isArray(messages) || messages.length === 0) {
      throw check.fail('messages', 'a non-empty array of { typedData, signature }', messages);
    }
    const checked = messages.map((item: unknown, i) => {
      const record = check.record(`messages[${i}]`, item);
      check.knownKeys(`messages[${i}]`, record, ['typedData', 'signature']);
      const message = checkMessage(check, record.typedData as TypedData, record.signature as readonly (string | bigint)[], `messages[${i}].`);
      return { message, entityId: this.messageEntity(check, message, `messages[${i}].typedData`) };
    });
    const sent: { published?: Promise<readonly Published[]> } = {};
    const mutation = this.mutate(
      checked.map(({ message, entityId }) => ({ entityId, model: message.model, set: message.payload })),
      {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.transactionId === undefined ? {} : { transactionId: options.transactionId }),
        send: () => {
          const args: [string[], string[][]] = [checked.map(({ message }) => message.json), checked.map(({ message }) => [...message.signature])];
          sent.published = this.session.toriiCall('publishBatch', args).then((result) => {
            const answers = Array.isArray(result) ? result : [];
            return checked.map(({ entityId }, i) => publishedOf(answers[i], entityId));
          });
          return sent.published;
        },
      },
    );
    // `mutate` sends at once; had it not, the messages were not sent.
    const published = sent.published ?? Promise.reject(new ValidationError('the messages were not sent', { where: 'publishMessages' }));
    published.catch(() => {});
    return { ...mutation, published };
  }

  publishMessage(
    typedData: TypedData,
    signature: readonly (string | bigint)[],
    options: PublishOptions = {},
  ): PublishedMessage {
    const check = this.open('publishMessage');
    const o = check.record('options', options);
    check.knownKeys('options', o, ['timeoutMs', 'transactionId']);
    const message = checkMessage(check, typedData, signature);
    const id = this.messageEntity(check, message, 'typedData');
    const sent: { published?: Promise<Published> } = {};
    const mutation = this.mutate(message.model, message.payload, {
      entityId: id,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.transactionId === undefined ? {} : { transactionId: options.transactionId }),
      send: () => {
        sent.published = this.session.toriiCall('publish', [message.json, message.signature]).then((result) => publishedOf(result, id));
        return sent.published;
      },
    });
    // `mutate` sends at once; had it not, the message was not sent.
    const published = sent.published ?? Promise.reject(new ValidationError('the message was not sent', { where: 'publishMessage' }));
    published.catch(() => {});
    return { ...mutation, published };
  }

  entityId(model: string, keys: { readonly [member: string]: InputValue }): string {
    const check = this.open('entityId');
    check.string('model', model);
    check.record('keys', keys);
    const view = this.requireView(check);
    let id: string | undefined;
    try {
      id = view.entityIdOfKeys(model, keys, true);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
    // The view refuses keys it cannot hash, so an id is always there.
    if (id === undefined) throw check.fail('keys', `every key member of ${model}`, keys);
    return id;
  }

  submitOverlay(submission: OverlaySubmission): { readonly transactionId: string } {
    const check = this.open('submitOverlay');
    const s = check.record('submission', submission);
    check.knownKeys('submission', s, ['entityId', 'model', 'payload', 'guard', 'timeoutMs', 'transactionId']);
    return this.submit(check, submission);
  }

  submitTransaction(transaction: TransactionSubmission): { readonly transactionId: string } {
    const check = this.open('submitTransaction');
    const t = check.record('transaction', transaction);
    check.knownKeys('transaction', t, ['writes', 'timeoutMs', 'transactionId']);
    return this.submitWrites(check, transaction);
  }

  getOverlayFor(entityId: string): readonly OverlayEntryInfo[] {
    const check = this.open('getOverlayFor');
    check.string('entityId', entityId);
    return this.view?.overlayFor(entityId) ?? [];
  }

  ackOverlay(transactionId: string): void {
    const check = this.open('ackOverlay');
    check.string('transactionId', transactionId);
    const view = this.requireView(check);
    try {
      view.ackOverlay(transactionId);
    } catch (error) {
      throw toReactiveError(error, OverlayError);
    }
    const held = this.writeEntity.get(transactionId);
    this.writeEntity.delete(transactionId);
    this.logOverlay('confirmed', transactionId, held?.targets[0]?.entityId, held?.targets[0]?.model);
    const write = this.pending.get(transactionId);
    this.pending.delete(transactionId);
    write?.resolve();
    if (held) this.changed(entityIds(held.targets), 'overlay');
    this.schedulePoll();
  }

  rollbackOverlay(transactionId: string): void {
    const check = this.open('rollbackOverlay');
    check.string('transactionId', transactionId);
    this.requireView(check);
    this.dropWrite(
      transactionId,
      new OverlayError(`write ${transactionId} was rolled back by the application`, {
        reason: 'rolledBack',
        transactionId,
      }),
      true,
    );
  }

  forceReplay(): void {
    this.open('forceReplay');
    this.session.forceReplay();
  }

  reset(): Promise<InitInfo> {
    this.open('reset');
    // A second call while one runs joins it (never a second worker).
    this.resetting ??= this.resetAll().finally(() => {
      this.resetting = undefined;
    });
    return this.resetting;
  }

  /** The database this client's worker opens. */
  private dbName(wasm: MainWasm): string {
    const status = this.session.status.get();
    const reported = status.error?.details.dbName;
    return (
      status.init?.dbName ??
      this.config.dbName ??
      (typeof reported === 'string' ? reported : undefined) ??
      wasm.defaultDbName(this.config.toriiUrl, this.config.worldAddress)
    );
  }

  /** This tab's reset: tells the other tabs, deletes the database, starts again. */
  private async resetAll(): Promise<InitInfo> {
    await this.viewReady;
    const wasm = this.wasm;
    if (!wasm) throw new SyncFatalError('the client was shut down during reset', { reason: 'shutdown' });
    this.resets?.announce('started');
    await this.session.stop();
    this.open('reset');
    try {
      await wasm.deleteDatabase(this.dbName(wasm));
    } catch (error) {
      throw toReactiveError(error, StorageError);
    } finally {
      this.resets?.announce('deleted');
    }
    this.open('reset');
    this.dropView(wasm);
    return this.session.start();
  }

  /** Listens for other tabs' resets of this client's database (none where it has no name). */
  private listenForResets(wasm: MainWasm): ResetChannel | undefined {
    try {
      return new ResetChannel(this.dbName(wasm), () => this.followReset());
    } catch (error) {
      this.log.emit('warn', 'tabs.channel', `resets of other tabs will not reach this one: ${String(error)}`);
      return undefined;
    }
  }

  /** Another tab resets the database: stop, wait for the deletion, drop the view, rejoin. */
  private followReset(): void {
    if (this.resetting || this.session.isClosed) return;
    const resets = this.resets;
    this.resetting = (async () => {
      await this.session.stop();
      await resets?.deleted();
      const wasm = this.wasm;
      if (!wasm || this.session.isClosed) {
        throw new SyncFatalError('the client was shut down during reset', { reason: 'shutdown' });
      }
      this.dropView(wasm);
      return this.session.start();
    })().finally(() => {
      this.resetting = undefined;
    });
    this.resetting.catch(() => {});
  }

  /** Forgets every synced state and pending write (after the database was deleted). */
  private dropView(wasm: MainWasm): void {
    this.cancelWrites('reset');
    this.freeViews();
    this.view = this.newView(wasm);
    this.queued = [];
    this.restoredSince = false;
    this.entityUpdates.emit({ ids: [], source: 'reset' });
    this.markAll();
  }

  shutdown(): Promise<void> {
    this.shuttingDown ??= this.stop();
    return this.shuttingDown;
  }

  /** What `shutdown` does, once. */
  private async stop(): Promise<void> {
    this.pollTimer?.();
    this.pollTimer = undefined;
    this.eventsTimer?.();
    this.eventsTimer = undefined;
    for (const subscription of this.subscriptions) subscription.coalescer.cancel();
    this.subscriptions.clear();
    this.unregister?.();
    this.resets?.close();
    await this.session.shutdown();
    this.cancelWrites('shutdown');
    this.entityUpdates.end();
    this.freeViews();
  }

  /** A view of this client's manifest whose traps rebuild it (see `viewTrapped`). */
  private newView(wasm: MainWasm): ViewApi {
    const guarded: ViewApi = trapGuarded(wasm.createView(this.config.manifest, this.overlay), (error) =>
      this.viewTrapped(guarded, error),
    );
    for (const index of this.indexes) guarded.declareIndex(index.model, [...index.members]);
    return guarded;
  }

  /** Frees the shown and the incoming view (a trapped one cannot be freed: it is dropped). */
  private freeViews(): void {
    for (const view of new Set([this.view, this.incoming])) {
      try {
        view?.free();
      } catch {
        // Left borrowed by a trap: its memory stays with the module.
      }
    }
    this.view = undefined;
    this.incoming = undefined;
  }

  /**
   * A view trapped (a panic in the wasm module): reads stop using it, and the worker is
   * restarted so that a new view is restored from the stored state (the panic's text, recorded
   * by the module's panic hook, is in the error).
   */
  private viewTrapped(view: ViewApi, error: unknown): ReactiveError {
    let panic: string | undefined;
    try {
      panic = this.wasm?.takePanicMessage();
    } catch {
      panic = undefined;
    }
    const failure = new WorkerRestartError(
      `the main-thread view failed (${panic ?? (error instanceof Error ? error.message : String(error))}); it is rebuilt from the stored state: await client.ready`,
      { reason: 'viewPanic', ...(panic === undefined ? {} : { panic }) },
      { cause: error },
    );
    if (this.view === view || this.incoming === view) {
      if (this.view === view) this.view = undefined;
      if (this.incoming === view) this.incoming = undefined;
      this.session.restart('viewPanic', failure, panic);
    }
    return failure;
  }

  /** A supervised restart is about to start the new worker: its persisted state fills a new view. */
  private restarting(): void {
    // The new worker sends the whole persisted state again.
    this.queued = [];
    this.restoredSince = false;
    const wasm = this.wasm;
    if (!wasm) return;
    if (this.incoming && this.incoming !== this.view) {
      try {
        this.incoming.free();
      } catch {
        // Left borrowed by a trap.
      }
    }
    try {
      this.incoming = this.newView(wasm);
    } catch (error) {
      this.session.fail(toReactiveError(error, SyncFatalError));
    }
  }

  /**
   * The unconfirmed writes of each held transaction in `view`, the view about to be replaced,
   * once what it settled is settled here; `undefined` when it cannot answer (it trapped).
   */
  private unconfirmedIn(view: ViewApi): Map<string, OverlayEntryInfo[]> | undefined {
    this.poll();
    const open = new Map<string, OverlayEntryInfo[]>();
    const entities = new Set([...this.writeEntity.values()].flatMap((held) => entityIds(held.targets)));
    try {
      for (const entityId of entities) {
        for (const entry of view.overlayFor(entityId)) {
          open.set(entry.transactionId, [...(open.get(entry.transactionId) ?? []), entry]);
        }
      }
    } catch {
      return undefined;
    }
    return open;
  }

  /**
   * Submits the pending writes again to a rebuilt view, each with the time it had left and,
   * when the replaced view could say (`open`), only what it had not confirmed yet.
   */
  private resubmitWrites(view: ViewApi, open: Map<string, OverlayEntryInfo[]> | undefined): void {
    const now = this.runtime.timers.now();
    for (const [transactionId, write] of [...this.writeEntity]) {
      try {
        write.resubmit(view, transactionId, Math.max(1, Math.ceil(write.deadlineMs - now)), now, open?.get(transactionId));
      } catch (error) {
        this.dropWrite(
          transactionId,
          new OverlayError(
            `write ${transactionId} could not be shown again after the view was rebuilt, so it was rolled back: ${toReactiveError(error).message}`,
            { reason: 'rebuilt', transactionId },
            { cause: error },
          ),
        );
      }
    }
  }

  /** The pending optimistic writes, in total and per model. */
  private overlayCounts(): OverlayCounts {
    const perModel = new Map<string, number>();
    for (const { targets } of this.writeEntity.values()) {
      for (const { model } of targets) perModel.set(model, (perModel.get(model) ?? 0) + 1);
    }
    return { total: this.writeEntity.size, perModel };
  }

  /** The development inspector of this client. */
  private inspector(): Inspector {
    return new Inspector(this, {
      models: () => (this.config.models ?? []).map((m) => (typeof m === 'string' ? m : m.tag)),
      page: (model, limit) => {
        try {
          return this.view?.query(model, { limit }).items ?? [];
        } catch (error) {
          throw toReactiveError(error, ValidationError);
        }
      },
      entity: (entityId) => this.view?.entity(entityId),
      overlay: (entityId) => this.view?.overlayFor(entityId) ?? [],
      forceReplay: () => this.session.forceReplay(),
      inspectStore: () => this.session.inspectStore(),
      now: () => this.runtime.timers.now(),
    });
  }

  private open(where: string): Check {
    const check = new Check(where);
    if (this.session.isClosed) {
      throw new ValidationError(`${where}: the client was shut down; create a new one`, { where });
    }
    return check;
  }

  private requireView(check: Check): ViewApi {
    if (!this.view) {
      throw check.fail('client', 'loaded (await client.ready first)', undefined);
    }
    return this.view;
  }

  private submit(check: Check, submission: OverlaySubmission): { readonly transactionId: string } {
    const model = check.string('model', submission.model);
    const entityId = targetEntityId(check, model, submission.entityId);
    const payload = check.record('payload', submission.payload) as OverlaySubmission['payload'];
    check.optionalFunction('guard', submission.guard);
    const timeoutMs = check.optionalCount('timeoutMs', submission.timeoutMs, true, 1);
    const transactionId = check.optionalString('transactionId', submission.transactionId);
    const view = this.requireView(check);
    let keyed: string | undefined;
    try {
      keyed = view.entityIdOfKeys(model, payload, false);
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
    if (keyed !== undefined && keyed !== canonicalEntityId(entityId)) throw keysMismatch(check, model, entityId, keyed);
    const request: Parameters<ViewApi['submitOverlay']>[0] = { entityId, model, payload };
    if (transactionId !== undefined) request.transactionId = transactionId;
    if (submission.guard !== undefined) request.guard = submission.guard;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    return this.hold(view, [{ entityId, model }], (target, now, id, timeout) =>
      target.submitOverlay(
        { ...request, ...(id === undefined ? {} : { transactionId: id }), ...(timeout === undefined ? {} : { timeoutMs: timeout }) },
        now,
      ),
    );
  }

  /** Validates and submits a transaction (several writes) to the view. */
  private submitWrites(check: Check, transaction: TransactionSubmission): { readonly transactionId: string } {
    if (!Array.isArray(transaction.writes) || transaction.writes.length === 0) {
      throw check.fail('writes', 'a non-empty array of { entityId, model, set?, add?, guard? }', transaction.writes);
    }
    const writes = transaction.writes.map((write, i): TransactionWrite => {
      const w = check.record(`writes[${i}]`, write);
      check.knownKeys(`writes[${i}]`, w, ['entityId', 'model', 'set', 'add', 'guard']);
      const model = check.string(`writes[${i}].model`, w.model);
      targetEntityId(check, model, w.entityId, `writes[${i}].entityId`);
      if (w.set !== undefined) check.record(`writes[${i}].set`, w.set);
      if (w.add !== undefined) {
        const add = check.record(`writes[${i}].add`, w.add);
        for (const [member, amount] of Object.entries(add)) {
          const whole = typeof amount === 'number' && Number.isSafeInteger(amount);
          if (!whole && typeof amount !== 'bigint' && typeof amount !== 'string') {
            throw check.fail(`writes[${i}].add.${member}`, 'an integer amount (BigInt, safe integer or string)', amount);
          }
        }
      }
      if (w.set === undefined && w.add === undefined) {
        throw check.fail(`writes[${i}]`, 'set and/or add', write);
      }
      check.optionalFunction(`writes[${i}].guard`, w.guard);
      return write;
    });
    const timeoutMs = check.optionalCount('timeoutMs', transaction.timeoutMs, true, 1);
    const transactionId = check.optionalString('transactionId', transaction.transactionId);
    const view = this.requireView(check);
    for (const [i, write] of writes.entries()) {
      if (write.set === undefined) continue;
      let keyed: string | undefined;
      try {
        keyed = view.entityIdOfKeys(write.model, write.set, false);
      } catch (error) {
        throw toReactiveError(error, ValidationError);
      }
      if (keyed !== undefined && keyed !== canonicalEntityId(write.entityId)) {
        throw keysMismatch(check, write.model, write.entityId, keyed, `writes[${i}].entityId`);
      }
    }
    const request: { -readonly [K in keyof TransactionSubmission]: TransactionSubmission[K] } = { writes };
    if (transactionId !== undefined) request.transactionId = transactionId;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    return this.hold(view, writes, (target, now, id, timeout, open) =>
      target.submitTransaction(
        {
          ...request,
          ...(open === undefined ? {} : { writes: unconfirmedWrites(writes, open) }),
          ...(id === undefined ? {} : { transactionId: id }),
          ...(timeout === undefined ? {} : { timeoutMs: timeout }),
        },
        now,
      ),
    );
  }

  /**
   * Submits through `submitTo` (given a transaction id, the time left and what is still
   * unconfirmed when submitting again to a rebuilt view), keeps what it writes, announces the
   * change.
   */
  private hold(
    view: ViewApi,
    targets: readonly Target[],
    submitTo: (
      view: ViewApi,
      now: number,
      transactionId?: string,
      timeoutMs?: number,
      open?: readonly OverlayEntryInfo[],
    ) => { transactionId: string },
  ): { readonly transactionId: string } {
    let accepted: { transactionId: string };
    let deadlineMs: number;
    const now = this.runtime.timers.now();
    const first = targets[0]?.entityId ?? '';
    try {
      accepted = submitTo(view, now);
      const id = accepted.transactionId;
      deadlineMs = view.overlayFor(first).find((entry) => entry.transactionId === id)?.deadlineMs ?? now;
    } catch (error) {
      throw toReactiveError(error, ValidationError);
    }
    const canonical = targets.map(({ entityId, model }) => ({ entityId: canonicalEntityId(entityId), model }));
    this.writeEntity.set(accepted.transactionId, {
      targets: canonical,
      resubmit: (target, id, timeoutMs, at, open) => submitTo(target, at, id, timeoutMs, open),
      deadlineMs,
    });
    this.changed(entityIds(canonical), 'overlay');
    this.schedulePoll();
    return { transactionId: accepted.transactionId };
  }

  /** Rolls a write back in the view (when `inView`) and settles its promise with `error`. */
  private dropWrite(transactionId: string, error: ReactiveError, strict = false): void {
    try {
      this.view?.rollbackOverlay(transactionId);
    } catch (failure) {
      if (strict) throw toReactiveError(failure, OverlayError);
    }
    const held = this.writeEntity.get(transactionId);
    this.writeEntity.delete(transactionId);
    this.logOverlay('rolledBack', transactionId, held?.targets[0]?.entityId, held?.targets[0]?.model);
    const write = this.pending.get(transactionId);
    this.pending.delete(transactionId);
    write?.reject(error);
    if (held) this.changed(entityIds(held.targets), 'overlay');
    this.schedulePoll();
  }

  private cancelWrites(reason: 'reset' | 'shutdown'): void {
    for (const [transactionId, write] of this.pending) {
      write.reject(
        new OverlayError(`write ${transactionId} was dropped by ${reason}`, { reason, transactionId }),
      );
    }
    this.pending.clear();
    this.writeEntity.clear();
    this.pollTimer?.();
    this.pollTimer = undefined;
  }

  /** An EVENTS batch: decoded by the view, applied to the event logs (after the backlog). */
  private receiveEvents(buffer: ArrayBuffer, flags: EventsFlags): void {
    if (!this.wasm || this.eventsBacklog.length > 0) {
      this.eventsBacklog.push({ buffer, flags });
      if (this.wasm) this.drainEvents();
      return;
    }
    this.applyEvents(buffer, flags);
  }

  /** Applies the backlog's first batch in a task of its own, then the next in another. */
  private drainEvents(): void {
    if (this.eventsTimer || this.eventsBacklog.length === 0) return;
    this.eventsTimer = this.runtime.timers.after(0, () => {
      this.eventsTimer = undefined;
      const next = this.eventsBacklog.shift();
      if (next) this.applyEvents(next.buffer, next.flags);
      this.drainEvents();
    });
  }

  private applyEvents(buffer: ArrayBuffer, flags: EventsFlags): void {
    // No view: it trapped, and the restarted worker sends the stored logs again.
    const view = this.incoming ?? this.view;
    if (!view) return;
    try {
      this.events.apply(view.decodeEvents(new Uint8Array(buffer)), flags);
    } catch (error) {
      this.report(toReactiveError(error, ValidationError));
    }
  }

  private receiveDelta(buffer: ArrayBuffer, restored: boolean): void {
    if (!this.wasm) {
      this.queued.push({ buffer, restored });
      return;
    }
    if (restored) {
      try {
        (this.incoming ?? this.view)?.restore(new Uint8Array(buffer));
        if (!this.incoming) this.cache.clear();
        this.restoredSince = true;
      } catch (error) {
        this.report(toReactiveError(error, ValidationError));
      }
      return;
    }
    // No view: it trapped, and the restarted worker's restore brings this DELTA's data.
    const view = this.view;
    if (!view) return;
    let ids: string[];
    try {
      ids = view.applyDelta(new Uint8Array(buffer));
    } catch (error) {
      this.report(toReactiveError(error, ValidationError));
      return;
    }
    if (ids.length > 0) this.changed(ids, 'sync');
    if (view.nextWakeupMs() !== undefined) this.poll();
  }

  /**
   * INIT_ACK: announces the persisted state once (every subscription re-reads). After a
   * restart, the view restored from the new worker replaces the shown one first, with the
   * pending writes submitted again.
   */
  private restored(): void {
    if (!this.wasm) {
      this.queued.push('init');
      return;
    }
    const incoming = this.incoming;
    this.incoming = undefined;
    if (incoming && incoming !== this.view) {
      const shown = this.view;
      const open = shown ? this.unconfirmedIn(shown) : undefined;
      this.view = incoming;
      try {
        shown?.free();
      } catch {
        // Left borrowed by a trap.
      }
      this.resubmitWrites(incoming, open);
      this.restoredSince = true;
    }
    this.announceRestore();
  }

  /**
   * RESTORED, before INIT_ACK: one kind's stored data is in the view, so its targets stored
   * complete are complete now (the page's first kind before the others are read). A restarted
   * worker's restore goes to the incoming view, shown at its INIT_ACK.
   */
  private kindRestored(kind: TargetKind, targets: readonly TargetState[]): void {
    if (!this.wasm) {
      this.queued.push({ kind, targets });
      return;
    }
    if (this.incoming) return;
    this.announceRestore();
    this.session.kindRestored(kind, targets);
  }

  /** Announces the restored DELTAs applied since the last announcement (every subscription re-reads). */
  private announceRestore(): void {
    const view = this.view;
    if (!view || !this.restoredSince) return;
    this.restoredSince = false;
    this.entityUpdates.emit({ ids: [], source: 'restore' });
    this.markAll();
    if (view.nextWakeupMs() !== undefined) this.poll();
  }

  private schedulePoll(): void {
    this.pollTimer?.();
    this.pollTimer = undefined;
    const wake = this.view?.nextWakeupMs();
    if (wake === undefined) return;
    this.pollTimer = this.runtime.timers.after(wake - this.runtime.timers.now(), () => {
      this.pollTimer = undefined;
      this.poll();
    });
  }

  private poll(): void {
    const view = this.view;
    if (!view) return;
    let result: { events: OverlayEventInfo[]; changed: string[] };
    try {
      result = view.poll(this.runtime.timers.now());
    } catch (error) {
      this.report(toReactiveError(error, OverlayError));
      this.schedulePoll();
      return;
    }
    for (const event of result.events) this.overlayEvent(event);
    if (result.changed.length > 0) this.changed(result.changed, 'overlay');
    this.schedulePoll();
  }

  private overlayEvent(event: OverlayEventInfo): void {
    this.logOverlay(event.type, event.transactionId, event.entityId, event.model, event.by);
    const write = this.pending.get(event.transactionId);
    this.pending.delete(event.transactionId);
    this.writeEntity.delete(event.transactionId);
    switch (event.type) {
      case 'confirmed':
        write?.resolve();
        return;
      case 'timedOut': {
        const error = toReactiveError(
          event.error ?? {
            name: 'OverlayTimeoutError',
            message: `optimistic write ${event.transactionId} was not confirmed in time; it has been rolled back`,
            transactionId: event.transactionId,
            entityId: event.entityId,
          },
          OverlayTimeoutError,
        );
        // Logged as overlay.timedOut above; on `errors` once.
        this.session.errors.emit(error);
        write?.reject(error);
        return;
      }
      case 'replaced':
        write?.reject(
          new OverlayError(`write ${event.transactionId} was replaced by ${event.by ?? 'a newer write'}`, {
            reason: 'replaced',
            transactionId: event.transactionId,
            by: event.by,
          }),
        );
        return;
      default:
        write?.reject(
          new OverlayError(`write ${event.transactionId} was rolled back`, {
            reason: 'rolledBack',
            transactionId: event.transactionId,
          }),
        );
    }
  }

  /** Logs an overlay confirmation (info) or rollback / timeout / replacement (warn). */
  private logOverlay(kind: string, transactionId: string, entityId?: string, model?: string, by?: string): void {
    const outcomes: { readonly [kind: string]: string } = {
      confirmed: 'was confirmed',
      timedOut: 'timed out and was rolled back',
      replaced: `was replaced by ${by ?? 'a newer write'}`,
    };
    const data: { [field: string]: unknown } = { transactionId };
    if (by !== undefined) data.by = by;
    const fields: { entityId?: string; model?: string; data: typeof data } = { data };
    if (entityId !== undefined) fields.entityId = entityId;
    if (model !== undefined) fields.model = model;
    this.log.emit(
      kind === 'confirmed' ? 'info' : 'warn',
      `overlay.${kind}`,
      `optimistic write ${transactionId} ${outcomes[kind] ?? 'was rolled back'}`,
      fields,
    );
  }

  private changed(ids: readonly string[], source: EntityUpdate['source']): void {
    this.cache.changed(ids);
    this.entityUpdates.emit({ ids, source });
    let idSet: Set<string> | undefined;
    for (const subscription of this.subscriptions) {
      const depends = subscription.selector.entityIds;
      if (depends) {
        idSet ??= new Set(ids);
        if (!depends.some((id) => idSet?.has(id))) continue;
      }
      subscription.coalescer.request();
    }
  }

  private markAll(): void {
    for (const subscription of this.subscriptions) subscription.coalescer.request();
  }

  private evaluate(selector: Selector<unknown>, model: string | null): unknown {
    return selector(this.reader, model);
  }

  private flush(subscription: Subscription): void {
    // Without a view (a trapped one being rebuilt), listeners keep their last result.
    if (!this.subscriptions.has(subscription) || !this.view) return;
    let next: unknown;
    try {
      next = this.evaluate(subscription.selector, subscription.model);
    } catch (error) {
      this.report(toReactiveError(error, ValidationError));
      return;
    }
    if (deepEqual(next, subscription.last)) return;
    subscription.last = next;
    try {
      subscription.listener(next);
    } catch (error) {
      // The application's own bug: surface it as an uncaught error, keep delivering to others.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  private report(error: unknown): void {
    // A view's trap was reported by the restart it caused.
    if (error instanceof WorkerRestartError) return;
    this.session.report(error instanceof ReactiveError ? error : toReactiveError(error, ValidationError));
  }
}
