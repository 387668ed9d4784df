/**
 * Traps of the main-thread view: a Rust panic in the wasm module surfaces as
 * `RuntimeError: unreachable` (its text is kept by the module's panic hook), and leaves the
 * object whose method trapped borrowed, so that every later call fails. The client wraps its
 * views so that such a failure is noticed and the view rebuilt.
 *
 * @module
 */

import type { ReactiveError } from './errors.js';
import type { ViewApi } from './wasm-api.js';

/** Whether `error` is the wasm module trapping (a Rust panic) or refusing an object a trap left borrowed. */
function isTrap(error: unknown): boolean {
  return (
    error instanceof WebAssembly.RuntimeError ||
    (error instanceof Error && error.message.includes('recursive use of an object detected'))
  );
}

/** `view` whose every call that traps reports it through `onTrap` and throws what it returns. */
export function trapGuarded(view: ViewApi, onTrap: (error: unknown) => ReactiveError): ViewApi {
  const guard =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return call(...args);
      } catch (error) {
        throw isTrap(error) ? onTrap(error) : error;
      }
    };
  return {
    applyDelta: guard((delta: Uint8Array) => view.applyDelta(delta)),
    decodeEvents: guard((batch: Uint8Array) => view.decodeEvents(batch)),
    restore: guard((delta: Uint8Array) => view.restore(delta)),
    size: guard(() => view.size()),
    entity: guard((...args: Parameters<ViewApi['entity']>) => view.entity(...args)),
    query: guard((...args: Parameters<ViewApi['query']>) => view.query(...args)),
    queryIds: guard((...args: Parameters<ViewApi['queryIds']>) => view.queryIds(...args)),
    count: guard((...args: Parameters<ViewApi['count']>) => view.count(...args)),
    declareIndex: guard((model: string, members: string[]) => view.declareIndex(model, members)),
    entityModel: guard((...args: Parameters<ViewApi['entityModel']>) => view.entityModel(...args)),
    entityIdOfKeys: guard((...args: Parameters<ViewApi['entityIdOfKeys']>) => view.entityIdOfKeys(...args)),
    submitOverlay: guard((...args: Parameters<ViewApi['submitOverlay']>) => view.submitOverlay(...args)),
    submitTransaction: guard((...args: Parameters<ViewApi['submitTransaction']>) => view.submitTransaction(...args)),
    overlayFor: guard((entityId: string) => view.overlayFor(entityId)),
    ackOverlay: guard((transactionId: string) => view.ackOverlay(transactionId)),
    rollbackOverlay: guard((transactionId: string) => view.rollbackOverlay(transactionId)),
    poll: guard((nowMs: number) => view.poll(nowMs)),
    nextWakeupMs: guard(() => view.nextWakeupMs()),
    free: guard(() => view.free()),
  };
}
