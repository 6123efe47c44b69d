/**
 * What evaluating one flag costs, in this process: the compiled evaluator that serves the frontend
 * API and OFREP, and the stock SDK's engine (SnapshotEngine) beside it, over the bench's flags and
 * the same contexts the load runs send, each built as the frontend API builds it (validated,
 * environment filled in, a userId of its own). CPU time of evaluateAll in rounds of ~0.3 s after a
 * warm-up; the median round is reported, as µs per flag (the round's CPU time / requests / flags).
 *
 * Standalone: `npx tsx bench/evaluation-cost.ts` (BENCH_QUICK=1: fewer rounds) prints both engines' cost.
 */
import type { Context } from 'unleash-client';
import { CompiledEngine } from '../src/evaluation/compiled/compiled-engine.js';
import { contextSchema, toUnleashContext } from '../src/evaluation/context.js';
import type { EvaluationEngine } from '../src/evaluation/flag-catalog.js';
import { fillDefaults } from '../src/evaluation/server-evaluation.js';
import { SnapshotEngine } from '../src/evaluation/unleash-engine.js';
import type { ClientFeature, ClientSegment } from '../src/flags/client-feature.js';
import type { BenchContext } from './evaluation-requests.js';
import type { Fixture } from './fixture.js';

export interface EvaluationCost {
  flags: number;
  contexts: number;
  /** µs of CPU per flag evaluated (median round), and per request of every flag. */
  compiled: { usPerFlag: number; usPerRequest: number; rounds: number };
  stock: { usPerFlag: number; usPerRequest: number; rounds: number };
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function measure(engine: EvaluationEngine, contexts: Context[], rounds: number, roundS: number): { usPerFlag: number; usPerRequest: number; rounds: number } {
  const flags = engine.flagNames.length;
  let i = 0;
  const warmupUntil = cpuSeconds() + roundS * 2;
  while (cpuSeconds() < warmupUntil) engine.evaluateAll(contexts[i++ % contexts.length]!);
  const perRequest: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = cpuSeconds();
    let n = 0;
    // Check the clock every 50 requests: reading it costs more than a compiled request.
    while (cpuSeconds() - start < roundS) for (let k = 0; k < 50; k++, n++) engine.evaluateAll(contexts[i++ % contexts.length]!);
    perRequest.push(((cpuSeconds() - start) / n) * 1e6);
  }
  perRequest.sort((a, b) => a - b);
  const usPerRequest = perRequest[Math.floor(rounds / 2)]!;
  return { usPerFlag: Math.round((usPerRequest / flags) * 1000) / 1000, usPerRequest: Math.round(usPerRequest * 10) / 10, rounds };
}

export function measureEvaluationCost(fixture: Fixture, benchContexts: BenchContext[], quick: boolean): EvaluationCost {
  const features = () => structuredClone(fixture.features) as unknown as ClientFeature[];
  const segments = () => structuredClone(fixture.segments) as unknown as ClientSegment[];
  const contexts = benchContexts.map((c, n) => fillDefaults(toUnleashContext(contextSchema.parse({ ...c, userId: String(n + 1) })), 'production'));
  const rounds = quick ? 3 : 7;
  const compiled = measure(new CompiledEngine(features(), segments()), contexts, rounds, 0.3);
  const stock = measure(new SnapshotEngine(features(), segments()), contexts, rounds, 0.3);
  return { flags: fixture.features.length, contexts: contexts.length, compiled, stock };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { buildFixture } = await import('./fixture.js');
  const { realisticContexts } = await import('./evaluation-requests.js');
  const cost = measureEvaluationCost(buildFixture(200), realisticContexts(1_000), process.env.BENCH_QUICK === '1');
  console.log(JSON.stringify(cost, null, 2));
}
