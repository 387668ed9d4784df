/**
 * Options of `createReactiveClient` and `createSyncWorker`, and their checks.
 *
 * @module
 */

import { logLevels, type Logger, type LogLevel } from './log.js';
import type { ModelChoice, SyncOptions, WorkerConfig } from './types.js';
import { Check } from './validate.js';

/** Options of `createSyncWorker`. */
export interface SyncWorkerOptions {
  /** Torii's URL, e.g. `http://localhost:8080`. */
  readonly toriiUrl: string;
  /** The world's address (`0x` hex). */
  readonly worldAddress: string;
  /** The Dojo manifest: its JSON text or the parsed object. */
  readonly manifest: string | { readonly [key: string]: unknown };
  /**
   * Models to sync (every model when absent): tags (`ns-Model`), or `{ tag, versionMember }` to
   * name a member the game increases with every write (e.g. `last_updated_at`): the version
   * ledger then orders that model's states by it before Torii's timestamps.
   */
  readonly models?: readonly ModelChoice[];
  /** Synchronizer options. */
  readonly syncOptions?: SyncOptions;
  /** Receives structured log records (`log`) and/or their messages per level (e.g. `console`). */
  readonly logger?: Logger;
  /** Least severe level delivered to `logger` (default `info`). */
  readonly logLevel?: LogLevel;
  /** Also sync event messages (default false). */
  readonly eventMessages?: boolean;
  /** IndexedDB database name (default: derived from toriiUrl and worldAddress). */
  readonly dbName?: string;
  /** Go on when Torii's version changed instead of failing with ToriiVersionChangedError. */
  readonly acceptToriiVersionChange?: boolean;
  /** Most model states per DELTA batch (default 5000). */
  readonly deltaChunk?: number;
  /** The worker script's URL (default: the package's own `worker.js`). */
  readonly workerUrl?: string | URL;
  /** How the main thread watches the sync worker and restarts it when it dies. */
  readonly supervision?: SupervisionOptions;
}

/** How the main thread watches the sync worker (see {@link SyncWorkerOptions.supervision}). */
export interface SupervisionOptions {
  /**
   * A worker that ticked once and then sends nothing (not even a SYNC_TICK, posted every
   * `syncOptions.tickIntervalMs`) for this long, and still nothing a quarter of it later (at most
   * 1 s), is taken as dead and restarted (default: three tick intervals, at least 5000 ms).
   */
  readonly watchdogMs?: number;
  /**
   * Restarts in a row (a worker that ran a minute without dying ends the row) before the client
   * fails with SyncFatalError `reason: 'workerCrashed'` (default 5; 0 never restarts).
   */
  readonly maxRestarts?: number;
}

/** Supervision with its defaults filled in. */
export interface CheckedSupervision {
  /** See {@link SupervisionOptions.watchdogMs}. */
  readonly watchdogMs: number;
  /** See {@link SupervisionOptions.maxRestarts}. */
  readonly maxRestarts: number;
}

/** The worker's default tick interval (core `SyncOptions::tick_interval_ms`). */
const defaultTickIntervalMs = 2000;

/** Overlay settings of `createReactiveClient`. */
export interface OverlayOptions {
  /** Time before an unconfirmed optimistic write is rolled back (default 30000 ms). */
  readonly timeoutMs?: number;
  /** How often guards are re-checked without a synced change (default 500 ms). */
  readonly pollMs?: number;
}

/** Options of `createReactiveClient`. */
export interface ReactiveClientOptions extends SyncWorkerOptions {
  /** Optimistic overlay settings. */
  readonly overlayOptions?: OverlayOptions;
  /**
   * `true` installs the development inspector `globalThis.__REACTIVE_DEBUG__` with every
   * method; `false` never installs it; absent installs a read-only one only when the app set
   * `globalThis.__REACTIVE_DEBUG__ = true` before creating the client.
   */
  readonly debug?: boolean;
}

const syncOptionKeys = [
  'pageSize',
  'heartbeatTimeoutMs',
  'heartbeatCheckMs',
  'replayBudget',
  'requestTimeoutMs',
  'tickIntervalMs',
  'backoffInitialMs',
  'backoffMaxMs',
  'catchUpWindowMs',
  'catchUpMarginS',
  'reconcileAfterCatchUpMs',
] as const;

const workerKeys = [
  'toriiUrl',
  'worldAddress',
  'manifest',
  'models',
  'syncOptions',
  'logger',
  'logLevel',
  'eventMessages',
  'dbName',
  'acceptToriiVersionChange',
  'deltaChunk',
  'workerUrl',
  'supervision',
];

/** Checked options: the worker's configuration plus the main-thread settings. */
export interface CheckedOptions {
  /** What INIT carries. */
  readonly config: WorkerConfig;
  /** Log sink. */
  readonly logger: Logger | undefined;
  /** Least severe level logged. */
  readonly logLevel: LogLevel;
  /** The `debug` option as given (`undefined` when absent). */
  readonly debug: boolean | undefined;
  /** Worker script override. */
  readonly workerUrl: string | URL | undefined;
  /** Overlay settings for the view. */
  readonly overlay: { overlayTimeoutMs?: number; overlayPollMs?: number };
  /** How the worker is watched and restarted. */
  readonly supervision: CheckedSupervision;
}

/** The manifest as JSON text: given as text, or a plain object serialized. */
export function manifestText(check: Check, manifest: unknown): string {
  if (typeof manifest === 'string' && manifest !== '') return manifest;
  if (typeof manifest === 'object' && manifest !== null && !Array.isArray(manifest)) {
    try {
      return JSON.stringify(manifest);
    } catch (error) {
      throw check.fail('manifest', `JSON-serializable (${String(error)})`, manifest);
    }
  }
  throw check.fail('manifest', 'the manifest JSON text or object', manifest);
}

/** `models`: tags, or `{ tag, versionMember? }` records. */
function checkModels(check: Check, value: unknown): ModelChoice[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw check.fail('models', 'an array of model tags or { tag, versionMember }', value);
  return value.map((item: unknown, i): ModelChoice => {
    if (typeof item === 'string') return item;
    const record = check.record(`models[${i}]`, item);
    check.knownKeys(`models[${i}]`, record, ['tag', 'versionMember']);
    const tag = check.string(`models[${i}].tag`, record.tag);
    const versionMember = check.optionalString(`models[${i}].versionMember`, record.versionMember);
    return versionMember === undefined ? { tag } : { tag, versionMember };
  });
}

/** Checks the options of `where` (`createReactiveClient` when `withOverlay`). */
export function checkOptions(where: string, options: unknown, withOverlay: boolean): CheckedOptions {
  const check = new Check(where);
  const o = check.record('options', options);
  check.knownKeys('options', o, withOverlay ? [...workerKeys, 'overlayOptions', 'debug'] : workerKeys);
  const toriiUrl = check.string('toriiUrl', o.toriiUrl);
  if (!/^https?:\/\//.test(toriiUrl)) throw check.fail('toriiUrl', 'an http(s) URL', toriiUrl);
  const worldAddress = check.string('worldAddress', o.worldAddress);
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(worldAddress)) {
    throw check.fail('worldAddress', 'a 0x hex address', worldAddress);
  }
  const manifest = manifestText(check, o.manifest);
  const models = checkModels(check, o.models);
  const syncRecord = check.optionalRecord('syncOptions', o.syncOptions);
  let syncOptions: { [key: string]: number } | undefined;
  if (syncRecord) {
    check.knownKeys('syncOptions', syncRecord, syncOptionKeys);
    syncOptions = {};
    for (const key of syncOptionKeys) {
      const value = check.optionalCount(`syncOptions.${key}`, syncRecord[key]);
      if (value !== undefined) syncOptions[key] = value;
    }
  }
  const logger = check.optionalRecord('logger', o.logger) as Logger | undefined;
  if (logger) {
    for (const level of ['log', ...logLevels] as const) {
      check.optionalFunction(`logger.${level}`, logger[level]);
    }
  }
  const logLevel = check.optionalOneOf('logLevel', o.logLevel, logLevels) ?? 'info';
  const debug = withOverlay ? check.optionalBoolean('debug', o.debug) : false;
  const eventMessages = check.optionalBoolean('eventMessages', o.eventMessages);
  const dbName = check.optionalString('dbName', o.dbName);
  const acceptToriiVersionChange = check.optionalBoolean('acceptToriiVersionChange', o.acceptToriiVersionChange);
  const deltaChunk = check.optionalCount('deltaChunk', o.deltaChunk, true, 1);
  let workerUrl: string | URL | undefined;
  if (o.workerUrl !== undefined) {
    workerUrl = o.workerUrl instanceof URL ? o.workerUrl : check.string('workerUrl', o.workerUrl);
  }
  const supervisionRecord = check.optionalRecord('supervision', o.supervision);
  if (supervisionRecord) check.knownKeys('supervision', supervisionRecord, ['watchdogMs', 'maxRestarts']);
  const tickIntervalMs = syncOptions?.tickIntervalMs ?? defaultTickIntervalMs;
  const supervision: CheckedSupervision = {
    watchdogMs:
      check.optionalCount('supervision.watchdogMs', supervisionRecord?.watchdogMs, true, 1) ??
      Math.max(5000, 3 * tickIntervalMs),
    maxRestarts: check.optionalCount('supervision.maxRestarts', supervisionRecord?.maxRestarts) ?? 5,
  };
  const overlay: { overlayTimeoutMs?: number; overlayPollMs?: number } = {};
  if (withOverlay) {
    const overlayRecord = check.optionalRecord('overlayOptions', o.overlayOptions);
    if (overlayRecord) {
      check.knownKeys('overlayOptions', overlayRecord, ['timeoutMs', 'pollMs']);
      const timeoutMs = check.optionalCount('overlayOptions.timeoutMs', overlayRecord.timeoutMs, true, 1);
      const pollMs = check.optionalCount('overlayOptions.pollMs', overlayRecord.pollMs, true, 1);
      if (timeoutMs !== undefined) overlay.overlayTimeoutMs = timeoutMs;
      if (pollMs !== undefined) overlay.overlayPollMs = pollMs;
    }
  }
  const config: { -readonly [K in keyof WorkerConfig]: WorkerConfig[K] } = {
    toriiUrl,
    worldAddress,
    manifest,
  };
  if (models) config.models = models;
  if (syncOptions) config.syncOptions = syncOptions;
  if (eventMessages !== undefined) config.eventMessages = eventMessages;
  if (dbName !== undefined) config.dbName = dbName;
  if (acceptToriiVersionChange !== undefined) config.acceptToriiVersionChange = acceptToriiVersionChange;
  if (deltaChunk !== undefined) config.deltaChunk = deltaChunk;
  return { config, logger, logLevel, debug, workerUrl, overlay, supervision };
}
