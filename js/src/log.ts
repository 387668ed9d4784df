/**
 * Structured log records: what the package reports to the application's `logger`, filtered by
 * level.
 *
 * @module
 */

import type { SyncState, TargetKind } from './types.js';

/** A record's severity, from least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log record. */
export interface LogRecord {
  /** Severity. */
  readonly level: LogLevel;
  /** What happened, e.g. `sync.transition` (the README lists every event). */
  readonly event: string;
  /** The same as one readable sentence. */
  readonly message: string;
  /** The sync target concerned. */
  readonly target?: TargetKind;
  /** The entity concerned. */
  readonly entityId?: string;
  /** The model tag concerned. */
  readonly model?: string;
  /** The sync state after the event. */
  readonly state?: SyncState;
  /** Event-specific fields (transition, error, transaction id, ...). */
  readonly data?: { readonly [field: string]: unknown };
  /** Clock time of the record (ms). */
  readonly at: number;
}

/**
 * Receives the package's log records. Every method is optional: `log`, when present, receives
 * each record; otherwise the method of the record's level receives its message and the record
 * (so `console` works as a logger).
 */
export interface Logger {
  /** Records of a level whose method below is absent (a logger with only `log` gets them all). */
  log?(record: LogRecord): void;
  /** Debug records (ticks). */
  debug?(message: string, record?: LogRecord): void;
  /** Info records (ready, transitions, worker start/stop, overlay confirmations). */
  info?(message: string, record?: LogRecord): void;
  /** Warn records (non-fatal errors, rollbacks, timeouts). */
  warn?(message: string, record?: LogRecord): void;
  /** Error records (fatal errors). */
  error?(message: string, record?: LogRecord): void;
}

/** Every level, least severe first. */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

/** What a record carries besides its level, event, message and time. */
export type LogFields = Omit<LogRecord, 'level' | 'event' | 'message' | 'at'>;

/** Builds records, filters them by level and hands them to a {@link Logger}. */
export class LogSink {
  private readonly min: number;

  /** A sink for `logger` (nothing is built without one) keeping records at or above `level`. */
  constructor(
    private readonly logger: Logger | undefined,
    level: LogLevel,
    private readonly now: () => number,
  ) {
    this.min = logLevels.indexOf(level);
  }

  /** Delivers one record if its level passes; a throwing logger is ignored. */
  emit(level: LogLevel, event: string, message: string, fields: LogFields = {}): void {
    const logger = this.logger;
    if (!logger || logLevels.indexOf(level) < this.min) return;
    const record: LogRecord = { level, event, message, ...fields, at: this.now() };
    try {
      const byLevel = logger[level];
      if (byLevel) byLevel.call(logger, message, record);
      else logger.log?.(record);
    } catch {
      // A logger's own failure must not stop sync; there is nowhere left to report it.
    }
  }
}

/** The entity id and model an error carries, as record fields. */
export function errorFields(details: { readonly [field: string]: unknown }): LogFields {
  const fields: { -readonly [K in keyof LogFields]: LogFields[K] } = {};
  if (typeof details.entityId === 'string') fields.entityId = details.entityId;
  if (typeof details.model === 'string') fields.model = details.model;
  return fields;
}
