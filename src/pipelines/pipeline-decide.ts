import { formatDuration } from '../policies/durations.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import type { PipelineRun } from './pipeline-model.js';

/**
 * The pipeline's decision core, pure: given a run and the rollouts of its stages as they stand now,
 * what to do next. A stage's rollout that rolled back or was aborted stops the run, and pauses any
 * later stage already under way (a rollback anywhere stops what follows). A stage that stayed
 * completed without a breach for its wait lets the next one start.
 */
export type PipelineStep =
  | { kind: 'none' }
  /** Only the run's record changes (a stage completed, a note). */
  | { kind: 'update'; next: PipelineRun }
  | { kind: 'promote'; next: PipelineRun; stage: number }
  | { kind: 'stop'; next: PipelineRun; pause: string[]; reason: string };

export function decidePipeline(run: PipelineRun, rollouts: ReadonlyMap<string, Rollout>, killed: (environment: string) => boolean, now: Date): PipelineStep {
  if (run.state !== 'running') return { kind: 'none' };
  const at = now.toISOString();
  const stages = run.stages.map((s) => ({ ...s }));
  let changed = false;
  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i]!;
    const rollout = stage.rolloutId ? rollouts.get(stage.rolloutId) : undefined;
    if (!rollout) continue;
    if (rollout.state === 'rolled_back' || rollout.state === 'aborted') {
      const reason = `${stage.environment}: the rollout ${rollout.state === 'rolled_back' ? 'rolled back' : 'was aborted'} (${rollout.history.at(-1)?.reason ?? rollout.state})`;
      stages[i] = { ...stage, status: 'stopped', note: reason };
      const later = stages.slice(i + 1);
      const pause = later.flatMap((s) => {
        const r = s.rolloutId ? rollouts.get(s.rolloutId) : undefined;
        return r && (r.state === 'running' || r.state === 'awaiting_approval' || r.state === 'pending' || r.state === 'scheduled') ? [r.id] : [];
      });
      for (let j = i + 1; j < stages.length; j++)
        if (stages[j]!.status !== 'completed') stages[j] = { ...stages[j]!, status: 'stopped', note: `stopped: ${reason}` };
      return { kind: 'stop', next: { ...run, stages, state: 'stopped', reason, updatedAt: at }, pause, reason };
    }
    if (rollout.state === 'completed' && stage.status !== 'completed') {
      stages[i] = { ...stage, status: 'completed', note: `completed at ${completedAt(rollout)}` };
      changed = true;
    }
  }
  const next = stages.findIndex((s) => s.status === 'waiting');
  if (next < 0) {
    if (stages.every((s) => s.status === 'completed'))
      return { kind: 'update', next: { ...run, stages, state: 'completed', reason: 'every stage completed', updatedAt: at } };
    return changed ? { kind: 'update', next: { ...run, stages, updatedAt: at } } : { kind: 'none' };
  }
  const previous = stages[next - 1]!;
  const prior = previous.rolloutId ? rollouts.get(previous.rolloutId) : undefined;
  if (previous.status !== 'completed' || !prior) return changed ? { kind: 'update', next: { ...run, stages, updatedAt: at } } : { kind: 'none' };
  const due = Date.parse(completedAt(prior)) + stages[next]!.promoteAfterMs;
  if (killed(previous.environment)) {
    const note = `waiting: the flag is killed in ${previous.environment}, which is not "without a breach"`;
    if (stages[next]!.note === note && !changed) return { kind: 'none' };
    stages[next] = { ...stages[next]!, note };
    return { kind: 'update', next: { ...run, stages, updatedAt: at } };
  }
  if (now.getTime() < due) {
    const note = `starts at ${new Date(due).toISOString()}: ${formatDuration(stages[next]!.promoteAfterMs)} after ${previous.environment} completed without a breach`;
    if (stages[next]!.note === note && !changed) return { kind: 'none' };
    stages[next] = { ...stages[next]!, note };
    return { kind: 'update', next: { ...run, stages, updatedAt: at } };
  }
  stages[next] = {
    ...stages[next]!,
    status: 'active',
    startedAt: at,
    note: `promoted: ${previous.environment} completed and stayed without a breach for ${formatDuration(stages[next]!.promoteAfterMs)}`,
  };
  return { kind: 'promote', next: { ...run, stages, updatedAt: at }, stage: next };
}

/** When a rollout completed: its last transition into `completed`. */
function completedAt(r: Rollout): string {
  return r.history.findLast((t) => t.to === 'completed')?.at ?? r.updatedAt;
}
