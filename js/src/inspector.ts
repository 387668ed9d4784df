/**
 * The development inspector: `globalThis.__REACTIVE_DEBUG__` lists the live clients and lets a
 * person look at their entities, recent transitions, ticks and errors from the browser console.
 *
 * @module
 */

import type { ReactiveClient } from './client.js';
import type { ReactiveError } from './errors.js';
import type { SessionObserver } from './session.js';
import type { OverlayEntryInfo, SdkEntity, StoreReport, SyncTick, Transition } from './types.js';

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
  /** The client itself. */
  readonly client: ReactiveClient;
  /** Entities from the view (default limit 100): of `model`, or of every model seen in ticks. */
  entities(model?: string, limit?: number): readonly InspectedEntity[];
  /** One entity, overlay-first. */
  entity(entityId: string): SdkEntity | undefined;
  /** The last 100 transitions, oldest first. */
  transitions(): readonly RecordedTransition[];
  /** The last SYNC_TICK per target (ledger counters included). */
  ticks(): { readonly entities?: SyncTick; readonly eventMessages?: SyncTick };
  /** The last 100 errors, oldest first. */
  errors(): readonly RecordedError[];
  /** Pending optimistic writes on an entity. */
  overlay(entityId: string): readonly OverlayEntryInfo[];
  /** Re-pages the snapshot now (posts FORCE_REPLAY). */
  forceReplay(): void;
  /**
   * The worker's database read back: per target the version ledger, the stored state count, the
   * sync state (cursor) and every way they disagree (empty when the store is consistent).
   */
  ledger(): Promise<StoreReport>;
}

/** `globalThis.__REACTIVE_DEBUG__`. */
export interface ReactiveDebug {
  /** The live clients created with `debug: true` (or while the global existed). */
  readonly clients: ClientInspector[];
}

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
  private lastTicks: { entities?: SyncTick; eventMessages?: SyncTick } = {};

  /** An inspector of `client`, reading through `source`. */
  constructor(
    readonly client: ReactiveClient,
    private readonly source: InspectorSource,
  ) {}

  /** Records a transition. */
  transition(transition: Transition): void {
    keep(this.recentTransitions, { transition, receivedAt: this.source.now() });
  }

  /** Records a tick. */
  tick(tick: SyncTick): void {
    this.lastTicks = { ...this.lastTicks, [tick.target === 'eventMessages' ? 'eventMessages' : 'entities']: tick };
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

  ticks(): { readonly entities?: SyncTick; readonly eventMessages?: SyncTick } {
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

function isRegistry(value: unknown): value is { clients: unknown } {
  return typeof value === 'object' && value !== null;
}

/** Whether the application asked for the inspector before creating a client. */
export function inspectorRequested(): boolean {
  return isRegistry((globalThis as DebugGlobal).__REACTIVE_DEBUG__);
}

/** Adds `inspector` to `globalThis.__REACTIVE_DEBUG__` (created if absent); returns its removal. */
export function registerInspector(inspector: ClientInspector): () => void {
  const holder = globalThis as DebugGlobal;
  let registry = holder.__REACTIVE_DEBUG__;
  if (!isRegistry(registry)) {
    registry = { clients: [] };
    holder.__REACTIVE_DEBUG__ = registry;
  }
  const target = registry as { clients: unknown };
  if (!Array.isArray(target.clients)) target.clients = [];
  const clients = target.clients as ClientInspector[];
  clients.push(inspector);
  return () => {
    const at = clients.indexOf(inspector);
    if (at >= 0) clients.splice(at, 1);
  };
}
