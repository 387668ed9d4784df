/**
 * Argument checks of the public functions: each refusal is a {@link ValidationError} naming the
 * function and the argument.
 *
 * @module
 */

import { ValidationError } from './errors.js';

/** A function name and its argument checks. */
export class Check {
  /** Checks for the arguments of `where`. */
  constructor(readonly where: string) {}

  /** The error for `argument`. */
  fail(argument: string, expected: string, got: unknown): ValidationError {
    return new ValidationError(
      `${this.where}: \`${argument}\` must be ${expected}, got ${describe(got)}`,
      { where: this.where, argument },
    );
  }

  /** A non-empty string. */
  string(argument: string, value: unknown): string {
    if (typeof value !== 'string' || value === '') throw this.fail(argument, 'a non-empty string', value);
    return value;
  }

  /** An optional non-empty string. */
  optionalString(argument: string, value: unknown): string | undefined {
    return value === undefined ? undefined : this.string(argument, value);
  }

  /** An optional finite number from `min` to `max` (integer when `integer`). */
  optionalCount(argument: string, value: unknown, integer = true, min = 0, max = Infinity): number | undefined {
    if (value === undefined) return undefined;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < min ||
      (integer && !Number.isInteger(value))
    ) {
      throw this.fail(argument, `${integer ? 'an integer' : 'a number'} ≥ ${min}`, value);
    }
    if (value > max) throw this.fail(argument, `${integer ? 'an integer' : 'a number'} ≤ ${max}`, value);
    return value;
  }

  /** An optional boolean. */
  optionalBoolean(argument: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.fail(argument, 'a boolean', value);
    return value;
  }

  /** A plain object (not null, not an array). */
  record(argument: string, value: unknown): { readonly [key: string]: unknown } {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(argument, 'an object', value);
    }
    return value as { readonly [key: string]: unknown };
  }

  /** An optional plain object. */
  optionalRecord(argument: string, value: unknown): { readonly [key: string]: unknown } | undefined {
    return value === undefined ? undefined : this.record(argument, value);
  }

  /** An optional function. */
  optionalFunction(argument: string, value: unknown): ((...args: never[]) => unknown) | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'function') throw this.fail(argument, 'a function', value);
    return value as (...args: never[]) => unknown;
  }

  /** A function. */
  func(argument: string, value: unknown): (...args: never[]) => unknown {
    if (typeof value !== 'function') throw this.fail(argument, 'a function', value);
    return value as (...args: never[]) => unknown;
  }

  /** An optional array of non-empty strings. */
  optionalStrings(argument: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.fail(argument, 'an array of strings', value);
    return value.map((item, i) => this.string(`${argument}[${i}]`, item));
  }

  /** One of the listed strings, or undefined. */
  optionalOneOf<T extends string>(argument: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw this.fail(argument, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
    }
    return value as T;
  }

  /** Refuses keys that are not listed (catches misspelt options). */
  knownKeys(argument: string, value: { readonly [key: string]: unknown }, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        throw new ValidationError(
          `${this.where}: unknown option \`${argument}.${key}\` (known: ${known.join(', ')})`,
          { where: this.where, argument: `${argument}.${key}` },
        );
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}
