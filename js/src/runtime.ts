/**
 * The browser runtime: the package's own module worker and the wasm modules of the main thread.
 * The main thread loads the small view module (`wasm/dojo_reactive_view*`: the view, typed
 * errors, `defaultDbName`); the worker's module (`wasm/dojo_reactive*`: transport, storage,
 * manifest hashing) is loaded here only when `deleteDatabase` (a reset) or a manifest helper is
 * called. All are found relative to this file (`new URL(..., import.meta.url)`, a dynamic
 * `import()`), which plain ESM and bundlers such as Vite resolve without configuration.
 *
 * @module
 */

import init, {
  View,
  defaultDbName,
  takePanicMessage,
  type QuerySpec as WasmQuerySpec,
  type TransactionSubmission as WasmTransactionSubmission,
} from '../wasm/dojo_reactive_view.js';
import type { Runtime } from './client.js';
import type { DecodedEvents } from './events.js';
import { SyncFatalError, toReactiveError } from './errors.js';
import type { MainMessage } from './messages.js';
import { browserTimers } from './schedule.js';
import type { WorkerPort } from './session.js';
import type { MainWasm, ViewApi } from './wasm-api.js';

let loaded: Promise<MainWasm> | undefined;

/** What the main thread uses of the worker's module (its other exports run in the worker). */
export type WorkerModuleTools = Pick<
  typeof import('../wasm/dojo_reactive.js'),
  'computeManifestHash' | 'buildManifestFingerprint' | 'deleteDatabase'
>;

let workerModule: Promise<WorkerModuleTools> | undefined;

/** Loads and initialises the worker's module on the main thread, once (on first use). */
function loadWorkerModule(): Promise<WorkerModuleTools> {
  workerModule ??= import('../wasm/dojo_reactive.js').then(async (module) => {
    await module.default({ module_or_path: new URL('../wasm/dojo_reactive_bg.wasm', import.meta.url) });
    return module;
  });
  workerModule.catch(() => {
    workerModule = undefined;
  });
  return workerModule;
}

/**
 * The generated `View` as a {@link ViewApi}: the package's types are the same shapes, only
 * `readonly` (the generated ones are mutable), which the view never writes to.
 */
function viewApi(view: View): ViewApi {
  return {
    applyDelta: (delta) => view.applyDelta(delta),
    decodeEvents: (batch) => view.decodeEvents(batch) as DecodedEvents,
    restore: (delta) => view.restore(delta),
    size: () => view.size(),
    entity: (entityId, consistency) => view.entity(entityId, consistency),
    query: (model, spec, consistency) => view.query(model, spec as WasmQuerySpec, consistency),
    queryIds: (model, spec, consistency) => view.queryIds(model, spec as WasmQuerySpec, consistency),
    count: (model, spec, consistency) => view.count(model, spec as WasmQuerySpec, consistency),
    declareIndex: (model, members) => view.declareIndex(model, members),
    entityModel: (entityId, model, consistency) => view.entityModel(entityId, model, consistency),
    entityIdOfKeys: (model, keys, onlyKeys) => view.entityIdOfKeys(model, keys, onlyKeys),
    submitOverlay: (submission, nowMs) => view.submitOverlay(submission, nowMs),
    submitTransaction: (transaction, nowMs) =>
      view.submitTransaction(transaction as WasmTransactionSubmission, nowMs),
    overlayFor: (entityId) => view.overlayFor(entityId),
    ackOverlay: (transactionId) => view.ackOverlay(transactionId),
    rollbackOverlay: (transactionId) => view.rollbackOverlay(transactionId),
    poll: (nowMs) => view.poll(nowMs),
    nextWakeupMs: () => view.nextWakeupMs(),
    free: () => view.free(),
  };
}

/**
 * The view module's exports as a {@link MainWasm}, once it is initialised, with the worker's
 * module's tools from `tools` when first used (the unit tests initialise both in Node from
 * their bytes and use this too).
 */
export function mainWasm(tools: () => Promise<WorkerModuleTools> = loadWorkerModule): MainWasm {
  return {
    createView: (manifest, options) => viewApi(new View(manifest, options)),
    deleteDatabase: async (dbName) => (await tools()).deleteDatabase(dbName),
    defaultDbName: (toriiUrl, worldAddress) => defaultDbName(toriiUrl, worldAddress),
    computeManifestHash: async (manifest) => (await tools()).computeManifestHash(manifest),
    buildManifestFingerprint: async (manifest) => (await tools()).buildManifestFingerprint(manifest),
    takePanicMessage: () => takePanicMessage(),
  };
}

/** Loads the view module on the main thread, once. */
function loadWasm(): Promise<MainWasm> {
  loaded ??= init({ module_or_path: new URL('../wasm/dojo_reactive_view_bg.wasm', import.meta.url) }).then(() =>
    mainWasm(),
  );
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** Starts the package's worker script (or `workerUrl`) as a module worker. */
function spawnWorker(workerUrl: string | URL | undefined): WorkerPort {
  const worker =
    workerUrl === undefined
      ? new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'dojo-reactive-sync' })
      : new Worker(workerUrl, { type: 'module', name: 'dojo-reactive-sync' });
  return {
    post: (message: MainMessage) => worker.postMessage(message),
    terminate: () => worker.terminate(),
    listen(onMessage, onError) {
      worker.addEventListener('message', (event) => onMessage(event.data));
      worker.addEventListener('messageerror', () =>
        onError(new SyncFatalError('a message from the sync worker could not be deserialized', { reason: 'messageerror' })),
      );
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        const detail = event.message || 'the worker script failed to load or threw';
        onError(
          toReactiveError({
            name: 'SyncFatalError',
            message: `the sync worker failed: ${detail}`,
            reason: 'worker',
            filename: event.filename,
            lineno: event.lineno,
          }),
        );
      });
    },
  };
}

/** The runtime `createReactiveClient` and `createSyncWorker` use in the browser. */
export const browserRuntime: Runtime = { spawnWorker, loadWasm, timers: browserTimers };
