/**
 * The parts of the wasm modules (contract in `crates/wasm/API.md`) the main thread uses, as
 * interfaces: the runtime binds them to the generated modules (`mainWasm()` in `runtime.ts`,
 * which the unit tests use too, in Node): the view module (`crates/view-wasm`), and for a reset
 * and the manifest helpers the worker's module (`crates/wasm`), loaded only then. (The worker
 * script uses the generated `SyncWorker` directly; the events it emits are `WorkerMessage` in
 * `messages.ts`.)
 *
 * @module
 */

import type { ReactiveErrorInfo } from './errors.js';
import type { DecodedEvents } from './events.js';
import type {
  Consistency,
  Guard,
  InputValue,
  ManifestFingerprint,
  OverlayEntryInfo,
  QuerySpec,
  SdkEntity,
  TransactionSubmission,
} from './types.js';

/** What happened to a pending optimistic transaction, as the view's `poll` reports it. */
export interface OverlayEventInfo {
  /** `confirmed`, `timedOut`, `replaced` or `rolledBack`. */
  readonly type: string;
  /** The transaction id. */
  readonly transactionId: string;
  /** The entity of its first write. */
  readonly entityId: string;
  /** The model tag of its first write. */
  readonly model: string;
  /** Every (entity, model) it wrote. */
  readonly writes: readonly { readonly entityId: string; readonly model: string }[];
  /** The replacing write, for `replaced`. */
  readonly by?: string;
  /** The error, for `timedOut`. */
  readonly error?: ReactiveErrorInfo;
}

/** The main-thread view (replica + overlay) of the wasm module. */
export interface ViewApi {
  /** Applies one DELTA; returns the ids of entities whose synced state changed. */
  applyDelta(delta: Uint8Array): string[];
  /** Decodes one EVENTS batch (a change of an event-log target's log). */
  decodeEvents(batch: Uint8Array): DecodedEvents;
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
  /** The entity ids of the page `query` returns, joined by commas (its items are read with `entityModel`). */
  queryIds(model: string, query: QuerySpec, consistency?: Consistency): { ids: string; nextCursor?: string };
  /** How many entities a query matches (its limit, cursor and orderBy aside), without building them. */
  count(model: string, query: QuerySpec, consistency?: Consistency): number;
  /** Declares an ordered index on members of a model (throws a ValidationError for a bad one). */
  declareIndex(model: string, members: string[]): void;
  /** One model of one entity as a query item shows it, or undefined when not held. */
  entityModel(entityId: string, model: string, consistency?: Consistency): SdkEntity | undefined;
  /**
   * The id of the entity of `model` with these keys (Poseidon of their serialization). With
   * `onlyKeys`, every key member and nothing else (throws otherwise); without, other members are
   * ignored and undefined is returned when a key is absent.
   */
  entityIdOfKeys(model: string, keys: { readonly [member: string]: InputValue }, onlyKeys: boolean): string | undefined;
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
  /** Submits an optimistic transaction (several writes, absolute and relative). */
  submitTransaction(transaction: TransactionSubmission, nowMs: number): { transactionId: string };
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

/** What the main thread needs from the wasm modules (the view module, loaded). */
export interface MainWasm {
  /** Creates a view for a manifest. */
  createView(
    manifest: string,
    options: { overlayTimeoutMs?: number; overlayPollMs?: number },
  ): ViewApi;
  /** Deletes a database (with the worker's module, loaded on first use). */
  deleteDatabase(dbName: string): Promise<void>;
  /** The database name the worker uses by default. */
  defaultDbName(toriiUrl: string, worldAddress: string): string;
  /**
   * The manifest hash the worker checks the database with (with the worker's module, loaded on
   * first use; rejects for a bad manifest).
   */
  computeManifestHash(manifest: string): Promise<string>;
  /** The manifest's fingerprint (with the worker's module; rejects for a bad manifest). */
  buildManifestFingerprint(manifest: string): Promise<ManifestFingerprint>;
  /** The message of the view module's last panic, once (the panic hook records it before the trap). */
  takePanicMessage(): string | undefined;
}
