import { type Wording, wording } from '../rollouts/reason-wording.js';
import type { Reason } from '../rollouts/verdict-wording.js';

/**
 * Why a pipeline run or one of its stages is where it is, as English templates with their values
 * (the same machinery as src/rollouts/reason-wording.ts): a run keeps its text (`reason`, a stage's
 * `note`) and the wording beside it (`reasonWording`, `noteWording`), so the dashboard says it in its
 * language. Durations are written in the policy's notation ("1h"), as in rollout reasons.
 */

/** A stage's rollout rolled back or was aborted; `why`: its last transition's reason. */
export const stageStopped = (environment: string, rolledBack: boolean, why: Reason) =>
  rolledBack
    ? wording('{environment}: the rollout rolled back ({why})', { environment, why })
    : wording('{environment}: the rollout was aborted ({why})', { environment, why });
export const laterStageStopped = (why: Wording) => wording('stopped: {why}', { why });
export const everyStageCompleted = () => wording('every stage completed');
export const stoppedBy = (name: string, reason: string) => wording('stopped by {name}: {reason}', { name, reason });
export const stageCompletedAt = (at: string) => wording('completed at {at}', { at });
export const waitingWhileKilled = (environment: string) =>
  wording('waiting: the flag is killed in {environment}, which is not "without a breach"', { environment });
export const startsAt = (at: string, duration: string, environment: string) =>
  wording('starts at {at}: {duration} after {environment} completed without a breach', { at, duration, environment });
export const promoted = (environment: string, duration: string) =>
  wording('promoted: {environment} completed and stayed without a breach for {duration}', { environment, duration });
