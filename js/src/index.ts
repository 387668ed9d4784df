/**
 * `@dojoengine/reactive`: a local, persisted, always-converging, reactive copy of a Dojo world
 * indexed by Torii. Sync runs in a module Web Worker; a wasm view on the main thread answers
 * queries from memory, drives subscriptions and holds optimistic writes.
 *
 * @module
 */

import { createClient, type ReactiveClient } from './client.js';
import { buildManifestFingerprintOn, computeManifestHashOn, type ManifestInput } from './manifest.js';
import type { ReactiveClientOptions, SyncWorkerOptions } from './options.js';
import { browserRuntime } from './runtime.js';
import { createSyncWorkerOn, type SyncWorkerHandle } from './sync-worker.js';
import type { RegisteredSchema, WorldSchema } from './schema.js';
import type { ManifestFingerprint } from './types.js';

/**
 * Starts syncing a world in a worker and returns the client: `await client.ready`, then
 * `query`, `subscribe` and `mutate`. Throws ValidationError for invalid options. `S` (default:
 * the schema `npx dojo-reactive-types` registered, else untyped) types the client's API.
 */
export function createReactiveClient<S extends WorldSchema = RegisteredSchema>(
  options: ReactiveClientOptions,
): ReactiveClient<S> {
  // The schema only types the API: the client is the same whatever it is.
  return createClient(options, browserRuntime) as unknown as ReactiveClient<S>;
}

/** Starts a sync worker without a view (persistence only, with status and errors). */
export function createSyncWorker(options: SyncWorkerOptions): SyncWorkerHandle {
  return createSyncWorkerOn(options, browserRuntime);
}

/**
 * The manifest hash the sync worker checks its database with: `manifest-hash:v1:` + SHA-256 of
 * the canonical manifest. Rejects with ValidationError for a manifest that cannot be read.
 */
export function computeManifestHash(manifest: ManifestInput): Promise<string> {
  return computeManifestHashOn(browserRuntime, manifest);
}

/** The manifest's fingerprint (hash, world class hash, one entry per model and event). */
export function buildManifestFingerprint(manifest: ManifestInput): Promise<ManifestFingerprint> {
  return buildManifestFingerprintOn(browserRuntime, manifest);
}

export { bigintReplacer, parse, stringify } from './json.js';
export type { ManifestInput } from './manifest.js';
export type {
  ConditionOf,
  Entity,
  EntityOf,
  FilterOf,
  MemberPath,
  ModelInput,
  ModelKeys,
  ModelTag,
  ModelTypes,
  ModelValue,
  OptionalMembers,
  PredicateOf,
  QueryOptionsOf,
  QueryResultOf,
  Register,
  RegisteredSchema,
  SelectionOf,
  UntypedSchema,
  WorldSchema,
} from './schema.js';
export type {
  EntityUpdate,
  MutateOptions,
  Mutation,
  PublishedMessage,
  PublishedMessages,
  ReactiveClient,
  SelectorInput,
  SubscribeOptions,
  TransactionOptions,
} from './client.js';
export {
  OutdatedManifestError,
  OverlayError,
  OverlayTimeoutError,
  PublishError,
  ReactiveError,
  SchemaMismatchError,
  StorageError,
  SyncFatalError,
  ToriiVersionChangedError,
  TransportError,
  ValidationError,
  WorkerRestartError,
  type ErrorDetails,
  type ReactiveErrorInfo,
} from './errors.js';
export type { OverlayOptions, ReactiveClientOptions, SupervisionOptions, SyncWorkerOptions } from './options.js';
export { reactiveSelectors, type SelectManyOptions, type Selector, type ViewReader } from './selectors.js';
export type { InitInfo, SyncPhase, SyncStatus } from './session.js';
export type { LogLevel, LogRecord, Logger } from './log.js';
export type {
  ClientInspector,
  InspectedEntity,
  ReactiveDebug,
  RecordedError,
  RecordedTransition,
} from './inspector.js';
export type { EventStream, Signal, Unsubscribe } from './stream.js';
export type { SyncTargets } from './targets.js';
export type { EventMessage, EventQuery, Events } from './events.js';
export { CONTROLLER_TTL_MS, type Controller, type Controllers } from './controllers.js';
export type { Published, PublishOptions, SignedMessage, TypedData } from './publish.js';
export {
  TOKEN_MODELS,
  tokenBalanceOf,
  tokenContractOf,
  tokenOf,
  type Token,
  type TokenBalance,
  type TokenContract,
  type TokenFilter,
} from './tokens.js';
export type { SyncWorkerHandle } from './sync-worker.js';
export type * from './types.js';
