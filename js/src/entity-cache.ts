/**
 * Reads of the main-thread view through a bounded cache of the entity objects it built. The view
 * builds each object frozen throughout, so one object can be handed to every reader: an
 * entity (and each query item, an entity with the queried model only) is built once per
 * change and returned again until that entity changes or the cache lets it go. A read is then
 * a `Map` lookup, and a result keeps its identity while its entity does not change and it stays
 * cached (what React compares).
 *
 * What it holds: whole-entity objects (entities read by id) and query items (one per (entity,
 * model) a query returned), each dropped when its entity changes; everything when the view is
 * replaced or restored. It is bounded by generations: objects go into a young generation of at
 * most `size` objects; when it is full it becomes the old one (the previous old one is let go)
 * and a read found in the old generation moves back to the young one. So at most `2 × size`
 * objects are held, and a working set of up to `size` objects read over and over is never
 * rebuilt. An object costs ~0.5 KB of JS heap for a 20-member model (its frozen tree) plus its
 * map entry. Reads of synced state only (`consistency: 'synced'`) and queries with a member
 * selection are not cached.
 *
 * @module
 */

import type { Consistency, QueryResult, QuerySpec, SdkEntity } from './types.js';
import type { ViewApi } from './wasm-api.js';

/**
 * Objects in the young generation of a client's cache (so at most twice as many are held):
 * enough for every entity of a 100,000-entity world plus its query items.
 */
export const ENTITY_CACHE_GENERATION = 131_072;

/** The scope of whole-entity objects (model tags are never empty). */
const WHOLE = '';

/** Scope (a model tag, or {@link WHOLE}) → entity id → object. */
type Scoped = Map<string, Map<string, SdkEntity>>;

/** Two generations of objects by scope and entity id (see the module doc). */
class Generations {
  private young: Scoped = new Map();
  private youngSize = 0;
  private old: Scoped = new Map();

  constructor(private readonly size: number) {}

  get(scope: string, id: string): SdkEntity | undefined {
    const hit = this.young.get(scope)?.get(id);
    if (hit !== undefined) return hit;
    const aged = this.old.get(scope);
    const found = aged?.get(id);
    if (aged === undefined || found === undefined) return undefined;
    aged.delete(id);
    this.set(scope, id, found);
    return found;
  }

  set(scope: string, id: string, value: SdkEntity): void {
    if (this.youngSize >= this.size) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
    let objects = this.young.get(scope);
    if (objects === undefined) {
      objects = new Map();
      this.young.set(scope, objects);
    }
    if (!objects.has(id)) this.youngSize += 1;
    objects.set(id, value);
  }

  /** Drops every object of these entities, in every scope. */
  forget(ids: readonly string[]): void {
    for (const generation of [this.young, this.old]) {
      for (const objects of generation.values()) {
        for (const id of ids) {
          if (objects.delete(id) && generation === this.young) this.youngSize -= 1;
        }
      }
    }
  }

  /** Objects held (both generations). */
  count(): number {
    let total = 0;
    for (const generation of [this.young, this.old]) {
      for (const objects of generation.values()) total += objects.size;
    }
    return total;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngSize = 0;
  }
}

/** The frozen entity objects of one view (see the module doc). */
export class EntityCache {
  private view: ViewApi | undefined;
  private readonly objects: Generations;

  /** A cache whose young generation holds at most `size` objects (so `2 × size` in all). */
  constructor(size: number = ENTITY_CACHE_GENERATION) {
    this.objects = new Generations(Math.max(1, Math.floor(size)));
  }

  /** Objects held now (whole entities and query items). */
  get size(): number {
    return this.objects.count();
  }

  /** One entity as `view.entity` returns it, from the cache when it did not change. */
  entity(view: ViewApi, entityId: string, consistency?: Consistency): SdkEntity | undefined {
    if (consistency === 'synced') return view.entity(entityId, consistency);
    this.use(view);
    const cached = this.objects.get(WHOLE, entityId);
    if (cached !== undefined) return cached;
    const built = view.entity(entityId, consistency);
    if (built === undefined) return undefined;
    // The id spelled another way (no padding, upper case): the canonical one is the key.
    const known = this.objects.get(WHOLE, built.entityId);
    if (known !== undefined) return known;
    this.objects.set(WHOLE, built.entityId, built);
    return built;
  }

  /** One page of a query as `view.query` returns it, its items from the cache when unchanged. */
  query(view: ViewApi, model: string, spec: QuerySpec, consistency?: Consistency): QueryResult {
    if (consistency === 'synced' || spec.select !== undefined) return view.query(model, spec, consistency);
    this.use(view);
    const { ids: joined, nextCursor } = view.queryIds(model, spec, consistency);
    const ids = joined === '' ? [] : joined.split(',');
    const items: SdkEntity[] = [];
    for (const id of ids) {
      let item = this.objects.get(model, id);
      if (item === undefined) {
        item = view.entityModel(id, model, consistency);
        if (item === undefined) continue;
        this.objects.set(model, id, item);
      }
      items.push(item);
    }
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  /** Forgets what was built for these entities (their state changed). */
  changed(ids: readonly string[]): void {
    this.objects.forget(ids);
  }

  /** Forgets everything (states changed without their ids: a restore). */
  clear(): void {
    this.objects.clear();
  }

  /** Starts over when reads go to another view than the cached objects came from. */
  private use(view: ViewApi): void {
    if (this.view === view) return;
    this.view = view;
    this.clear();
  }
}
