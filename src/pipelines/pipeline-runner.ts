import type { Store } from '../store/port.js';
import type { Actor } from '../audit/chain.js';
import type { Logger } from '../logger.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { forEnvironment } from '../flags/per-environment.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { decidePipeline } from './pipeline-decide.js';
import { PIPELINE_RUNS, type PipelineRun } from './pipeline-model.js';
import type { PipelineService } from './pipeline-service.js';

export const PIPELINE_LEASE = 'pipeline-runner';

/** Told of each promotion and stop, after it was written (notifications). Must not throw. */
export type PipelineListener = (event: { kind: 'promoted' | 'stopped'; run: PipelineRun; stage: number; rollout?: Rollout; reason?: string }) => void;

/**
 * Carries pipeline runs forward: on the replica holding its lease, every tick reads the running
 * runs and their stages' rollouts, asks decidePipeline, and does what it says. A promotion starts
 * the next environment's rollout through RolloutService.start, so it meets that environment's
 * rules, policy and approvals like any other; a replica that dies between the start and the run's
 * write leaves a rollout the next tick finds (the start is then refused as already active, and the
 * note says so for a person).
 */
export class PipelineRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly listeners = new Set<PipelineListener>();
  /** Runs seen completed or stopped, by id, at the version they were seen at: not read again while it stays. */
  private readonly finished = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly pipelines: PipelineService,
    private readonly rollouts: Pick<RolloutService, 'start' | 'get' | 'command'>,
    private readonly logger: Logger,
    private readonly opts: { replicaId: string; tickMs: number; now: () => Date },
  ) {}

  onChange(listener: PipelineListener): void {
    this.listeners.add(listener);
  }

  start(): void {
    const loop = () => {
      this.running = this.tick()
        .catch((err) => this.logger.error({ err: String(err) }, 'pipeline tick failed'))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.opts.tickMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the running runs, when this replica holds the lease. */
  async tick(): Promise<void> {
    const lease = await this.store.acquireLease(PIPELINE_LEASE, this.opts.replicaId, Math.max(5_000, this.opts.tickMs * 5)).catch(() => null);
    if (!lease) return;
    for (const doc of await this.runningRuns()) {
      try {
        await this.advance(doc.value, doc.version);
      } catch (err) {
        this.logger.error({ run: doc.value.id, pipeline: doc.value.pipeline, err: String(err) }, 'pipeline run not advanced');
      }
    }
  }

  /**
   * The runs still running. Finished runs pile up over the months and never change again, so a
   * tick lists versions and reads only the runs it has not seen finished at their version.
   */
  private async runningRuns(): Promise<Array<{ value: PipelineRun; version: number }>> {
    const versions = await this.store.versions(PIPELINE_RUNS);
    for (const id of this.finished.keys()) if (!versions.has(id)) this.finished.delete(id);
    const unread = [...versions].filter(([id, version]) => this.finished.get(id) !== version).map(([id]) => id);
    const docs = unread.length > 0 ? await this.store.getMany<PipelineRun>(PIPELINE_RUNS, unread) : [];
    return docs.filter((doc) => {
      if (doc.value.state === 'running') return true;
      this.finished.set(doc.id, doc.version);
      return false;
    });
  }

  private async advance(run: PipelineRun, version: number): Promise<void> {
    const ids = run.stages.flatMap((s) => (s.rolloutId ? [s.rolloutId] : []));
    const rollouts = new Map<string, Rollout>((await Promise.all(ids.map((id) => this.rollouts.get(id)))).map((r) => [r.id, r]));
    const flags = new Map((await this.store.getMany<StoredFlag>(FLAGS, run.release?.flags ?? [run.flag])).map((d) => [d.id, d.value]));
    const killed = (environment: string) => [...flags.values()].some((f) => forEnvironment(f.killSwitches, environment) !== undefined);
    const step = decidePipeline(run, rollouts, killed, this.opts.now());
    const actor: Actor = { type: 'system', id: 'pipeline', name: `pipeline ${run.pipeline}` };
    switch (step.kind) {
      case 'none':
        return;
      case 'update':
        await this.pipelines.write(step.next, version, actor, step.next.state === 'completed' ? 'pipeline.run.complete' : 'pipeline.run.update');
        return;
      case 'stop': {
        for (const id of step.pause) {
          await this.rollouts
            .command(id, 'pause', { id: 'pipeline', name: actor.name }, actor, `pipeline ${run.pipeline} stopped: ${step.reason}`)
            .catch(() => {});
        }
        const written = await this.pipelines.write(step.next, version, actor, 'pipeline.run.stop', step.reason);
        this.tell({ kind: 'stopped', run: written, stage: written.stages.findIndex((s) => s.status === 'stopped'), reason: step.reason });
        return;
      }
      case 'promote': {
        const stage = step.next.stages[step.stage]!;
        let started: Rollout;
        try {
          started = await this.rollouts.start(
            { flag: run.flag, environment: stage.environment, policy: stage.policy, ...(run.release ? { release: run.release } : {}) },
            run.startedBy,
            actor,
          );
        } catch (err) {
          // The environment refused the start (its rules, a baseline, a flag busy there): the run waits, saying why.
          const note = `promotion refused: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
          if (run.stages[step.stage]!.note !== note) {
            const stages = run.stages.map((s, i) => (i === step.stage ? { ...s, note } : s));
            await this.pipelines.write({ ...run, stages, updatedAt: step.next.updatedAt }, version, actor, 'pipeline.run.update', note);
            this.logger.warn({ run: run.id, environment: stage.environment }, note);
          }
          return;
        }
        const stages = step.next.stages.map((s, i) => (i === step.stage ? { ...s, rolloutId: started.id } : s));
        const written = await this.pipelines.write({ ...step.next, stages }, version, actor, 'pipeline.run.promote', stages[step.stage]!.note);
        this.tell({ kind: 'promoted', run: written, stage: step.stage, rollout: started });
      }
    }
  }

  private tell(event: Parameters<PipelineListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
