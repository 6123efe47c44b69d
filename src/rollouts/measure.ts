import type { OutcomeFields, OutcomeSource } from '../metrics/outcome-model.js';
import { sumFields, totalsOfSum } from '../metrics/outcome-fields.js';
import { emptyTotals } from '../metrics/outcome-math.js';
import type { MetricQueryProvider, QueryResult } from '../metrics/prometheus/index.js';
import type { DecisionInput, Measurements } from './rollout-model.js';
import type { RolloutWithoutHistory } from './rollout-docs.js';
import { queriesFor } from './query-checks.js';
import { releaseOutcomeKey } from '../metrics/outcomes.js';
import { TrafficMeasure, type TrafficMeasureDeps, type TrafficStore } from './measure-traffic.js';

/**
 * The first stage of an analysis: what the rollouts' checks need, read for a batch at once. Outcomes
 * since each step began and over the last interval, the traffic SDKs and applications reported
 * (measure-traffic.ts), and the policy's PromQL checks. Nothing here decides anything; a read that
 * fails makes the analysis inconclusive.
 */

/** The shortest window a PromQL check is given: rate() over less than two scrapes says nothing. */
const MIN_QUERY_WINDOW_MS = 60_000;

export interface MeasureDeps {
  /** Only read (exposures, fetches, users); a read-only replay hands in the counters it loaded. */
  store: TrafficStore;
  outcomes: OutcomeSource;
  /** Runs the policies' PromQL checks (gates and rollback rules with a `query`). */
  queries?: MetricQueryProvider;
  /** When SDKs hold a rollout's step, for the traffic checks (see measure-traffic.ts). */
  stepRevision?: TrafficMeasureDeps['stepRevision'];
  now: () => Date;
}

export class Measure {
  private readonly traffic: TrafficMeasure;

  constructor(private readonly deps: MeasureDeps) {
    this.traffic = new TrafficMeasure({ store: deps.store, stepRevision: deps.stepRevision });
  }

  /**
   * Outcomes since the step began and over the last interval, for several rollouts in one read; a
   * provider failure is inconclusive, never a verdict. Complete buckets are added once to each
   * rollout's running step totals, so an analysis reads only the buckets since the last one plus
   * the bucket still filling.
   */
  async many(all: RolloutWithoutHistory[]): Promise<DecisionInput[]> {
    // A scheduled rollout has no step to measure: its analysis only asks whether its time has come.
    if (all.some((r) => r.state === 'scheduled')) {
      const measured = await this.many(all.filter((r) => r.state !== 'scheduled'));
      return all.map((r) => (r.state === 'scheduled' ? NOTHING_MEASURED : measured.shift()!));
    }
    const rollouts = all;
    const now = this.deps.now().getTime();
    const bucketMs = this.deps.outcomes.bucketMs;
    const segments = rollouts.map((r) => stepSegments(r, now, bucketMs));
    // A release reads each of its flags and its own release-level reports; a rollout, its flag.
    const sources = rollouts.map(outcomeSources);
    try {
      // The step and the recent window overlap; they are read as disjoint segments, so the store sums
      // each bucket once, and the windows are put back together here. A release's flags also read
      // their step before the kept totals, to be judged alone (see judge-step.ts).
      const queries = rollouts.flatMap((r, i) =>
        sources[i]!.map((flag) => ({
          environment: r.environment,
          flag,
          windows: r.release && flag !== sources[i]!.at(-1) ? [...segments[i]!.windows, keptPart(r, segments[i]!, bucketMs)] : segments[i]!.windows,
        })),
      );
      const read = await this.deps.outcomes.sumWindowsMany(queries);
      const [traffic, queried] = await Promise.all([this.traffic.many(rollouts, now), this.queries(rollouts, now)]);
      let next = 0;
      return rollouts.map((r, i) => {
        const mine = read.slice(next, (next += sources[i]!.length));
        const parts = mine.length === 1 ? mine[0]! : [0, 1, 2, 3].map((k) => sumFields(...mine.map((w) => w[k]!)));
        const [beforeStep, completedOlder, completedRecent, filling] = parts as [OutcomeFields, OutcomeFields, OutcomeFields, OutcomeFields];
        // The kept step sums are added as flat fields (cheap); the windows are made into per-cohort
        // totals straight from their parts.
        const stepTotals = { fields: sumFields(r.stepTotals?.fields ?? {}, completedOlder, completedRecent), until: segments[i]!.until };
        const measurements: Measurements = {
          step: totalsOfSum(stepTotals.fields, filling),
          recent: totalsOfSum(beforeStep, completedRecent, filling),
          stepTotals,
        };
        if (r.release) {
          measurements.perFlag = r.release.flags.map((flag, f) => {
            const [before, , recent, filled] = mine[f]! as [OutcomeFields, OutcomeFields, OutcomeFields, OutcomeFields];
            return { flag, step: totalsOfSum(...mine[f]!.slice(1)), recent: totalsOfSum(before, recent, filled) };
          });
        }
        Object.assign(measurements, traffic.get(r));
        const q = queried.get(r);
        if (q) measurements.queries = q;
        return { kind: 'analysis', measurements };
      });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return rollouts.map(() => ({ kind: 'provider-error', error }));
    }
  }

  /**
   * The policy's PromQL checks, for the rollouts that have any: gates over the step so far,
   * rollback rules over the last interval — both at least a minute, as rate() needs two scrapes.
   * The provider turns every failure into an inconclusive result, so nothing here throws.
   */
  private async queries(rollouts: RolloutWithoutHistory[], now: number): Promise<Map<RolloutWithoutHistory, Record<string, QueryResult>>> {
    const out = new Map<RolloutWithoutHistory, Record<string, QueryResult>>();
    const provider = this.deps.queries;
    await Promise.all(
      rollouts.map(async (r) => {
        const gates = r.plan.gates.flatMap((gate, index) => ('query' in gate ? [{ index, gate }] : []));
        const rules = r.plan.rollback.flatMap((rule, index) => ('query' in rule ? [{ index, rule }] : []));
        if (gates.length === 0 && rules.length === 0) return;
        const results: Record<string, QueryResult> = {};
        const wanted = queriesFor(
          gates,
          rules,
          Math.max(MIN_QUERY_WINDOW_MS, now - Date.parse(r.stepStartedAt)),
          Math.max(MIN_QUERY_WINDOW_MS, r.plan.analysisInterval),
        );
        await Promise.all(
          wanted.map(async (q) => {
            results[q.key] = provider
              ? await provider.query(q.query, { flag: r.flag, environment: r.environment, cohort: q.cohort, windowMs: q.windowMs }, new Date(now))
              : { kind: 'inconclusive', reason: 'no metric provider configured (set PROMETHEUS_URL)' };
          }),
        );
        out.set(r, results);
      }),
    );
    return out;
  }
}

const NOTHING_MEASURED: DecisionInput = { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } };

/** Where a rollout's outcomes are counted: its flag, or a release's flags and its release-level reports. */
function outcomeSources(r: RolloutWithoutHistory): string[] {
  return r.release ? [...r.release.flags, releaseOutcomeKey(r.release.name)] : [r.flag];
}

/** The part of the step before the unread buckets (what the kept totals hold), for a release's flags judged alone. */
function keptPart(r: RolloutWithoutHistory, segments: ReturnType<typeof stepSegments>, bucketMs: number): [number, number] {
  const stepStart = Math.floor(Date.parse(r.stepStartedAt) / bucketMs) * bucketMs;
  const from = r.stepTotals?.until ?? stepStart;
  return [stepStart, Math.max(stepStart, Math.min(from, segments.until))];
}

/**
 * The windows one analysis reads, as four disjoint segments of whole buckets:
 *   [recentStart, from)   the recent window's part before the step's unread buckets (only while the step is younger than an interval),
 *   [from, cut)           complete buckets since the last analysis, older than the recent window,
 *   [cut, until)          complete buckets since the last analysis, inside the recent window,
 *   [until, now]          the bucket still filling.
 * The step adds the last three to its kept totals; the recent window is the first plus the last two.
 */
export function stepSegments(
  r: Pick<RolloutWithoutHistory, 'stepTotals' | 'stepStartedAt' | 'plan'>,
  now: number,
  bucketMs: number,
): { windows: Array<[number, number]>; until: number } {
  const start = (t: number) => Math.floor(t / bucketMs) * bucketMs;
  const from = r.stepTotals?.until ?? start(Date.parse(r.stepStartedAt));
  const until = Math.max(from, start(now));
  const recentStart = start(now - r.plan.analysisInterval);
  const cut = Math.min(until, Math.max(from, recentStart));
  return {
    windows: [
      [recentStart, Math.max(recentStart, from)],
      [from, cut],
      [cut, until],
      [until, now + 1],
    ],
    until,
  };
}
