/**
 * Reads of the main-thread view through a cache of the entity objects it built. The view
 * builds each object frozen throughout, so one object can be handed to every reader: an
 * entity (and each query item, an entity with the queried model only) is built once per
 * change and returned again until that entity changes. A read is then a `Map` lookup, and a
 * result keeps its identity while its entity does not change (what React compares).
 *
 * What it holds: at most one whole-entity object per entity read by id, and one item per
 * (entity, model) a query returned, each dropped when its entity changes; everything when the
 * view is replaced or restored. Reads of synced state only (`consistency: 'synced'`) and
 * queries with a member selection are not cached.
 *
 * @module
 */

import type { Consistency, QueryResult, QuerySpec, SdkEntity } from './types.js';
import type { ViewApi } from './wasm-api.js';

/** The frozen entity objects of one view (see the module doc). */
export class EntityCache {
  private view: ViewApi | undefined;
  /** Entity id → the whole entity (overlay merged). */
  private readonly entities = new Map<string, SdkEntity>();
  /** Model tag → entity id → the query item of that model (overlay merged). */
  private readonly items = new Map<string, Map<string, SdkEntity>>();

  /** One entity as `view.entity` returns it, from the cache when it did not change. */
  entity(view: ViewApi, entityId: string, consistency?: Consistency): SdkEntity | undefined {
    if (consistency === 'synced') return view.entity(entityId, consistency);
    this.use(view);
    const cached = this.entities.get(entityId);
    if (cached !== undefined) return cached;
    const built = view.entity(entityId, consistency);
    if (built === undefined) return undefined;
    // The id spelled another way (no padding, upper case): the canonical one is the key.
    const known = this.entities.get(built.entityId);
    if (known !== undefined) return known;
    this.entities.set(built.entityId, built);
    return built;
  }

  /** One page of a query as `view.query` returns it, its items from the cache when unchanged. */
  query(view: ViewApi, model: string, spec: QuerySpec, consistency?: Consistency): QueryResult {
    if (consistency === 'synced' || spec.selector !== undefined) return view.query(model, spec, consistency);
    this.use(view);
    const { ids: joined, nextCursor } = view.queryIds(model, spec, consistency);
    const ids = joined === '' ? [] : joined.split(',');
    let cached = this.items.get(model);
    if (cached === undefined) {
      cached = new Map();
      this.items.set(model, cached);
    }
    const items: SdkEntity[] = [];
    for (const id of ids) {
      let item = cached.get(id);
      if (item === undefined) {
        item = view.entityModel(id, model, consistency);
        if (item === undefined) continue;
        cached.set(id, item);
      }
      items.push(item);
    }
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  /** Forgets what was built for these entities (their state changed). */
  changed(ids: readonly string[]): void {
    if (this.entities.size === 0 && this.items.size === 0) return;
    for (const id of ids) this.entities.delete(id);
    for (const items of this.items.values()) {
      for (const id of ids) items.delete(id);
    }
  }

  /** Forgets everything (states changed without their ids: a restore). */
  clear(): void {
    this.entities.clear();
    this.items.clear();
  }

  /** Starts over when reads go to another view than the cached objects came from. */
  private use(view: ViewApi): void {
    if (this.view === view) return;
    this.view = view;
    this.clear();
  }
}
