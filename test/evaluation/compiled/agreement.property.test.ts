import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { Context } from 'unleash-client';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledEngine } from '../../../src/evaluation/compiled/compiled-engine.js';
import type { Evaluation } from '../../../src/evaluation/evaluation.js';
import { SnapshotEngine } from '../../../src/evaluation/unleash-engine.js';
import { caseFor } from './contexts.js';
import { allFlagSets, valuePools } from './flag-sets.js';

/**
 * Property: over every state of Unleash's client specification, the bench's 200 flags, the SDK
 * tests' fixture and a set of edge cases, the compiled evaluator gives exactly the stock engine's
 * answer (on/off, variant, payload, impressionData, reason, cohort) for every flag and every
 * generated context. evaluateAll is compared (where a request's cached fields, hashes and segments
 * are shared across flags), and evaluate of one flag besides.
 *
 * Random stickiness: both engines draw from Math.random, which each case fixes to one value, so
 * their draws agree and the comparison is exact rather than statistical.
 *
 * COMPILED_PROPERTY_RUNS (default 100000) and COMPILED_PROPERTY_SEED (default: a fresh one) set the
 * run; a failure prints the seed (and fast-check's path) to replay it.
 */

const RUNS = Number(process.env.COMPILED_PROPERTY_RUNS ?? 100_000);
const SEED = process.env.COMPILED_PROPERTY_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.COMPILED_PROPERTY_SEED);

/** States whose flags are on for every context (a default strategy; 19's segment sits on the flag, where SDKs do not read it). */
const ONE_ANSWER_ONLY = new Set(['18-utf8-flag-names', '19-delta-api-hydration']);

const sets = allFlagSets().map((set) => ({
  ...set,
  stock: new SnapshotEngine(structuredClone(set.features), structuredClone(set.segments)),
  compiled: new CompiledEngine(structuredClone(set.features), structuredClone(set.segments)),
  arbitrary: caseFor(valuePools(set)),
}));

const seen = {
  perSet: sets.map(() => ({ cases: 0, on: 0, off: 0 })),
  reasons: new Set<string>(),
  variants: 0,
  payloads: 0,
};

function withRandom<T>(value: number, run: () => T): T {
  const original = Math.random;
  Math.random = () => value;
  try {
    return run();
  } finally {
    Math.random = original;
  }
}

function describeCase(setName: string, context: Context, random: number): string {
  return `set "${setName}", random ${random}, context ${JSON.stringify(context)}`;
}

/** Every flag of one set for one context, by both engines; throws on the first difference. */
function compare(index: number, context: Context, random: number, single: number): void {
  const set = sets[index]!;
  const [expected, actual, one] = withRandom(random, () => {
    const names = set.stock.flagNames;
    const name = names[single % Math.max(1, names.length)];
    return [set.stock.evaluateAll(context), set.compiled.evaluateAll(context), name === undefined ? undefined : set.compiled.evaluate(name, context)];
  });
  expect(actual.length).toBe(expected.length);
  const tally = seen.perSet[index]!;
  tally.cases++;
  for (const [i, want] of expected.entries()) {
    const got = actual[i]!;
    if (!isDeepStrictEqual(got, want))
      throw new Error(`${want.flag}: compiled ${JSON.stringify(got)} ≠ stock ${JSON.stringify(want)} (${describeCase(set.name, context, random)})`);
    record(tally, want);
  }
  if (one) {
    const want = expected[single % expected.length] as Evaluation;
    if (!isDeepStrictEqual(one, want))
      throw new Error(`evaluate(${want.flag}): compiled ${JSON.stringify(one)} ≠ stock ${JSON.stringify(want)} (${describeCase(set.name, context, random)})`);
  }
}

function record(tally: { on: number; off: number }, evaluation: Evaluation): void {
  if (evaluation.enabled) tally.on++;
  else tally.off++;
  seen.reasons.add(evaluation.reason);
  if (evaluation.variant.enabled) seen.variants++;
  if (evaluation.variant.payload) seen.payloads++;
}

describe('the compiled evaluator and the stock engine', () => {
  afterAll(() => {
    console.log(
      `compiled ≡ stock: ${RUNS} generated contexts (seed ${SEED}) over ${sets.length} flag sets; per set cases/on/off: ${sets
        .map((s, i) => `${s.name} ${seen.perSet[i]!.cases}/${seen.perSet[i]!.on}/${seen.perSet[i]!.off}`)
        .join('; ')}`,
    );
  });

  it("agree on the specification's own contexts", () => {
    let cases = 0;
    for (const [index, set] of sets.entries()) {
      for (const test of set.tests) {
        for (const random of [0, 0.5, 0.999999]) compare(index, test.context, random, cases++);
      }
    }
    expect(cases).toBeGreaterThan(270 * 3);
  });

  it(`agree on ${RUNS.toLocaleString('en-US')} generated contexts over every flag set (seed ${SEED})`, { timeout: 900_000 }, () => {
    const arbitrary = fc.integer({ min: 0, max: sets.length - 1 }).chain((index) => fc.tuple(fc.constant(index), sets[index]!.arbitrary, fc.nat()));
    fc.assert(
      fc.property(arbitrary, ([index, generated, single]) => compare(index, generated.context, generated.random, single)),
      { numRuns: RUNS, seed: SEED },
    );
    // Not vacuous: every set was evaluated many times, and came out both on and off where it can.
    for (const [i, set] of sets.entries()) {
      const tally = seen.perSet[i]!;
      expect(tally.cases, set.name).toBeGreaterThan(RUNS / sets.length / 3);
      if (!ONE_ANSWER_ONLY.has(set.name)) expect(tally.on * tally.off, `${set.name}: both answers`).toBeGreaterThan(0);
    }
    expect([...seen.reasons].sort()).toEqual(['DEFAULT', 'DISABLED', 'SPLIT', 'STATIC', 'TARGETING_MATCH']);
    expect(seen.payloads).toBeGreaterThan(RUNS / 10);
  });
});
