/**
 * React hooks (`@dojoengine/reactive/react`), built on `useSyncExternalStore`: results keep
 * their identity until they change, so components re-render only for real changes.
 *
 * @module
 */

import { useMemo, useSyncExternalStore } from 'react';
import type { ReactiveClient } from './client.js';
import { reactiveSelectors } from './selectors.js';
import type { SyncStatus } from './session.js';
import { selectorStore } from './store.js';
import type { Signal } from './stream.js';
import type { Consistency, Filter, MemberSelection, OrderBy, QuerySpec, SdkEntity } from './types.js';

/** Options of {@link useEntity}. */
export interface UseEntityOptions {
  /** Re-render at most once per this many ms (default: at most once per animation frame). */
  readonly throttleMs?: number;
}

/** Options of {@link useQuery}. */
export interface UseQueryOptions {
  /** Which entities (all of the model's when absent). */
  readonly filter?: Filter;
  /** Which members of them. */
  readonly select?: MemberSelection;
  /** Order by these members (by entity id when absent). */
  readonly orderBy?: readonly OrderBy[];
  /** Most entities. */
  readonly limit?: number;
  /** `overlay` (default) or `synced`. */
  readonly consistency?: Consistency;
  /** Re-render at most once per this many ms (default: at most once per animation frame). */
  readonly throttleMs?: number;
}

function key(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? '';
}

/** The entity with this id (every synced model, optimistic writes merged), or undefined. */
export function useEntity(
  client: ReactiveClient,
  entityId: string,
  options: UseEntityOptions = {},
): SdkEntity | undefined {
  const { throttleMs } = options;
  const store = useMemo(
    () =>
      selectorStore(
        client,
        null,
        reactiveSelectors.selectEntity(entityId),
        throttleMs === undefined ? {} : { throttleMs },
      ),
    [client, entityId, throttleMs],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The model's entities matching the options, ordered by entity id or by `orderBy`. */
export function useQuery(
  client: ReactiveClient,
  model: string,
  options: UseQueryOptions = {},
): readonly SdkEntity[] {
  const { throttleMs, filter, select, orderBy, limit, consistency } = options;
  const queryKey = key({ filter, select, orderBy, limit, consistency });
  const store = useMemo(() => {
    const spec: QuerySpec = {
      ...(filter ? { filter } : {}),
      ...(select ? { selector: select } : {}),
      ...(orderBy ? { orderBy } : {}),
      ...(limit === undefined ? {} : { limit }),
    };
    // Through the reader: empty until the view exists (`client.query` would throw then).
    return selectorStore(
      client,
      model,
      (reader) => reader.query(model, spec, consistency).items,
      throttleMs === undefined ? {} : { throttleMs },
    );
    // The query is keyed by its content, not by the identity of the options object.
  }, [client, model, queryKey, throttleMs]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** Options of {@link useCount}. */
export interface UseCountOptions {
  /** Which entities (all of the model's when absent). */
  readonly filter?: Filter;
  /** `overlay` (default) or `synced`. */
  readonly consistency?: Consistency;
  /** Re-render at most once per this many ms (default: at most once per animation frame). */
  readonly throttleMs?: number;
}

/** How many of the model's entities match the filter (0 until the view exists). */
export function useCount(client: ReactiveClient, model: string, options: UseCountOptions = {}): number {
  const { throttleMs, filter, consistency } = options;
  const countKey = key({ filter, consistency });
  const store = useMemo(() => {
    const spec: QuerySpec = filter ? { filter } : {};
    return selectorStore(
      client,
      model,
      (reader) => reader.count(model, spec, consistency),
      throttleMs === undefined ? {} : { throttleMs },
    );
    // The count is keyed by its content, not by the identity of the options object.
  }, [client, model, countKey, throttleMs]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The sync status of a client or a sync worker. */
export function useSyncStatus(source: { readonly syncStatus: Signal<SyncStatus> }): SyncStatus {
  const signal = source.syncStatus;
  const subscribe = useMemo(() => (onChange: () => void) => signal.subscribe(() => onChange()), [signal]);
  return useSyncExternalStore(subscribe, signal.get.bind(signal), signal.get.bind(signal));
}
