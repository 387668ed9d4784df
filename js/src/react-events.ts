/**
 * The React hook of the event logs (`client.events`, see `events.ts`): reads the client of the
 * nearest `ReactiveProvider` and re-renders when a log changes, keeping its result's identity
 * until then.
 *
 * @module
 */

import { useMemo, useSyncExternalStore } from 'react';

import type { EventMessage, EventQuery, Events } from './events.js';
import { stringify } from './json.js';
import { useReactiveClient } from './react.js';
import type { RegisteredSchema, WorldSchema } from './schema.js';

const NONE: readonly never[] = Object.freeze([]);

/** Reads `query` on `events`, again only after a change of a log. */
function eventStore<S extends WorldSchema>(events: Events<S>, query: EventQuery<S>) {
  let cached: readonly EventMessage<S>[] | undefined;
  return {
    subscribe: (onStoreChange: () => void) =>
      events.onChange(() => {
        cached = undefined;
        onStoreChange();
      }),
    getSnapshot: (): readonly EventMessage<S>[] => (cached ??= events.query(query)),
  };
}

const NOTHING = { subscribe: () => () => {}, getSnapshot: () => NONE };

/**
 * The held events `query` selects (`client.events.query`), in its order, re-read when an
 * event log changes (a new event, an eviction, the stored log at the start); empty while
 * `query` is undefined (a key not known yet). The replacement of the SDK's
 * `useHistoricalEventsQuery` (see `docs/migrating-from-sdk.md`).
 */
export function useEvents<S extends WorldSchema = RegisteredSchema>(
  query: NoInfer<EventQuery<S>> | undefined,
): readonly EventMessage<S>[] {
  const client = useReactiveClient<S>();
  const key = query === undefined ? undefined : stringify(query);
  const store = useMemo(
    () => (query === undefined ? NOTHING : eventStore(client.events, query)),
    // Keyed by the query's content, not by the identity of the object.
    [client, key],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
