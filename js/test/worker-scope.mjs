// The dedicated-worker global scope the worker entry (`dist/worker.js`) runs in, faked in Node
// for its unit tests: what the entry posts, the listeners it adds, `close()`, and the fake wasm
// glue `worker-hooks.mjs` puts in place of the real module. Each test file runs in its own
// process, so each gets one fresh scope and one entry.
import { register } from 'node:module';

register('./worker-hooks.mjs', import.meta.url);

/** Every message the entry posted, in order. */
export const posted = [];
/** The transfer list of each posted message (same index as `posted`). */
export const transfers = [];
/** The entry's listeners, by event type. */
export const listeners = { message: [], error: [], unhandledrejection: [] };
/** How often the entry called `close()`. */
export const scope = { closed: 0 };

globalThis.postMessage = (message, transfer) => {
  posted.push(message);
  transfers.push(transfer);
};
globalThis.addEventListener = (type, listener) => listeners[type]?.push(listener);
globalThis.close = () => scope.closed++;

/** Sends the entry a message from the main thread. */
export const send = (data) => listeners.message.forEach((listener) => listener({ data }));

/** Lets the entry's pending tasks run (`ms` of timers too). */
export const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads the entry once; `glue`, when given, is the fake wasm glue it starts with (else the
 * hooks' default). Returns the glue.
 */
export async function loadWorker(glue) {
  if (glue) globalThis.fakeGlue = glue;
  await import('../dist/worker.js');
  return globalThis.fakeGlue;
}
