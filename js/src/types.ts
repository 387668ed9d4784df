/**
 * Value, query and status types of the public API. Values follow the Dojo SDK's parsed-entity
 * shape so applications can switch between the SDK and this package.
 *
 * @module
 */

/** An enum value: the variant's name, and its payload unless the variant is a unit variant. */
export interface SdkEnum {
  /** The variant's name. */
  readonly variant: string;
  /** The payload; absent for unit variants. */
  readonly value?: SdkValue;
}

/** A nested struct: member name → value. */
export interface SdkStruct {
  readonly [member: string]: SdkValue;
}

/**
 * One member value. `number` for u8-u32/i8-i32, `boolean` for bool, `bigint` for u64, i64, u128,
 * i128 and u256, a `0x` hex string for felt252, ContractAddress, ClassHash and EthAddress, a
 * string for ByteArray, {@link SdkEnum} for enums, arrays for arrays and tuples, objects for
 * nested structs.
 */
export type SdkValue =
  | number
  | boolean
  | bigint
  | string
  | SdkEnum
  | readonly SdkValue[]
  | SdkStruct;

/** One model's state: member name → value. */
export type SdkModel = SdkStruct;

/** An entity as the Dojo SDK parses it: `{ entityId, models: { ns: { Model: { member } } } }`. */
export interface SdkEntity {
  /** The entity id: `0x` followed by 64 hex digits. */
  readonly entityId: string;
  /** Namespace → model name → member → value. */
  readonly models: { readonly [namespace: string]: { readonly [model: string]: SdkModel } };
}

/** JSON-like values accepted as filter operands and overlay payload members. */
export type InputValue =
  | number
  | boolean
  | bigint
  | string
  | null
  | readonly InputValue[]
  | { readonly [key: string]: InputValue | undefined };

/**
 * A filter operator: Torii's 14 comparison operators. `in` / `notIn` take a list of values;
 * `contains` an element of an array member, `containsAll` / `containsAny` a list of elements;
 * `arrayLengthEq` / `arrayLengthGt` / `arrayLengthLt` an array member's length.
 */
export type FilterOp =
  | 'eq'
  | 'neq'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'notIn'
  | 'contains'
  | 'containsAll'
  | 'containsAny'
  | 'arrayLengthEq'
  | 'arrayLengthGt'
  | 'arrayLengthLt';

/** One member predicate: a dotted member path, an operator and an operand (a list for `in`, `notIn`, `containsAll`, `containsAny`). */
export interface Predicate {
  /** Dotted member path, e.g. `"pos.x"`. */
  readonly member: string;
  /** The operator. */
  readonly op: FilterOp;
  /** The operand: numbers or decimal strings, `0x` hex for felts, variant names for enums. */
  readonly value: InputValue;
}

/** Conditions that must all hold (never empty). */
export interface AllOf {
  /** The conditions. */
  readonly and: readonly Condition[];
}

/** Conditions of which at least one holds (never empty). */
export interface AnyOf {
  /** The conditions. */
  readonly or: readonly Condition[];
}

/** Named key members that must equal these values. */
export interface KeyValues {
  /** Key member name → value. */
  readonly keys: { readonly [member: string]: InputValue };
}

/**
 * The model's key felts (their Cairo serialization, in declaration order) match a pattern:
 * `null` is a wildcard. `fixedLen` (default) needs as many key felts as slots, `variableLen` at least.
 */
export interface KeyPattern {
  /** Felts (`0x` hex or decimal) or `null` wildcards. */
  readonly keys: readonly (string | null)[];
  /** How the number of key felts is matched. */
  readonly matching?: 'fixedLen' | 'variableLen';
}

/** The entity id is one of these (an empty list: any entity). */
export interface HashedKeys {
  /** Entity ids (`0x` hex). */
  readonly hashedKeys: readonly string[];
}

/** One `where` entry: Torii's clause language (member predicates, keys, hashed keys, `and` / `or` nested at will). */
export type Condition = Predicate | AllOf | AnyOf | KeyValues | KeyPattern | HashedKeys;

/** The filter DSL on one model: key members that must equal a value, and conditions that must all hold. */
export interface Filter {
  /** Key member name → value. */
  readonly keys?: { readonly [member: string]: InputValue };
  /** Conditions that must all hold. */
  readonly where?: readonly Condition[];
}

/** One `orderBy` entry: a dotted path of a number or `ByteArray` member and its direction. */
export interface OrderBy {
  /** Dotted member path, e.g. `"pos.x"`. */
  readonly member: string;
  /** `asc` (default) or `desc`. */
  readonly direction?: 'asc' | 'desc';
}

/**
 * An ordered index declared on one or two members of a model (number or `ByteArray` members,
 * most significant first): queries whose conditions bound the first member (a range), or both
 * (a region), read only the entities there.
 */
export interface IndexDeclaration {
  /** The model tag (`ns-Model`). */
  readonly model: string;
  /** One or two dotted member paths, e.g. `['x', 'y']`. */
  readonly members: readonly string[];
}

/** Which members to return: keep `include` paths (all when absent), then drop `exclude` paths. */
export interface MemberSelection {
  /** Member paths to keep. */
  readonly include?: readonly string[];
  /** Member paths to remove. */
  readonly exclude?: readonly string[];
}

/** Where reads come from: the optimistic overlay merged over synced data, or synced data only. */
export type Consistency = 'overlay' | 'synced';

/** Options of `query`. */
export interface QueryOptions {
  /** Which entities (all of the model's when absent). */
  readonly filter?: Filter;
  /** Which members of them. */
  readonly select?: MemberSelection;
  /**
   * Order by these members in turn, then by entity id (by entity id alone when absent). Paging
   * with `cursor` is stable while writes arrive: a page continues after the previous page's last
   * position, so no entity is shown twice and none that stayed in place is skipped.
   */
  readonly orderBy?: readonly OrderBy[];
  /** Most entities per page (at least 1; all when absent). */
  readonly limit?: number;
  /** `nextCursor` of the previous page (of the same `filter` and `orderBy`). */
  readonly cursor?: string;
  /** `overlay` (default) or `synced`. */
  readonly consistency?: Consistency;
}

/** Options of `count`. */
export interface CountOptions {
  /** Which entities (all of the model's when absent). */
  readonly filter?: Filter;
  /** `overlay` (default) or `synced`. */
  readonly consistency?: Consistency;
}

/** One page of query results, ordered by entity id unless the query has an `orderBy`. */
export interface QueryResult {
  /** Matching entities. */
  readonly items: readonly SdkEntity[];
  /** Cursor of the next page, when there are more matches. */
  readonly nextCursor?: string;
}

/** The core `QuerySpec` as the wasm view takes it. */
export interface QuerySpec {
  /** The filter. */
  readonly filter?: Filter;
  /** The member selection. */
  readonly select?: MemberSelection;
  /** Order of the results (by entity id when absent). */
  readonly orderBy?: readonly OrderBy[];
  /** Most states per page. */
  readonly limit?: number;
  /** Cursor of the previous page. */
  readonly cursor?: string;
}

/**
 * A synchronizer state. `offline`: Torii cannot be reached or did not answer in time; the stored
 * data stays visible and Torii is tried again with backoff (a `TransportError` on `errors` each
 * time) until it answers.
 */
export type SyncState =
  | 'idle'
  | 'bootstrapping'
  | 'streaming'
  | 'lagging'
  | 'replaying'
  | 'retrying'
  | 'offline'
  | 'pausing'
  | 'halted';

/** What a synchronizer syncs. */
export type TargetKind = 'entities' | 'eventMessages' | TokenTargetKind;

/** The token kinds: tokens (ERC20s, NFT ids and their metadata), balances, token contracts. */
export type TokenTargetKind = 'tokens' | 'tokenBalances' | 'tokenContracts';

/** One model's figures in a tick. */
export interface ModelTick {
  /** The model tag. */
  readonly model: string;
  /** Per-model status. */
  readonly status: 'idle' | 'bootstrapping' | 'streaming' | 'retrying';
  /** Cursor of the next snapshot page, while a snapshot is read. */
  readonly lastCursor?: string;
  /** Newest Torii `updated_at` applied to this model. */
  readonly lastTimestamp?: number;
  /** Model states written by the last batch. */
  readonly lastBatchSize: number;
  /** Consecutive failures of the target. */
  readonly consecutiveFailures: number;
  /** Milliseconds until the next attempt while retrying, else 0. */
  readonly nextPollInMs: number;
  /** The client's pending optimistic writes on this model (filled in on the main thread; absent from a sync-only worker). */
  readonly overlayPending?: number;
  /** Model states applied per second. */
  readonly throughputPerSec?: number;
}

/**
 * A Torii clause as JSON, in the shape of Torii's own clients (externally tagged). Member values
 * are written as in a query filter and typed by the manifest; `In`, `NotIn`, `ContainsAll` and
 * `ContainsAny` take a list, `ArrayLength*` a count. Operators may also be written `EQ`,
 * `NOT_IN`, ... (Torii's proto names).
 */
export type SyncClause =
  | { readonly HashedKeys: readonly string[] }
  | {
      readonly Keys: {
        /** Hex felts; `null` matches any felt. */
        readonly keys: readonly (string | null)[];
        /** Default `FixedLen`. */
        readonly pattern_matching?: 'FixedLen' | 'VariableLen';
        readonly models?: readonly string[];
      };
    }
  | {
      readonly Member: {
        readonly model: string;
        /** Dotted member path (`vec.x`). */
        readonly member: string;
        readonly operator: ClauseOperator;
        readonly value: unknown;
      };
    }
  | { readonly Composite: { readonly operator: 'And' | 'Or'; readonly clauses: readonly SyncClause[] } };

/** Torii's 14 comparison operators. */
export type ClauseOperator =
  | 'Eq'
  | 'Neq'
  | 'Gt'
  | 'Gte'
  | 'Lt'
  | 'Lte'
  | 'In'
  | 'NotIn'
  | 'Contains'
  | 'ContainsAll'
  | 'ContainsAny'
  | 'ArrayLengthEq'
  | 'ArrayLengthGt'
  | 'ArrayLengthLt';

/**
 * One sync target: what of Torii's entities or event messages the client keeps. The targets of
 * a kind are merged into one live stream (an OR of their clauses).
 */
export interface SyncTargetSpec {
  /** Unique among the client's targets. */
  readonly id: string;
  /**
   * Torii's entities, its event messages (the latest of each), a token kind (see
   * `docs/tokens.md`), or `eventLog`: every event message of `models`, kept in order
   * (`client.events`, see `docs/events.md`).
   */
  readonly kind: SyncTargetKind;
  /** Model tags it syncs (default: every synced model of its kind). Entity kinds only. */
  readonly models?: readonly string[];
  /** Narrows it to the entities a clause selects (default: every entity with one of `models`). Entity kinds only. */
  readonly clause?: SyncClause;
  /**
   * The query language instead of `clause`: a filter as `query` takes it (`{ keys?, where? }`) on
   * the target's one model (`models` names exactly one).
   */
  readonly filter?: Filter;
  /** `tokenBalances` only: the holders whose balances it keeps (0x addresses; default every holder). */
  readonly accounts?: readonly string[];
  /** Token kinds only: the token contracts it keeps (0x addresses; default every contract). */
  readonly contracts?: readonly string[];
  /**
   * `tokens` and `tokenBalances` only: the token ids it keeps (NFTs: u256 as `bigint` or `0x`
   * hex; default every id, ERC20s included). Torii is asked for these ids alone.
   */
  readonly tokenIds?: readonly (bigint | string)[];
  /** `eventLog` only: keep at most `count` events (the newest) and none older than `maxAgeSeconds` (by `executedAt`); unbounded by default. */
  readonly retention?: EventRetention;
}

/** The kind of a sync target: a synchronizer's kind, or `eventLog` (the history of event messages). */
export type SyncTargetKind = TargetKind | 'eventLog';

/** How much of its history an `eventLog` target keeps. */
export interface EventRetention {
  /** The most events kept (the newest). */
  readonly count?: number;
  /** The oldest event kept, in seconds before now (by `executedAt`). */
  readonly maxAgeSeconds?: number;
}

/** What happens to entities no target covers any more: they leave the store (`drop`) or stay as last synced (`keep`). */
export type TargetRetention = 'drop' | 'keep';

/** Where one sync target stands (`client.targets.list()`). */
export interface SyncTargetStatus {
  /** The target's id. */
  readonly id: string;
  /** Its kind. */
  readonly kind: SyncTargetKind;
  /**
   * Whether everything it selects, as last defined, has been read (a target restored complete
   * from the database is complete at once; one added or widened at run time once its pages are
   * read). An `eventLog` target is complete once its stored log is on the page and a walk read
   * its whole history within the retention (a reload of a complete log: once restored).
   */
  readonly complete: boolean;
  /**
   * `eventLog` targets only: whether the whole stored log is on the page. After a start it
   * arrives after `ready`, in chunks, newest first; `complete` waits for it too.
   */
  readonly restored?: boolean;
}

/** Where one sync target of a kind stands, as a SYNC_TICK or INIT_ACK reports it. */
export interface TargetState {
  /** The target's id. */
  readonly id: string;
  /** What it selects (16 hex digits): the status is about the definition with this digest. */
  readonly digest: string;
  /** Whether everything it selects has been read. */
  readonly complete: boolean;
}

/**
 * Where each of the page's sync targets stands once the stored data is in the view, by kind
 * (INIT_ACK): complete when it was stored complete under the same definition.
 */
export type RestoredTargets = { readonly [K in TargetKind]?: readonly TargetState[] };

/** One SYNC_TICK from the worker (the core `SyncTick`, camelCase). */
export interface SyncTick {
  /** Clock time (ms). */
  readonly clock: number;
  /** The target. */
  readonly target: TargetKind;
  /** Overall status. */
  readonly overall: {
    readonly state: SyncState;
    readonly lastSyncedAt: number | null;
    readonly lagMs: number;
    /** The client's pending optimistic writes (filled in on the main thread; 0 from a sync-only worker). */
    readonly pendingOverlayCount: number;
  };
  /** Per model. */
  readonly models: readonly ModelTick[];
  /** Per sync target of this kind, in the order given (see {@link SyncTargetStatus}). */
  readonly targets: readonly TargetState[];
  /** Stream updates buffered and not yet applied. */
  readonly queueDepth: number;
  /** Buffered updates replaced by a newer one. */
  readonly queueSuperseded: number;
  /** The most stream updates ever buffered at once (bounded by the queue's high-water mark). */
  readonly queueMaxDepth: number;
  /** Ledger counters. */
  readonly ledger: {
    /** Observations applied (inserted or replacing an older version). */
    readonly applied: number;
    /** Observations dropped: stale snapshot rows, out-of-order stream updates, lost ties, duplicates. */
    readonly staleDropped: number;
    /** Held versions replaced by a newer one. */
    readonly superseded: number;
    /** Of the dropped: stream updates older than the held version (delivered out of order, or late duplicates). */
    readonly regressed: number;
    /** Replayed snapshot rows identical to what was held. */
    readonly unchanged: number;
    /** States deleted because a complete snapshot no longer had them. */
    readonly absentDeleted: number;
    /** (entity, model) versions held. */
    readonly held: number;
  };
  /** Replays started. */
  readonly replayCount: number;
  /** Duration of the last completed replay (ms). */
  readonly lastReplayDurationMs: number | null;
  /** Consecutive failed passes. */
  readonly failedPasses: number;
  /** The retry budget. */
  readonly replayBudget: number;
  /** Records skipped because they could not be decoded. */
  readonly rejectedRecords: number;
  /** Connection to Torii. */
  readonly connection: 'disconnected' | 'connecting' | 'connected';
  /** Torii's version as last probed. */
  readonly toriiVersion: string | null;
  /**
   * Model states synced and shown but not stored yet (a write failed: quota, closed
   * connection; they are written when the store takes them again). 0 when the store is current.
   */
  readonly unpersisted?: number;
}

/** Where a client keeps its data: IndexedDB, or memory where the browser offers none. */
export type Persistence = 'indexedDb' | 'memory';

/** Why a synchronizer changed state (`kind` plus details such as `message` or `silentMs`). */
export interface TransitionReason {
  /** e.g. `start`, `snapshotComplete`, `heartbeat`, `streamFailed`, `forced`, `budgetExhausted`. */
  readonly kind: string;
  /** Details of the failure, for failure kinds. */
  readonly message?: string;
  /** Milliseconds without stream progress, for `heartbeat`. */
  readonly silentMs?: number;
  /** Pages already stored, for `resumeSnapshot`. */
  readonly pagesRead?: number;
}

/** One synchronizer state change. */
export interface Transition {
  /** The target. */
  readonly target: TargetKind;
  /** State before. */
  readonly from: SyncState;
  /** State after. */
  readonly to: SyncState;
  /** Why. */
  readonly reason: TransitionReason;
  /** Clock time (ms). */
  readonly at: number;
}

/** Sync options passed to the worker's synchronizer; every field is optional. */
export interface SyncOptions {
  /** Entities per snapshot page (default 1000; at most 4294967295; 0: Torii's default). */
  readonly pageSize?: number;
  /**
   * Stream silence after which Torii's newest row is read and compared with what is held (ms,
   * at least 1; default 30 s): a quiet stream goes on, one that missed the row is re-subscribed
   * and the rows changed since the last one seen are read.
   */
  readonly heartbeatTimeoutMs?: number;
  /** How often silence is checked (ms; default 5 s). */
  readonly heartbeatCheckMs?: number;
  /** Consecutive failed passes before the synchronizer halts (default 3; at most 4294967295). */
  readonly replayBudget?: number;
  /**
   * Timeout of one Torii request (ms, at least 1; default 30 s; the version probe waits at most
   * 10 s). A Torii that does not answer in time is `offline`, retried with backoff.
   */
  readonly requestTimeoutMs?: number;
  /** Interval of SYNC_TICKs (ms; default 2 s). */
  readonly tickIntervalMs?: number;
  /** First retry backoff (ms; default 2 s). */
  readonly backoffInitialMs?: number;
  /** Longest retry backoff (ms; default 60 s). */
  readonly backoffMaxMs?: number;
  /**
   * After a restart, a store current less than this long ago catches up on the newest rows
   * only instead of re-reading the snapshot (ms; default 24 h; 0: always re-read everything).
   */
  readonly catchUpWindowMs?: number;
  /** How far before the newest applied update a catch-up reads (Torii seconds; default 10). */
  readonly catchUpMarginS?: number;
  /**
   * How long after a restart's catch-up a full replay runs to remove entities deleted whole
   * while the client was closed, which a catch-up cannot see (ms; default 60 s; 0: not before
   * the next scheduled reconcile).
   */
  readonly reconcileAfterCatchUpMs?: number;
  /**
   * How often (ms after the last full pass) a full replay re-reads the snapshot to remove what
   * neither the stream nor a catch-up can show: entities deleted whole, or leaving the synced
   * models, while the stream was down (default 1 h; 0: only `forceReplay()` and reloads).
   * A quiet stream is never re-read in full: after `heartbeatTimeoutMs` without progress the
   * worker reads Torii's newest row and re-subscribes only when the stream missed it.
   */
  readonly reconcileIntervalMs?: number;
}

/**
 * A tab's part in the writer election of its database (see `docs/tabs.md`): the `leader` syncs
 * and writes, a `follower` shows the leader's data; `epoch` is the leader's (raised at every
 * change of leader).
 */
export interface TabRole {
  readonly role: 'leader' | 'follower';
  readonly epoch: number;
}

/** The configuration the worker's `SyncWorker.open` takes. */
export interface WorkerConfig {
  /** Torii's URL. */
  readonly toriiUrl: string;
  /** The world's address (`0x` hex; the options' or the manifest's). */
  readonly worldAddress: string;
  /** The Dojo manifest JSON text. */
  readonly manifest: string;
  /** Models to sync (default: every model). */
  readonly models?: readonly ModelChoice[];
  /** Also sync event messages. */
  readonly eventMessages?: boolean;
  /** Sync targets (default: every entity of `models`). */
  readonly targets?: readonly SyncTargetSpec[];
  /** What happens to entities no target covers any more (default `drop`). */
  readonly targetRetention?: TargetRetention;
  /** IndexedDB database name (default: derived from toriiUrl + worldAddress). */
  readonly dbName?: string;
  /** Synchronizer options. */
  readonly syncOptions?: SyncOptions;
  /** What a Torii version other than the one the stored data was synced from means. */
  readonly onToriiVersionChange?: ToriiVersionChangePolicy;
  /** Most model states per DELTA batch. */
  readonly deltaChunk?: number;
}

/**
 * What a Torii version other than the one the stored data was synced from means: `reconcile`
 * (default) keeps the stored data visible, re-reads the whole snapshot and reports
 * `ToriiVersionChangedError` on `errors` as a warning (its `kept` is true); `fail` stops syncing
 * with a fatal `ToriiVersionChangedError`.
 */
export type ToriiVersionChangePolicy = 'reconcile' | 'fail';

/**
 * Decides when synced data confirms an optimistic write: called with the model's synced state
 * (undefined when absent or deleted) after each synced change and on the overlay's poll interval.
 */
export type Guard = (syncedModelState: SdkModel | undefined) => boolean;

/** A pending optimistic write. */
export interface OverlayEntryInfo {
  /** The write's transaction id. */
  readonly transactionId: string;
  /** The entity written. */
  readonly entityId: string;
  /** The model tag written. */
  readonly model: string;
  /** Members shown over the synced state. */
  readonly payload: SdkModel;
  /** Integer members shown changed by these amounts over the latest synced state (not yet confirmed). */
  readonly add: { readonly [member: string]: bigint };
  /** When it was submitted (ms). */
  readonly submittedAtMs: number;
  /** When it is rolled back if unconfirmed (ms). */
  readonly deadlineMs: number;
  /** What confirms it (a description). */
  readonly guard: string;
}

/** Optimistic write to submit without a transaction (see `mutate` for the managed form). */
export interface OverlaySubmission {
  /** The entity written. */
  readonly entityId: string;
  /** The model tag written (`ns-Model`). */
  readonly model: string;
  /** Members shown over the synced state. */
  readonly payload: { readonly [member: string]: InputValue };
  /** What confirms it (default: synced state has the payload's values). */
  readonly guard?: Guard;
  /** Time before rollback (default: the overlay's). */
  readonly timeoutMs?: number;
  /** The caller's id (e.g. a transaction hash); generated when absent. */
  readonly transactionId?: string;
}

/**
 * The amount of a relative write: a BigInt, a safe integer number, or a decimal (optionally
 * negative) or `0x` hex string.
 */
export type Amount = bigint | number | string;

/** Members a write sets, in the SDK shape. */
export type WriteMembers = { readonly [member: string]: InputValue };

/** Integer members a write changes, by an amount over the latest synced value (`{ balance: -10n }`). */
export type WriteAmounts = { readonly [member: string]: Amount };

/**
 * One write of a transaction, on one model of one entity: `set` shows members as given, `add`
 * shows integer members (u8-u256, i8-i128, not keys) changed by an amount over the latest
 * synced value, re-applied over each newer synced state until confirmed. At least one of the
 * two; a member is in one of them only.
 */
export type TransactionWrite = {
  /** The entity written (`0x` + 64 hex). */
  readonly entityId: string;
  /** The model tag written (`ns-Model`). */
  readonly model: string;
  /** What confirms this write instead of the default rules (see `mutate`). */
  readonly guard?: Guard;
} & (
  | { readonly set: WriteMembers; readonly add?: WriteAmounts }
  | { readonly set?: WriteMembers; readonly add: WriteAmounts }
);

/** A transaction to submit without sending anything (see `mutate` for the managed form). */
export interface TransactionSubmission {
  /** Its writes (at most one per entity and model), shown, confirmed and rolled back as one. */
  readonly writes: readonly TransactionWrite[];
  /** Time before rollback (default: the overlay's). */
  readonly timeoutMs?: number;
  /** The caller's id (e.g. a transaction hash); generated when absent. */
  readonly transactionId?: string;
}

/** One model's or event's part of a {@link ManifestFingerprint}. */
export interface FingerprintEntry {
  /** The tag, `namespace-Name`. */
  readonly tag: string;
  /** Model or event. */
  readonly kind: 'model' | 'event';
  /** Class hash, `0x` + 64 hex digits. */
  readonly classHash: string;
  /** Hex SHA-256 of the entry's canonical record (tag, class hash, members). */
  readonly signature: string;
  /** Number of members. */
  readonly memberCount: number;
}

/** A manifest's fingerprint, as the worker stores it beside the synced data. */
export interface ManifestFingerprint {
  /** `manifest-hash:v1:` + hex SHA-256 of the canonical manifest. */
  readonly hash: string;
  /** World class hash, `0x` + 64 hex digits. */
  readonly worldClassHash: string;
  /** One entry per model and event, sorted by tag. */
  readonly entries: readonly FingerprintEntry[];
}

/** One version-ledger entry as the worker's database holds it. */
export interface StoredLedgerEntry {
  /** The entity id. */
  readonly entityId: string;
  /** The model tag. */
  readonly model: string;
  /** A written state, a deletion tombstone, or an absence tombstone (a replay no longer had it). */
  readonly state: 'write' | 'deleted' | 'absent';
  /** Block timestamp of the version (Unix seconds; 0 for absence). */
  readonly executedAt: number;
  /** Torii's indexing timestamp of the version (Unix seconds; 0 for absence). */
  readonly updatedAt: number;
}

/** A target's persisted sync state. */
export interface StoredSyncState {
  /** Cursor of the next snapshot page, while a snapshot is in progress. */
  readonly cursor: string | null;
  /** Whether a snapshot was read to its end at least once. */
  readonly snapshotComplete: boolean;
  /** Pages read since the snapshot in progress started. */
  readonly pagesRead: number;
  /** Worker clock time (ms) when the target was last known to be current. */
  readonly lastSyncedAt: number | null;
  /** Newest Torii `updated_at` applied (Unix seconds). */
  readonly lastTimestamp: number | null;
  /** Worker clock time (ms) of this record. */
  readonly updatedAt: number;
}

/** What the worker's database holds for one sync target, checked for agreement. */
export interface StoredTargetReport {
  /** The target. */
  readonly target: TargetKind;
  /** Model states stored. */
  readonly states: number;
  /** The version ledger: one entry per (entity, model) synced, tombstones included. */
  readonly ledger: readonly StoredLedgerEntry[];
  /** The persisted sync state, null before the first batch. */
  readonly syncState: StoredSyncState | null;
  /** Records that could not be read back (each is read again from Torii). */
  readonly skipped: readonly string[];
  /** Every way the stored states, ledger and sync state disagree; empty when consistent. */
  readonly disagreements: readonly string[];
}

/** The persisted store of a client, read back by the worker (the inspector's `ledger()`). */
export interface StoreReport {
  /** One report per synced target. */
  readonly targets: readonly StoredTargetReport[];
}

/** How the sync worker's start went (INIT_ACK, before any network): when it began and how long each step took. */
export interface StartTimings {
  /** When the worker's start began (epoch ms, `Date.now()` in the worker). */
  readonly startedAt: number;
  /** Opening and checking the database (ms). */
  readonly openMs: number;
  /** Reading the stored segments and sending them to the view (ms). */
  readonly restoreMs: number;
}

/**
 * A model to sync: its tag (`ns-Model`), or the tag with `versionMember`, a member the game
 * increases with every write, which the version ledger compares before Torii's timestamps.
 */
export type ModelChoice = string | { readonly tag: string; readonly versionMember?: string };
