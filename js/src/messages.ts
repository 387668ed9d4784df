/**
 * The messages between the main thread and the sync worker, shared by both sides, with their
 * validation. Entity data crosses only as binary DELTA batches in transferred buffers.
 *
 * @module
 */

import { ValidationError, type ReactiveErrorInfo } from './errors.js';
import { isTargetKind } from './options.js';
import type {
  Persistence,
  RestoredTargets,
  StartTimings,
  StoreReport,
  SyncTargetSpec,
  SyncTick,
  TabRole,
  TargetKind,
  TargetState,
  Transition,
  WorkerConfig,
} from './types.js';

/** Main thread → worker: start syncing. */
export interface InitMessage {
  readonly type: 'INIT';
  /** The synchronizer's configuration. */
  readonly config: WorkerConfig;
  /** Whether to post DELTA batches (false for a sync-only worker). */
  readonly deltas: boolean;
}

/** Main thread → worker: stop, close the database, confirm with SHUTDOWN_ACK. */
export interface ShutdownMessage {
  readonly type: 'SHUTDOWN';
}

/** Main thread → worker: re-page the snapshot now. */
export interface ForceReplayMessage {
  readonly type: 'FORCE_REPLAY';
}

/** Main thread → worker: read back the persisted store (answered by STORE_REPORT). */
export interface InspectStoreMessage {
  readonly type: 'INSPECT_STORE';
  /** Matches the answer to the request. */
  readonly id: number;
}

/** Main thread → worker: sync these targets from now on (answered by TARGETS_SET). */
export interface SetTargetsMessage {
  readonly type: 'SET_TARGETS';
  /** Matches the answer to the request. */
  readonly id: number;
  /** Every sync target of the tab (checked by `checkTargets`). */
  readonly targets: readonly SyncTargetSpec[];
}

/**
 * Main thread → worker: a one-shot Torii call through the worker's client (answered by
 * TORII_ANSWER): `controllers` (`args`: addresses and usernames), `publish` (`args`: the
 * typed data JSON and the signature felts) or `publishBatch` (`args`: the typed data JSON of
 * each message and the signature felts of each).
 */
export interface ToriiCallMessage {
  readonly type: 'TORII_CALL';
  /** Matches the answer to the request. */
  readonly id: number;
  /** Which call. */
  readonly call: ToriiCall;
  /**
   * Its arguments: two string lists (`controllers`), a string and a string list (`publish`), a
   * string list and a list of string lists (`publishBatch`).
   */
  readonly args: readonly [readonly string[] | string, readonly string[] | readonly (readonly string[])[]];
}

/** The one-shot Torii calls of TORII_CALL. */
export type ToriiCall = 'controllers' | 'publish' | 'publishBatch';

/** Every message the worker accepts. */
export type MainMessage =
  | InitMessage
  | ShutdownMessage
  | ForceReplayMessage
  | InspectStoreMessage
  | SetTargetsMessage
  | ToriiCallMessage;

/** Worker → main thread: the persisted state was sent (before, and without, any network). */
export interface InitAckMessage {
  readonly type: 'INIT_ACK';
  /** Hash of the manifest the database is keyed on. */
  readonly manifestHash: string;
  /** The Torii version the stored data was synced from; null when none is recorded (a first visit). */
  readonly toriiVersion: string | null;
  /** The database name. */
  readonly dbName: string;
  /** Entities restored from the database. */
  readonly restored: number;
  /** How the worker's start went, when it says. */
  readonly timings?: StartTimings;
  /** Where the data is kept: `indexedDb`, or `memory` where the browser offers no IndexedDB. */
  readonly persistence?: Persistence;
  /** Where each of the page's sync targets stands once the stored data is in the view, by kind. */
  readonly targets?: RestoredTargets;
}

/**
 * Worker → main thread, before INIT_ACK: one kind's stored data was sent (its DELTAs came
 * before), and where the page's targets of that kind stand now that it is in the view. Kinds are
 * restored in the order the page declares their first target.
 */
export interface RestoredMessage {
  readonly type: 'RESTORED';
  /** The kind. */
  readonly target: TargetKind;
  /** Its targets: complete when stored complete under the same definition. */
  readonly targets: readonly TargetState[];
}

/** Worker → main thread: one binary batch of model upserts and deletions (transferred). */
export interface DeltaMessage {
  readonly type: 'DELTA';
  /** The encoded batch. */
  readonly buffer: ArrayBuffer;
  /**
   * False when the store has not taken the batch yet (a write failed: quota, closed
   * connection); it is written later, and SYNC_TICK's `unpersisted` counts what waits.
   */
  readonly persisted: boolean;
  /**
   * The batch's place in its leader's relayed sequence (set by the wasm worker while it leads;
   * the worker script relays it to other tabs, the main thread does not need it).
   */
  readonly relay?: DeltaRelay;
}

/**
 * Worker → main thread: one change of an event-log target's log (an encoded event batch,
 * transferred; `View.decodeEvents` reads it): after INIT_ACK the stored log in chunks, newest
 * first (the first a snapshot), then each change as it is stored.
 */
export interface EventsMessage {
  readonly type: 'EVENTS';
  /** The id of the `eventLog` target whose log changed (the batch names it too). */
  readonly target: string;
  /** The encoded batch. */
  readonly buffer: ArrayBuffer;
  /** False when the store did not take the change (it is written with the next one). */
  readonly persisted: boolean;
  /** Whether the batch is a chunk of the stored log (events shown before, not new ones). */
  readonly stored: boolean;
  /** Whether the whole stored log is on the page once this batch is applied. */
  readonly restored: boolean;
  /** Whether the target is complete once this batch is applied (restored, and its history walked within the retention). */
  readonly complete: boolean;
}

/** How an EVENTS batch stands in its target's restore. */
export type EventsFlags = Pick<EventsMessage, 'stored' | 'restored' | 'complete'>;

/** A synced DELTA's place in its leader's relayed sequence (see `docs/tabs.md`). */
export interface DeltaRelay {
  /** The target whose changes it carries. */
  readonly target: TargetKind;
  /** The writer epoch it was sent under. */
  readonly epoch: number;
  /** Its number within the epoch, from 1, over every target. */
  readonly n: number;
}

/** Worker → main thread: a status tick. */
export interface SyncTickMessage {
  readonly type: 'SYNC_TICK';
  /** The tick. */
  readonly tick: SyncTick;
}

/** Worker → main thread: a synchronizer state change. */
export interface TransitionMessage {
  readonly type: 'TRANSITION';
  /** The change. */
  readonly transition: Transition;
}

/** Worker → main thread: a non-fatal error (sync goes on). */
export interface SyncErrorMessage {
  readonly type: 'SYNC_ERROR';
  /** The error. */
  readonly error: ReactiveErrorInfo;
}

/** Worker → main thread: sync stopped for good. */
export interface SyncFatalMessage {
  readonly type: 'SYNC_FATAL';
  /** The error. */
  readonly error: ReactiveErrorInfo;
}

/** Worker → main thread: SHUTDOWN finished; the worker closes itself next. */
export interface ShutdownAckMessage {
  readonly type: 'SHUTDOWN_ACK';
  /** Set when stopping failed (the worker still closes). */
  readonly error?: ReactiveErrorInfo;
}

/** Worker → main thread: the answer to INSPECT_STORE, a report or the error reading it. */
export interface StoreReportMessage {
  readonly type: 'STORE_REPORT';
  /** The request's id. */
  readonly id: number;
  /** The report, when the store was read. */
  readonly report?: StoreReport;
  /** Why it could not be read. */
  readonly error?: ReactiveErrorInfo;
}

/** Worker → main thread: the answer to SET_TARGETS: each target's digest by id, or why they were refused. */
export interface TargetsSetMessage {
  readonly type: 'TARGETS_SET';
  /** The request's id. */
  readonly id: number;
  /** The digest of each target's definition (SYNC_TICK `targets[i].digest`), by id. */
  readonly digests?: { readonly [id: string]: string };
  /** Why the targets were refused. */
  readonly error?: ReactiveErrorInfo;
}

/** Worker → main thread: this tab's worker became the database's writer, or a follower. */
export interface RoleMessage {
  readonly type: 'ROLE';
  /** Its part in the election of the database (see `docs/tabs.md`). */
  readonly role: TabRole;
}

/** Worker → main thread: the answer to TORII_CALL, its result or the error. */
export interface ToriiAnswerMessage {
  readonly type: 'TORII_ANSWER';
  /** The request's id. */
  readonly id: number;
  /** The call's result (absent on error). */
  readonly result?: unknown;
  /** Why the call failed. */
  readonly error?: ReactiveErrorInfo;
}

/** Every message the worker posts. */
export type WorkerMessage =
  | ToriiAnswerMessage
  | RoleMessage
  | InitAckMessage
  | RestoredMessage
  | DeltaMessage
  | EventsMessage
  | SyncTickMessage
  | TransitionMessage
  | SyncErrorMessage
  | SyncFatalMessage
  | ShutdownAckMessage
  | StoreReportMessage
  | TargetsSetMessage;

type Fields = { readonly [key: string]: unknown };

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(side: string, message: string, argument: string): ValidationError {
  return new ValidationError(`${side} message refused: ${message}`, { where: side, argument });
}

function isErrorInfo(value: unknown): value is ReactiveErrorInfo {
  return isRecord(value) && typeof value.name === 'string' && typeof value.message === 'string';
}

/** Whether `value` is a DELTA's place in the relayed sequence (the wasm worker's `relay`). */
export function isDeltaRelay(value: unknown): value is DeltaRelay {
  return (
    isRecord(value) &&
    isTargetKind(value.target) &&
    Number.isSafeInteger(value.epoch) &&
    Number.isSafeInteger(value.n)
  );
}

/** A kind's targets as INIT_ACK or a SYNC_TICK carries them. */
function isTargetStates(value: unknown): value is TargetState[] {
  return (
    Array.isArray(value) &&
    value.every(
      (t) => isRecord(t) && typeof t.id === 'string' && typeof t.digest === 'string' && typeof t.complete === 'boolean',
    )
  );
}

/** INIT_ACK's `targets`: arrays of target states by kind (anything else is left out). */
function restoredTargets(value: unknown): RestoredTargets | undefined {
  if (!isRecord(value)) return undefined;
  const out: Partial<Record<TargetKind, readonly TargetState[]>> = {};
  for (const kind of Object.keys(value).filter(isTargetKind)) {
    const states = value[kind];
    if (isTargetStates(states)) out[kind] = states;
  }
  return out;
}

function isTimings(value: unknown): value is StartTimings {
  return (
    isRecord(value) &&
    (['startedAt', 'openMs', 'restoreMs'] as const).every((key) => typeof value[key] === 'number')
  );
}

/** Checks a message received by the worker; returns it typed, or the reason it is refused. */
export function parseMainMessage(data: unknown): MainMessage | ValidationError {
  const side = 'worker';
  if (!isRecord(data) || typeof data.type !== 'string') {
    return refuse(side, 'expected an object with a string `type`', 'type');
  }
  switch (data.type) {
    case 'INIT': {
      const config = data.config;
      if (!isRecord(config)) return refuse(side, 'INIT needs a `config` object', 'config');
      for (const field of ['toriiUrl', 'worldAddress', 'manifest'] as const) {
        if (typeof config[field] !== 'string') {
          return refuse(side, `INIT config.${field} must be a string`, `config.${field}`);
        }
      }
      if (typeof data.deltas !== 'boolean') {
        return refuse(side, 'INIT `deltas` must be a boolean', 'deltas');
      }
      return { type: 'INIT', config: config as unknown as WorkerConfig, deltas: data.deltas };
    }
    case 'SHUTDOWN':
      return { type: 'SHUTDOWN' };
    case 'FORCE_REPLAY':
      return { type: 'FORCE_REPLAY' };
    case 'INSPECT_STORE':
      if (typeof data.id !== 'number') return refuse(side, 'INSPECT_STORE needs a number `id`', 'id');
      return { type: 'INSPECT_STORE', id: data.id };
    case 'SET_TARGETS':
      if (typeof data.id !== 'number' || !Array.isArray(data.targets)) {
        return refuse(side, 'SET_TARGETS needs a number `id` and a `targets` array', 'targets');
      }
      return { type: 'SET_TARGETS', id: data.id, targets: data.targets as SyncTargetSpec[] };
    case 'TORII_CALL': {
      const args = data.args;
      const strings = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === 'string');
      const batch = (value: unknown) => Array.isArray(value) && value.length > 0 && value.every(strings);
      const valid =
        Array.isArray(args) &&
        args.length === 2 &&
        ((data.call === 'controllers' && strings(args[0]) && strings(args[1])) ||
          (data.call === 'publish' && typeof args[0] === 'string' && strings(args[1])) ||
          (data.call === 'publishBatch' && strings(args[0]) && batch(args[1]) && args[0].length === args[1].length));
      if (typeof data.id !== 'number' || !valid) {
        return refuse(side, 'TORII_CALL needs a number `id`, a known `call` and its `args`', 'args');
      }
      return {
        type: 'TORII_CALL',
        id: data.id,
        call: data.call as ToriiCall,
        args: args as unknown as ToriiCallMessage['args'],
      };
    }
    default:
      return refuse(side, `unknown message type ${JSON.stringify(data.type)}`, 'type');
  }
}

/** Checks a message received from the worker; returns it typed, or the reason it is refused. */
export function parseWorkerMessage(data: unknown): WorkerMessage | ValidationError {
  const side = 'main thread';
  if (!isRecord(data) || typeof data.type !== 'string') {
    return refuse(side, 'expected an object with a string `type`', 'type');
  }
  switch (data.type) {
    case 'INIT_ACK':
      if (
        typeof data.manifestHash !== 'string' ||
        (typeof data.toriiVersion !== 'string' && data.toriiVersion !== null) ||
        typeof data.dbName !== 'string' ||
        typeof data.restored !== 'number'
      ) {
        return refuse(
          side,
          'INIT_ACK needs string manifestHash and dbName, a string or null toriiVersion and a number restored',
          'INIT_ACK',
        );
      }
      return {
        type: 'INIT_ACK',
        manifestHash: data.manifestHash,
        toriiVersion: data.toriiVersion,
        dbName: data.dbName,
        restored: data.restored,
        ...(isTimings(data.timings) ? { timings: data.timings } : {}),
        ...(data.persistence === 'indexedDb' || data.persistence === 'memory'
          ? { persistence: data.persistence }
          : {}),
        ...(restoredTargets(data.targets) ? { targets: restoredTargets(data.targets) } : {}),
      };
    case 'RESTORED':
      if (!isTargetKind(data.target) || !isTargetStates(data.targets)) {
        return refuse(side, 'RESTORED needs a target kind `target` and `targets` of { id, digest, complete }', 'RESTORED');
      }
      return { type: 'RESTORED', target: data.target, targets: data.targets };
    case 'ROLE': {
      const role = data.role;
      if (!isRecord(role) || (role.role !== 'leader' && role.role !== 'follower') || typeof role.epoch !== 'number') {
        return refuse(side, 'ROLE needs a `role` with role leader|follower and a number epoch', 'role');
      }
      return { type: 'ROLE', role: { role: role.role, epoch: role.epoch } };
    }
    case 'DELTA':
      if (!(data.buffer instanceof ArrayBuffer)) {
        return refuse(side, 'DELTA needs an ArrayBuffer `buffer`', 'buffer');
      }
      return {
        type: 'DELTA',
        buffer: data.buffer,
        persisted: data.persisted !== false,
        ...(isDeltaRelay(data.relay) ? { relay: data.relay } : {}),
      };
    case 'EVENTS':
      if (!(data.buffer instanceof ArrayBuffer)) {
        return refuse(side, 'EVENTS needs an ArrayBuffer `buffer`', 'buffer');
      }
      if (typeof data.target !== 'string') return refuse(side, 'EVENTS needs a string `target`', 'target');
      return {
        type: 'EVENTS',
        target: data.target,
        buffer: data.buffer,
        persisted: data.persisted !== false,
        stored: data.stored === true,
        restored: data.restored !== false,
        complete: data.complete === true,
      };
    case 'SYNC_TICK':
      if (!isRecord(data.tick) || !isRecord(data.tick.overall)) {
        return refuse(side, 'SYNC_TICK needs a `tick` with `overall`', 'tick');
      }
      return { type: 'SYNC_TICK', tick: data.tick as unknown as SyncTick };
    case 'TRANSITION':
      if (!isRecord(data.transition) || typeof data.transition.to !== 'string') {
        return refuse(side, 'TRANSITION needs a `transition` with `to`', 'transition');
      }
      return { type: 'TRANSITION', transition: data.transition as unknown as Transition };
    case 'SYNC_ERROR':
    case 'SYNC_FATAL':
      if (!isErrorInfo(data.error)) {
        return refuse(side, `${data.type} needs an \`error\` with name and message`, 'error');
      }
      return { type: data.type, error: data.error };
    case 'SHUTDOWN_ACK':
      if (data.error !== undefined && !isErrorInfo(data.error)) {
        return refuse(side, 'SHUTDOWN_ACK `error` needs name and message', 'error');
      }
      return data.error === undefined
        ? { type: 'SHUTDOWN_ACK' }
        : { type: 'SHUTDOWN_ACK', error: data.error };
    case 'STORE_REPORT':
      if (typeof data.id !== 'number') return refuse(side, 'STORE_REPORT needs a number `id`', 'id');
      if (isErrorInfo(data.error)) return { type: 'STORE_REPORT', id: data.id, error: data.error };
      if (!isRecord(data.report) || !Array.isArray(data.report.targets)) {
        return refuse(side, 'STORE_REPORT needs a `report` with `targets`, or an `error`', 'report');
      }
      return { type: 'STORE_REPORT', id: data.id, report: data.report as unknown as StoreReport };
    case 'TARGETS_SET': {
      if (typeof data.id !== 'number') return refuse(side, 'TARGETS_SET needs a number `id`', 'id');
      if (isErrorInfo(data.error)) return { type: 'TARGETS_SET', id: data.id, error: data.error };
      const digests = data.digests;
      if (!isRecord(digests) || !Object.values(digests).every((d) => typeof d === 'string')) {
        return refuse(side, 'TARGETS_SET needs string `digests` by id, or an `error`', 'digests');
      }
      return { type: 'TARGETS_SET', id: data.id, digests: digests as { readonly [id: string]: string } };
    }
    case 'TORII_ANSWER':
      if (typeof data.id !== 'number') return refuse(side, 'TORII_ANSWER needs a number `id`', 'id');
      if (isErrorInfo(data.error)) return { type: 'TORII_ANSWER', id: data.id, error: data.error };
      return { type: 'TORII_ANSWER', id: data.id, result: data.result };
    default:
      return refuse(side, `unknown message type ${JSON.stringify(data.type)}`, 'type');
  }
}
