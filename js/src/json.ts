/**
 * BigInt-safe JSON: wide integers (u64, u128, u256, i64, i128) are `BigInt`s, which
 * `JSON.stringify` refuses with a TypeError. {@link stringify} writes each as
 * `{"$bigint":"<decimal>"}` and {@link parse} reads those back as `BigInt`s, so entities
 * round-trip; {@link bigintReplacer} writes them as decimal strings for display or a server.
 *
 * @module
 */

/** The property a `BigInt` is written under by {@link stringify}. */
const TAG = '$bigint';

/** A `JSON.stringify` replacer writing each `BigInt` as its decimal string (one way: strings stay strings). */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** `JSON.stringify` that writes each `BigInt` as `{"$bigint":"<decimal>"}`; {@link parse} reads it back. */
export function stringify(value: unknown, space?: string | number): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { [TAG]: v.toString() } : v), space);
  // `JSON.stringify` returns undefined for undefined, functions and symbols.
  return text ?? 'null';
}

/**
 * `JSON.parse` that reads each `{"$bigint":"<decimal>"}` (an object with that one property, an
 * integer's decimal digits) as a `BigInt`. Throws a SyntaxError for text that is not JSON.
 */
export function parse(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    const digits = keys.length === 1 && keys[0] === TAG ? (value as { readonly [TAG]: unknown })[TAG] : undefined;
    return typeof digits === 'string' && /^-?\d+$/.test(digits) ? BigInt(digits) : value;
  });
}
