/**
 * The sync worker entry (`dist/worker.js`, started by the client as a module worker): opens the
 * wasm `SyncWorker` (the stored state, no network), then has it lead (sync with Torii), and
 * forwards its events to the main thread, DELTA batches as transferred buffers.
 *
 * @module
 */

import init, { SyncWorker } from '../wasm/dojo_reactive.js';
import { ValidationError, errorInfo } from './errors.js';
import { parseMainMessage, type InitMessage, type WorkerMessage } from './messages.js';

/** The parts of a dedicated worker's global scope this script uses. */
interface WorkerScope {
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let memory: WebAssembly.Memory | undefined;
let starting: Promise<SyncWorker | undefined> | undefined;
let stopped = false;

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** The batch's bytes as a buffer of their own (never the wasm memory), ready to transfer. */
function ownBuffer(delta: Uint8Array): ArrayBuffer {
  const buffer = delta.buffer;
  const whole =
    buffer instanceof ArrayBuffer &&
    buffer !== memory?.buffer &&
    delta.byteOffset === 0 &&
    delta.byteLength === buffer.byteLength;
  return whole ? buffer : delta.slice().buffer;
}

async function start(message: InitMessage): Promise<SyncWorker | undefined> {
  try {
    const output = await init({ module_or_path: new URL('../wasm/dojo_reactive_bg.wasm', import.meta.url) });
    memory = output.memory;
    const config = message.config as Parameters<typeof SyncWorker.open>[0];
    const worker = await SyncWorker.open(config, (event, delta) => {
      if (stopped) return;
      if (event.type === 'DELTA') {
        if (message.deltas && delta) {
          const buffer = ownBuffer(delta);
          post({ type: 'DELTA', buffer }, [buffer]);
        }
        return;
      }
      post(event as WorkerMessage);
    });
    if (!stopped) await worker.lead();
    return worker;
  } catch (error) {
    post({ type: 'SYNC_FATAL', error: errorInfo(error) });
    return undefined;
  }
}

async function inspectStore(id: number): Promise<void> {
  try {
    const worker = await starting;
    if (!worker || stopped) throw new ValidationError('the store can be read only while the worker runs');
    post({ type: 'STORE_REPORT', id, report: await worker.inspectStore() });
  } catch (error) {
    post({ type: 'STORE_REPORT', id, error: errorInfo(error, 'StorageError') });
  }
}

async function shutdown(): Promise<void> {
  stopped = true;
  try {
    const worker = await starting;
    await worker?.shutdown();
    post({ type: 'SHUTDOWN_ACK' });
  } catch (error) {
    post({ type: 'SHUTDOWN_ACK', error: errorInfo(error, 'StorageError') });
  }
  scope.close();
}

scope.addEventListener('message', (event) => {
  const message = parseMainMessage(event.data);
  if (message instanceof ValidationError) {
    post({ type: 'SYNC_ERROR', error: errorInfo(message, 'ValidationError') });
    return;
  }
  switch (message.type) {
    case 'INIT':
      if (starting) {
        post({
          type: 'SYNC_ERROR',
          error: { name: 'ValidationError', message: 'INIT was sent twice; the second one is ignored' },
        });
        return;
      }
      starting = start(message);
      return;
    case 'FORCE_REPLAY':
      void starting?.then((worker) => worker?.forceReplay());
      return;
    case 'INSPECT_STORE':
      void inspectStore(message.id);
      return;
    case 'SHUTDOWN':
      void shutdown();
      return;
  }
});
