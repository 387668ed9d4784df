/**
 * React bindings (`@dojoengine/reactive/react`): a provider and hooks built on
 * `useSyncExternalStore`. Results keep their identity until they change, so components
 * re-render only for real changes. Hooks read the client of the nearest
 * {@link ReactiveProvider}; ids not known yet may be `undefined` (the hook then returns
 * `undefined` or an empty page). The hooks of the first release, which take the client as
 * their first argument, still work.
 *
 * @module
 */

import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
  type ReactElement,
  type ReactNode,
} from 'react';
import type { ReactiveClient } from './client.js';
import type { Controller } from './controllers.js';
import { ValidationError } from './errors.js';
import { createReactiveClient } from './index.js';
import { stringify } from './json.js';
import type { ReactiveClientOptions } from './options.js';
import type {
  Entity,
  ModelKeys,
  ModelTag,
  ModelValue,
  QueryOptionsOf,
  QueryResultOf,
  RegisteredSchema,
  WorldSchema,
} from './schema.js';
import { reactiveSelectors, type Selector } from './selectors.js';
import type { SyncStatus } from './session.js';
import { holdClient, sharedClient, sharedKey } from './shared-client.js';
import { selectorStore, targetStore, type ExternalStore } from './store.js';
import type { Signal } from './stream.js';
import type { Consistency, Filter, MemberSelection, OrderBy, QuerySpec, SdkEntity, SyncTargetStatus } from './types.js';

/** Options of {@link useEntity} and {@link useModel}. */
export interface UseEntityOptions {
  /** Re-render at most once per this many ms (default: at most once per animation frame). */
  readonly throttleMs?: number;
}

/**
 * Options of {@link useQuery}: those of `client.query` (`filter`, `select`, `orderBy`, `limit`,
 * `cursor`, `consistency`, passed through as they are), `count` and `throttleMs`.
 */
export type UseQueryOptions<T extends ModelTag<S> = ModelTag<RegisteredSchema>, S extends WorldSchema = RegisteredSchema> =
  QueryOptionsOf<T, S> & {
    /** Also count every entity the filter matches (the page's `count`; `limit` and `cursor` aside). */
    readonly count?: boolean;
    /** Re-render at most once per this many ms (default: at most once per animation frame). */
    readonly throttleMs?: number;
  };

/** Options of the first release's `useQuery(client, model, options)`. */
export interface LegacyUseQueryOptions {
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

/** Props of {@link ReactiveProvider}: a `client` you create and shut down, or `options` to let it do both. */
export type ReactiveProviderProps =
  | {
      /** The client the hooks below use; you create it and shut it down. */
      readonly client: ReactiveClient;
      readonly options?: undefined;
      readonly children?: ReactNode;
    }
  | {
      /**
       * Options of the client the provider creates on its first render and shuts down when the
       * last provider of the same database (`toriiUrl`, `worldAddress`, `dbName`) has been
       * unmounted for a second. StrictMode's remount and hot reloads keep the running client;
       * other options are read only when the client is created.
       */
      readonly options: ReactiveClientOptions;
      readonly client?: undefined;
      readonly children?: ReactNode;
    };

const ClientContext = createContext<ReactiveClient | undefined>(undefined);

/** The client of `props`: the given one, or the shared client of its options, held while mounted. */
function useProvidedClient(props: ReactiveProviderProps): ReactiveClient | undefined {
  const options = props.options;
  const key = options ? sharedKey(options) : undefined;
  const [, rerender] = useState(0);
  const create = () => createReactiveClient(options as ReactiveClientOptions);
  const shared = key === undefined ? undefined : sharedClient(key, create);
  useEffect(() => {
    if (key === undefined) return undefined;
    const held = holdClient(key, create);
    // Shut down between the render and now (unheld for too long): render the new one.
    if (held.client !== shared) rerender((n) => n + 1);
    return held.release;
    // The options are read when a client is created: only the database they name matters.
  }, [key, shared]);
  return props.client ?? shared;
}

/**
 * Gives the hooks below it a client: `<ReactiveProvider client={client}>`, or
 * `<ReactiveProvider options={options}>` to create the client and shut it down with the
 * provider (see {@link ReactiveProviderProps}). Render it in the browser only (it starts a
 * worker): under server-side rendering, render it in a client-only component.
 */
export function ReactiveProvider(props: ReactiveProviderProps): ReactElement {
  const client = useProvidedClient(props);
  return createElement(ClientContext.Provider, { value: client }, props.children);
}

/** The refusal of a hook used outside a provider. */
function noProvider(where: string): ValidationError {
  return new ValidationError(
    `${where}: no <ReactiveProvider> above this component: wrap the app in <ReactiveProvider client={client}> or <ReactiveProvider options={options}>`,
    { where, argument: 'ReactiveProvider' },
  );
}

/**
 * The client of the nearest {@link ReactiveProvider}, typed by the registered schema (or `S`).
 * Throws a ValidationError outside a provider.
 */
export function useReactiveClient<S extends WorldSchema = RegisteredSchema>(): ReactiveClient<S> {
  const client = useContext(ClientContext);
  if (!client) throw noProvider('useReactiveClient');
  return client as unknown as ReactiveClient<S>;
}

function isClient(value: unknown): value is ReactiveClient {
  return typeof value === 'object' && value !== null && typeof (value as { subscribe?: unknown }).subscribe === 'function';
}

/** A store that never changes: what a hook follows while its id or model is undefined. */
function constantStore<T>(value: T): ExternalStore<T> {
  return { subscribe: () => () => {}, getSnapshot: () => value };
}

/** The store of hooks whose id is not known yet. */
const UNDEFINED = constantStore<undefined>(undefined);

function useStore<T>(store: ExternalStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

function throttle(throttleMs: number | undefined): { throttleMs?: number } {
  return throttleMs === undefined ? {} : { throttleMs };
}

/** The entity with this id (every synced model, optimistic writes merged), or undefined. */
export function useEntity<S extends WorldSchema = RegisteredSchema>(
  entityId: string | undefined,
  options?: UseEntityOptions,
): Entity<S> | undefined;
/** The first release's form, with the client first. */
export function useEntity(client: ReactiveClient, entityId: string, options?: UseEntityOptions): SdkEntity | undefined;
export function useEntity(
  first: ReactiveClient | string | undefined,
  second?: string | UseEntityOptions,
  third?: UseEntityOptions,
): SdkEntity | undefined {
  const provided = useContext(ClientContext);
  const legacy = isClient(first);
  const client = legacy ? first : provided;
  const entityId = legacy ? (second as string) : (first as string | undefined);
  const { throttleMs } = (legacy ? third : (second as UseEntityOptions | undefined)) ?? {};
  const store = useMemo(
    () =>
      client && entityId !== undefined
        ? selectorStore(client, null, reactiveSelectors.selectEntity(entityId), throttle(throttleMs))
        : UNDEFINED,
    [client, entityId, throttleMs],
  );
  if (!client) throw noProvider('useEntity');
  return useStore(store);
}

/**
 * One model's state of one entity (optimistic writes merged), or undefined: while `entityId`
 * is undefined, and while the entity has no state of the model.
 */
export function useModel<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema>(
  entityId: string | undefined,
  model: T,
  options: UseEntityOptions = {},
): ModelValue<T, S> | undefined {
  const client = useReactiveClient();
  const { throttleMs } = options;
  const store = useMemo(
    () =>
      entityId === undefined
        ? UNDEFINED
        : selectorStore(client, null, reactiveSelectors.selectComponent(entityId, model), throttle(throttleMs)),
    [client, entityId, model, throttleMs],
  );
  return useStore(store) as ModelValue<T, S> | undefined;
}

/** The first page of a query as a store: through the reader, so empty until the view exists. */
function queryStore(
  client: ReactiveClient,
  model: string,
  options: { readonly [option: string]: unknown },
): ExternalStore<unknown> {
  const { throttleMs, consistency, count, ...rest } = options;
  // Every other option (filter, select, orderBy, limit, cursor) is the query spec's own.
  const spec = rest as QuerySpec;
  const mode = consistency as Consistency | undefined;
  const counted: QuerySpec = rest.filter === undefined ? {} : { filter: rest.filter as Filter };
  const selector: Selector<unknown> = (reader) => {
    const page = reader.query(model, spec, mode);
    return count === true ? { ...page, count: reader.count(model, counted, mode) } : page;
  };
  return selectorStore(client, model, selector, throttle(throttleMs as number | undefined));
}

const EMPTY_PAGE = constantStore({ items: [] });

/**
 * One page of the model's entities matching the options (`filter`, `select`, `orderBy`,
 * `limit`, `cursor`, `consistency` as `client.query` takes them): `{ items, nextCursor, … }` as
 * `client.query` returns it, empty while `model` is undefined or the view is loading.
 */
export function useQuery<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema>(
  model: T | undefined,
  options?: UseQueryOptions<T, S>,
): QueryResultOf<T, S> & { readonly count?: number };
/** The first release's form, with the client first: the items of the page. */
export function useQuery(client: ReactiveClient, model: string, options?: LegacyUseQueryOptions): readonly SdkEntity[];
export function useQuery(
  first: ReactiveClient | string | undefined,
  second?: string | UseQueryOptions,
  third?: LegacyUseQueryOptions,
): unknown {
  const provided = useContext(ClientContext);
  const legacy = isClient(first);
  const client = legacy ? first : provided;
  const model = legacy ? (second as string) : (first as string | undefined);
  const options = ((legacy ? third : second) ?? {}) as { readonly [option: string]: unknown };
  // The query is keyed by its content, not by the identity of the options object.
  const queryKey = stringify(options);
  const store = useMemo(
    () => (client && model !== undefined ? queryStore(client, model, options) : EMPTY_PAGE),
    [client, model, queryKey],
  );
  if (!client) throw noProvider('useQuery');
  const page = useStore(store) as { readonly items: readonly SdkEntity[] };
  return legacy ? page.items : page;
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

const NO_COUNT = constantStore(0);

/** How many of the model's entities match the filter: 0 while `model` is undefined or the view is loading. */
export function useCount(model: string | undefined, options?: UseCountOptions): number;
/** The same with the client first. */
export function useCount(client: ReactiveClient, model: string, options?: UseCountOptions): number;
export function useCount(
  first: ReactiveClient | string | undefined,
  second?: string | UseCountOptions,
  third?: UseCountOptions,
): number {
  const provided = useContext(ClientContext);
  const legacy = isClient(first);
  const client = legacy ? first : provided;
  const model = legacy ? (second as string) : (first as string | undefined);
  const { throttleMs, filter, consistency } = ((legacy ? third : second) ?? {}) as UseCountOptions;
  // The count is keyed by its content, not by the identity of the options object.
  const countKey = stringify({ filter, consistency });
  const store = useMemo(() => {
    if (!client || model === undefined) return NO_COUNT;
    const spec: QuerySpec = filter ? { filter } : {};
    return selectorStore(client, model, (reader) => reader.count(model, spec, consistency), throttle(throttleMs));
  }, [client, model, countKey, throttleMs]);
  if (!client) throw noProvider('useCount');
  return useStore(store);
}

/**
 * The id of the entity of `model` with these key members (see `client.entityId`), or
 * undefined while `keys` is undefined or the wasm module is loading (until `client.ready`).
 */
export function useEntityId<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema>(
  model: T,
  keys: ModelKeys<T, S> | undefined,
): string | undefined {
  const client = useReactiveClient<S>();
  const [loaded, setLoaded] = useState<ReactiveClient<S> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    client.ready.then(
      () => live && setLoaded(client),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [client]);
  const keysKey = keys === undefined ? undefined : stringify(keys);
  return useMemo(
    () => (loaded === client && keys !== undefined ? client.entityId(model, keys) : undefined),
    [loaded, client, model, keysKey],
  );
}

/** The sync status of the provider's client, of a client, or of a sync worker. */
export function useSyncStatus(source?: { readonly syncStatus: Signal<SyncStatus> }): SyncStatus {
  const provided = useContext(ClientContext);
  const signal = (source ?? provided)?.syncStatus;
  if (!signal) throw noProvider('useSyncStatus');
  const subscribe = useMemo(() => (onChange: () => void) => signal.subscribe(() => onChange()), [signal]);
  return useSyncExternalStore(subscribe, signal.get.bind(signal), signal.get.bind(signal));
}

/**
 * Where the provider's client's sync target `id` stands (its `client.targets.list()` entry:
 * `{ id, kind, complete }`), re-rendered when that changes: e.g. a map shows its region once
 * `complete` (a reload: as soon as the target's kind is restored, before the other kinds).
 * Undefined while `id` is undefined or names no target.
 */
export function useSyncTarget(id: string | undefined): SyncTargetStatus | undefined {
  const client = useReactiveClient();
  const store = useMemo(() => (id === undefined ? UNDEFINED : targetStore(client, id)), [client, id]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/**
 * The Cartridge controller of an account (`client.controllers.get`, cached and batched with
 * the other lookups of the render; asked again after `controllers.clear()`): undefined while
 * `address` is undefined, while it is being fetched, when the account has none, or when the
 * lookup failed.
 */
export function useController(address: string | undefined): Controller | undefined {
  const client = useReactiveClient();
  const controllers = client.controllers;
  const subscribe = useMemo(() => (onChange: () => void) => controllers.subscribe(onChange), [controllers]);
  const read = () => (address === undefined ? undefined : controllers.peek(address));
  const cached = useSyncExternalStore(subscribe, read, read);
  // Asks when the address is not cached: at mount, for a new address, and after `clear()`.
  const unknown = cached === undefined;
  useEffect(() => {
    if (address === undefined || !unknown) return;
    client.ready.then(
      () => controllers.get(address).catch(() => undefined),
      () => undefined,
    );
  }, [client, controllers, address, unknown]);
  return cached ?? undefined;
}

/** The Cartridge username of an account (see {@link useController}), or undefined. */
export function useUsername(address: string | undefined): string | undefined {
  return useController(address)?.username;
}

export { useTokenBalances, useTokenContracts, useTokens, type UseTokensOptions } from './react-tokens.js';
export { useEvents } from './react-events.js';
