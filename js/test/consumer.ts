// Type-level test of the emitted declarations, as an application sees them (`tsc -p
// test/tsconfig.json` in `npm test`): every call must type-check, and each call marked with a
// ts-expect-error directive must not.
import {
  createReactiveClient,
  createSyncWorker,
  OverlayTimeoutError,
  reactiveSelectors,
  type LogRecord,
  type ReactiveDebug,
  type ReactiveError,
  type SdkEntity,
  type SdkValue,
  type SyncStatus,
  type TransactionWrite,
} from '../dist/index.js';
import { useEntity, useQuery, useSyncStatus } from '../dist/react.js';

const client = createReactiveClient({
  toriiUrl: 'http://localhost:8080',
  worldAddress: '0x1',
  manifest: { world: { address: '0x1' } },
  models: ['ns-Position'],
  overlayOptions: { timeoutMs: 1000 },
  syncOptions: { pageSize: 500 },
  logger: console,
});
const id = `0x${'1'.padStart(64, '0')}`;

export async function usage(): Promise<void> {
  const info = await client.ready;
  const restored: number = info.restored;
  const page = client.query('ns-Position', { filter: { where: [{ member: 'x', op: 'gte', value: 10n }] }, limit: 10 });
  const first: SdkEntity | undefined = page.items[0];
  const x: SdkValue | undefined = first?.models.ns?.Position?.x;
  const off = client.subscribe('ns-Position', id, (entity) => entity?.entityId.toLowerCase());
  client.subscribe('ns-Position', { keys: { player: '0x5' } }, (entities) => entities.length);
  client.subscribe(null, reactiveSelectors.selectComponent(id, 'ns-Position'), (model) => model?.x);
  client.subscribe(null, (reader) => reader.query('ns-Position', {}).items.length, (count: number) => count + 1, { throttleMs: 100 });
  off();
  const mutation = client.mutate('ns-Position', { x: 1, y: 2n }, {
    entityId: id,
    guard: (synced) => synced?.x === 1,
    send: async ({ transactionId }) => transactionId,
  });
  await mutation.confirmed.catch((error: unknown) => error instanceof OverlayTimeoutError && error.transactionId);
  const move: TransactionWrite[] = [
    { entityId: id, model: 'ns-Position', set: { x: 3 } },
    { entityId: id, model: 'ns-Moves', add: { left: -1, gold: -10n, mana: '-5' } },
  ];
  const transaction = client.mutate(move, { timeoutMs: 5000, send: () => undefined, transactionId: '0x1' });
  await transaction.confirmed;
  client.submitTransaction({ writes: move });
  const added: bigint | undefined = client.getOverlayFor(id)[0]?.add.left;
  // @ts-expect-error a transaction write sets or adds something
  client.mutate([{ entityId: id, model: 'ns-Moves' }]);
  // @ts-expect-error amounts are integers given as bigint, number or string
  client.mutate([{ entityId: id, model: 'ns-Moves', add: { left: true } }]);
  // @ts-expect-error a transaction's options name no entity
  client.mutate(move, { entityId: id });
  client.errors.subscribe((error: ReactiveError) => error.details, () => undefined);
  const status: SyncStatus = client.getSyncStatus();
  const phase: 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped' = status.phase;
  const restarts: number = status.restarts;
  client.entityUpdates.subscribe((update) => update.ids.length);
  await client.reset();
  await client.shutdown();
  const worker = createSyncWorker({ toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' });
  await worker.shutdown();
  // @ts-expect-error the model argument is required for a filter selector
  client.subscribe(null, { keys: {} }, () => undefined);
  // @ts-expect-error consistency has two values
  client.query('ns-Position', { consistency: 'eventual' });
  // @ts-expect-error mutate needs the entity id
  client.mutate('ns-Position', { x: 1 }, {});
  const records: LogRecord[] = [];
  const logged = createReactiveClient({
    toriiUrl: 'http://x',
    worldAddress: '0x1',
    manifest: '{}',
    logger: { log: (record) => records.push(record) },
    logLevel: 'warn',
    debug: true,
  });
  const inspector = (globalThis as { __REACTIVE_DEBUG__?: ReactiveDebug }).__REACTIVE_DEBUG__?.clients[0];
  const ids: string[] = inspector?.entities('ns-Position', 10).map((e) => e.entityId) ?? [];
  const applied: number | undefined = inspector?.ticks().entities?.ledger.applied;
  inspector?.forceReplay?.();
  // @ts-expect-error logLevel has four values
  createReactiveClient({ toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}', logLevel: 'trace' });
  await logged.shutdown();
  void [restored, x, phase, restarts, ids, applied, records, added];
}

export function Hooks(): string {
  const entity = useEntity(client, id);
  const rows = useQuery(client, 'ns-Position', { filter: { where: [{ member: 'x', op: 'eq', value: 1 }] } });
  const status = useSyncStatus(client);
  return `${entity?.entityId}${rows.length}${status.state}`;
}
