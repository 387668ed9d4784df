/**
 * Selectors: what a subscription or a hook derives from the replica.
 *
 * @module
 */

import { ValidationError } from './errors.js';
import { listTokenBalances, listTokenContracts, listTokenHolders, listTokens } from './tokens.js';
import type { Consistency, Filter, OrderBy, QuerySpec, SdkEntity, SdkModel } from './types.js';

/** Read access to the replica, as selectors get it. */
export interface ViewReader {
  /** One entity (overlay merged unless `synced`), or undefined when not held. */
  entity(entityId: string, consistency?: Consistency): SdkEntity | undefined;
  /** One page of a model's entities. */
  query(
    model: string,
    spec: QuerySpec,
    consistency?: Consistency,
  ): { readonly items: readonly SdkEntity[]; readonly nextCursor?: string };
  /** How many of a model's entities a query matches (its limit, cursor and orderBy aside); 0 before the view exists. */
  count(model: string, spec: QuerySpec, consistency?: Consistency): number;
}

/**
 * Derives a value from the replica. `model` is the model the subscription names. When
 * `entityIds` is set, the result depends only on those entities (subscriptions skip other changes).
 */
export interface Selector<T> {
  (reader: ViewReader, model: string | null): T;
  /** The only entities the result depends on, when known. */
  readonly entityIds?: readonly string[];
}

/**
 * The own property `key` of `object`, or undefined: never a property of its prototype. Names
 * come from the world, and `__proto__`, `constructor` or `prototype` are valid model, namespace
 * and member names, so `models[namespace]` alone would read `Object.prototype` for an entity
 * without such a namespace.
 */
export function ownProperty(object: unknown, key: string): unknown {
  if (typeof object !== 'object' || object === null) return undefined;
  return Object.prototype.hasOwnProperty.call(object, key)
    ? (object as { readonly [name: string]: unknown })[key]
    : undefined;
}

/** Splits a model tag `ns-Model` into namespace and name (at the first `-`). */
export function splitTag(tag: string): { namespace: string; name: string } | undefined {
  const at = tag.indexOf('-');
  if (at <= 0 || at === tag.length - 1) return undefined;
  return { namespace: tag.slice(0, at), name: tag.slice(at + 1) };
}

/** Whether `text` is spelt as an entity id: `0x` followed by 1 to 64 hex digits. */
export function isEntityId(text: string): boolean {
  return /^0x[0-9a-fA-F]{1,64}$/.test(text);
}

/**
 * The canonical spelling of an entity id (`0x` + 64 lowercase hex digits), as the view reports
 * changed ids; other text is returned unchanged (the view refuses it with a ValidationError).
 */
export function canonicalEntityId(entityId: string): string {
  return isEntityId(entityId)
    ? `0x${entityId.slice(2).toLowerCase().padStart(64, '0')}`
    : entityId;
}

function withIds<T>(selector: (reader: ViewReader, model: string | null) => T, ids: readonly string[]): Selector<T> {
  return Object.assign(selector, { entityIds: ids });
}

/** The whole entity (every synced model), or undefined. */
function selectEntity(entityId: string): Selector<SdkEntity | undefined> {
  return withIds((reader) => reader.entity(entityId), [canonicalEntityId(entityId)]);
}

/** One model's members of one entity (`model` is the tag `ns-Model`), or undefined. */
function selectComponent(entityId: string, model: string): Selector<SdkModel | undefined> {
  const tag = splitTag(model);
  return withIds((reader) => {
    if (!tag) return undefined;
    const namespace = ownProperty(reader.entity(entityId)?.models, tag.namespace);
    return ownProperty(namespace, tag.name) as SdkModel | undefined;
  }, [canonicalEntityId(entityId)]);
}

/** Options of `selectMany`. */
export interface SelectManyOptions {
  /** Order by these members (by entity id when absent). */
  readonly orderBy?: readonly OrderBy[];
  /** Most entities (all when absent). */
  readonly limit?: number;
}

/** The subscription's model, which a filter selector needs. */
function modelOf(where: string, model: string | null): string {
  if (model === null) {
    throw new ValidationError(`${where}: subscribe with a model tag to select by filter`, {
      where,
      argument: 'model',
    });
  }
  return model;
}

/**
 * Every entity of the subscription's model matching `filter`, ordered by entity id or by
 * `orderBy`, the first `limit` of them when given.
 */
function selectMany(filter: Filter = {}, options: SelectManyOptions = {}): Selector<readonly SdkEntity[]> {
  const spec: QuerySpec = {
    filter,
    ...(options.orderBy ? { orderBy: options.orderBy } : {}),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  return (reader, model) => reader.query(modelOf('selectMany', model), spec).items;
}

/** How many entities of the subscription's model match `filter`. */
function selectCount(filter: Filter = {}): Selector<number> {
  return (reader, model) => reader.count(modelOf('selectCount', model), { filter });
}

/** Ready-made selectors for `subscribe` and the hooks. */
export const reactiveSelectors = {
  selectEntity,
  selectComponent,
  selectMany,
  selectCount,
  listTokens,
  listTokenBalances,
  listTokenHolders,
  listTokenContracts,
} as const;
