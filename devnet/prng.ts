/**
 * mulberry32: a small seeded PRNG for reproducible simulations (synthetic market paths, fault
 * schedules, generated planner instances). Same seed, same sequence. Not for anything secret.
 * @returns a function giving floats in [0, 1) (multiply by 2^32 for the raw 32-bit integer).
 * @example const rng = mulberry32(42); rng(); // 0.6011037519201636
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
