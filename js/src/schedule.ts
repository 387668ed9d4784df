/**
 * Timers the client runs on, injectable so tests drive time by hand.
 *
 * @module
 */

/** Cancels a scheduled callback. */
export type Cancel = () => void;

/** Time and timers. */
export interface Timers {
  /** Milliseconds on a monotonic-enough clock (the overlay's deadlines use it). */
  now(): number;
  /** Runs `callback` after `ms` milliseconds. */
  after(ms: number, callback: () => void): Cancel;
  /** Runs `callback` at the next animation frame (or soon, where there are no frames). */
  nextFrame(callback: () => void): Cancel;
  /** Runs `callback` once the current task is done (a microtask). */
  soon(callback: () => void): Cancel;
}

/** Timers on `Date.now`, `setTimeout` and `requestAnimationFrame` (a 16 ms timeout without it). */
export const browserTimers: Timers = {
  now: () => Date.now(),
  after(ms, callback) {
    const id = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(id);
  },
  nextFrame(callback) {
    if (typeof requestAnimationFrame === 'function') {
      const id = requestAnimationFrame(() => callback());
      return () => cancelAnimationFrame(id);
    }
    const id = setTimeout(callback, FRAME_MS);
    return () => clearTimeout(id);
  },
  soon(callback) {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) callback();
    });
    return () => {
      cancelled = true;
    };
  },
};

/** One animation frame at 60 Hz, in milliseconds. */
const FRAME_MS = 16;

/**
 * Coalesces requests to run `flush`: however many `request()` calls arrive, `flush` runs once.
 * Without `throttleMs`, at most once per animation frame: at once (when the current task is
 * done, so everything one message changed is flushed together) if it last ran a frame or more
 * ago, else at the next animation frame. With `throttleMs`, at most once per `throttleMs`.
 */
export class Coalescer {
  private pending: Cancel | undefined;
  private lastRun = Number.NEGATIVE_INFINITY;

  /** A coalescer for `flush`. */
  constructor(
    private readonly timers: Timers,
    private readonly flush: () => void,
    private readonly throttleMs: number | undefined,
  ) {}

  /** Asks for a flush; does nothing when one is already scheduled. */
  request(): void {
    if (this.pending) return;
    const run = () => {
      this.pending = undefined;
      this.lastRun = this.timers.now();
      this.flush();
    };
    if (this.throttleMs === undefined) {
      const idle = this.timers.now() - this.lastRun >= FRAME_MS;
      this.pending = idle ? this.timers.soon(run) : this.timers.nextFrame(run);
    } else {
      const wait = Math.max(0, this.lastRun + this.throttleMs - this.timers.now());
      this.pending = this.timers.after(wait, run);
    }
  }

  /** Drops a scheduled flush. */
  cancel(): void {
    this.pending?.();
    this.pending = undefined;
  }
}
