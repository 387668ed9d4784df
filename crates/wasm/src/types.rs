//! The typed JS boundary of the worker's module: the TypeScript interfaces of `API.md`, emitted
//! into the generated `.d.ts`, and the extern newtypes that carry them through wasm-bindgen (so
//! no export is typed `any`). `ReactiveErrorInfo` is declared in `dojo-reactive-boundary`, the
//! view's types in `dojo-reactive-view-wasm`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What a sync target reads: entities, event messages, or a token kind (docs/tokens.md). */
export type TargetKind = "entities" | "eventMessages" | "tokens" | "tokenBalances" | "tokenContracts";

/** Options of the sync worker (see API.md). */
export interface WorkerConfig {
  toriiUrl: string;
  worldAddress?: string;
  manifest: string;
  models?: (string | { tag: string; versionMember?: string })[];
  eventMessages?: boolean;
  targets?: Array<{ id: string; kind: TargetKind; models?: string[]; clause?: unknown; filter?: unknown; accounts?: string[]; contracts?: string[]; tokenIds?: string[] }>;
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

/** Core SyncTick, camelCase. */
export interface SyncTick {
  clock: number;
  target: TargetKind;
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
  target: TargetKind;
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
export interface DeltaRelay { target: TargetKind; epoch: number; n: number }

/** What the worker sends (`messages.rs`); DELTA and EVENTS bytes come as the second argument of emit. */
export type WorkerEvent =
  | { type: "INIT_ACK"; manifestHash: string; toriiVersion: string | null; dbName: string; restored: number; persistence: "indexedDb" | "memory"; timings: StartTimings; targets: { [K in TargetKind]?: { id: string; digest: string; complete: boolean }[] } }
  | { type: "RESTORED"; target: TargetKind; targets: { id: string; digest: string; complete: boolean }[] }
  | { type: "DELTA"; persisted: boolean; relay?: DeltaRelay }
  | { type: "EVENTS"; target: string; persisted: boolean; stored: boolean; restored: boolean; complete: boolean }
  | { type: "SYNC_TICK"; tick: SyncTick & { unpersisted: number } }
  | { type: "TRANSITION"; transition: Transition }
  | { type: "SYNC_ERROR"; error: ReactiveErrorInfo }
  | { type: "SYNC_FATAL"; error: ReactiveErrorInfo };

/** The worker's event sink. */
export type WorkerEmit = (event: WorkerEvent, delta?: Uint8Array) => void;

/** What the worker's database holds for one sync target, checked for agreement. */
export interface StoredTargetReport {
  target: TargetKind;
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

    /// `ManifestFingerprint`.
    #[wasm_bindgen(typescript_type = "ManifestFingerprint")]
    pub type ManifestFingerprintJs;

    /// `Promise<StoreReport>`.
    #[wasm_bindgen(typescript_type = "Promise<StoreReport>")]
    pub type StoreReportPromise;
}
