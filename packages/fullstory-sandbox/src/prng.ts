/**
 * A small, fast, seedable PRNG (mulberry32). Not cryptographic: it only has to make generated
 * bundles and probabilistic faults repeatable for a seed.
 */
export type Random = () => number;

/** Returns a function yielding floats in [0, 1), deterministic for `seed` (any 32-bit integer). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string to a 32-bit integer: turns (seed, bundle id) into one PRNG seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
