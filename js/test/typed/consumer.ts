// Type-level test of typed models, as a game sees them (`tsc -p test/typed/tsconfig.json` in
// `npm test`): `schema.ts` is what `npx dojo-reactive-types test/fixtures/typed-manifest.json`
// writes (codegen.test.mjs checks that), and it registers its `Schema` as the package's default.
// Every call must type-check, and each call marked with a ts-expect-error directive must not.
import {
  createReactiveClient,
  parse,
  stringify,
  type EntityOf,
  type ModelValue,
  type ReactiveClient,
} from '@dojoengine/reactive';
import { ReactiveProvider, useEntity, useEntityId, useEvents, useModel, useQuery, useReactiveClient } from '@dojoengine/reactive/react';
import type { Schema } from './schema.js';

const client = createReactiveClient({ toriiUrl: 'http://localhost:8080', manifest: '{}' });
const id = `0x${'1'.padStart(64, '0')}`;

export async function usage(): Promise<void> {
  await client.ready;
  // Reads: wide integers are bigint, enums { variant, value }, nested structs typed.
  const page = client.query('game-Position', { filter: { where: [{ member: 'vec.x', op: 'gte', value: 10 }] }, limit: 5 });
  const position = page.items[0]?.models.game.Position;
  const x: number | undefined = position?.vec.x;
  const steps: bigint | undefined = position?.steps;
  const dir: 'Left' | 'Right' | undefined = position?.dir.variant;
  const players = client.query('game-Player', { filter: { keys: { player: '0x5' }, where: [{ member: 'class', op: 'eq', value: 'Rogue' }] } });
  const player = players.items[0]?.models.game.Player;
  const rogue = player?.class.variant === 'Rogue' ? player.class.value + 1 : 0;
  const gold: bigint | undefined = player?.gold;
  const proto: number | undefined = player?.['__proto__'];
  const name: string | undefined = player?.name;
  const odd = client.query('__proto__-prototype').items[0]?.models.__proto__.prototype.hasOwnProperty;
  client.query('game-Player', { filter: { where: [{ member: 'gold', op: 'in', value: [1n, 2] }] } });
  client.query('game-Player', { select: { include: ['name', 'pet'], exclude: ['class'] } });
  // @ts-expect-error no member `nickname` to select
  client.query('game-Player', { select: { include: ['nickname'] } });

  // Subscriptions: by id (the whole entity, every model optional), by filter (the model's).
  client.subscribe('game-Position', id, (entity) => entity?.models.game?.Position?.vec.y);
  client.subscribe('game-Position', { where: [{ member: 'dir', op: 'eq', value: 'Left' }] }, (rows) => rows[0]?.models.game.Position.steps);

  // Writes and ids.
  const entityId: string = client.entityId('game-Player', { player: '0x5', slot: 1n });
  client.mutate('game-Position', { vec: { x: 1, y: 2 }, dir: 'Right', steps: 3n }, { entityId });
  client.mutate('game-Player', { class: { variant: 'Rogue', value: 3 }, name: 'ada' }, { entityId });

  // Wrong member names and operand types are compile errors.
  // @ts-expect-error no model of that tag
  client.query('game-Positon');
  // @ts-expect-error no member `vec.z`
  client.query('game-Position', { filter: { where: [{ member: 'vec.z', op: 'eq', value: 1 }] } });
  // @ts-expect-error `vec.x` is a number, not a string
  client.query('game-Position', { filter: { where: [{ member: 'vec.x', op: 'eq', value: 'one' }] } });
  // @ts-expect-error `dir` has no variant `Up`
  client.query('game-Position', { filter: { where: [{ member: 'dir', op: 'eq', value: 'Up' }] } });
  // @ts-expect-error `in` takes a list
  client.query('game-Player', { filter: { where: [{ member: 'gold', op: 'in', value: 1n }] } });
  // @ts-expect-error no key `owner`
  client.query('game-Position', { filter: { keys: { owner: '0x5' } } });
  // @ts-expect-error `x` is not a member of Position (it is vec.x)
  client.mutate('game-Position', { x: 1 }, { entityId });
  // @ts-expect-error `steps` is an integer, not a string
  client.mutate('game-Position', { steps: 'many' }, { entityId });
  // @ts-expect-error a nested struct needs every member
  client.mutate('game-Position', { vec: { x: 1 } }, { entityId });
  // @ts-expect-error `Rogue` carries a u8
  client.mutate('game-Player', { class: { variant: 'Rogue' } }, { entityId });
  // @ts-expect-error every key is needed
  client.entityId('game-Player', { player: '0x5' });
  // @ts-expect-error a u64 reads as bigint
  const wrong: number | undefined = position?.steps;
  // @ts-expect-error the model has no member `z`
  void position?.vec.z;

  // Event logs: an event carries its model's state, typed like an entity's.
  const moved = client.events.query({ models: ['game-Moved'], order: 'desc', limit: 1 })[0];
  const movedDir: 'Left' | 'Right' | undefined = moved?.models.game?.Moved?.dir.variant;
  // @ts-expect-error no model of that tag
  client.events.query({ models: ['game-Mooved'] });
  // @ts-expect-error `Moved` has no member `steps`
  void moved?.models.game?.Moved?.steps;

  // BigInt-safe JSON.
  const copy = parse(stringify(player)) as ModelValue<'game-Player'> | undefined;
  const typedRow: EntityOf<'game-Position'> | undefined = page.items[0];
  const typedClient: ReactiveClient<Schema> = client;
  void [x, steps, dir, rogue, gold, proto, name, odd, copy, typedRow, typedClient, wrong, movedDir];
}

export function Hooks(): string {
  const c = useReactiveClient();
  const playerId = useEntityId('game-Player', { player: '0x5', slot: 1n });
  const position = useModel(playerId, 'game-Position');
  const steps: bigint | undefined = position?.steps;
  const whole = useEntity(playerId);
  const gold: bigint | undefined = whole?.models.game?.Player?.gold;
  const page = useQuery('game-Position', { filter: { where: [{ member: 'steps', op: 'gt', value: 3n }] }, limit: 10, cursor: undefined });
  const rows: number = page.items.length;
  const next: string | undefined = page.nextCursor;
  // @ts-expect-error no member `vec.w`
  useQuery('game-Position', { filter: { where: [{ member: 'vec.w', op: 'eq', value: 1 }] } });
  // @ts-expect-error a u32 path takes a number
  useQuery('game-Position', { filter: { where: [{ member: 'vec.y', op: 'eq', value: true }] } });
  // @ts-expect-error no model of that tag
  useModel(playerId, 'game-Nope');
  // @ts-expect-error useModel returns the model's state: `vec` is a struct
  const bad: number | undefined = position?.vec;
  const feed = useEvents({ target: 'feed', models: ['game-Moved'] });
  const player: string | undefined = feed[0]?.models.game?.Moved?.player;
  // @ts-expect-error `player` is a string
  const wrongPlayer: number | undefined = feed[0]?.models.game?.Moved?.player;
  void [c, ReactiveProvider, steps, gold, rows, next, bad, player, wrongPlayer];
  return String(rows);
}
