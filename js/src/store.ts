/**
 * External stores over a client (for React's `useSyncExternalStore` and similar): a cached
 * snapshot that keeps its identity until the selected result really changes.
 *
 * @module
 */

import type { ReactiveClient, SubscribeOptions } from './client.js';
import { deepEqual } from './equal.js';
import type { Selector } from './selectors.js';
import type { SyncTargetStatus } from './types.js';

/** A subscribe/getSnapshot pair. */
export interface ExternalStore<T> {
  /** Follows changes; returns the unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** The current result (the same object until it changes). */
  getSnapshot(): T;
}

/** A store of what `selector` derives from the client's replica for `model`. */
export function selectorStore<T>(
  client: ReactiveClient,
  model: string | null,
  selector: Selector<T>,
  options: SubscribeOptions = {},
): ExternalStore<T> {
  let current: { value: T } | undefined;
  let latest: T | undefined;
  const tracked: Selector<T> = Object.assign(
    (reader: Parameters<Selector<T>>[0], name: string | null): T => {
      latest = selector(reader, name);
      return latest;
    },
    selector.entityIds ? { entityIds: selector.entityIds } : {},
  );
  const stopped = () => client.getSyncStatus().phase === 'stopped';
  const adopt = (value: T): boolean => {
    if (current && deepEqual(current.value, value)) return false;
    current = { value };
    return true;
  };
  return {
    subscribe(onChange) {
      if (stopped()) return () => {};
      const unsubscribe = client.subscribe(
        model,
        tracked,
        (value: T) => {
          if (adopt(value)) onChange();
        },
        options,
      );
      // The client evaluated the selector just now: catch up with changes made since the
      // last snapshot.
      if (adopt(latest as T)) onChange();
      return unsubscribe;
    },
    getSnapshot() {
      if (!current && !stopped()) {
        // Subscribing evaluates the selector once; that evaluation is the first snapshot.
        client.subscribe(model, tracked, () => {})();
        current = { value: latest as T };
      }
      return current ? current.value : (undefined as T);
    },
  };
}

/**
 * A store of where the sync target `id` stands (its `client.targets.list()` entry, undefined for
 * an id no target has), signalled on every status change and event-log change; the snapshot
 * keeps its identity until the entry changes.
 */
export function targetStore(client: ReactiveClient, id: string): ExternalStore<SyncTargetStatus | undefined> {
  let current: SyncTargetStatus | undefined;
  return {
    subscribe(onChange) {
      const offStatus = client.syncStatus.subscribe(() => onChange());
      const offEvents = client.events.onChange(onChange);
      return () => {
        offStatus();
        offEvents();
      };
    },
    getSnapshot() {
      const found = client.targets.list().find((target) => target.id === id);
      if (!deepEqual(current, found)) current = found;
      return current;
    },
  };
}
