/**
 * Options of `createReactiveClient` and `createSyncWorker`, and their checks.
 *
 * @module
 */

import { logLevels, type Logger, type LogLevel } from './log.js';
import type {
  Filter,
  IndexDeclaration,
  ModelChoice,
  SyncClause,
  SyncOptions,
  SyncTargetKind,
  SyncTargetSpec,
  TargetKind,
  TargetRetention,
  TokenTargetKind,
  ToriiVersionChangePolicy,
  WorkerConfig,
} from './types.js';
import { ValidationError } from './errors.js';
import { isEntityId } from './selectors.js';
import { isTokenKind } from './tokens.js';
import { Check } from './validate.js';

/** Options of `createSyncWorker`. */
export interface SyncWorkerOptions {
  /** Torii's URL, e.g. `http://localhost:8080`. */
  readonly toriiUrl: string;
  /**
   * The world's address (`0x` hex); default: the manifest's `world.address`. When both are given
   * they must be the same address (a `ValidationError` otherwise), and a world Torii does not
   * know is a fatal `ValidationError` (`reason: 'unknownWorld'`) once Torii answers.
   */
  readonly worldAddress?: string;
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
  /**
   * Sync targets: what of the world the client keeps (default: every entity of `models`). Each
   * is `{ id, kind: 'entities' | 'eventMessages', models?, clause? | filter? }`, or a token target
   * `{ id, kind: 'tokens' | 'tokenBalances' | 'tokenContracts', accounts?, contracts? }`
   * (`docs/tokens.md`); the targets of a kind
   * share one live stream, and `client.targets` changes them at run time. With `targets`,
   * `models` only names the synced models (and their version members). The kinds synced are
   * fixed here (`eventMessages: true` adds a whole-kind event-message target when none is given).
   */
  readonly targets?: readonly SyncTargetSpec[];
  /**
   * What happens to entities no target covers any more after a target is removed or narrowed:
   * `drop` (default) removes them from the store and every view; `keep` leaves them as last
   * synced (no longer updated; full reconciles keep them too).
   */
  readonly targetRetention?: TargetRetention;
  /**
   * IndexedDB database name (default: derived from toriiUrl and worldAddress). A database
   * records the world and Torii its data comes from: opening it for another one is a
   * `ValidationError` (`reason: 'otherOrigin'`), never mixed data.
   */
  readonly dbName?: string;
  /**
   * When Torii's version differs from the one the stored data was synced from: `reconcile`
   * (default) keeps the data visible, re-reads the snapshot and reports
   * `ToriiVersionChangedError` on `errors` as a warning; `fail` stops with it.
   */
  readonly onToriiVersionChange?: ToriiVersionChangePolicy;
  /**
   * @deprecated The former spelling of `onToriiVersionChange`: `true` is `'reconcile'`, `false`
   * is `'fail'`.
   */
  readonly acceptToriiVersionChange?: boolean;
  /** Most model states per DELTA batch (default 1000). */
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
  /**
   * Ordered indexes on one or two members (e.g. `[{ model: 'ns-Position', members: ['x', 'y'] }]`):
   * queries whose conditions bound an index's first member (a range) or both (a region)
   * read only the entities there, so their cost follows their result. Each member is a number or
   * `ByteArray` member; a bad declaration fails the client with a `ValidationError` on `ready`.
   */
  readonly indexes?: readonly IndexDeclaration[];
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
  'reconcileIntervalMs',
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
  'targets',
  'targetRetention',
  'dbName',
  'onToriiVersionChange',
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
  /** Indexes the view declares (empty without `indexes`). */
  readonly indexes: readonly IndexDeclaration[];
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

/** The largest `u32`: the limit of `pageSize`, `replayBudget` and `deltaChunk` (the worker's integers). */
const U32_MAX = 4294967295;

/** Least value of each sync option (0 unless listed). */
const syncOptionMin: { readonly [key: string]: number } = { requestTimeoutMs: 1, heartbeatTimeoutMs: 1 };

/** Largest value of each sync option (unbounded unless listed). */
const syncOptionMax: { readonly [key: string]: number } = { pageSize: U32_MAX, replayBudget: U32_MAX };

/** `toriiUrl`: an http(s) URL with a host (the worker's rule, same message). */
function checkToriiUrl(check: Check, value: unknown): string {
  const url = check.string('toriiUrl', value);
  if (!/^https?:\/\/[^/?#\s]+/.test(url)) throw check.fail('toriiUrl', 'an http(s) URL with a host', url);
  return url;
}

/** The world address the manifest names, if it is JSON with a `world.address` string. */
function manifestWorldAddress(manifest: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(manifest);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const world: unknown = (parsed as { world?: unknown }).world;
    if (typeof world !== 'object' || world === null) return undefined;
    const address: unknown = (world as { address?: unknown }).address;
    return typeof address === 'string' ? address : undefined;
  } catch {
    // The worker reports a manifest it cannot read.
    return undefined;
  }
}

/** `0x` + 64 hex digits, lower case. */
function canonicalAddress(address: string): string {
  return `0x${BigInt(address).toString(16).padStart(64, '0')}`;
}

/**
 * `worldAddress`: the option, else the manifest's; both given must be the same address (the
 * worker's rules, same messages).
 */
function checkWorldAddress(check: Check, value: unknown, manifest: string): string {
  const isAddress = (text: string) => /^0x[0-9a-fA-F]{1,64}$/.test(text.trim());
  const named = manifestWorldAddress(manifest);
  if (value === undefined) {
    if (named !== undefined && isAddress(named)) return named.trim();
    throw new ValidationError(`${check.where}: \`worldAddress\` is required: the manifest names no world address`, {
      where: check.where,
      argument: 'worldAddress',
    });
  }
  const given = check.string('worldAddress', value);
  if (!isAddress(given)) throw check.fail('worldAddress', 'a 0x hex address', given);
  if (named !== undefined && isAddress(named) && canonicalAddress(named) !== canonicalAddress(given)) {
    throw new ValidationError(
      `${check.where}: \`worldAddress\` ${canonicalAddress(given)} is not the manifest's world address ${canonicalAddress(named)}; leave it out to use the manifest's`,
      { where: check.where, argument: 'worldAddress' },
    );
  }
  return given;
}

/** `onToriiVersionChange`, or its former spelling `acceptToriiVersionChange`; both given must agree. */
function checkVersionPolicy(
  check: Check,
  policy: unknown,
  accept: unknown,
): ToriiVersionChangePolicy | undefined {
  const chosen = check.optionalOneOf('onToriiVersionChange', policy, ['reconcile', 'fail'] as const);
  const accepted = check.optionalBoolean('acceptToriiVersionChange', accept);
  const former = accepted === undefined ? undefined : accepted ? 'reconcile' : 'fail';
  if (chosen !== undefined && former !== undefined && chosen !== former) {
    throw new ValidationError(
      `${check.where}: \`acceptToriiVersionChange\` contradicts \`onToriiVersionChange\`; use only \`onToriiVersionChange\``,
      { where: check.where, argument: 'acceptToriiVersionChange' },
    );
  }
  return chosen ?? former;
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

/** One sync target (`argument` names it); the content of its clause or filter is checked by the worker against the manifest. */
export function checkTarget(check: Check, argument: string, value: unknown): SyncTargetSpec {
  const record = check.record(argument, value);
  check.knownKeys(argument, record, ['id', 'kind', 'models', 'clause', 'filter', 'accounts', 'contracts', 'tokenIds', 'retention']);
  const id = check.string(`${argument}.id`, record.id);
  const kind = check.optionalOneOf(`${argument}.kind`, record.kind, specKinds);
  if (kind === undefined) throw check.fail(`${argument}.kind`, specKinds.map((k) => `'${k}'`).join(', '), record.kind);
  if (kind !== 'eventLog' && record.retention !== undefined) {
    throw check.fail(`${argument}.retention`, 'absent except for an eventLog target', record.retention);
  }
  if (isTokenKind(kind)) return checkTokenTarget(check, argument, record, id, kind);
  let models: string[] | undefined;
  if (record.models !== undefined) {
    if (!Array.isArray(record.models)) throw check.fail(`${argument}.models`, 'an array of model tags', record.models);
    models = record.models.map((tag: unknown, i) => check.string(`${argument}.models[${i}]`, tag));
  }
  const clause = check.optionalRecord(`${argument}.clause`, record.clause) as SyncClause | undefined;
  const filter = check.optionalRecord(`${argument}.filter`, record.filter) as Filter | undefined;
  const target: { -readonly [K in keyof SyncTargetSpec]: SyncTargetSpec[K] } = { id, kind };
  if (models) target.models = models;
  if (clause) target.clause = clause;
  if (filter) target.filter = filter;
  if (kind === 'eventLog') {
    if (filter) throw check.fail(`${argument}.filter`, 'absent for an eventLog target (use clause)', filter);
    if (record.accounts !== undefined || record.contracts !== undefined) {
      throw check.fail(`${argument}.accounts`, 'absent for an eventLog target (accounts / contracts narrow token targets)', record.accounts ?? record.contracts);
    }
    const retention = check.optionalRecord(`${argument}.retention`, record.retention);
    if (retention) {
      check.knownKeys(`${argument}.retention`, retention, ['count', 'maxAgeSeconds']);
      const bound = (key: 'count' | 'maxAgeSeconds', min: number): number | undefined => {
        const value = retention[key];
        if (value === undefined) return undefined;
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
          throw check.fail(`${argument}.retention.${key}`, `an integer ≥ ${min}`, value);
        }
        return value;
      };
      const count = bound('count', 1);
      const maxAgeSeconds = bound('maxAgeSeconds', 0);
      target.retention = {
        ...(count === undefined ? {} : { count }),
        ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
      };
    }
  }
  return target;
}

/** Every kind a target may have: the synchronizers' kinds and `eventLog`. */
const specKinds = ['entities', 'eventMessages', 'tokens', 'tokenBalances', 'tokenContracts', 'eventLog'] as const;

/** Every target kind. */
const targetKinds = ['entities', 'eventMessages', 'tokens', 'tokenBalances', 'tokenContracts'] as const;

/** Whether `value` names a target kind (as messages from the worker and other tabs carry it). */
export function isTargetKind(value: unknown): value is TargetKind {
  return typeof value === 'string' && (targetKinds as readonly string[]).includes(value);
}

/** Whether `value` names a kind a sync target may have (`eventLog` too: tabs announce every target). */
export function isSyncTargetKind(value: unknown): value is SyncTargetKind {
  return typeof value === 'string' && (specKinds as readonly string[]).includes(value);
}

/** Token targets (`tokens`, `tokenBalances`, `tokenContracts`): `accounts` (balances only), `contracts` and `tokenIds` (not contracts) narrow them. */
function checkTokenTarget(
  check: Check,
  argument: string,
  record: { readonly [key: string]: unknown },
  id: string,
  kind: TokenTargetKind,
): SyncTargetSpec {
  for (const key of ['models', 'clause', 'filter'] as const) {
    if (record[key] !== undefined) throw check.fail(`${argument}.${key}`, `absent for a ${kind} target (use accounts / contracts)`, record[key]);
  }
  if (record.accounts !== undefined && kind !== 'tokenBalances') {
    throw check.fail(`${argument}.accounts`, `absent for a ${kind} target (accounts narrow tokenBalances)`, record.accounts);
  }
  if (record.tokenIds !== undefined && kind === 'tokenContracts') {
    throw check.fail(`${argument}.tokenIds`, 'absent for a tokenContracts target (token ids narrow tokens and tokenBalances)', record.tokenIds);
  }
  const addresses = (key: 'accounts' | 'contracts'): string[] | undefined => {
    const list = record[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) throw check.fail(`${argument}.${key}`, 'an array of 0x addresses', list);
    return list.map((address: unknown, i) => {
      const text = check.string(`${argument}.${key}[${i}]`, address);
      if (!isEntityId(text)) throw check.fail(`${argument}.${key}[${i}]`, 'a 0x address of 1 to 64 hex digits', text);
      return text;
    });
  };
  const accounts = addresses('accounts');
  const contracts = addresses('contracts');
  const tokenIds = checkTokenIds(check, `${argument}.tokenIds`, record.tokenIds);
  return {
    id,
    kind,
    ...(accounts ? { accounts } : {}),
    ...(contracts ? { contracts } : {}),
    ...(tokenIds ? { tokenIds } : {}),
  };
}

/** The largest u256. */
const maxU256 = (1n << 256n) - 1n;

/** `tokenIds`: u256 token ids as bigints or `0x` hex, sent to the worker as `0x` hex. */
function checkTokenIds(check: Check, argument: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw check.fail(argument, 'an array of token ids (bigint or 0x hex)', value);
  return value.map((id: unknown, i) => {
    const parsed = typeof id === 'bigint' ? id : typeof id === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(id) ? BigInt(id) : undefined;
    if (parsed === undefined || parsed < 0n || parsed > maxU256) {
      throw check.fail(`${argument}[${i}]`, 'a u256 token id (a bigint from 0 to 2^256 - 1, or 0x hex of 1 to 64 digits)', id);
    }
    return `0x${parsed.toString(16)}`;
  });
}

/** `targets`: an array of sync targets with unique ids. */
export function checkTargets(check: Check, argument: string, value: unknown): SyncTargetSpec[] {
  if (!Array.isArray(value)) throw check.fail(argument, 'an array of sync targets', value);
  const targets = value.map((item: unknown, i) => checkTarget(check, `${argument}[${i}]`, item));
  const ids = new Set<string>();
  for (const [i, target] of targets.entries()) {
    if (ids.has(target.id)) throw check.fail(`${argument}[${i}].id`, 'unique among the targets', target.id);
    ids.add(target.id);
  }
  return targets;
}

/** Checks the options of `where` (`createReactiveClient` when `withOverlay`). */
export function checkOptions(where: string, options: unknown, withOverlay: boolean): CheckedOptions {
  const check = new Check(where);
  const o = check.record('options', options);
  check.knownKeys('options', o, withOverlay ? [...workerKeys, 'overlayOptions', 'debug', 'indexes'] : workerKeys);
  const toriiUrl = checkToriiUrl(check, o.toriiUrl);
  const manifest = manifestText(check, o.manifest);
  const worldAddress = checkWorldAddress(check, o.worldAddress, manifest);
  const models = checkModels(check, o.models);
  const syncRecord = check.optionalRecord('syncOptions', o.syncOptions);
  let syncOptions: { [key: string]: number } | undefined;
  if (syncRecord) {
    check.knownKeys('syncOptions', syncRecord, syncOptionKeys);
    syncOptions = {};
    for (const key of syncOptionKeys) {
      const value = check.optionalCount(
        `syncOptions.${key}`,
        syncRecord[key],
        true,
        syncOptionMin[key] ?? 0,
        syncOptionMax[key] ?? Infinity,
      );
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
  const targets = o.targets === undefined ? undefined : checkTargets(check, 'targets', o.targets);
  const targetRetention = check.optionalOneOf('targetRetention', o.targetRetention, ['drop', 'keep'] as const);
  const dbName = check.optionalString('dbName', o.dbName);
  const onToriiVersionChange = checkVersionPolicy(check, o.onToriiVersionChange, o.acceptToriiVersionChange);
  const deltaChunk = check.optionalCount('deltaChunk', o.deltaChunk, true, 1, U32_MAX);
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
  const indexes = withOverlay ? checkIndexes(check, o.indexes) : [];
  const config: { -readonly [K in keyof WorkerConfig]: WorkerConfig[K] } = {
    toriiUrl,
    worldAddress,
    manifest,
  };
  if (models) config.models = models;
  if (syncOptions) config.syncOptions = syncOptions;
  if (eventMessages !== undefined) config.eventMessages = eventMessages;
  if (targets) config.targets = targets;
  if (targetRetention !== undefined) config.targetRetention = targetRetention;
  if (dbName !== undefined) config.dbName = dbName;
  if (onToriiVersionChange !== undefined) config.onToriiVersionChange = onToriiVersionChange;
  if (deltaChunk !== undefined) config.deltaChunk = deltaChunk;
  return { config, logger, logLevel, debug, workerUrl, overlay, supervision, indexes };
}

/** `indexes`: `{ model, members }` declarations (the view checks the members against the model). */
function checkIndexes(check: Check, value: unknown): IndexDeclaration[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw check.fail('indexes', 'an array of { model, members }', value);
  return value.map((item: unknown, i) => {
    const record = check.record(`indexes[${i}]`, item);
    check.knownKeys(`indexes[${i}]`, record, ['model', 'members']);
    const model = check.string(`indexes[${i}].model`, record.model);
    const members = check.optionalStrings(`indexes[${i}].members`, record.members);
    if (members === undefined || members.length === 0 || members.length > 2) {
      throw check.fail(`indexes[${i}].members`, 'one or two member paths', record.members);
    }
    return { model, members };
  });
}
