import type { Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../audit/chain.js';
import { AppError, ConflictError } from '../errors/app-error.js';
import type { OutcomeSource } from '../metrics/outcome-model.js';
import type { MetricQueryProvider } from '../metrics/prometheus/index.js';
import type { DecisionInput } from './rollout-model.js';
import type { AnalysisDoc, RecordRef, RolloutDocs, RolloutWithoutHistory } from './rollout-docs.js';
import type { RolloutService } from './rollout-service.js';
import type { Fence, RolloutWriter } from './rollout-writer.js';
import { Measure, type MeasureDeps } from './measure.js';

export { stepSegments } from './measure.js';

export const LEADER_LEASE = 'rollout-leader';
const CONTROLLER: Actor = { type: 'system', id: 'controller', name: 'controller' };

export interface LoopOptions {
  replicaId: string;
  /** How often the leader looks for due rollouts; each rollout is analysed once per its policy's interval. */
  tickMs: number;
  leaseTtlMs: number;
  /** Runs the policies' PromQL checks (gates and rollback rules with a `query`). */
  queries?: MetricQueryProvider;
  /** When SDKs hold a rollout's step (src/serving/sdk-fetches.ts stepRevision); without it traffic counts from the step's start. */
  stepRevision?: MeasureDeps['stepRevision'];
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

/** Never spin faster than this, however many rollouts fall due at once. */
const MIN_WAIT_MS = 5;

/** A batch of due rollouts with what was measured for each. */
interface MeasuredBatch {
  docs: AnalysisDoc[];
  inputs: DecisionInput[];
}

/**
 * The active rollouts of one tick, handed out a batch of due ones at a time (records not in memory
 * are fetched a batch at a time too), counting what it passed over to tell when the next falls due.
 */
class DueRollouts {
  private next = 0;
  private active = 0;
  private shortestInterval = Number.POSITIVE_INFINITY;
  private nextPendingAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly docs: RolloutDocs,
    private readonly refs: RecordRef[],
    private readonly now: number,
    private readonly batchSize: number,
  ) {}

  private dueAt(r: RolloutWithoutHistory): number {
    // A scheduled rollout has nothing to analyse before its start: it falls due at it, to the tick.
    if (r.state === 'scheduled' && r.startAt) return Date.parse(r.startAt);
    return r.lastEvaluatedAt ? Date.parse(r.lastEvaluatedAt) + r.plan.analysisInterval : this.now;
  }

  /** The next batch of due rollouts, or null when every record was looked at. */
  async batch(): Promise<AnalysisDoc[] | null> {
    while (this.next < this.refs.length) {
      const due: AnalysisDoc[] = [];
      const slice = this.refs.slice(this.next, (this.next += this.batchSize));
      for (const doc of await this.docs.forAnalysis(slice, (r) => this.dueAt(r) <= this.now)) {
        this.active++;
        const at = this.dueAt(doc.value);
        if (at <= this.now) {
          due.push(doc);
          this.shortestInterval = Math.min(this.shortestInterval, doc.value.plan.analysisInterval);
        } else this.nextPendingAt = Math.min(this.nextPendingAt, at);
      }
      if (due.length > 0) return due;
    }
    return null;
  }

  /** When the next rollout falls due: one interval after this tick for those analysed now, at their time for the others. */
  nextDueInMs(later: number): number | undefined {
    return this.active > 0 ? Math.max(0, Math.min(this.shortestInterval, this.nextPendingAt - later)) : undefined;
  }
}

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
  private readonly docs: RolloutDocs;
  private readonly writer: RolloutWriter;
  private readonly measure: Measure;

  constructor(
    private readonly store: Store,
    rollouts: Pick<RolloutService, 'docs' | 'writer'>,
    outcomes: OutcomeSource,
    private readonly logger: Logger,
    private readonly opts: LoopOptions,
  ) {
    this.docs = rollouts.docs;
    this.writer = rollouts.writer;
    this.measure = new Measure({ store, outcomes, queries: opts.queries, stepRevision: opts.stepRevision, now: opts.now });
  }

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
        const wait =
          report.leader && report.nextDueInMs !== undefined ? Math.max(MIN_WAIT_MS, Math.min(this.opts.tickMs, report.nextDueInMs)) : this.opts.tickMs;
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

  /** One pass: take or renew the lease, then measure, decide and write every active rollout whose interval has come round. */
  async tick(): Promise<TickReport> {
    const started = Date.now();
    const fence = await this.holdLease();
    if (!fence) return { leader: false, analysed: 0, changed: 0, errors: 0, ms: Date.now() - started };
    const due = new DueRollouts(this.docs, await this.docs.activeRecords(), this.opts.now().getTime(), this.opts.batchSize);
    const counts = { analysed: 0, changed: 0, errors: 0 };
    await this.pipeline(due, fence, counts);
    const nextDueInMs = due.nextDueInMs(this.opts.now().getTime());
    return { leader: this.token !== undefined, ...counts, ms: Date.now() - started, nextDueInMs };
  }

  /** Takes or renews the lease; the fence every write of this tick carries, or null when another replica leads. */
  private async holdLease(): Promise<Fence | null> {
    const lease = await this.store.acquireLease(LEADER_LEASE, this.opts.replicaId, this.opts.leaseTtlMs).catch(() => null);
    if (!lease) {
      if (this.token !== undefined) this.logger.warn({ replica: this.opts.replicaId }, 'lost the controller lease');
      this.token = undefined;
      return null;
    }
    if (this.token !== lease.token) {
      this.logger.info({ replica: this.opts.replicaId, token: lease.token }, 'took the controller lease');
      // The store may have changed under a replica that was not leading (a failover, a restore).
      this.docs.forgetRecords();
    }
    this.token = lease.token;
    return { lease: LEADER_LEASE, token: lease.token };
  }

  /**
   * measure → decide → write, a batch at a time. Batches' outcomes are read ahead while the batch
   * before is decided and committed. Redis sends the replies to everything it read from a
   * connection at once only after running all of it, so reads sent together come back together,
   * and this process and Redis would take turns being idle; reads sent one at a time, READ_AHEAD
   * batches ahead, keep both at work.
   */
  private async pipeline(due: DueRollouts, fence: Fence, counts: { analysed: number; changed: number; errors: number }): Promise<void> {
    // Batches are chosen one after another; their reads may overlap.
    let chosen: Promise<AnalysisDoc[] | null> = Promise.resolve([]);
    const measureNext = (): Promise<MeasuredBatch | null> => {
      const batch = (chosen = chosen.then((previous) => (previous ? due.batch() : null)));
      return batch.then(async (docs) => docs && { docs, inputs: await this.measure.many(docs.map((d) => d.value)) });
    };
    const ahead = [measureNext()];
    const writing = new Set<Promise<void>>();
    try {
      while (this.token !== undefined) {
        while (ahead.length < READ_AHEAD) ahead.push(measureNext());
        const current = await ahead.shift()!;
        if (!current) break;
        counts.analysed += current.docs.length;
        await new Promise((resolve) => setImmediate(resolve)); // the next read goes out before this batch's work starts
        const written: Promise<void> = this.writeBatch(current, fence, counts).finally(() => writing.delete(written));
        writing.add(written);
        if (writing.size >= this.opts.concurrency) await Promise.race(writing);
      }
    } finally {
      for (const read of ahead) read.catch(() => {}); // reads still on their way when leadership was lost are not waited for
      await Promise.all(writing);
    }
  }

  /**
   * One batch of due rollouts, measured: their routine analyses in one commit; any rollout whose
   * decision does more (a transition, a flag change), or that met a conflict, goes through the full
   * per-rollout path with its audit events.
   */
  private async writeBatch(batch: MeasuredBatch, fence: Fence, counts: { changed: number; errors: number }): Promise<void> {
    let rest: Awaited<ReturnType<RolloutWriter['commitRoutine']>>['rest'];
    try {
      ({ rest } = await this.writer.commitRoutine(
        batch.docs.map((doc, i) => ({ doc, input: batch.inputs[i]! })),
        CONTROLLER,
        fence,
      ));
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
  private async analyseOne(doc: AnalysisDoc, measured: DecisionInput | undefined, fence: Fence, counts: { changed: number; errors: number }): Promise<void> {
    const rollout = doc.value;
    try {
      const input = async (current: RolloutWithoutHistory, known: boolean) => (known && measured ? measured : (await this.measure.many([current]))[0]!);
      const after = await this.writer.apply({
        id: rollout.id,
        input,
        actor: CONTROLLER,
        action: 'rollout.analysis',
        fence,
        ...(measured ? { known: doc } : {}),
      });
      if (after.state !== rollout.state || after.stepIndex !== rollout.stepIndex) {
        counts.changed++;
        // ERROR means a person must act: a rollback to look into, or a step paused for a decision.
        const needsPerson = after.state === 'rolled_back' || after.state === 'paused';
        const log = needsPerson ? this.logger.error.bind(this.logger) : this.logger.info.bind(this.logger);
        log(
          { rolloutId: after.id, flag: after.flag, environment: after.environment, from: rollout.state, to: after.state, percentage: after.percentage },
          after.history.at(-1)?.reason ?? 'rollout changed',
        );
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
}
