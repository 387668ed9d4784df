/**
 * The leader's view of its followers (see `docs/tabs.md`): each follower announces its
 * targets when it starts and every {@link ANNOUNCE_MS}; one silent for {@link FOLLOWER_GONE_MS}
 * has gone (its tab closed, crashed or froze). The leader relays DELTAs only while a follower
 * is there, and syncs the union of the live followers' targets from its next restart on.
 *
 * @module
 */

import type { TabTargets } from './tabs.js';

/** How often a follower announces its targets again (ms). */
export const ANNOUNCE_MS = 2000;

/** How long a follower may stay silent before the leader counts it gone (ms). */
export const FOLLOWER_GONE_MS = 3 * ANNOUNCE_MS;

/** The followers a leader heard from, with what they asked for and when. */
export class Followers {
  private readonly heard = new Map<string, { readonly targets: TabTargets; readonly at: number }>();

  /** Follower `from` announced `targets` at `now`. */
  hear(from: string, targets: TabTargets, now: number): void {
    this.heard.set(from, { targets, at: now });
  }

  /** The targets of the followers heard within {@link FOLLOWER_GONE_MS} (the others are forgotten). */
  live(now: number): TabTargets[] {
    const live: TabTargets[] = [];
    for (const [from, { targets, at }] of this.heard) {
      if (now - at > FOLLOWER_GONE_MS) this.heard.delete(from);
      else live.push(targets);
    }
    return live;
  }

  /** Whether any follower was heard within {@link FOLLOWER_GONE_MS}. */
  listening(now: number): boolean {
    return this.live(now).length > 0;
  }
}
