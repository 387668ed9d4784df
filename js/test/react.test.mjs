import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { createClient } from '../dist/client.js';
import { ReactiveProvider, useEntity, useModel, useCount, useQuery, useReactiveClient, useSyncStatus, useSyncTarget } from '../dist/react.js';
import { ValidationError } from '../dist/errors.js';
import { reactiveSelectors } from '../dist/selectors.js';
import { selectorStore, targetStore } from '../dist/store.js';
import { ID1, ID2, delta, options, stubRuntime } from './stubs.mjs';

async function started() {
  const stubs = stubRuntime();
  const client = createClient(options, stubs.runtime);
  stubs.ports[0].ack();
  await client.ready;
  const push = (id, x) => stubs.ports[0].send({ type: 'DELTA', buffer: delta([{ entityId: id, tag: 'ns-Position', members: { x } }]) });
  return { client, push, timers: stubs.timers };
}

test('a store snapshot keeps its identity until the selected result changes', async () => {
  const { client, push, timers } = await started();
  push(ID1, 1);
  const store = selectorStore(client, null, reactiveSelectors.selectEntity(ID1));
  const first = store.getSnapshot();
  assert.equal(first.models.ns.Position.x, 1);
  assert.equal(store.getSnapshot(), first, 'same object on every read');
  let changes = 0;
  const off = store.subscribe(() => changes++);
  assert.equal(changes, 0, 'subscribing to an unchanged result does not signal');
  push(ID1, 1);
  timers.frame();
  assert.equal(store.getSnapshot(), first, 'an identical DELTA keeps the snapshot');
  push(ID1, 2);
  timers.frame();
  assert.equal(changes, 1);
  assert.equal(store.getSnapshot().models.ns.Position.x, 2);
  off();
  push(ID1, 3);
  timers.frame();
  assert.equal(changes, 1, 'no signal after unsubscribe');
});

test('a store catches up with changes made between the first snapshot and subscribing', async () => {
  const { client, push } = await started();
  const store = selectorStore(client, 'ns-Position', reactiveSelectors.selectMany({}));
  assert.deepEqual(store.getSnapshot(), []);
  push(ID2, 7);
  let changes = 0;
  store.subscribe(() => changes++);
  assert.equal(changes, 1);
  assert.equal(store.getSnapshot()[0].entityId, ID2);
});

test('useEntity, useQuery and useSyncStatus render the client state', async () => {
  const { client, push } = await started();
  push(ID1, 4);
  push(ID2, 5);
  function Board() {
    const entity = useEntity(client, ID1);
    const rows = useQuery(client, 'ns-Position', { filter: { where: [{ member: 'x', op: 'eq', value: 5 }] } });
    const status = useSyncStatus(client);
    return createElement('p', null, `${entity?.models.ns.Position.x}|${rows.map((r) => r.entityId.slice(-1)).join(',')}|${status.phase}`);
  }
  assert.equal(renderToString(createElement(Board)), '<p>4|2|ready</p>');
});

test('useQuery orders by orderBy and useCount counts a clause filter', async () => {
  const { client, push } = await started();
  push(ID1, 4);
  push(ID2, 5);
  function Board() {
    const rows = useQuery(client, 'ns-Position', { orderBy: [{ member: 'x', direction: 'desc' }] });
    const count = useCount(client, 'ns-Position', {
      filter: { where: [{ or: [{ member: 'x', op: 'eq', value: 4 }, { member: 'x', op: 'gt', value: 8 }] }] },
    });
    return createElement('p', null, `${rows.map((r) => r.models.ns.Position.x).join(',')}|${count}`);
  }
  assert.equal(renderToString(createElement(Board)), '<p>5,4|1</p>');
});

test('useQuery and useEntity render before the wasm module loaded (empty), then the data', async () => {
  const stubs = stubRuntime({ holdWasm: true });
  const client = createClient(options, stubs.runtime);
  function Board() {
    const rows = useQuery(client, 'ns-Position');
    const entity = useEntity(client, ID1);
    return createElement('p', null, `${rows.length}|${entity === undefined}`);
  }
  assert.equal(renderToString(createElement(Board)), '<p>0|true</p>', 'no throw before the view exists');
  stubs.ports[0].send({ type: 'DELTA', buffer: delta([{ entityId: ID1, tag: 'ns-Position', members: { x: 1 } }]) });
  stubs.ports[0].ack(1);
  stubs.release();
  await client.ready;
  assert.equal(renderToString(createElement(Board)), '<p>1|false</p>');
  await client.shutdown();
});

test('under a provider, hooks take no client; undefined ids give undefined; useQuery gives the page', async () => {
  const { client, push } = await started();
  push(ID1, 4);
  push(ID2, 5);
  function Board({ id }) {
    const same = useReactiveClient() === client;
    const entity = useEntity(id);
    const position = useModel(id, 'ns-Position');
    const page = useQuery('ns-Position', { limit: 1 });
    const none = useQuery(undefined);
    const status = useSyncStatus();
    return createElement(
      'p',
      null,
      `${same}|${entity?.entityId.slice(-1)}|${position?.x}|${page.items.length},${page.nextCursor !== undefined}|${none.items.length}|${status.phase}`,
    );
  }
  const render = (id) => renderToString(createElement(ReactiveProvider, { client }, createElement(Board, { id })));
  assert.equal(render(ID2), '<p>true|2|5|1,true|0|ready</p>');
  assert.equal(render(undefined), '<p>true|undefined|undefined|1,true|0|ready</p>', 'an id not known yet');
  await client.shutdown();
});

test("a sync target's store and useSyncTarget follow its status: restored, then ticked", async () => {
  const stubs = stubRuntime();
  const me = { id: 'me', kind: 'entities', clause: { HashedKeys: [ID1] } };
  const client = createClient({ ...options, targets: [me] }, stubs.runtime);
  const [port] = stubs.ports;
  await new Promise((resolve) => setTimeout(resolve, 0));
  const store = targetStore(client, 'me');
  const before = store.getSnapshot();
  assert.deepEqual(before, { id: 'me', kind: 'entities', complete: false });
  assert.equal(store.getSnapshot(), before, 'the same object while nothing changes');
  assert.equal(targetStore(client, 'nope').getSnapshot(), undefined, 'an id no target has');
  let changes = 0;
  const off = store.subscribe(() => changes++);
  port.send({ type: 'RESTORED', target: 'entities', targets: [{ id: 'me', digest: 'd1', complete: true }] });
  assert.ok(changes > 0, 'signalled');
  const restored = store.getSnapshot();
  assert.deepEqual(restored, { id: 'me', kind: 'entities', complete: true }, 'complete once its kind is restored');
  port.send({ type: 'INIT_ACK', manifestHash: '0xabc', toriiVersion: null, dbName: 'db-1', restored: 1, targets: { entities: [{ id: 'me', digest: 'd1', complete: true }] } });
  await client.ready;
  assert.equal(store.getSnapshot(), restored, 'INIT_ACK saying the same keeps the object');
  function Region() {
    const target = useSyncTarget('me');
    const none = useSyncTarget(undefined);
    return createElement('p', null, `${target?.complete}|${none}`);
  }
  assert.equal(renderToString(createElement(ReactiveProvider, { client }, createElement(Region))), '<p>true|undefined</p>');
  port.send({ type: 'SYNC_TICK', tick: { target: 'entities', overall: { state: 'replaying' }, models: [], targets: [{ id: 'me', digest: 'd1', complete: false }] } });
  assert.equal(store.getSnapshot().complete, false, 'the ticks take over');
  off();
  await client.shutdown();
});

test('useQuery pages with the cursor of the previous page, as client.query does', async () => {
  const { client, push } = await started();
  push(ID1, 4);
  push(ID2, 5);
  function Pages() {
    const first = useQuery('ns-Position', { limit: 1 });
    const second = useQuery('ns-Position', { limit: 1, cursor: first.nextCursor });
    const ids = (page) => page.items.map((e) => e.entityId.slice(-1)).join(',');
    return createElement('p', null, `${ids(first)}|${ids(second)}|${second.nextCursor === undefined}`);
  }
  const render = () => renderToString(createElement(ReactiveProvider, { client }, createElement(Pages)));
  assert.equal(render(), '<p>1|2|true</p>');
  const direct = client.query('ns-Position', { limit: 1, cursor: client.query('ns-Position', { limit: 1 }).nextCursor });
  assert.equal(direct.items[0]?.entityId.slice(-1), '2');
  await client.shutdown();
});

test('hooks outside a provider throw a ValidationError that says what to do', () => {
  function Lost() {
    useModel(ID1, 'ns-Position');
    return null;
  }
  assert.throws(
    () => renderToString(createElement(Lost)),
    (error) => error instanceof ValidationError && /wrap the app in <ReactiveProvider/.test(error.message),
  );
});
