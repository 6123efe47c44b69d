import type { Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../http/app-error.js';
import { ConflictError } from '../store/errors.js';
import type { OutcomeSource, OutcomeTotals } from '../metrics/outcome-model.js';
import { addInto } from '../metrics/outcome-math.js';
import { isFinal, ROLLOUTS, type DecisionInput, type Rollout } from './rollout-model.js';
import type { RolloutService } from './rollout-service.js';

export const LEADER_LEASE = 'rollout-leader';
const CONTROLLER: Actor = { type: 'system', id: 'controller', name: 'controller' };

export interface LoopOptions {
  replicaId: string;
  /** How often the leader looks for due rollouts; each rollout is analysed once per its policy's interval. */
  tickMs: number;
  leaseTtlMs: number;
  /** Rollouts analysed at the same time (their reads and writes overlap; Redis pipelines them). */
  concurrency: number;
  now: () => Date;
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
    if (this.token !== lease.token) this.logger.info({ replica: this.opts.replicaId, token: lease.token }, 'took the controller lease');
    this.token = lease.token;
    const fence = { lease: LEADER_LEASE, token: lease.token };
    const now = this.opts.now().getTime();
    const docs = (await this.store.list<Rollout>(ROLLOUTS)).filter((d) => !isFinal(d.value.state));
    const active = docs.map((d) => d.value);
    const listed = new Map(docs.map((d) => [d.value, d]));
    const dueAt = (r: Rollout) => (r.lastEvaluatedAt ? Date.parse(r.lastEvaluatedAt) + r.plan.analysisInterval : now);
    const due = active.filter((r) => dueAt(r) <= now);
    let changed = 0;
    let errors = 0;
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const rollout = due[next++]!;
        try {
          const after = await this.rollouts.decideAndApply(rollout.id, (current) => this.measure(current), CONTROLLER, fence, 'rollout.analysis', undefined, listed.get(rollout));
          if (after.state !== rollout.state || after.stepIndex !== rollout.stepIndex) {
            changed++;
            // ERROR means a person must act: a rollback to look into, or a step paused for a decision.
            const needsPerson = after.state === 'rolled_back' || after.state === 'paused';
            const log = needsPerson ? this.logger.error.bind(this.logger) : this.logger.info.bind(this.logger);
            log({ rolloutId: after.id, flag: after.flag, environment: after.environment, from: rollout.state, to: after.state, percentage: after.percentage }, after.history.at(-1)?.reason ?? 'rollout changed');
          }
        } catch (err) {
          // A fence conflict means another replica leads now; a version conflict means a person acted
          // on this rollout meanwhile. Either way the next tick reads afresh.
          if (err instanceof ConflictError && err.reason.startsWith('fence')) this.token = undefined;
          else if (!(err instanceof ConflictError) && !(err instanceof AppError && err.status === 409)) {
            errors++;
            this.logger.error({ rolloutId: rollout.id, err: String(err) }, 'rollout analysis failed');
          }
        }
        if (this.token === undefined) return;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, due.length) }, worker));
    // Those analysed now are next due one interval on; the others when their interval ends.
    const later = this.opts.now().getTime();
    const analysed = new Set(due);
    let nextDue = Number.POSITIVE_INFINITY;
    for (const r of active) nextDue = Math.min(nextDue, analysed.has(r) ? later + r.plan.analysisInterval : dueAt(r));
    const nextDueInMs = active.length > 0 ? Math.max(0, nextDue - later) : undefined;
    return { leader: this.token !== undefined, analysed: due.length, changed, errors, ms: Date.now() - started, nextDueInMs };
  }

  /**
   * Outcomes since the step began and over the last interval; a provider failure is inconclusive,
   * never a verdict. Complete buckets are added once to the rollout's running step totals, so each
   * analysis reads only the buckets since the last one plus the bucket still filling.
   */
  private async measure(r: Rollout): Promise<DecisionInput> {
    const now = this.opts.now().getTime();
    const end = now + 1;
    const bucket = this.outcomes.bucketMs;
    const filling = Math.floor(now / bucket) * bucket;
    const from = r.stepTotals?.until ?? Math.floor(Date.parse(r.stepStartedAt) / bucket) * bucket;
    try {
      // One read per bucket: the recent window overlaps the new and filling buckets of the step.
      const [completed, partial, recent] = (await this.outcomes.sumWindows(r.environment, r.flag, [
        [from, Math.max(from, filling)],
        [Math.max(from, filling), end],
        [now - r.plan.analysisInterval, end],
      ])) as [OutcomeTotals, OutcomeTotals, OutcomeTotals];
      // The window sums are fresh objects, so they are added into in place rather than copied.
      const stepTotals = { totals: r.stepTotals ? addInto(completed, r.stepTotals.totals) : completed, until: Math.max(from, filling) };
      return { kind: 'analysis', measurements: { step: addInto(partial, stepTotals.totals), recent, stepTotals } };
    } catch (err) {
      return { kind: 'provider-error', error: err instanceof Error ? err.message : String(err) };
    }
  }
}
