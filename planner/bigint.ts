/**
 * The planner's small exact helpers (one home for them): bigint min/max/clamp and division, code-unit string
 * order, and appending to a map of lists. Pure, no floats.
 */

/** Code-unit order of two strings (locale independent), for deterministic sorting. */
export const cmpKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** The smallest of one or more bigints. */
export const minB = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x < m ? x : m));
/** The largest of one or more bigints. */
export const maxB = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x > m ? x : m));
/** `max(x, 0)`. */
export const pos = (x: bigint): bigint => (x > 0n ? x : 0n);
/** `⌈a / b⌉` for `a ≥ 0`, `b > 0`. */
export const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Appends `v` to the list of `k` in place (a copy per append would make building a model quadratic). */
export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
