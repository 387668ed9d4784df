/**
 * What a follower knows of its leader's relayed DELTA sequence (see `docs/tabs.md`): the newest
 * `(epoch, n)` it holds, from a restore (the store's relay mark) or received. A number skipped
 * means DELTAs this tab never got (the leader relays nothing while it hears no follower, and a
 * batch the store refused for good sends nothing): the follower then reads the database again.
 *
 * @module
 */

/** The newest relayed DELTA a follower holds, and the gaps after it. */
export class RelayGaps {
  private epoch = 0;
  private n = 0;

  /** A restore read the store, whose newest relay mark is `(epoch, n)`. */
  restored(epoch: number, n: number): void {
    if (epoch > this.epoch || (epoch === this.epoch && n > this.n)) {
      this.epoch = epoch;
      this.n = n;
    }
  }

  /**
   * A relayed DELTA `(epoch, n)` reached this tab (after its restore); returns whether DELTAs
   * before it never did (numbers skipped in the epoch, or a newer epoch's first ones).
   */
  delta(epoch: number, n: number): boolean {
    if (epoch < this.epoch) return false;
    const missed = epoch === this.epoch ? n > this.n + 1 : n > 1;
    if (epoch > this.epoch || n > this.n) {
      this.epoch = epoch;
      this.n = n;
    }
    return missed;
  }

  /**
   * The leader says it numbered `sent` DELTAs in `epoch`; a channel keeps one sender's order,
   * so every one it relayed arrived before. Returns whether some never did (it relayed none
   * while it did not know this tab); they count as handled from now on (a re-read gets what
   * the store holds).
   */
  heartbeat(epoch: number, sent: number): boolean {
    if (epoch < this.epoch) return false;
    const held = epoch === this.epoch ? this.n : 0;
    if (sent <= held) return false;
    this.epoch = epoch;
    this.n = sent;
    return true;
  }
}
