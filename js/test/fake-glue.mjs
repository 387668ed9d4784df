// A stand-in for the wasm-bindgen glue, driven by the test through globalThis.fakeGlue.
const state = (globalThis.fakeGlue ??= { memory: { buffer: new ArrayBuffer(64) }, started: [], stopped: 0 });

export default async function init() {
  return { memory: state.memory };
}

export function defaultDbName(toriiUrl, worldAddress) {
  return `db-${toriiUrl}-${worldAddress}`;
}

export class SyncWorker {
  static async open(config, emit, live) {
    state.started.push(config);
    state.live = [...(state.live ?? []), live];
    state.emit = emit;
    if (state.failStart) throw state.failStart;
    // A test holds the restore open (`openGate`, a promise) to send relayed DELTAs meanwhile.
    await state.openGate;
    return new SyncWorker();
  }
  async lead() {
    state.led = (state.led ?? 0) + 1;
  }
  async claimWriter(owner, protocol, lease) {
    state.claims = [...(state.claims ?? []), { owner, protocol, lease }];
    // A test sets `claimHeld` ({ epoch, owner, protocol }) for a worker that stays a follower.
    if (state.claimHeld) return { won: false, ...state.claimHeld };
    return { won: true, epoch: state.claims.length };
  }
  async renewWriter() {}
  /** The newest relay mark the restore read: the test's `restoredMark`. */
  restoredMark() {
    return state.restoredMark;
  }
  /** What the restore held: the test's `holds(target, epoch, n, persisted)`. */
  holdsRelayed(target, epoch, n, persisted) {
    return state.holds?.(target, epoch, n, persisted) ?? false;
  }
  forceReplay() {
    state.replays = (state.replays ?? 0) + 1;
  }
  async inspectStore() {
    if (state.failInspect) throw state.failInspect;
    return { targets: [{ target: 'entities', states: 0, ledger: [], syncState: null, skipped: [], disagreements: [] }] };
  }
  async shutdown() {
    state.stopped += 1;
  }
}

/** What the module's panic hook recorded: the test sets `fakeGlue.panic`. */
export function takePanicMessage() {
  const panic = state.panic;
  state.panic = undefined;
  return panic;
}
