/**
 * The messages tabs of one game exchange on the BroadcastChannel of their database (see
 * `docs/tabs.md`): the leader's heartbeats, its DELTAs, event-log batches and status, the followers' targets, and
 * `reset`. Every message carries the sender's protocol version and manifest hash (see
 * `deploy.ts`); a message of an unknown shape is ignored (a newer tab may send more).
 *
 * @module
 */

import type { ReactiveErrorInfo } from './errors.js';
import type { DeltaRelay, EventsFlags } from './messages.js';
import { isSyncTargetKind, isTargetKind } from './options.js';
import type { ModelChoice, SyncTargetSpec, SyncTick, Transition } from './types.js';

/** The cross-tab protocol version of this code: a newer writer takes over from an older one. */
export const TAB_PROTOCOL = 2;

/** How often the leader says it is alive (ms). */
export const HEARTBEAT_MS = 500;

/** How long a leader may stay silent before a follower takes over (ms). */
export const LEADER_SILENT_MS = 1500;

/** The BroadcastChannel and Web Lock name of a database. */
export function channelName(dbName: string): string {
  return `dojo-reactive:${dbName}`;
}

/** What a tab asks the leader to sync. */
export interface TabTargets {
  /** Models to sync (`undefined`: every model). */
  readonly models: readonly ModelChoice[] | undefined;
  /** Whether event messages are synced too. */
  readonly eventMessages: boolean;
  /**
   * Its sync targets (absent: every entity of `models`, and every event message when
   * `eventMessages`; see {@link targetsOf}).
   */
  readonly targets?: readonly SyncTargetSpec[];
}

/** A tab's sync targets, the implicit whole-kind ones of a tab without `targets` included. */
export function targetsOf(tab: TabTargets): readonly SyncTargetSpec[] {
  if (tab.targets) return tab.targets;
  const whole: SyncTargetSpec[] = [{ id: 'entities', kind: 'entities' }];
  if (tab.eventMessages) whole.push({ id: 'eventMessages', kind: 'eventMessages' });
  return whole;
}

/** A target's definition as text (what two tabs compare). */
function definition(target: SyncTargetSpec): string {
  return JSON.stringify([target.kind, target.models ?? null, target.clause ?? null, target.filter ?? null]);
}

/** Whether `synced` (a target of a union) is `target` of a tab: same definition, its id or a renamed `id~n`. */
export function isSameTarget(synced: SyncTargetSpec, target: SyncTargetSpec): boolean {
  return (synced.id === target.id || synced.id.startsWith(`${target.id}~`)) && definition(synced) === definition(target);
}

/**
 * The sync targets of several tabs, each definition once: a tab's target whose id another tab
 * uses for another definition is renamed `id~n` (its status carries that id).
 */
export function unionSyncTargets(all: Iterable<TabTargets>): SyncTargetSpec[] {
  const union: SyncTargetSpec[] = [];
  for (const tab of all) {
    for (const target of targetsOf(tab)) {
      if (union.some((t) => isSameTarget(t, target))) continue;
      let id = target.id;
      for (let n = 2; union.some((t) => t.id === id); n += 1) id = `${target.id}~${n}`;
      union.push({ ...target, id });
    }
  }
  return union;
}

/** Whether `outer` has every target of `inner` (by definition; ids may differ by a `~n`). */
export function coversTargets(outer: readonly SyncTargetSpec[], inner: readonly SyncTargetSpec[]): boolean {
  return inner.every((target) => outer.some((t) => isSameTarget(t, target)));
}

/** Leader → all: alive, under this epoch, `sent` DELTAs relayed in it so far, syncing these targets. */
export interface HeartbeatMessage {
  readonly type: 'HEARTBEAT';
  readonly epoch: number;
  readonly sent: number;
  readonly targets: TabTargets;
}

/**
 * Leader → all: one DELTA of `target`, numbered `n` within the epoch (the wasm worker numbers
 * them and stores each target's newest number with its commit, so a follower can tell which
 * ones the store it restored from held); `persisted` false while the leader's store has not
 * taken it (a failed write waits for a retry).
 */
export interface RelayDeltaMessage {
  readonly type: 'DELTA';
  readonly epoch: number;
  readonly n: number;
  readonly target: DeltaRelay['target'];
  readonly buffer: ArrayBuffer;
  readonly persisted: boolean;
}

/**
 * Leader → all: one change of the event log of `target` (an EVENTS batch, see `events.ts`),
 * with its flags (a stored log's chunks but the last are not relayed), whether or not a follower
 * is heard: a tab applies each batch once its own stored log of `target` is shown whole, the
 * events it holds already being recognised by their identity.
 */
export interface RelayEventsMessage extends EventsFlags {
  readonly type: 'EVENTS';
  readonly epoch: number;
  readonly target: string;
  readonly buffer: ArrayBuffer;
  readonly persisted: boolean;
}

/** Leader → all: a status event or an error of its synchronizers. */
export interface RelayStatusMessage {
  readonly type: 'STATUS';
  readonly epoch: number;
  readonly event:
    | { readonly type: 'SYNC_TICK'; readonly tick: SyncTick }
    | { readonly type: 'TRANSITION'; readonly transition: Transition }
    | { readonly type: 'SYNC_ERROR' | 'SYNC_FATAL'; readonly error: ReactiveErrorInfo };
}

/** Follower → leader: the app called `forceReplay()` in that tab. */
export interface ReplayMessage {
  readonly type: 'REPLAY';
}

/** Follower → leader: what this tab needs synced. */
export interface TargetsMessage {
  readonly type: 'TARGETS';
  readonly targets: TabTargets;
}

/** Any tab → all: `reset()` started (drop your view, stop), or the database is deleted (rejoin). */
export interface ResetMessage {
  readonly type: 'RESET';
  readonly phase: 'started' | 'deleted';
}

/** Every message on the channel, without the envelope. */
export type TabBody =
  | HeartbeatMessage
  | RelayDeltaMessage
  | RelayEventsMessage
  | RelayStatusMessage
  | TargetsMessage
  | ReplayMessage
  | ResetMessage;

/**
 * A message as sent: its body, the sender's id, protocol version and manifest hash (absent in
 * messages of code before it).
 */
export type TabMessage = TabBody & { readonly from: string; readonly protocol: number; readonly manifest?: string };

type Fields = { readonly [key: string]: unknown };

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTargets(value: unknown): value is TabTargets {
  if (!isRecord(value) || typeof value.eventMessages !== 'boolean') return false;
  const models = value.models;
  const targets = value.targets;
  return (
    (models === undefined ||
      (Array.isArray(models) &&
        models.every((m) => typeof m === 'string' || (isRecord(m) && typeof m.tag === 'string')))) &&
    (targets === undefined ||
      (Array.isArray(targets) &&
        targets.every(
          (t) => isRecord(t) && typeof t.id === 'string' && isSyncTargetKind(t.kind),
        )))
  );
}

/** A received channel message, typed; `undefined` for anything else. */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (!isRecord(data) || typeof data.from !== 'string' || !isCount(data.protocol)) return undefined;
  if (data.manifest !== undefined && typeof data.manifest !== 'string') return undefined;
  switch (data.type) {
    case 'HEARTBEAT':
      return isCount(data.epoch) && isCount(data.sent) && isTargets(data.targets)
        ? (data as unknown as TabMessage)
        : undefined;
    case 'DELTA':
      return isCount(data.epoch) &&
        isCount(data.n) &&
        isTargetKind(data.target) &&
        data.buffer instanceof ArrayBuffer &&
        typeof data.persisted === 'boolean'
        ? (data as unknown as TabMessage)
        : undefined;
    case 'EVENTS':
      return isCount(data.epoch) &&
        typeof data.target === 'string' &&
        data.buffer instanceof ArrayBuffer &&
        typeof data.persisted === 'boolean' &&
        typeof data.stored === 'boolean' &&
        typeof data.restored === 'boolean' &&
        typeof data.complete === 'boolean'
        ? (data as unknown as TabMessage)
        : undefined;
    case 'STATUS': {
      const event = data.event;
      const ok =
        isCount(data.epoch) &&
        isRecord(event) &&
        ((event.type === 'SYNC_TICK' && isRecord(event.tick)) ||
          (event.type === 'TRANSITION' && isRecord(event.transition)) ||
          ((event.type === 'SYNC_ERROR' || event.type === 'SYNC_FATAL') &&
            isRecord(event.error) &&
            typeof event.error.name === 'string' &&
            typeof event.error.message === 'string'));
      return ok ? (data as unknown as TabMessage) : undefined;
    }
    case 'TARGETS':
      return isTargets(data.targets) ? (data as unknown as TabMessage) : undefined;
    case 'REPLAY':
      return data as unknown as TabMessage;
    case 'RESET':
      return data.phase === 'started' || data.phase === 'deleted' ? (data as unknown as TabMessage) : undefined;
    default:
      return undefined;
  }
}

/** The model tag of a choice. */
function tagOf(choice: ModelChoice): string {
  return typeof choice === 'string' ? choice : choice.tag;
}

/**
 * The union of what several tabs need: every model when any tab asks for every model, else
 * each model once (the first choice of a tag wins), event messages when any tab wants them, and
 * every tab's sync targets when any tab gave some ({@link unionSyncTargets}).
 */
export function unionTargets(all: Iterable<TabTargets>): TabTargets {
  let every = false;
  let eventMessages = false;
  const models = new Map<string, ModelChoice>();
  const list = [...all];
  for (const targets of list) {
    eventMessages ||= targets.eventMessages;
    if (targets.models === undefined) every = true;
    else for (const choice of targets.models) if (!models.has(tagOf(choice))) models.set(tagOf(choice), choice);
  }
  const union: { -readonly [K in keyof TabTargets]: TabTargets[K] } = {
    models: every ? undefined : [...models.values()],
    eventMessages,
  };
  if (list.some((tab) => tab.targets)) union.targets = unionSyncTargets(list);
  return union;
}

/** Whether `outer` syncs everything `inner` asks for. */
export function covers(outer: TabTargets, inner: TabTargets): boolean {
  if (inner.eventMessages && !outer.eventMessages) return false;
  if (outer.models === undefined) return true;
  if (inner.models === undefined) return false;
  const tags = new Set(outer.models.map(tagOf));
  return inner.models.every((choice) => tags.has(tagOf(choice)));
}

/** Whether `outer` syncs every sync target `inner` asks for (and its models and kinds: {@link covers}). */
export function coversAll(outer: TabTargets, inner: TabTargets): boolean {
  return covers(outer, inner) && coversTargets(targetsOf(outer), targetsOf(inner));
}

/** A BroadcastChannel as this package uses it (the global one in browsers). */
export interface TabChannel {
  postMessage(message: TabMessage): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  close(): void;
}

/** Opens the channel of a database, or `undefined` where BroadcastChannel does not exist. */
export function openTabChannel(dbName: string): TabChannel | undefined {
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => TabChannel & { unref?(): void } })
    .BroadcastChannel;
  if (!Channel) return undefined;
  const channel = new Channel(channelName(dbName));
  // Node's channel would keep a process alive (unit tests); browsers have no unref.
  channel.unref?.();
  return channel;
}
