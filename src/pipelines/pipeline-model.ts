import { z } from 'zod';
import type { Wording } from '../rollouts/reason-wording.js';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import { durationSchema } from '../policies/durations.js';
import type { Person } from '../rollouts/rollout-model.js';

/**
 * Environment pipelines: the environments a change goes through in order (test → staging →
 * production), each under its own policy, and when one stage's result lets the next start. A
 * pipeline is the plan; a run is one flag (or release) going through it.
 */
export const PIPELINES = 'pipelines';
export const PIPELINE_RUNS = 'pipeline-runs';
export const MAX_STAGES = 10;

const stageSchema = z
  .object({
    environment: environmentNameSchema,
    /** The policy the rollout in this environment follows, with its own gates and approvals. */
    policy: flagNameSchema,
    /**
     * How long the previous stage must have stayed completed without a breach before this one
     * starts (the pipeline's `promoteAfter` when absent). Ignored on the first stage.
     */
    promoteAfter: durationSchema.optional(),
  })
  .strict();

export const pipelineSchema = z
  .object({
    name: flagNameSchema,
    description: z.string().max(1000).optional(),
    stages: z
      .array(stageSchema)
      .min(2, 'a pipeline has at least two environments')
      .max(MAX_STAGES)
      .refine((s) => new Set(s.map((x) => x.environment)).size === s.length, 'each environment once'),
    /** The default wait after a stage completed without a breach before the next starts. */
    promoteAfter: durationSchema.prefault('1h'),
  })
  .strict()
  .meta({ id: 'Pipeline' });
export type Pipeline = z.output<typeof pipelineSchema>;

export type StageStatus = 'waiting' | 'active' | 'completed' | 'stopped';
export type RunState = 'running' | 'completed' | 'stopped';

export interface RunStage {
  environment: string;
  policy: string;
  /** ms the previous stage must stay completed without a breach before this one starts. */
  promoteAfterMs: number;
  status: StageStatus;
  rolloutId?: string;
  /** When this stage's rollout started (promotion time for every stage after the first). */
  startedAt?: string;
  /** Why the stage is where it is, in words ("promoted after staging completed 1h ago"). */
  note?: string;
  /** The template and values `note` was filled from (pipeline-wording.ts): to say it in another language. */
  noteWording?: Wording;
}

/** One flag, or one release, going through a pipeline. The stages are copied from the pipeline when the run starts. */
export interface PipelineRun {
  id: string;
  pipeline: string;
  flag: string;
  release?: { name: string; flags: string[] };
  stages: RunStage[];
  state: RunState;
  reason?: string;
  /** The template and values `reason` was filled from (pipeline-wording.ts); absent on runs recorded before. */
  reasonWording?: Wording;
  /** Who started the run: every stage's rollout counts as started by them (they cannot approve its steps). */
  startedBy: Person;
  createdAt: string;
  updatedAt: string;
}

export const startRunSchema = z
  .object({
    flag: flagNameSchema.optional(),
    /** A release: its name and flags (ramped as one in each environment). */
    release: z
      .object({ name: flagNameSchema, flags: z.array(flagNameSchema).min(1).max(50) })
      .strict()
      .optional(),
    reason: z.string().min(1).max(1000).optional(),
  })
  .strict()
  .refine((b) => (b.flag === undefined) !== (b.release === undefined), { path: ['flag'], message: 'a run is of a flag or of a release (one of them)' })
  .meta({ id: 'StartPipelineRun' });
export type StartRun = z.infer<typeof startRunSchema>;

/** A stored run, as a restore checks it. */
export const pipelineRunSchema = z.looseObject({
  id: z.string().min(1),
  pipeline: z.string().min(1),
  flag: flagNameSchema,
  stages: z
    .array(z.looseObject({ environment: environmentNameSchema, policy: z.string(), promoteAfterMs: z.number().int().min(0), status: z.string() }))
    .min(1),
  state: z.enum(['running', 'completed', 'stopped']),
  startedBy: z.looseObject({ id: z.string(), name: z.string() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
