// mulberry32: a small seeded generator of uniform numbers in [0, 1), so a bench's random
// choices (kill times, journals, simulated evals) replay exactly from the printed seed.
// Not for anything that needs statistical quality beyond a benchmark's. createRandom adds normals
// and independent streams keyed by integers (session, rule), for the decision simulations.

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes integer keys into one 32-bit seed (murmur3 finalizer), so streams are independent. */
function seedFrom(keys: readonly number[]): number {
  let hash = 0x9e3779b9;
  for (const key of keys) {
    hash = Math.imul(hash ^ (key >>> 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

export interface Random {
  uniform(): number;
  normal(): number;
}

/** mulberry32 for uniforms, Box-Muller (both outputs used) for standard normals. */
export function createRandom(...keys: number[]): Random {
  const uniform = seededRandom(seedFrom(keys));
  let spareNormal: number | null = null;
  function normal(): number {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - uniform())); // 1 - u avoids log(0)
    const angle = 2 * Math.PI * uniform();
    spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
  return { uniform, normal };
}
