/**
 * The parts of the wasm module (`crates/wasm`, contract in its `API.md`) the package uses, as
 * interfaces: the runtime binds them to the generated module, tests to stubs.
 *
 * @module
 */

import type { ReactiveErrorInfo } from './errors.js';
import type {
  Consistency,
  Guard,
  InputValue,
  ManifestFingerprint,
  OverlayEntryInfo,
  QuerySpec,
  SdkEntity,
  StartTimings,
  SyncTick,
  Transition,
} from './types.js';

/** What happened to a pending optimistic write, as the view's `poll` reports it. */
export interface OverlayEventInfo {
  /** `confirmed`, `timedOut`, `replaced` or `rolledBack`. */
  readonly type: string;
  /** The write's transaction id. */
  readonly transactionId: string;
  /** The entity. */
  readonly entityId: string;
  /** The model tag. */
  readonly model: string;
  /** The replacing write, for `replaced`. */
  readonly by?: string;
  /** The error, for `timedOut`. */
  readonly error?: ReactiveErrorInfo;
}

/** The main-thread view (replica + overlay) of the wasm module. */
export interface ViewApi {
  /** Applies one DELTA; returns the ids of entities whose synced state changed. */
  applyDelta(delta: Uint8Array): string[];
  /** Applies one DELTA of the persisted state (before INIT_ACK), its states decoded when read. */
  restore(delta: Uint8Array): void;
  /** Number of entities held. */
  size(): number;
  /** One entity, merged with the overlay unless `synced`. */
  entity(entityId: string, consistency?: Consistency): SdkEntity | undefined;
  /** One page of a model's entities. */
  query(
    model: string,
    query: QuerySpec,
    consistency?: Consistency,
  ): { items: SdkEntity[]; nextCursor?: string };
  /** Submits an optimistic write. */
  submitOverlay(
    submission: {
      entityId: string;
      model: string;
      payload: { readonly [member: string]: InputValue };
      guard?: Guard;
      timeoutMs?: number;
      transactionId?: string;
    },
    nowMs: number,
  ): { transactionId: string };
  /** Pending writes on an entity. */
  overlayFor(entityId: string): OverlayEntryInfo[];
  /** Drops a pending write as confirmed. */
  ackOverlay(transactionId: string): void;
  /** Drops a pending write, showing synced state again. */
  rollbackOverlay(transactionId: string): void;
  /** Runs guards and timeouts. */
  poll(nowMs: number): { events: OverlayEventInfo[]; changed: string[] };
  /** When `poll` should run next (ms), if anything is pending. */
  nextWakeupMs(): number | undefined;
  /** Releases the view's wasm memory. */
  free(): void;
}

/** A worker event as the wasm `SyncWorker` emits it. */
export type WorkerEvent =
  | {
      readonly type: 'INIT_ACK';
      readonly manifestHash: string;
      readonly toriiVersion: string | null;
      readonly dbName: string;
      readonly restored: number;
      readonly timings: StartTimings;
    }
  | { readonly type: 'DELTA' }
  | { readonly type: 'SYNC_TICK'; readonly tick: SyncTick }
  | { readonly type: 'TRANSITION'; readonly transition: Transition }
  | { readonly type: 'SYNC_ERROR'; readonly error: ReactiveErrorInfo }
  | { readonly type: 'SYNC_FATAL'; readonly error: ReactiveErrorInfo };

/** The worker-side synchronizer handle of the wasm module. */
export interface SyncWorkerApi {
  /** Re-pages the snapshot now. */
  forceReplay(): void;
  /** Stops syncing and closes the database. */
  shutdown(): Promise<void>;
}

/** What the main thread needs from the loaded wasm module. */
export interface MainWasm {
  /** Creates a view for a manifest. */
  createView(
    manifest: string,
    options: { overlayTimeoutMs?: number; overlayPollMs?: number },
  ): ViewApi;
  /** Deletes a database. */
  deleteDatabase(dbName: string): Promise<void>;
  /** The database name the worker uses by default. */
  defaultDbName(toriiUrl: string, worldAddress: string): string;
  /** The manifest hash the worker checks the database with (throws for a bad manifest). */
  computeManifestHash(manifest: string): string;
  /** The manifest's fingerprint (throws for a bad manifest). */
  buildManifestFingerprint(manifest: string): ManifestFingerprint;
}
