/**
 * Structural equality of query results, so unchanged results keep their identity.
 *
 * @module
 */

/**
 * Whether two values (plain objects, arrays, primitives, bigints) are structurally equal. Objects
 * compare by their own enumerable keys only (prototypes are not compared, nothing inherited is
 * read), so keys named `__proto__`, `constructor` or `prototype` compare like any other.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) {
      if (!deepEqual(a[i], b[i])) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as { readonly [key: string]: unknown };
  const right = b as { readonly [key: string]: unknown };
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(right, key) || !deepEqual(left[key], right[key])) {
      return false;
    }
  }
  return true;
}
