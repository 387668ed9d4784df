import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestWatch, REREAD_AFTER_MS } from '../dist/deploy.js';

/** A watch whose hooks record what they were asked, with Torii answering `verdicts` in turn. */
function watch(own, verdicts) {
  const asked = { judged: 0, tookOver: 0, outdated: [], reread: 0 };
  const manifests = new ManifestWatch(own, {
    judge: async () => {
      asked.judged += 1;
      return verdicts.shift() ?? { verdict: 'unanswered' };
    },
    takeOver: () => (asked.tookOver += 1),
    outdated: (error) => asked.outdated.push(error),
    reread: () => (asked.reread += 1),
  });
  return { manifests, asked };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test('only messages of another known manifest differ (older tabs send none)', () => {
  const { manifests } = watch('manifest-hash:v1:new', []);
  assert.equal(manifests.differs('manifest-hash:v1:old'), true);
  assert.equal(manifests.differs('manifest-hash:v1:new'), false);
  assert.equal(manifests.differs(undefined), false);
  assert.equal(new ManifestWatch(undefined, {}).differs('manifest-hash:v1:old'), false);
});

test('a current manifest takes over; Torii is asked at most every 5 s', async () => {
  const { manifests, asked } = watch('new', [{ verdict: 'current' }]);
  manifests.heardOther();
  manifests.heardOther();
  await settle();
  assert.equal(asked.judged, 1);
  assert.equal(asked.tookOver, 1);
  assert.equal(manifests.outdated, false);
});

test('a judgement without an open worker is asked again at the next heartbeat', async () => {
  let calls = 0;
  const manifests = new ManifestWatch('new', {
    judge: async () => {
      calls += 1;
      if (calls === 1) throw new Error('reopening');
      return { verdict: 'current' };
    },
    takeOver: () => (calls += 100),
    outdated: () => {},
    reread: () => {},
  });
  manifests.heardOther();
  await settle();
  manifests.heardOther();
  await settle();
  assert.equal(calls, 102);
});

test('an outdated manifest is reported once and never asks again', async () => {
  const error = { name: 'OutdatedManifestError', message: 'reload it', models: ['arena-Position'] };
  const { manifests, asked } = watch('old', [{ verdict: 'outdated', error }]);
  manifests.heardOther();
  await settle();
  assert.deepEqual(asked.outdated, [error]);
  assert.equal(manifests.outdated, true);
  manifests.report(error);
  manifests.heardOther();
  await settle();
  assert.equal(asked.outdated.length, 1);
  assert.equal(asked.judged, 1);
  assert.equal(asked.tookOver, 0);
});

test('dropped DELTAs lead to one re-read per burst', async () => {
  const { manifests, asked } = watch('old', []);
  manifests.dropped();
  manifests.dropped();
  await new Promise((resolve) => setTimeout(resolve, REREAD_AFTER_MS + 50));
  assert.equal(asked.reread, 1);
  manifests.dropped();
  manifests.stop();
  await new Promise((resolve) => setTimeout(resolve, REREAD_AFTER_MS + 50));
  assert.equal(asked.reread, 1, 'stop cancels the pending re-read');
});
