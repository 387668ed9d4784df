/**
 * `client.targets`: the client's sync targets, changed at run time. Every change goes to the
 * sync worker, which updates its live subscription in place (one stream per kind, however many
 * targets) and pages what the change adds; a target's status comes from the SYNC_TICKs (before
 * its kind's first tick, from INIT_ACK or, before it, its kind's RESTORED: the targets restored
 * complete from the database), an event log's from its EVENTS batches as the page applied them.
 *
 * @module
 */

import { ValidationError } from './errors.js';
import { checkTarget, checkTargets } from './options.js';
import type { EventLogState } from './events.js';
import type { SyncStatus } from './session.js';
import type { Signal } from './stream.js';
import type { SyncTargetSpec, SyncTargetStatus, WorkerConfig } from './types.js';
import { Check } from './validate.js';

/** The sync targets of a client (`client.targets`). */
export interface SyncTargets {
  /** Every target, in order, and whether each is complete as last defined. */
  list(): readonly SyncTargetStatus[];
  /** Adds a target; resolves once the sync worker took it (rejects with a `ValidationError` for a bad one or a taken id). */
  add(target: SyncTargetSpec): Promise<void>;
  /** Replaces the target with the same id (paging only what the new definition adds where that is exact). */
  update(target: SyncTargetSpec): Promise<void>;
  /** Removes a target; what no other target covers leaves the store unless `targetRetention: 'keep'`. */
  remove(id: string): Promise<void>;
  /** Resolves once the target with this id is complete as last defined (rejects for an unknown id). */
  complete(id: string): Promise<void>;
}

/** What {@link TargetControl} needs of the session. */
export interface TargetSession {
  /** The status, whose ticks carry each target's state. */
  readonly status: Signal<SyncStatus>;
  /** Sends the targets to the worker; resolves their digests by id. */
  setTargets(targets: readonly SyncTargetSpec[]): Promise<{ readonly [id: string]: string }>;
}

/** What {@link TargetControl} needs of the event logs: where each stands, and when that changes. */
export interface EventLogStates {
  /** Where the log of target `id` stands. */
  state(id: string): EventLogState;
  /** Calls `listener` after every batch applied; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** The targets a configuration syncs: its `targets`, or the whole-kind ones of `models`. */
function initialTargets(config: WorkerConfig): SyncTargetSpec[] {
  if (config.targets) return [...config.targets];
  const whole: SyncTargetSpec[] = [{ id: 'entities', kind: 'entities' }];
  if (config.eventMessages) whole.push({ id: 'eventMessages', kind: 'eventMessages' });
  return whole;
}

/** {@link SyncTargets} over a session. */
export class TargetControl implements SyncTargets {
  private targets: SyncTargetSpec[];
  /** The digest of each target's definition by id (unknown for the configured ones). */
  private digests = new Map<string, string>();
  /** Changes run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    config: WorkerConfig,
    private readonly session: TargetSession,
    private readonly open: (where: string) => Check,
    private readonly eventLogs: EventLogStates,
  ) {
    this.targets = initialTargets(config);
  }

  list(): readonly SyncTargetStatus[] {
    const { ticks, init, restoring } = this.session.status.get();
    return this.targets.map((target) => {
      const digest = this.digests.get(target.id);
      // An event log has no synchronizer: its batches say where it stands (docs/events.md).
      if (target.kind === 'eventLog') return { id: target.id, kind: target.kind, ...this.eventLogs.state(target.id) };
      // Until its kind ticks, a target stands as the restore left it (INIT_ACK, or before it
      // its kind's RESTORED once that kind's stored data is in the view).
      const states = ticks[target.kind]?.targets ?? init?.targets?.[target.kind] ?? restoring?.[target.kind];
      const entry = states?.find(
        (t) =>
          (t.id === target.id || t.id.startsWith(`${target.id}~`)) && (digest === undefined || t.digest === digest),
      );
      return { id: target.id, kind: target.kind, complete: entry?.complete ?? false };
    });
  }

  async add(target: SyncTargetSpec): Promise<void> {
    const check = this.open('targets.add');
    const checked = checkTarget(check, 'target', target);
    return this.change(check, (targets) => {
      if (targets.some((t) => t.id === checked.id)) throw check.fail('target.id', 'an id no target has', checked.id);
      return [...targets, checked];
    });
  }

  async update(target: SyncTargetSpec): Promise<void> {
    const check = this.open('targets.update');
    const checked = checkTarget(check, 'target', target);
    return this.change(check, (targets) => {
      const at = targets.findIndex((t) => t.id === checked.id);
      if (at < 0) throw check.fail('target.id', 'the id of a target', checked.id);
      return targets.map((t, i) => (i === at ? checked : t));
    });
  }

  async remove(id: string): Promise<void> {
    const check = this.open('targets.remove');
    check.string('id', id);
    return this.change(check, (targets) => {
      if (!targets.some((t) => t.id === id)) throw check.fail('id', 'the id of a target', id);
      return targets.filter((t) => t.id !== id);
    });
  }

  async complete(id: string): Promise<void> {
    const check = this.open('targets.complete');
    check.string('id', id);
    // After the changes asked for so far: their digests are known then.
    return this.queue.then(
      () =>
        new Promise<void>((resolve, reject) => {
          const settled = () => {
            const status = this.list().find((t) => t.id === id);
            if (!status) reject(check.fail('id', 'the id of a target', id));
            else if (status.complete) resolve();
            else return false;
            return true;
          };
          if (settled()) return;
          const stop = () => {
            unsubscribe();
            unlisten();
          };
          const unlisten = this.eventLogs.onChange(() => {
            if (settled()) stop();
          });
          const unsubscribe = this.session.status.subscribe(
            () => {
              if (settled()) stop();
            },
            () => {
              unlisten();
              reject(new ValidationError('targets.complete: the client was shut down', { where: 'targets.complete' }));
            },
          );
        }),
    );
  }

  /** Applies `next` to the targets once the changes before it are done, and sends the result. */
  private change(check: Check, next: (targets: readonly SyncTargetSpec[]) => SyncTargetSpec[]): Promise<void> {
    const run = this.queue.then(async () => {
      const targets = checkTargets(check, 'targets', next(this.targets));
      const digests = await this.session.setTargets(targets);
      this.targets = targets;
      this.digests = new Map(Object.entries(digests));
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
