import { formatDuration } from '../policies/durations.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import type { PipelineRun } from './pipeline-model.js';
import { say, type Wording } from '../rollouts/reason-wording.js';
import { worded } from '../rollouts/verdict-wording.js';
import { everyStageCompleted, laterStageStopped, promoted, stageCompletedAt, stageStopped, startsAt, waitingWhileKilled } from './pipeline-wording.js';

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
      const last = rollout.history.at(-1);
      const stopped = stageStopped(stage.environment, rollout.state === 'rolled_back', last?.reasonWording ?? last?.reason ?? rollout.state);
      const reason = say(stopped);
      stages[i] = { ...stage, status: 'stopped', ...noted(stopped) };
      const later = stages.slice(i + 1);
      const pause = later.flatMap((s) => {
        const r = s.rolloutId ? rollouts.get(s.rolloutId) : undefined;
        return r && (r.state === 'running' || r.state === 'awaiting_approval' || r.state === 'pending' || r.state === 'scheduled') ? [r.id] : [];
      });
      for (let j = i + 1; j < stages.length; j++)
        if (stages[j]!.status !== 'completed') stages[j] = { ...stages[j]!, status: 'stopped', ...noted(laterStageStopped(stopped)) };
      return { kind: 'stop', next: { ...run, stages, state: 'stopped', reason, reasonWording: stopped, updatedAt: at }, pause, reason };
    }
    if (rollout.state === 'completed' && stage.status !== 'completed') {
      stages[i] = { ...stage, status: 'completed', ...noted(stageCompletedAt(completedAt(rollout))) };
      changed = true;
    }
  }
  const next = stages.findIndex((s) => s.status === 'waiting');
  if (next < 0) {
    if (stages.every((s) => s.status === 'completed'))
      return { kind: 'update', next: { ...run, stages, state: 'completed', ...worded(everyStageCompleted()), updatedAt: at } };
    return changed ? { kind: 'update', next: { ...run, stages, updatedAt: at } } : { kind: 'none' };
  }
  const previous = stages[next - 1]!;
  const prior = previous.rolloutId ? rollouts.get(previous.rolloutId) : undefined;
  if (previous.status !== 'completed' || !prior) return changed ? { kind: 'update', next: { ...run, stages, updatedAt: at } } : { kind: 'none' };
  const due = Date.parse(completedAt(prior)) + stages[next]!.promoteAfterMs;
  if (killed(previous.environment)) {
    const note = noted(waitingWhileKilled(previous.environment));
    if (stages[next]!.note === note.note && !changed) return { kind: 'none' };
    stages[next] = { ...stages[next]!, ...note };
    return { kind: 'update', next: { ...run, stages, updatedAt: at } };
  }
  if (now.getTime() < due) {
    const note = noted(startsAt(new Date(due).toISOString(), formatDuration(stages[next]!.promoteAfterMs), previous.environment));
    if (stages[next]!.note === note.note && !changed) return { kind: 'none' };
    stages[next] = { ...stages[next]!, ...note };
    return { kind: 'update', next: { ...run, stages, updatedAt: at } };
  }
  stages[next] = {
    ...stages[next]!,
    status: 'active',
    startedAt: at,
    ...noted(promoted(previous.environment, formatDuration(stages[next]!.promoteAfterMs))),
  };
  return { kind: 'promote', next: { ...run, stages, updatedAt: at }, stage: next };
}

/** A stage's note: its text in English and the wording it was filled from. */
function noted(w: Wording): { note: string; noteWording: Wording } {
  return { note: say(w), noteWording: w };
}

/** When a rollout completed: its last transition into `completed`. */
function completedAt(r: Rollout): string {
  return r.history.findLast((t) => t.to === 'completed')?.at ?? r.updatedAt;
}
