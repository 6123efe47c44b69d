import { randomUUID } from 'node:crypto';
import { say } from '../rollouts/reason-wording.js';
import { worded } from '../rollouts/verdict-wording.js';
import { stoppedBy } from './pipeline-wording.js';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import type { Person } from '../rollouts/rollout-model.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { PIPELINE_RUNS, PIPELINES, type Pipeline, type PipelineRun, type StartRun } from './pipeline-model.js';

/** Pipelines and their runs: people's side (define, start, stop, read). The runner promotes. */
export class PipelineService {
  constructor(
    private readonly store: Store,
    private readonly rollouts: Pick<RolloutService, 'start'>,
    private readonly now: () => Date,
    private readonly awaitApplied: (seq: number) => Promise<void> = async () => {},
  ) {}

  async list(): Promise<Pipeline[]> {
    return (await this.store.list<Pipeline>(PIPELINES)).map((d) => d.value).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Pipeline> {
    const doc = await this.store.get<Pipeline>(PIPELINES, name);
    if (!doc) throw AppError.notFound(`pipeline "${name}"`);
    return doc.value;
  }

  /** Creates or replaces a pipeline; runs under way keep the stages they started with. */
  async put(pipeline: Pipeline, actor: Actor, reason?: string): Promise<{ pipeline: Pipeline; created: boolean }> {
    return auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<Pipeline>(PIPELINES, pipeline.name);
        return {
          commit: { puts: [{ collection: PIPELINES, id: pipeline.name, value: pipeline, expectVersion: existing?.version ?? 0, quiet: true }] },
          audit: { actor, action: 'pipeline.put', target: { type: 'pipeline', id: pipeline.name }, reason, before: existing?.value ?? null, after: pipeline },
          result: { pipeline, created: !existing },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  async runs(): Promise<PipelineRun[]> {
    return (await this.store.list<PipelineRun>(PIPELINE_RUNS)).map((d) => d.value).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async run(id: string): Promise<PipelineRun> {
    const doc = await this.store.get<PipelineRun>(PIPELINE_RUNS, id);
    if (!doc) throw AppError.notFound(`pipeline run "${id}"`);
    return doc.value;
  }

  /**
   * Starts a flag (or a release) on the pipeline: its first environment's rollout starts now, as
   * this person's (every later stage's too, so they cannot approve its steps), and the runner
   * starts each next one when its rule is met. A start the first rollout refuses starts no run.
   */
  async startRun(name: string, input: StartRun, by: Person, actor: Actor): Promise<PipelineRun> {
    const pipeline = await this.get(name);
    const flag = input.flag ?? input.release!.flags[0]!;
    const first = pipeline.stages[0]!;
    const rollout = await this.rollouts.start(
      {
        flag,
        environment: first.environment,
        policy: first.policy,
        ...(input.release ? { release: input.release } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
      },
      by,
      actor,
    );
    const at = this.now().toISOString();
    const run: PipelineRun = {
      id: randomUUID(),
      pipeline: name,
      flag,
      ...(input.release ? { release: input.release } : {}),
      stages: pipeline.stages.map((s, i) => ({
        environment: s.environment,
        policy: s.policy,
        promoteAfterMs: s.promoteAfter ?? pipeline.promoteAfter,
        status: i === 0 ? 'active' : 'waiting',
        ...(i === 0 ? { rolloutId: rollout.id, startedAt: at } : {}),
      })),
      state: 'running',
      startedBy: by,
      createdAt: at,
      updatedAt: at,
    };
    return this.write(run, 0, actor, 'pipeline.run.start', input.reason);
  }

  /** Stops a run: no later stage will start. Rollouts under way are left as they are (a person pauses or aborts them). */
  async stopRun(id: string, actor: Actor, reason: string): Promise<PipelineRun> {
    const doc = await this.store.get<PipelineRun>(PIPELINE_RUNS, id);
    if (!doc) throw AppError.notFound(`pipeline run "${id}"`);
    if (doc.value.state !== 'running') throw AppError.conflict(`the pipeline run is ${doc.value.state}`);
    const at = this.now().toISOString();
    const why = stoppedBy(actor.name, reason);
    const stages = doc.value.stages.map((s) => (s.status === 'waiting' ? { ...s, status: 'stopped' as const, note: say(why), noteWording: why } : s));
    return this.write({ ...doc.value, stages, state: 'stopped', ...worded(why), updatedAt: at }, doc.version, actor, 'pipeline.run.stop', reason);
  }

  /** Writes a run (compare-and-set on `version`) with its audit event. */
  async write(run: PipelineRun, version: number, actor: Actor, action: string, reason?: string): Promise<PipelineRun> {
    return auditedCommit(
      this.store,
      async () => ({
        commit: { puts: [{ collection: PIPELINE_RUNS, id: run.id, value: run, expectVersion: version, quiet: true }] },
        audit: { actor, action, target: { type: 'pipeline-run', id: run.id }, reason, before: null, after: { state: run.state, stages: run.stages } },
        result: run,
      }),
      this.now,
      this.awaitApplied,
    );
  }
}
