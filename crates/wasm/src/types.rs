//! The typed JS boundary: the TypeScript interfaces of `API.md`, emitted into the generated
//! `.d.ts`, and the extern newtypes that carry them through wasm-bindgen (so no export is typed
//! `any`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of the sync worker (see API.md). */
export interface WorkerConfig {
  toriiUrl: string;
  worldAddress?: string;
  manifest: string;
  models?: (string | { tag: string; versionMember?: string })[];
  eventMessages?: boolean;
  targets?: Array<{ id: string; kind: "entities" | "eventMessages"; models?: string[]; clause?: unknown }>;
  targetRetention?: "drop" | "keep";
  dbName?: string;
  syncOptions?: {
    pageSize?: number; heartbeatTimeoutMs?: number; heartbeatCheckMs?: number;
    replayBudget?: number; requestTimeoutMs?: number; tickIntervalMs?: number;
    backoffInitialMs?: number; backoffMaxMs?: number;
    catchUpWindowMs?: number; catchUpMarginS?: number; reconcileAfterCatchUpMs?: number;
    reconcileIntervalMs?: number;
  };
  onToriiVersionChange?: "reconcile" | "fail";
  deltaChunk?: number;
}

/** A typed error as plain data; js/ turns it into an error class. */
export interface ReactiveErrorInfo {
  name: "SchemaMismatchError" | "ToriiVersionChangedError" | "SyncFatalError" | "TransportError"
      | "StorageError" | "ValidationError" | "OverlayTimeoutError" | "OverlayError";
  message: string;
  [field: string]: unknown;
}

/** Core SyncTick, camelCase. */
export interface SyncTick {
  clock: number;
  target: "entities" | "eventMessages";
  overall: { state: SyncState; lastSyncedAt: number | null; lagMs: number; pendingOverlayCount: number };
  models: Array<{ model: string; status: "idle" | "bootstrapping" | "streaming" | "retrying";
    lastCursor?: string; lastTimestamp?: number; lastBatchSize: number; consecutiveFailures: number;
    nextPollInMs: number; overlayPending?: number; throughputPerSec?: number }>;
  targets: Array<{ id: string; digest: string; complete: boolean }>;
  queueDepth: number;
  queueSuperseded: number;
  queueMaxDepth: number;
  ledger: { applied: number; staleDropped: number; superseded: number; regressed: number;
    unchanged: number; absentDeleted: number; held: number };
  replayCount: number;
  lastReplayDurationMs: number | null;
  failedPasses: number;
  replayBudget: number;
  rejectedRecords: number;
  connection: "disconnected" | "connecting" | "connected";
  toriiVersion: string | null;
}

/** A synchronizer state. */
export type SyncState = "idle" | "bootstrapping" | "streaming" | "lagging" | "replaying" | "retrying"
  | "offline" | "pausing" | "halted";

/** Core Transition, camelCase. */
export interface Transition {
  target: "entities" | "eventMessages";
  from: SyncState;
  to: SyncState;
  reason: { kind: string; [field: string]: unknown };
  at: number;
}

/** How a worker's `open` went: when it began (epoch ms, `Date.now()`) and its steps (ms). */
export interface StartTimings { startedAt: number; openMs: number; restoreMs: number }

/** The newest relayed DELTA a store held: writer epoch and number (`SyncWorker.restoredMark`). */
export interface RelayMark { epoch: number; n: number }

/** A synced DELTA's place in its leader's relayed sequence: target, writer epoch, number (from 1). */
export interface DeltaRelay { target: "entities" | "eventMessages"; epoch: number; n: number }

/** What the worker sends (`messages.rs`); DELTA bytes come as the second argument of emit. */
export type WorkerEvent =
  | { type: "INIT_ACK"; manifestHash: string; toriiVersion: string | null; dbName: string; restored: number; persistence: "indexedDb" | "memory"; timings: StartTimings }
  | { type: "DELTA"; persisted: boolean; relay?: DeltaRelay }
  | { type: "SYNC_TICK"; tick: SyncTick & { unpersisted: number } }
  | { type: "TRANSITION"; transition: Transition }
  | { type: "SYNC_ERROR"; error: ReactiveErrorInfo }
  | { type: "SYNC_FATAL"; error: ReactiveErrorInfo };

/** The worker's event sink. */
export type WorkerEmit = (event: WorkerEvent, delta?: Uint8Array) => void;

/** A model member value in the SDK shape. */
export type SdkValue = number | boolean | bigint | string | SdkValue[] | { variant: string; value?: SdkValue }
  | { [member: string]: SdkValue };

/** An entity in the SDK shape. */
export interface SdkEntity {
  entityId: string;
  models: { [ns: string]: { [model: string]: { [member: string]: SdkValue } } };
}

/** Read synced state only, or synced state with pending optimistic writes over it. */
export type Consistency = "overlay" | "synced";

/** A filter operator: Torii's 14 comparison operators. */
export type FilterOp = "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "notIn" | "contains" | "containsAll"
  | "containsAny" | "arrayLengthEq" | "arrayLengthGt" | "arrayLengthLt";

/** One `where` entry: a member predicate, named keys, a key pattern, hashed keys, or `and` / `or` of entries. */
export type Condition =
  | { member: string; op: FilterOp; value: unknown }
  | { and: Condition[] }
  | { or: Condition[] }
  | { keys: { [member: string]: unknown } }
  | { keys: Array<string | null>; matching?: "fixedLen" | "variableLen" }
  | { hashedKeys: string[] };

/** Core QuerySpec (filter DSL). */
export interface QuerySpec {
  filter?: {
    keys?: { [member: string]: unknown };
    where?: Condition[];
  };
  selector?: { include?: string[]; exclude?: string[] };
  orderBy?: Array<{ member: string; direction?: "asc" | "desc" }>;
  limit?: number;
  cursor?: string;
}

/** One page of query results. */
export interface QueryResult { items: SdkEntity[]; nextCursor?: string }

/** The entity ids of one page of query results, joined by commas (`View.queryIds`). */
export interface QueryIds { ids: string; nextCursor?: string }

/** View options. */
export interface ViewOptions { overlayTimeoutMs?: number; overlayPollMs?: number }

/** Confirms an optimistic write from the synced model state (undefined when absent). */
export type Guard = (syncedModelState: { [member: string]: SdkValue } | undefined) => boolean;

/** One optimistic write. */
export interface OverlaySubmission {
  entityId: string;
  model: string;
  payload: { [member: string]: unknown };
  guard?: Guard;
  timeoutMs?: number;
  transactionId?: string;
}

/** One write of a transaction: members set (`set`) and integer members changed by an amount
 *  over the latest synced value (`add`, e.g. `{ balance: -10n }`), on one model of one entity. */
export interface TransactionWrite {
  entityId: string;
  model: string;
  set?: { [member: string]: unknown };
  add?: { [member: string]: bigint | number | string };
  guard?: Guard;
}

/** One transaction: several writes shown, confirmed and rolled back as one. */
export interface TransactionSubmission {
  writes: TransactionWrite[];
  timeoutMs?: number;
  transactionId?: string;
}

/** The result of submitOverlay and submitTransaction. */
export interface OverlaySubmitted { transactionId: string }

/** A pending optimistic write. */
export interface OverlayEntryInfo {
  transactionId: string;
  entityId: string;
  model: string;
  payload: { [member: string]: SdkValue };
  add: { [member: string]: bigint };
  submittedAtMs: number;
  deadlineMs: number;
  guard: string;
}

/** An (entity, model) a transaction wrote. */
export interface WrittenModel { entityId: string; model: string }

/** What happened to a pending transaction (`entityId`, `model`: its first write). */
export type OverlayEventInfo =
  | { type: "confirmed"; transactionId: string; entityId: string; model: string; writes: WrittenModel[] }
  | { type: "timedOut"; transactionId: string; entityId: string; model: string; writes: WrittenModel[]; error: ReactiveErrorInfo }
  | { type: "replaced"; transactionId: string; by: string; entityId: string; model: string; writes: WrittenModel[] }
  | { type: "rolledBack"; transactionId: string; entityId: string; model: string; writes: WrittenModel[] };

/** The result of poll. */
export interface PollResult { events: OverlayEventInfo[]; changed: string[] }

/** What the worker's database holds for one sync target, checked for agreement. */
export interface StoredTargetReport {
  target: "entities" | "eventMessages";
  /** Model states stored. */
  states: number;
  /** The version ledger: one entry per (entity, model) ever synced, tombstones included. */
  ledger: { entityId: string; model: string; state: "write" | "deleted" | "absent"; executedAt: number; updatedAt: number }[];
  /** The persisted sync state (cursor, snapshot progress, times), null before the first batch. */
  syncState: { cursor: string | null; snapshotComplete: boolean; pagesRead: number; lastSyncedAt: number | null; lastTimestamp: number | null; updatedAt: number } | null;
  /** Records that could not be read back (each is read again from Torii). */
  skipped: string[];
  /** Every way the stored states, ledger and sync state disagree; empty when consistent. */
  disagreements: string[];
}

/** The result of SyncWorker.inspectStore. */
export interface StoreReport { targets: StoredTargetReport[] }

/**
 * What `SyncWorker.claimWriter` got: this worker writes under `epoch`, or another holds it
 * (`manifest`: the holder's manifest hash, when recorded; `outdated`: Torii contradicts this
 * worker's manifest, it must never write).
 */
export type WriterClaim =
  | { won: true; epoch: number }
  | { won: false; epoch: number; owner: string; protocol: number; manifest: string | null; outdated: ReactiveErrorInfo | null };

/** What `SyncWorker.judgeManifest` found (see `docs/tabs.md`, "During a deploy"). */
export type ManifestJudgement =
  | { verdict: "current" | "undecided" | "unanswered" }
  | { verdict: "outdated"; error: ReactiveErrorInfo };

/** A manifest's fingerprint, as stored beside synced data. */
export interface ManifestFingerprint {
  hash: string;
  worldClassHash: string;
  entries: { tag: string; kind: "model" | "event"; classHash: string; signature: string; memberCount: number }[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `WorkerConfig`.
    #[wasm_bindgen(typescript_type = "WorkerConfig")]
    pub type WorkerConfigJs;

    /// `WorkerEmit`.
    #[wasm_bindgen(typescript_type = "WorkerEmit")]
    pub type WorkerEmitJs;

    /// `SdkEntity`.
    #[wasm_bindgen(typescript_type = "SdkEntity")]
    pub type SdkEntityJs;

    /// `Consistency`.
    #[wasm_bindgen(typescript_type = "Consistency")]
    pub type ConsistencyJs;

    /// `QuerySpec`.
    #[wasm_bindgen(typescript_type = "QuerySpec")]
    pub type QuerySpecJs;

    /// `QueryResult`.
    #[wasm_bindgen(typescript_type = "QueryResult")]
    pub type QueryResultJs;

    /// `QueryIds`.
    #[wasm_bindgen(typescript_type = "QueryIds")]
    pub type QueryIdsJs;

    /// `ViewOptions`.
    #[wasm_bindgen(typescript_type = "ViewOptions")]
    pub type ViewOptionsJs;

    /// `OverlaySubmission`.
    #[wasm_bindgen(typescript_type = "OverlaySubmission")]
    pub type OverlaySubmissionJs;

    /// `TransactionSubmission`.
    #[wasm_bindgen(typescript_type = "TransactionSubmission")]
    pub type TransactionSubmissionJs;

    /// `OverlaySubmitted`.
    #[wasm_bindgen(typescript_type = "OverlaySubmitted")]
    pub type OverlaySubmittedJs;

    /// `OverlayEntryInfo[]`.
    #[wasm_bindgen(typescript_type = "OverlayEntryInfo[]")]
    pub type OverlayEntryInfoListJs;

    /// `PollResult`.
    #[wasm_bindgen(typescript_type = "PollResult")]
    pub type PollResultJs;

    /// `ManifestFingerprint`.
    #[wasm_bindgen(typescript_type = "ManifestFingerprint")]
    pub type ManifestFingerprintJs;

    /// `Promise<StoreReport>`.
    #[wasm_bindgen(typescript_type = "Promise<StoreReport>")]
    pub type StoreReportPromise;
}
