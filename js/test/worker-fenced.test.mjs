// A leader whose commit the writer fence refused (core's sync error kind `lostLeadership`:
// another worker claimed the database) steps down and follows; the error is not shown. An
// error that only says so in its text is an error like any other.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadWorker, posted, send, settle as settleNow } from './worker-scope.mjs';

const settle = () => settleNow(10);
const glue = await loadWorker();

test('a sync error of kind lostLeadership makes the leader follow; its text alone does not', async () => {
  send({ type: 'INIT', config: { toriiUrl: 'http://x', worldAddress: '0x1', manifest: '{}' }, deltas: true });
  await settle();
  const roles = () => posted.filter((m) => m.type === 'ROLE').map((m) => m.role.role);
  assert.deepEqual(roles(), ['follower', 'leader']);
  const text = { name: 'StorageError', message: "this tab's writer lost its leadership of the database" };
  glue.emit({ type: 'SYNC_ERROR', error: { ...text, kind: 'storage' } });
  await settle();
  assert.deepEqual(roles(), ['follower', 'leader'], 'matched by kind, not by message');
  assert.equal(posted.at(-1).type, 'SYNC_ERROR', 'an ordinary error is shown');
  const opened = glue.started.length;
  glue.emit({ type: 'SYNC_ERROR', error: { ...text, kind: 'lostLeadership' } });
  await settle();
  assert.deepEqual(roles(), ['follower', 'leader', 'follower']);
  assert.equal(glue.started.length, opened + 1, 'the database is read again as a follower');
  assert.deepEqual(glue.live, [false, true], 'into the live view: last changes only');
  assert.equal(posted.filter((m) => m.type === 'SYNC_ERROR').length, 1, 'the fenced commit is not shown');
  send({ type: 'SHUTDOWN' });
  await settle();
});
