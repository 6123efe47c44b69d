import type { Store, Versioned } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { ConflictError } from '../errors/app-error.js';
import type { OutcomeFields, OutcomeSource } from '../metrics/outcome-model.js';
import { sumFields, totalsOf } from '../metrics/outcome-fields.js';
import type { DecisionInput, Measurements, Rollout } from './rollout-model.js';
import { EXPOSURE_BUCKET_MS, sumExposuresMany, type ExposureCount } from '../metrics/exposures.js';
import type { MetricQueryProvider, QueryResult } from '../metrics/prometheus/index.js';
import { queriesFor } from './checks.js';
import type { Fence, RolloutService } from './rollout-service.js';

export const LEADER_LEASE = 'rollout-leader';
const CONTROLLER: Actor = { type: 'system', id: 'controller', name: 'controller' };

export interface LoopOptions {
  replicaId: string;
  /** How often the leader looks for due rollouts; each rollout is analysed once per its policy's interval. */
  tickMs: number;
  leaseTtlMs: number;
  /** Runs the policies' PromQL checks (gates and rollback rules with a `query`). */
  queries?: MetricQueryProvider;
  /** Rollouts read and written together: one outcome read and one commit per batch. */
  batchSize: number;
  /** Batches being written at the same time, while the next batch's outcomes are read. */
  concurrency: number;
  now: () => Date;
  /** Told of every pass, leader or not (metrics: tick duration, lease changes). Must not throw. */
  onTick?: (report: TickReport) => void;
}

export interface TickReport {
  leader: boolean;
  analysed: number;
  changed: number;
  errors: number;
  ms: number;
  /** Milliseconds until the next active rollout falls due (undefined when none is active). */
  nextDueInMs?: number;
}

/** Defaults: 100 rollouts per outcome read and commit, up to four such commits in flight. */
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_BATCHES_IN_FLIGHT = 4;

/** Batches whose outcome reads are on their way while one batch is decided and written. */
const READ_AHEAD = 2;

/** How long after a step starts its exposures begin to count for the traffic checks. */
const EXPOSURE_SETTLE_MS = 90_000;

/** The shortest window a PromQL check is given: rate() over less than two scrapes says nothing. */
const MIN_QUERY_WINDOW_MS = 60_000;

/** Never spin faster than this, however many rollouts fall due at once. */
const MIN_WAIT_MS = 5;

/**
 * The controller loop. Any number of replicas run it; the one holding the lease acts, and every
 * write it makes carries the lease's fencing token, so a replica that lost its lease (paused,
 * partitioned) can never write. All progress lives in the store, so a replica dying mid-tick leaves
 * nothing half-done: each rollout's step is one atomic commit, and the next leader carries on.
 */
export class RolloutLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickReport> | undefined;
  private token: number | undefined;

  constructor(
    private readonly store: Store,
    private readonly rollouts: RolloutService,
    private readonly outcomes: OutcomeSource,
    private readonly logger: Logger,
    private readonly opts: LoopOptions,
  ) {}

  start(): void {
    const loop = () => {
      this.running = this.tick().catch((err) => {
        this.logger.error({ err: String(err) }, 'rollout tick failed');
        return { leader: false, analysed: 0, changed: 0, errors: 1, ms: 0 } as TickReport;
      });
      void this.running.then((report) => {
        this.opts.onTick?.(report);
        // Wake when the next rollout falls due, so a breach is judged one analysis interval after the
        // last look rather than up to a whole tick later; the tick still bounds the wait (lease renewal).
        const wait = report.leader && report.nextDueInMs !== undefined ? Math.max(MIN_WAIT_MS, Math.min(this.opts.tickMs, report.nextDueInMs)) : this.opts.tickMs;
        if (this.timer !== undefined) this.timer = setTimeout(loop, wait);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.token !== undefined) await this.store.releaseLease(LEADER_LEASE, this.opts.replicaId).catch(() => {});
    this.token = undefined;
  }

  get isLeader(): boolean {
    return this.token !== undefined;
  }

  /** One pass: take or renew the lease, then analyse every active rollout whose interval has come round. */
  async tick(): Promise<TickReport> {
    const started = Date.now();
    const lease = await this.store.acquireLease(LEADER_LEASE, this.opts.replicaId, this.opts.leaseTtlMs).catch(() => null);
    if (!lease) {
      if (this.token !== undefined) this.logger.warn({ replica: this.opts.replicaId }, 'lost the controller lease');
      this.token = undefined;
      return { leader: false, analysed: 0, changed: 0, errors: 0, ms: Date.now() - started };
    }
    if (this.token !== lease.token) {
      this.logger.info({ replica: this.opts.replicaId, token: lease.token }, 'took the controller lease');
      this.rollouts.forgetRecords();
    }
    this.token = lease.token;
    const fence = { lease: LEADER_LEASE, token: lease.token };
    const now = this.opts.now().getTime();
    const docs = await this.rollouts.activeRecords();
    const counts = { changed: 0, errors: 0 };
    let analysed = 0;
    let active = 0;
    // When the next rollout falls due: one interval after the tick for those analysed now, at their time for the others.
    let shortestInterval = Number.POSITIVE_INFINITY;
    let nextPendingAt = Number.POSITIVE_INFINITY;
    let next = 0;
    const dueAt = (r: Rollout) => (r.lastEvaluatedAt ? Date.parse(r.lastEvaluatedAt) + r.plan.analysisInterval : now);
    // The next batch of due rollouts, looking through the records a batch at a time.
    const nextBatch = async (): Promise<Array<Versioned<Rollout>> | null> => {
      while (next < docs.length) {
        const due: Array<Versioned<Rollout>> = [];
        for (const doc of await this.rollouts.forAnalysis(docs.slice(next, (next += this.opts.batchSize)), (r) => dueAt(r) <= now)) {
          const r = doc.value;
          active++;
          if (dueAt(r) <= now) {
            due.push(doc);
            shortestInterval = Math.min(shortestInterval, r.plan.analysisInterval);
          } else nextPendingAt = Math.min(nextPendingAt, dueAt(r));
        }
        if (due.length > 0) return due;
      }
      return null;
    };
    // Batches are chosen one after another; their reads may overlap.
    let chosen: Promise<Array<Versioned<Rollout>> | null> = Promise.resolve([]);
    const measureNext = () => {
      const batch = (chosen = chosen.then((previous) => (previous ? nextBatch() : null)));
      return batch.then(async (b) => b && { batch: b, inputs: await this.measureMany(b.map((d) => d.value)) });
    };
    // Batches' outcomes are read ahead while the batch before is decided and committed. Redis sends
    // the replies to everything it read from a connection at once only after running all of it, so
    // reads sent together come back together, and this process and Redis would take turns being
    // idle; reads sent one at a time, READ_AHEAD batches ahead, keep both at work.
    const ahead = [measureNext()];
    const writing = new Set<Promise<void>>();
    try {
      while (this.token !== undefined) {
        while (ahead.length < READ_AHEAD) ahead.push(measureNext());
        const current = await ahead.shift()!;
        if (!current) break;
        analysed += current.batch.length;
        await new Promise((resolve) => setImmediate(resolve)); // the next read goes out before this batch's work starts
        const written: Promise<void> = this.writeBatch(current.batch, current.inputs, fence, counts).finally(() => writing.delete(written));
        writing.add(written);
        if (writing.size >= this.opts.concurrency) await Promise.race(writing);
      }
    } finally {
      for (const read of ahead) read.catch(() => {}); // reads still on their way when leadership was lost are not waited for
      await Promise.all(writing);
    }
    const { changed, errors } = counts;
    const later = this.opts.now().getTime();
    const nextDueInMs = active > 0 ? Math.max(0, Math.min(shortestInterval, nextPendingAt - later)) : undefined;
    return { leader: this.token !== undefined, analysed, changed, errors, ms: Date.now() - started, nextDueInMs };
  }

  /**
   * One batch of due rollouts, measured: their routine analyses in one commit; any rollout whose
   * decision does more (a transition, a flag change), or that met a conflict, goes through the full
   * per-rollout path with its audit events.
   */
  private async writeBatch(batch: Array<Versioned<Rollout>>, inputs: DecisionInput[], fence: Fence, counts: { changed: number; errors: number }): Promise<void> {
    let rest: Array<{ doc: Versioned<Rollout>; input: DecisionInput; stale: boolean }>;
    try {
      ({ rest } = await this.rollouts.commitRoutineAnalyses(batch.map((doc, i) => ({ doc, input: inputs[i]! })), CONTROLLER, fence));
    } catch (err) {
      this.onWriteError(err, undefined, counts);
      return;
    }
    for (const { doc, input, stale } of rest) {
      if (this.token === undefined) return;
      await this.analyseOne(doc, stale ? undefined : input, fence, counts);
    }
  }

  /** The full path for one rollout: decided afresh if it changed since it was measured, committed with its audit events. */
  private async analyseOne(doc: Versioned<Rollout>, measured: DecisionInput | undefined, fence: Fence, counts: { changed: number; errors: number }): Promise<void> {
    const rollout = doc.value;
    try {
      const input = async (current: Rollout, known: boolean) => (known && measured ? measured : (await this.measureMany([current]))[0]!);
      const after = await this.rollouts.decideAndApply(rollout.id, input, CONTROLLER, fence, 'rollout.analysis', undefined, measured ? doc : undefined);
      if (after.state !== rollout.state || after.stepIndex !== rollout.stepIndex) {
        counts.changed++;
        // ERROR means a person must act: a rollback to look into, or a step paused for a decision.
        const needsPerson = after.state === 'rolled_back' || after.state === 'paused';
        const log = needsPerson ? this.logger.error.bind(this.logger) : this.logger.info.bind(this.logger);
        log({ rolloutId: after.id, flag: after.flag, environment: after.environment, from: rollout.state, to: after.state, percentage: after.percentage }, after.history.at(-1)?.reason ?? 'rollout changed');
      }
    } catch (err) {
      this.onWriteError(err, rollout.id, counts);
    }
  }

  /**
   * A fence conflict means another replica leads now; a version conflict means a person acted on
   * the rollout meanwhile. Either way the next tick reads afresh; anything else is an error.
   */
  private onWriteError(err: unknown, rolloutId: string | undefined, counts: { errors: number }): void {
    if (err instanceof ConflictError && err.kind === 'fence') this.token = undefined;
    else if (!(err instanceof ConflictError) && !(err instanceof AppError && err.kind === 'conflict')) {
      counts.errors++;
      this.logger.error({ ...(rolloutId ? { rolloutId } : {}), err: String(err) }, 'rollout analysis failed');
    }
  }

  /**
   * Exposures since the step settled, for the rollouts whose policy checks traffic: SDKs refresh
   * flags and send metrics on their own timers, so the first minutes of a step still carry
   * evaluations made at the previous percentage and would show a mismatch that is not there.
   */
  private async exposuresOf(rollouts: Rollout[], now: number): Promise<Map<Rollout, ExposureCount>> {
    const checked = rollouts.filter((r) => r.plan.traffic);
    if (checked.length === 0) return new Map();
    const settled = (r: Rollout) => Math.ceil((Date.parse(r.stepStartedAt) + EXPOSURE_SETTLE_MS) / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS;
    const counts = await sumExposuresMany(this.store, checked.map((r) => ({ environment: r.environment, flag: r.flag, from: settled(r), to: now + 1 })));
    return new Map(checked.map((r, i) => [r, counts[i]!]));
  }

  /**
   * The policy's PromQL checks, for the rollouts that have any: gates over the step so far,
   * rollback rules over the last interval — both at least a minute, as rate() needs two scrapes.
   * The provider turns every failure into an inconclusive result, so nothing here throws.
   */
  private async queriesOf(rollouts: Rollout[], now: number): Promise<Map<Rollout, Record<string, QueryResult>>> {
    const out = new Map<Rollout, Record<string, QueryResult>>();
    const provider = this.opts.queries;
    await Promise.all(
      rollouts.map(async (r) => {
        const gates = r.plan.gates.flatMap((gate, index) => ('query' in gate ? [{ index, gate }] : []));
        const rules = r.plan.rollback.flatMap((rule, index) => ('query' in rule ? [{ index, rule }] : []));
        if (gates.length === 0 && rules.length === 0) return;
        const results: Record<string, QueryResult> = {};
        const wanted = queriesFor(gates, rules, Math.max(MIN_QUERY_WINDOW_MS, now - Date.parse(r.stepStartedAt)), Math.max(MIN_QUERY_WINDOW_MS, r.plan.analysisInterval));
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

  /**
   * Outcomes since the step began and over the last interval, for several rollouts in one read; a
   * provider failure is inconclusive, never a verdict. Complete buckets are added once to each
   * rollout's running step totals, so an analysis reads only the buckets since the last one plus
   * the bucket still filling.
   */
  private async measureMany(rollouts: Rollout[]): Promise<DecisionInput[]> {
    const now = this.opts.now().getTime();
    const bucket = this.outcomes.bucketMs;
    const segments = rollouts.map((r) => stepSegments(r, now, bucket));
    try {
      // The step and the recent window overlap; they are read as disjoint segments, so the store sums
      // each bucket once, and the windows are put back together here.
      const sums = await this.outcomes.sumWindowsMany(
        rollouts.map((r, i) => ({ environment: r.environment, flag: r.flag, windows: segments[i]!.windows })),
      );
      const [exposures, queried] = await Promise.all([this.exposuresOf(rollouts, now), this.queriesOf(rollouts, now)]);
      return rollouts.map((r, i) => {
        const [beforeStep, completedOlder, completedRecent, filling] = sums[i] as [OutcomeFields, OutcomeFields, OutcomeFields, OutcomeFields];
        // Added as flat fields (cheap), made into per-cohort totals once per window at the end.
        const stepTotals = { fields: sumFields(r.stepTotals?.fields ?? {}, completedOlder, completedRecent), until: segments[i]!.until };
        const measurements: Measurements = {
          step: totalsOf(sumFields(stepTotals.fields, filling)),
          recent: totalsOf(sumFields(beforeStep, completedRecent, filling)),
          stepTotals,
        };
        const e = exposures.get(r);
        if (e) measurements.exposures = { on: e.yes, off: e.no };
        const q = queried.get(r);
        if (q) measurements.queries = q;
        return { kind: 'analysis', measurements };
      });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return rollouts.map(() => ({ kind: 'provider-error', error }));
    }
  }
}

/**
 * The windows one analysis reads, as four disjoint segments of whole buckets:
 *   [recentStart, from)   the recent window's part before the step's unread buckets (only while the step is younger than an interval),
 *   [from, cut)           complete buckets since the last analysis, older than the recent window,
 *   [cut, until)          complete buckets since the last analysis, inside the recent window,
 *   [until, now]          the bucket still filling.
 * The step adds the last three to its kept totals; the recent window is the first plus the last two.
 */
export function stepSegments(r: Rollout, now: number, bucketMs: number): { windows: Array<[number, number]>; until: number } {
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
