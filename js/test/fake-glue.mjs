// A stand-in for the wasm-bindgen glue, driven by the test through globalThis.fakeGlue.
const state = (globalThis.fakeGlue ??= { memory: { buffer: new ArrayBuffer(64) }, started: [], stopped: 0 });

export default async function init() {
  return { memory: state.memory };
}

export function defaultDbName(toriiUrl, worldAddress) {
  return `db-${toriiUrl}-${worldAddress}`;
}

export class SyncWorker {
  static async open(config, emit) {
    state.started.push(config);
    state.emit = emit;
    if (state.failStart) throw state.failStart;
    return new SyncWorker();
  }
  async lead() {
    state.led = (state.led ?? 0) + 1;
  }
  async claimWriter(owner, protocol, lease) {
    state.claims = [...(state.claims ?? []), { owner, protocol, lease }];
    return { won: true, epoch: state.claims.length };
  }
  async renewWriter() {}
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
