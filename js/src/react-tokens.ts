/**
 * React hooks for tokens, balances and token contracts (see `tokens.ts`): they read the client
 * of the nearest `ReactiveProvider`, re-render when the rows they select change (at most once
 * per animation frame, or per `throttleMs`), and keep their result's identity until then.
 *
 * @module
 */

import { useMemo, useSyncExternalStore } from 'react';

import { stringify } from './json.js';
import { useReactiveClient } from './react.js';
import type { Selector } from './selectors.js';
import { selectorStore, type ExternalStore } from './store.js';
import {
  listTokenBalances,
  listTokenContracts,
  listTokens,
  type Token,
  type TokenBalance,
  type TokenContract,
  type TokenFilter,
} from './tokens.js';

/** Options of the token hooks. */
export interface UseTokensOptions {
  /** Re-render at most once per this many ms (default: at most once per animation frame). */
  readonly throttleMs?: number;
}

const NOTHING: ExternalStore<readonly never[]> = { subscribe: () => () => {}, getSnapshot: () => [] };

function useRows<T>(
  filter: TokenFilter | undefined,
  options: UseTokensOptions,
  select: (filter: TokenFilter) => Selector<readonly T[]>,
): readonly T[] {
  const client = useReactiveClient();
  const key = filter === undefined ? undefined : stringify(filter);
  const { throttleMs } = options;
  const store = useMemo(
    () =>
      filter === undefined
        ? (NOTHING as ExternalStore<readonly T[]>)
        : selectorStore(client, null, select(filter), throttleMs === undefined ? {} : { throttleMs }),
    // The store is keyed by the filter's content, not by the identity of the object.
    [client, key, throttleMs],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The synced tokens (of `filter.contracts` / `filter.tokenId` when given); empty while `filter` is undefined. */
export function useTokens(filter: TokenFilter | undefined = {}, options: UseTokensOptions = {}): readonly Token[] {
  return useRows(filter, options, listTokens);
}

/**
 * The synced balances the filter selects (an account's wallet: `{ accounts: [address] }`; a
 * game's tokens: `{ contracts }`); empty while `filter` is undefined (the address not known yet).
 */
export function useTokenBalances(
  filter: TokenFilter | undefined,
  options: UseTokensOptions = {},
): readonly TokenBalance[] {
  return useRows(filter, options, listTokenBalances);
}

/** The synced token contracts (of `filter.contracts` when given). */
export function useTokenContracts(
  filter: TokenFilter | undefined = {},
  options: UseTokensOptions = {},
): readonly TokenContract[] {
  return useRows(filter, options, listTokenContracts);
}
