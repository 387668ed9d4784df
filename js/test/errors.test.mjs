import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as errors from '../dist/errors.js';

const names = [
  'SchemaMismatchError',
  'ToriiVersionChangedError',
  'SyncFatalError',
  'OverlayTimeoutError',
  'OverlayError',
  'TransportError',
  'StorageError',
  'ValidationError',
  'WorkerRestartError',
  'OutdatedManifestError',
];

test('every error info becomes its class, an Error and a ReactiveError, with its name and message', () => {
  for (const name of names) {
    const error = errors.toReactiveError({ name, message: `${name} happened`, extra: 7 });
    assert.ok(error instanceof errors[name], name);
    assert.ok(error instanceof errors.ReactiveError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, name);
    assert.equal(error.message, `${name} happened`);
    assert.equal(error.details.extra, 7);
  }
});

test('an outdated manifest names the models Torii describes otherwise', () => {
  const outdated = errors.toReactiveError({
    name: 'OutdatedManifestError',
    message: 'reload it',
    models: ['arena-Position', 7],
    manifestHash: 'manifest-hash:v1:aa',
  });
  assert.deepEqual(outdated.models, ['arena-Position']);
  assert.equal(outdated.manifestHash, 'manifest-hash:v1:aa');
  assert.deepEqual(errors.toReactiveError({ name: 'OutdatedManifestError', message: 'm' }).models, []);
});

test('typed fields are read from the info when they have the right type', () => {
  const mismatch = errors.toReactiveError({
    name: 'SchemaMismatchError',
    message: 'manifest changed',
    manifestHash: '0x1',
    storedHash: '0x2',
    dbName: 'db',
  });
  assert.equal(mismatch.manifestHash, '0x1');
  assert.equal(mismatch.storedHash, '0x2');
  assert.equal(mismatch.dbName, 'db');
  const version = errors.toReactiveError({ name: 'ToriiVersionChangedError', message: 'm', previous: '1.7', current: 42 });
  assert.equal(version.previous, '1.7');
  assert.equal(version.current, undefined, 'a number is not taken as a version string');
  const timeout = errors.toReactiveError({ name: 'OverlayTimeoutError', message: 'm', transactionId: 't', entityId: 'e', guardDescription: 'g' });
  assert.deepEqual([timeout.transactionId, timeout.entityId, timeout.guardDescription], ['t', 'e', 'g']);
  const fatal = errors.toReactiveError({ name: 'SyncFatalError', message: 'm', reason: 'budget', attempts: 5 });
  assert.deepEqual([fatal.reason, fatal.attempts], ['budget', 5]);
});

test('unknown names, plain errors and non-objects become the fallback class', () => {
  assert.ok(errors.toReactiveError({ name: 'Weird', message: 'x' }) instanceof errors.SyncFatalError);
  assert.ok(errors.toReactiveError(new TypeError('bad'), errors.ValidationError) instanceof errors.ValidationError);
  const fromString = errors.toReactiveError('boom');
  assert.equal(fromString.message, 'boom');
  assert.ok(fromString instanceof errors.SyncFatalError);
  const same = new errors.StorageError('s');
  assert.equal(errors.toReactiveError(same), same, 'a ReactiveError is kept as is');
  assert.equal(errors.toReactiveError({ name: 'toString', message: 'x' }).name, 'SyncFatalError', 'prototype names are not classes');
});

test('errorInfo flattens an error for postMessage and round-trips through toReactiveError', () => {
  const original = new errors.SchemaMismatchError('changed', { manifestHash: '0x1', storedHash: '0x2' });
  const info = errors.errorInfo(original);
  assert.equal(info.name, 'SchemaMismatchError');
  assert.equal(info.message, 'changed');
  assert.equal(structuredClone(info).name, 'SchemaMismatchError');
  const back = errors.toReactiveError(structuredClone({ ...info, ...info.details }));
  assert.ok(back instanceof errors.SchemaMismatchError);
  assert.equal(back.storedHash, '0x2');
  assert.equal(errors.errorInfo(new Error('plain')).name, 'SyncFatalError');
  assert.deepEqual(errors.errorInfo('text', 'StorageError'), { name: 'StorageError', message: 'text' });
});
