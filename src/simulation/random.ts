/**
 * Seeded randomness for the simulation: the same seed gives the same report, so a change to the
 * decision core shows up as a change in the figures and nothing else.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  normal(): number;
  poisson(mean: number): number;
  binomial(n: number, p: number): number;
  /** Counts per category for `n` draws with probabilities `ps` (summing to 1). */
  multinomial(n: number, ps: number[]): number[];
}

/** mulberry32: small, fast, and good enough for Monte Carlo at this scale. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // Box–Muller, keeping the second value for the next call.
    const u = next() || Number.MIN_VALUE;
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const poisson = (mean: number): number => {
    if (mean <= 0) return 0;
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
    // Knuth's multiplication method: exact, fine for small means.
    const limit = Math.exp(-mean);
    let k = 0;
    let product = next();
    while (product > limit) {
      k++;
      product *= next();
    }
    return k;
  };
  const binomial = (n: number, p: number): number => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n < 40) {
      let k = 0;
      for (let i = 0; i < n; i++) if (next() < p) k++;
      return k;
    }
    const mean = n * p;
    // Rare events: the Poisson limit is exact enough and keeps the discreteness that matters most here.
    if (p < 0.05 && mean < 50) return Math.min(n, poisson(mean));
    const sd = Math.sqrt(mean * (1 - p));
    return Math.min(n, Math.max(0, Math.round(mean + sd * normal())));
  };
  const multinomial = (n: number, ps: number[]): number[] => {
    const out: number[] = [];
    let left = n;
    let mass = 1;
    for (let i = 0; i < ps.length; i++) {
      if (i === ps.length - 1 || left === 0) {
        out.push(left);
        left = 0;
        continue;
      }
      const k = mass > 0 ? binomial(left, Math.min(1, ps[i]! / mass)) : 0;
      out.push(k);
      left -= k;
      mass -= ps[i]!;
    }
    return out;
  };
  return { next, normal, poisson, binomial, multinomial };
}
