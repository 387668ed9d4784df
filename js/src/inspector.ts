/**
 * The development inspector: `globalThis.__REACTIVE_DEBUG__` lists the live clients and lets a
 * person look at their entities, recent transitions, ticks and errors from the browser console.
 * It is installed only on an explicit opt-in: the `debug: true` option (every method, the
 * client itself included), or `globalThis.__REACTIVE_DEBUG__ = true` set by the app before the
 * client is created (read-only: nothing that changes the client or its data); `debug: false`
 * always wins. A client leaves it at `shutdown()`, and the global is restored when the last does.
 *
 * @module
 */

import type { ReactiveClient } from './client.js';
import type { ReactiveError } from './errors.js';
import type { SessionObserver } from './session.js';
import type { OverlayEntryInfo, SdkEntity, StoreReport, SyncTick, TargetKind, Transition } from './types.js';

/** How many transitions and errors an inspector keeps. */
export const inspectorHistory = 100;

/** An entity as the inspector lists it. */
export interface InspectedEntity {
  /** The entity id. */
  readonly entityId: string;
  /** The entity, overlay-first. */
  readonly entity: SdkEntity;
}

/** A transition with the main-thread time it arrived. */
export interface RecordedTransition {
  /** The transition (its `at` is the worker's clock). */
  readonly transition: Transition;
  /** Main-thread clock time (ms) when it arrived. */
  readonly receivedAt: number;
}

/** An error with the time it was reported. */
export interface RecordedError {
  /** The error. */
  readonly error: ReactiveError;
  /** Main-thread clock time (ms). */
  readonly at: number;
}

/** One client as the inspector shows it. */
export interface ClientInspector {
  /** The client itself (only with the `debug: true` option). */
  readonly client?: ReactiveClient;
  /** Entities from the view (default limit 100): of `model`, or of every model seen in ticks. */
  entities(model?: string, limit?: number): readonly InspectedEntity[];
  /** One entity, overlay-first. */
  entity(entityId: string): SdkEntity | undefined;
  /** The last 100 transitions, oldest first. */
  transitions(): readonly RecordedTransition[];
  /** The last SYNC_TICK per target (ledger counters included). */
  ticks(): { readonly [K in TargetKind]?: SyncTick };
  /** The last 100 errors, oldest first. */
  errors(): readonly RecordedError[];
  /** Pending optimistic writes on an entity. */
  overlay(entityId: string): readonly OverlayEntryInfo[];
  /** Re-pages the snapshot now (posts FORCE_REPLAY; only with the `debug: true` option). */
  forceReplay?(): void;
  /**
   * The worker's database read back: per target the version ledger, the stored state count, the
   * sync state (cursor) and every way they disagree (empty when the store is consistent).
   */
  ledger(): Promise<StoreReport>;
}

/** `globalThis.__REACTIVE_DEBUG__`. */
export interface ReactiveDebug {
  /** The live clients that installed the inspector. */
  readonly clients: ClientInspector[];
}

/** Which inspector a client installs: every method, read-only, or none. */
export type InspectorMode = 'full' | 'readOnly' | undefined;

/** What an inspector reads from its client. */
export interface InspectorSource {
  /** Model tags the client was configured with (empty when every model is synced). */
  models(): readonly string[];
  /** One page of a model's entities (overlay-first). */
  page(model: string, limit: number): readonly SdkEntity[];
  /** One entity, overlay-first. */
  entity(entityId: string): SdkEntity | undefined;
  /** Pending optimistic writes on an entity. */
  overlay(entityId: string): readonly OverlayEntryInfo[];
  /** Posts FORCE_REPLAY. */
  forceReplay(): void;
  /** Asks the worker for its store report. */
  inspectStore(): Promise<StoreReport>;
  /** The main-thread clock (ms). */
  now(): number;
}

function keep<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > inspectorHistory) list.splice(0, list.length - inspectorHistory);
}

/** Records what the session reports and answers the inspector's questions. */
export class Inspector implements ClientInspector, SessionObserver {
  private readonly recentTransitions: RecordedTransition[] = [];
  private readonly recentErrors: RecordedError[] = [];
  private lastTicks: { [K in TargetKind]?: SyncTick } = {};

  /** An inspector of `client`, reading through `source`. */
  constructor(
    private readonly inspected: ReactiveClient,
    private readonly source: InspectorSource,
  ) {}

  /** The registry entry: every method (`full`), or only those that read (`readOnly`). */
  entry(mode: 'full' | 'readOnly'): ClientInspector {
    const reads: ClientInspector = {
      entities: (model, limit) => this.entities(model, limit),
      entity: (entityId) => this.entity(entityId),
      transitions: () => this.transitions(),
      ticks: () => this.ticks(),
      errors: () => this.errors(),
      overlay: (entityId) => this.overlay(entityId),
      ledger: () => this.ledger(),
    };
    if (mode === 'readOnly') return reads;
    return { ...reads, client: this.inspected, forceReplay: () => this.forceReplay() };
  }

  /** Records a transition. */
  transition(transition: Transition): void {
    keep(this.recentTransitions, { transition, receivedAt: this.source.now() });
  }

  /** Records a tick. */
  tick(tick: SyncTick): void {
    this.lastTicks = { ...this.lastTicks, [tick.target]: tick };
  }

  /** Records an error. */
  error(error: ReactiveError): void {
    keep(this.recentErrors, { error, at: this.source.now() });
  }

  /** Configured model tags plus those seen in the last entities tick. */
  private knownModels(): readonly string[] {
    const ticked = (this.lastTicks.entities?.models ?? []).map((m) => m.model);
    return [...new Set([...this.source.models(), ...ticked])];
  }

  entities(model?: string, limit = 100): readonly InspectedEntity[] {
    const max = Number.isInteger(limit) && limit > 0 ? limit : 100;
    const seen = new Map<string, SdkEntity>();
    for (const tag of model === undefined ? this.knownModels() : [model]) {
      for (const item of this.source.page(tag, max)) {
        if (seen.size >= max) break;
        if (!seen.has(item.entityId)) seen.set(item.entityId, this.source.entity(item.entityId) ?? item);
      }
    }
    return [...seen].map(([entityId, entity]) => ({ entityId, entity }));
  }

  entity(entityId: string): SdkEntity | undefined {
    return this.source.entity(entityId);
  }

  transitions(): readonly RecordedTransition[] {
    return [...this.recentTransitions];
  }

  ticks(): { readonly [K in TargetKind]?: SyncTick } {
    return { ...this.lastTicks };
  }

  errors(): readonly RecordedError[] {
    return [...this.recentErrors];
  }

  overlay(entityId: string): readonly OverlayEntryInfo[] {
    return this.source.overlay(entityId);
  }

  forceReplay(): void {
    this.source.forceReplay();
  }

  /** The worker's database read back and checked. */
  ledger(): Promise<StoreReport> {
    return this.source.inspectStore();
  }
}

type DebugGlobal = { __REACTIVE_DEBUG__?: unknown };

/** The registries this package installed, with whether the app had opted in with `true`. */
const registries = new WeakMap<object, { readonly optedIn: boolean }>();

function ownRegistry(value: unknown): ReactiveDebug | undefined {
  return typeof value === 'object' && value !== null && registries.has(value) ? (value as ReactiveDebug) : undefined;
}

/**
 * The inspector a client with this `debug` option installs: `full` for `true`, none for
 * `false`; when absent, `readOnly` only if the app set `globalThis.__REACTIVE_DEBUG__ = true`
 * (any other value, such as a DOM element with that id, is not an opt-in).
 */
export function inspectorMode(debug: boolean | undefined): InspectorMode {
  if (debug !== undefined) return debug ? 'full' : undefined;
  const value = (globalThis as DebugGlobal).__REACTIVE_DEBUG__;
  if (value === true) return 'readOnly';
  const registry = ownRegistry(value);
  return registry && registries.get(registry)?.optedIn ? 'readOnly' : undefined;
}

/**
 * Adds `entry` to the package's registry at `globalThis.__REACTIVE_DEBUG__` (installed if
 * absent); returns its removal, which restores the global's previous value (the app's `true`,
 * or nothing) when the last client leaves.
 */
export function registerInspector(entry: ClientInspector): () => void {
  const holder = globalThis as DebugGlobal;
  let registry = ownRegistry(holder.__REACTIVE_DEBUG__);
  if (!registry) {
    const optedIn = holder.__REACTIVE_DEBUG__ === true;
    registry = { clients: [] };
    registries.set(registry, { optedIn });
    holder.__REACTIVE_DEBUG__ = registry;
  }
  const installed = registry;
  installed.clients.push(entry);
  return () => {
    const at = installed.clients.indexOf(entry);
    if (at >= 0) installed.clients.splice(at, 1);
    if (installed.clients.length > 0 || holder.__REACTIVE_DEBUG__ !== installed) return;
    if (registries.get(installed)?.optedIn) holder.__REACTIVE_DEBUG__ = true;
    else delete holder.__REACTIVE_DEBUG__;
  };
}
