import { emptyTotals } from '../metrics/outcome-math.js';
import { totalsOf } from '../metrics/outcome-fields.js';
import type { Cohort, OutcomeSource, OutcomeTotals } from '../metrics/outcome-model.js';
import { stepPlans, type MetricName, type OutcomeGate, type RollbackRule } from '../policies/policy-schema.js';
import { evaluateGate, metricValue } from '../rollouts/checks.js';
import { isFinal, type Rollout } from '../rollouts/rollout-model.js';

/**
 * A rollout's outcomes over time, for the dashboard's charts: the outcome buckets of its flag and
 * environment since it started, grouped into at most MAX_POINTS points (one chart stays a few
 * kilobytes however long the rollout runs), with each gate's threshold alongside.
 */

export const MAX_POINTS = 120;
/** Always charted, whatever the gates use. */
const BASE_METRICS: MetricName[] = ['error_rate', 'latency_p99_ms'];

export interface CohortSeries {
  requests: number[];
  errors: number[];
  /** Per metric, one value per point; null where the point has no data. */
  metrics: Partial<Record<MetricName, Array<number | null>>>;
}

export interface ChartedGate {
  rule: string;
  metric: MetricName;
  cohort: Cohort;
  /** Absolute gates: the fixed maximum. */
  max?: number;
  /** Gates against control: the threshold is control × (1 + this), point by point. */
  maxRelativeIncrease?: number;
}

export interface ChartedRollbackRule {
  metric: MetricName;
  cohort: Cohort;
  above: number;
}

export interface RolloutSeries {
  from: number;
  to: number;
  pointMs: number;
  /** Start of each point (ms since the epoch). */
  times: number[];
  cohorts: Record<Cohort, CohortSeries>;
  gates: ChartedGate[];
  rollback: ChartedRollbackRule[];
  /** The served percentage as a step function: from `at` on, `percentage`. */
  percentage: Array<{ at: number; percentage: number; state: string }>;
  /** Start of the last point when it is still filling (an active rollout's current bucket): not a drop in traffic. */
  partialFrom?: number;
}

/** Point windows [start, end) aligned to buckets, covering [from, to), at most maxPoints of them. */
export function seriesWindows(from: number, to: number, bucketMs: number, maxPoints = MAX_POINTS): Array<[number, number]> {
  const start = Math.floor(from / bucketMs) * bucketMs;
  const buckets = Math.max(1, Math.ceil((to - start) / bucketMs));
  const pointMs = Math.ceil(buckets / maxPoints) * bucketMs;
  const windows: Array<[number, number]> = [];
  for (let t = start; t < Math.max(to, start + 1); t += pointMs) windows.push([t, t + pointMs]);
  return windows;
}

const round = (n: number | undefined) => (n === undefined ? null : Math.round(n * 1e6) / 1e6);

/** The metrics worth charting for a rollout: the base ones and whatever its gates and rollback rules judge. */
export function chartedMetrics(rollout: Rollout): MetricName[] {
  return [...new Set([...BASE_METRICS, ...outcomeGates(rollout).map((g) => g.metric), ...outcomeRules(rollout).map((r) => r.metric)])];
}

/** Gates and rules on the outcomes applications report: the ones these series can chart (PromQL checks live in Prometheus). */
const outcomeGates = (rollout: Rollout) => rollout.plan.gates.filter((g): g is OutcomeGate => !('query' in g));
const outcomeRules = (rollout: Rollout) => rollout.plan.rollback.filter((r): r is RollbackRule => !('query' in r));

function chartedGates(rollout: Rollout): ChartedGate[] {
  const firstStep = stepPlans(rollout.plan)[0]!;
  return outcomeGates(rollout).map((gate) => {
    // The rule's wording comes from the check itself, so the chart names the gate as the history does.
    const rule = evaluateGate(gate, emptyTotals(), firstStep).rule;
    return 'max' in gate
      ? { rule, metric: gate.metric, cohort: gate.cohort, max: gate.max }
      : { rule, metric: gate.metric, cohort: 'treatment', maxRelativeIncrease: gate.maxRelativeIncrease };
  });
}

/** The served percentage over time, from the history (a rollback or an abort serves nothing). */
function percentageSteps(rollout: Rollout): RolloutSeries['percentage'] {
  return [
    { at: Date.parse(rollout.createdAt), percentage: 0, state: 'pending' },
    ...rollout.history.map((h) => ({ at: Date.parse(h.at), percentage: h.to === 'rolled_back' || h.to === 'aborted' ? 0 : h.percentage, state: h.to })),
  ];
}

/** Pure: the series from the totals of each window (same order as the windows). */
export function buildSeries(rollout: Rollout, windows: Array<[number, number]>, totals: OutcomeTotals[], to: number, partialFrom?: number): RolloutSeries {
  const metrics = chartedMetrics(rollout);
  const cohort = (name: Cohort): CohortSeries => ({
    requests: totals.map((t) => t[name].requests),
    errors: totals.map((t) => t[name].errors),
    metrics: Object.fromEntries(metrics.map((m) => [m, totals.map((t) => round(metricValue(t[name], m)))])),
  });
  const first = windows[0]!;
  return {
    from: first[0],
    to,
    pointMs: first[1] - first[0],
    times: windows.map(([start]) => start),
    cohorts: { treatment: cohort('treatment'), control: cohort('control') },
    gates: chartedGates(rollout),
    rollback: outcomeRules(rollout).map((r) => ({ metric: r.metric, cohort: r.cohort, above: r.above })),
    percentage: percentageSteps(rollout),
    ...(partialFrom !== undefined ? { partialFrom } : {}),
  };
}

/**
 * Totals of points that can no longer change, per rollout, so that a page polled every two seconds
 * reads only its newest point from the store instead of every bucket since the rollout began.
 * A point is settled one bucket after it ends (reports count into the bucket they arrive in; the
 * extra bucket allows for replicas whose clocks differ a little). Least recently used rollouts go first.
 */
export class SeriesCache {
  private readonly rollouts = new Map<string, { key: string; settled: Map<number, OutcomeTotals> }>();
  constructor(private readonly maxRollouts = 200) {}

  /** The settled points of a rollout for this cut of windows (a new cut, as it grows, starts afresh). */
  settled(rolloutId: string, from: number, pointMs: number): Map<number, OutcomeTotals> {
    const key = `${from}:${pointMs}`;
    let entry = this.rollouts.get(rolloutId);
    this.rollouts.delete(rolloutId);
    if (!entry || entry.key !== key) entry = { key, settled: new Map() };
    this.rollouts.set(rolloutId, entry);
    if (this.rollouts.size > this.maxRollouts) this.rollouts.delete(this.rollouts.keys().next().value!);
    return entry.settled;
  }
}

/** Reads the rollout's outcome buckets from its start to now (or to its end, once final), in one round trip. */
export async function readRolloutSeries(outcomes: OutcomeSource, rollout: Rollout, now: Date, cache = new SeriesCache()): Promise<RolloutSeries> {
  const from = Date.parse(rollout.createdAt);
  const ended = isFinal(rollout.state) ? Date.parse(rollout.history.at(-1)?.at ?? rollout.updatedAt) : undefined;
  const windows = seriesWindows(from, Math.max(from + 1, ended ?? now.getTime()), outcomes.bucketMs);
  // An active rollout's chart reaches to the end of the point now filling, not to this millisecond,
  // so the answer (and its ETag) stays the same until a report or a transition changes it.
  // A finished rollout's chart runs one point past its end, so the drop to 0 % of a rollback shows.
  const to = ended !== undefined ? ended + (windows[0]![1] - windows[0]![0]) : windows.at(-1)![1];
  const settled = cache.settled(rollout.id, windows[0]![0], windows[0]![1] - windows[0]![0]);
  const missing = windows.filter(([start]) => !settled.has(start));
  const [read = []] = missing.length ? await outcomes.sumWindowsMany([{ environment: rollout.environment, flag: rollout.flag, windows: missing }]) : [];
  const totals = read.map(totalsOf);
  const fresh = new Map(missing.map(([start], i) => [start, totals[i]!]));
  missing.forEach(([start, end], i) => {
    if (end + outcomes.bucketMs <= now.getTime()) settled.set(start, totals[i]!);
  });
  const last = windows.at(-1)!;
  const partialFrom = ended === undefined && last[1] > now.getTime() ? last[0] : undefined;
  return buildSeries(
    rollout,
    windows,
    windows.map(([start]) => settled.get(start) ?? fresh.get(start)!),
    to,
    partialFrom,
  );
}
