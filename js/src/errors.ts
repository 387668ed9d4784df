/**
 * Typed errors. Every failure the package reports is a {@link ReactiveError} subclass with a
 * `name`, an actionable `message` and the fields of its kind.
 *
 * @module
 */

/** The error as it crosses the worker boundary or leaves the wasm module. */
export interface ReactiveErrorInfo {
  /** The error class name. */
  readonly name: string;
  /** A sentence a person can act on. */
  readonly message: string;
  /** Kind-specific fields. */
  readonly [field: string]: unknown;
}

/** Kind-specific fields of an error, as received. */
export type ErrorDetails = { readonly [field: string]: unknown };

function text(details: ErrorDetails, field: string): string | undefined {
  const value = details[field];
  return typeof value === 'string' ? value : undefined;
}

function count(details: ErrorDetails, field: string): number | undefined {
  const value = details[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function flag(details: ErrorDetails, field: string): boolean {
  return details[field] === true;
}

/** The base of every error this package reports. */
export class ReactiveError extends Error {
  /** Every field received with the error (including the typed ones of subclasses). */
  readonly details: ErrorDetails;

  /** An error with a message and its fields. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReactiveError';
    this.details = details;
  }
}

/** The manifest differs from the one the local database was written with. */
export class SchemaMismatchError extends ReactiveError {
  /** Hash of the manifest given now. */
  readonly manifestHash: string | undefined;
  /** Hash of the manifest the database was written with. */
  readonly storedHash: string | undefined;
  /** The database; delete it (`reset()`) to start over with the new manifest. */
  readonly dbName: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'SchemaMismatchError';
    this.manifestHash = text(details, 'manifestHash');
    this.storedHash = text(details, 'storedHash');
    this.dbName = text(details, 'dbName');
  }
}

/**
 * Torii reports another version than the one the local database was synced from. With
 * `onToriiVersionChange: 'reconcile'` (the default) it is a warning on `errors` (`kept`: the
 * stored data stays visible while a full replay reconciles it); with `'fail'` it is fatal.
 */
export class ToriiVersionChangedError extends ReactiveError {
  /** The version the database was synced from. */
  readonly previous: string | undefined;
  /** The version Torii reports now. */
  readonly current: string | undefined;
  /** Whether the stored data was kept and syncing goes on (a warning, not a failure). */
  readonly kept: boolean;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'ToriiVersionChangedError';
    this.previous = text(details, 'previous');
    this.current = text(details, 'current');
    this.kept = flag(details, 'kept');
  }
}

/** The synchronizer stopped for good (retry budget exhausted, worker failed to start or crashed). */
export class SyncFatalError extends ReactiveError {
  /** Why it stopped. */
  readonly reason: string | undefined;
  /** Failed attempts before it stopped. */
  readonly attempts: number | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'SyncFatalError';
    this.reason = text(details, 'reason');
    this.attempts = count(details, 'attempts');
  }
}

/** An optimistic write was not confirmed in time and has been rolled back. */
export class OverlayTimeoutError extends ReactiveError {
  /** The write's transaction id. */
  readonly transactionId: string | undefined;
  /** The entity written. */
  readonly entityId: string | undefined;
  /** What the guard was waiting for. */
  readonly guardDescription: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'OverlayTimeoutError';
    this.transactionId = text(details, 'transactionId');
    this.entityId = text(details, 'entityId');
    this.guardDescription = text(details, 'guardDescription');
  }
}

/** An optimistic write was refused, replaced by a newer one, or rolled back by the caller. */
export class OverlayError extends ReactiveError {
  /**
   * `duplicateTransaction`, `transitionRejected`, `unknownTransaction`, `replaced`,
   * `rolledBack`, `sendFailed`, `reset` or `shutdown`.
   */
  readonly reason: string | undefined;
  /** The write's transaction id. */
  readonly transactionId: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'OverlayError';
    this.reason = text(details, 'reason');
    this.transactionId = text(details, 'transactionId');
  }
}

/** Talking to Torii failed (the synchronizer retries; see SYNC_ERROR). */
export class TransportError extends ReactiveError {
  /** Consecutive failures so far. */
  readonly consecutiveFailures: number | undefined;
  /** Milliseconds until the next attempt, when one is scheduled. */
  readonly retryInMs: number | undefined;
  /** Whether syncing tries again on its own (Torii unreachable, hanging, a failed pass). */
  readonly retryable: boolean;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'TransportError';
    this.consecutiveFailures = count(details, 'consecutiveFailures');
    this.retryInMs = count(details, 'retryInMs');
    this.retryable = flag(details, 'retryable');
  }
}

/**
 * The sync worker died (its script failed after it ran, it panicked, or it stopped sending
 * ticks) or the main-thread view trapped, and the worker was restarted on the same database:
 * the view is rebuilt from the stored state and sync resumes. After `maxRestarts` in a row the
 * client fails with a SyncFatalError (`reason: 'workerCrashed'`) instead.
 */
export class WorkerRestartError extends ReactiveError {
  /** `died` (error event), `watchdog` (no message in time), `panic` (the worker panicked) or `viewPanic`. */
  readonly reason: string | undefined;
  /** Restarts so far in this client's life. */
  readonly restarts: number | undefined;
  /** The Rust panic message, when a panic caused it. */
  readonly panic: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'WorkerRestartError';
    this.reason = text(details, 'reason');
    this.restarts = count(details, 'restarts');
    this.panic = text(details, 'panic');
  }
}

/**
 * This page runs another version of the game than the one deployed: Torii describes `models`
 * otherwise than this page's manifest (a game deploy while the page stayed open). The page
 * keeps showing what its manifest can read of the stored data, but never writes the shared
 * database and no longer syncs: reload it (see `docs/tabs.md`, "During a deploy").
 */
export class OutdatedManifestError extends ReactiveError {
  /** The models Torii describes otherwise (tags). */
  readonly models: readonly string[];
  /** Hash of this page's manifest. */
  readonly manifestHash: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'OutdatedManifestError';
    const models = details.models;
    this.models = Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : [];
    this.manifestHash = text(details, 'manifestHash');
  }
}

/**
 * Reading or writing the IndexedDB database failed. A failed write does not stop live data:
 * `reason` says what happened and what is done about it, once per episode:
 * - `quota`: the storage quota is used up; updates are shown from memory and stored once there
 *   is space again (free disk space, or `reset()`);
 * - `closed`: the connection was closed by the browser or another tab; it is reopened and what
 *   waited is written;
 * - `deleted`: the database was deleted (another tab's `reset()`, site data cleared); live data
 *   goes on from memory, nothing more is stored until the client starts again;
 * - `blocked`: another tab's upgrade holds the database; writes resume once it is reopened;
 * - `unavailable`: the browser offers no IndexedDB here (some private modes): the client runs in
 *   memory (`InitInfo.persistence === 'memory'`);
 * - `compaction`: folding stored segments failed; the data is stored, compaction is retried;
 * - `io`: another write failure; it is retried.
 */
export class StorageError extends ReactiveError {
  /** The database. */
  readonly dbName: string | undefined;
  /** What happened (see the class), when the error is about a write that live data went on without. */
  readonly reason: string | undefined;
  /** Model states shown but not stored yet when it was reported. */
  readonly unpersisted: number | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'StorageError';
    this.dbName = text(details, 'dbName');
    this.reason = text(details, 'reason');
    this.unpersisted = count(details, 'unpersisted');
  }
}

/** An argument or a message was invalid; nothing was changed. */
export class ValidationError extends ReactiveError {
  /** The function or message that refused it. */
  readonly where: string | undefined;
  /** The argument or field at fault. */
  readonly argument: string | undefined;
  /**
   * Why, when the worker found it: `unknownWorld` (Torii does not know `worldAddress`) or
   * `otherOrigin` (the database holds another world's or Torii's data).
   */
  readonly reason: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'ValidationError';
    this.where = text(details, 'where');
    this.argument = text(details, 'argument');
    this.reason = text(details, 'reason');
  }
}

/**
 * Torii refused an offchain message (`publishMessage`, `publishMessages`): `reason` is Torii's (`Model not found:
 * ...`, `Field not found: ...`, `Invalid type: ...`, `Invalid signature`); the optimistic entry
 * was rolled back. Fix the typed data or the signature and publish again.
 */
export class PublishError extends ReactiveError {
  /** Torii's reason. */
  readonly reason: string | undefined;
  /** The gRPC status code name (e.g. `Internal`). */
  readonly code: string | undefined;

  /** See the class. */
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, details, options);
    this.name = 'PublishError';
    this.reason = text(details, 'reason');
    this.code = text(details, 'code');
  }
}

const classes: {
  readonly [name: string]: new (
    message: string,
    details: ErrorDetails,
    options?: { cause?: unknown },
  ) => ReactiveError;
} = {
  SchemaMismatchError,
  ToriiVersionChangedError,
  SyncFatalError,
  OverlayTimeoutError,
  OverlayError,
  TransportError,
  StorageError,
  ValidationError,
  WorkerRestartError,
  OutdatedManifestError,
  PublishError,
};

function isRecord(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null;
}

/**
 * The typed error for a value received from the worker or thrown by the wasm module: an
 * `{ name, message, ...fields }` object (or an `Error` with such a name) becomes its class;
 * anything else becomes `fallback` with the value's text. A JS `Error` (e.g. one a selector
 * threw) is kept as the result's `cause`.
 */
export function toReactiveError(
  value: unknown,
  fallback: new (
    message: string,
    details: ErrorDetails,
    options?: { cause?: unknown },
  ) => ReactiveError = SyncFatalError,
): ReactiveError {
  if (value instanceof ReactiveError) return value;
  if (isRecord(value)) {
    const name = typeof value.name === 'string' ? value.name : '';
    const message =
      typeof value.message === 'string' && value.message !== ''
        ? value.message
        : `${name || 'error'} without a message`;
    const details: { [field: string]: unknown } = {};
    for (const key of Object.keys(value)) {
      if (key !== 'name' && key !== 'message' && key !== 'stack') details[key] = value[key];
    }
    const Class = Object.prototype.hasOwnProperty.call(classes, name) ? classes[name] : undefined;
    const options = value instanceof Error ? { cause: value } : undefined;
    return Class ? new Class(message, details, options) : new fallback(message, details, options);
  }
  return new fallback(typeof value === 'string' ? value : String(value), {});
}

/** The `{ name, message, ...fields }` form of an error, to post across the worker boundary. */
export function errorInfo(value: unknown, fallbackName = 'SyncFatalError'): ReactiveErrorInfo {
  if (isRecord(value)) {
    const info: { [field: string]: unknown } = {};
    for (const key of Object.keys(value)) {
      const field = value[key];
      if (key !== 'stack' && typeof field !== 'function') info[key] = field;
    }
    const name = typeof value.name === 'string' && value.name !== '' ? value.name : fallbackName;
    const message = typeof value.message === 'string' ? value.message : String(value);
    return { ...info, name: name === 'Error' ? fallbackName : name, message };
  }
  return { name: fallbackName, message: String(value) };
}
