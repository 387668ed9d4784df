/**
 * Clients shared by the components that hold them (what `<ReactiveProvider options>` uses): one
 * client per database, created when first asked for, shut down when nothing has held it for
 * {@link LINGER_MS}. So StrictMode's unmount and remount, a hot reload's re-run of effects and a
 * screen replaced by another with the same world keep one running client, and the last
 * unmount shuts it down.
 *
 * @module
 */

import type { ReactiveClient } from './client.js';
import type { ReactiveClientOptions } from './options.js';

/** How long a client nothing holds keeps running (ms) before it is shut down. */
export const LINGER_MS = 1000;

interface Shared {
  readonly client: ReactiveClient;
  holders: number;
  linger: ReturnType<typeof setTimeout> | undefined;
}

const clients = new Map<string, Shared>();

/** The database a client's options name: Torii URL, world address and `dbName`. */
export function sharedKey(options: ReactiveClientOptions): string {
  return JSON.stringify([options.toriiUrl, options.worldAddress ?? null, options.dbName ?? null]);
}

/** Shuts `shared` down after {@link LINGER_MS} unless it is held again meanwhile. */
function linger(key: string, shared: Shared): void {
  clearTimeout(shared.linger);
  shared.linger = setTimeout(() => {
    if (shared.holders > 0 || clients.get(key) !== shared) return;
    clients.delete(key);
    shared.client.shutdown().catch(() => {});
  }, LINGER_MS);
}

/** The running shared client of `key`, or a new one from `create` (shut down unless held soon). */
export function sharedClient(key: string, create: () => ReactiveClient): ReactiveClient {
  const known = clients.get(key);
  if (known && known.client.getSyncStatus().phase !== 'stopped') return known.client;
  const shared: Shared = { client: create(), holders: 0, linger: undefined };
  clients.set(key, shared);
  // Asked for by a render that may never commit: shut down unless a holder comes.
  linger(key, shared);
  return shared.client;
}

/** Holds the shared client of `key` (created if needed) until `release` is called. */
export function holdClient(key: string, create: () => ReactiveClient): { readonly client: ReactiveClient; release(): void } {
  const client = sharedClient(key, create);
  const shared = clients.get(key);
  if (!shared) return { client, release: () => {} };
  shared.holders += 1;
  clearTimeout(shared.linger);
  shared.linger = undefined;
  let held = true;
  return {
    client,
    release() {
      if (!held) return;
      held = false;
      shared.holders -= 1;
      if (shared.holders === 0) linger(key, shared);
    },
  };
}
