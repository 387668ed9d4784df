/**
 * A worker's side of a game deploy (see `docs/tabs.md`, "During a deploy"): tabs of two code
 * versions on one database. Every cross-tab message carries its sender's manifest hash. A
 * follower that hears a leader of another manifest does not apply its DELTAs (it re-reads the
 * database instead, which restores only the models its own manifest describes as stored), and
 * asks Torii (through its wasm worker) which manifest is current: its own → it takes over;
 * Torii contradicts its own → it reports `OutdatedManifestError` once and leaves the election
 * for good (it never writes).
 *
 * @module
 */

import type { ManifestJudgement } from '../wasm/dojo_reactive.js';
import type { ReactiveErrorInfo } from './errors.js';

export type { ManifestJudgement };

/** How often a follower asks Torii about a leader of another manifest (ms). */
export const JUDGE_EVERY_MS = 5000;

/** How long a follower waits before re-reading the database after a dropped DELTA (ms). */
export const REREAD_AFTER_MS = 1000;

/** What a {@link ManifestWatch} asks of its tab. */
export interface ManifestHooks {
  /** Asks Torii about this tab's manifest; rejects when the tab has no open worker (reopening). */
  judge(): Promise<ManifestJudgement>;
  /** This tab's manifest is the current one: take the database over. */
  takeOver(): void;
  /** This tab's manifest is outdated: report `error`, never write again. */
  outdated(error: ReactiveErrorInfo): void;
  /** Re-reads the database into the view. */
  reread(): void;
}

/** One tab's watch over the manifests of the tabs it hears. */
export class ManifestWatch {
  /** Set once Torii contradicted this tab's manifest. */
  private gone = false;
  private judging = false;
  private judgedAt = -Infinity;
  private reread: ReturnType<typeof setTimeout> | undefined;

  /** A watch for a tab of manifest `own` (`undefined` until its worker opened). */
  constructor(
    public own: string | undefined,
    private readonly hooks: ManifestHooks,
  ) {}

  /** Whether Torii contradicted this tab's manifest (it must not write). */
  get outdated(): boolean {
    return this.gone;
  }

  /** Whether a message of a sender with manifest `manifest` is of another code version. */
  differs(manifest: string | undefined): boolean {
    return manifest !== undefined && this.own !== undefined && manifest !== this.own;
  }

  /** The leader runs another manifest: ask Torii which one is current (at most every 5 s). */
  heardOther(): void {
    const now = Date.now();
    if (this.gone || this.judging || now - this.judgedAt < JUDGE_EVERY_MS) return;
    this.judging = true;
    this.judgedAt = now;
    this.hooks
      .judge()
      .then((judgement) => {
        if (judgement.verdict === 'current') this.hooks.takeOver();
        else if (judgement.verdict === 'outdated') this.report(judgement.error);
      })
      .catch(() => {
        // No open worker (a change of role): the next heartbeat asks again.
        this.judgedAt = -Infinity;
      })
      .finally(() => {
        this.judging = false;
      });
  }

  /** A DELTA of another manifest was dropped: re-read the database soon (once per burst). */
  dropped(): void {
    if (this.reread !== undefined) return;
    this.reread = setTimeout(() => {
      this.reread = undefined;
      this.hooks.reread();
    }, REREAD_AFTER_MS);
  }

  /** Torii contradicts this tab's manifest: reported once. */
  report(error: ReactiveErrorInfo): void {
    if (this.gone) return;
    this.gone = true;
    this.hooks.outdated(error);
  }

  /** Stops the pending re-read. */
  stop(): void {
    if (this.reread !== undefined) clearTimeout(this.reread);
    this.reread = undefined;
  }
}
