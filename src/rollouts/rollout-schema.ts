import { z } from 'zod';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import { ROLLOUT_STATES } from './rollout-model.js';
import '../validation/schema-errors.js';

/**
 * The shape of the stored rollout documents (rollout-docs.ts), as a restore checks them before
 * writing: every field the loop and the routes read, with its type; fields they do not read pass
 * as they are (a record keeps its measurements and whatever a later version adds). The loop reads
 * these documents without parsing (they are written only by the controller itself, thousands per
 * tick), so this is the gate for documents that come from elsewhere.
 */

const count = z.number().int().min(0);
const percentage = z.number().min(0).max(100);
const person = z.looseObject({ id: z.string(), name: z.string(), role: z.string().optional() });
const approval = z.looseObject({ by: person, at: z.string(), step: count, comment: z.string().optional(), ahead: z.boolean().optional() });
const checkResult = z.looseObject({ rule: z.string(), metric: z.string(), verdict: z.enum(['pass', 'fail', 'inconclusive']) });
const state = z.enum(ROLLOUT_STATES);

const transition = z.looseObject({
  at: z.string(),
  from: state,
  to: state,
  stepIndex: count,
  percentage,
  reason: z.string(),
  actor: z.string(),
});

/** `rollout-histories`: the transitions of one rollout, oldest first. */
export const rolloutHistorySchema = z.array(transition);

/** `rollouts`: a rollout's record (plan and history live apart, unless written before they moved out). */
export const rolloutRecordSchema = z
  .looseObject({
    id: z.string().min(1),
    flag: flagNameSchema,
    environment: environmentNameSchema,
    policy: z.string().min(1),
    planId: z.string().min(1).optional(),
    plan: z.looseObject({ name: z.string() }).optional(),
    historyLength: count.optional(),
    history: rolloutHistorySchema.optional(),
    strategyId: z.string(),
    state,
    pausedFrom: state.optional(),
    pauseReason: z.string().optional(),
    stepIndex: count,
    percentage,
    stepStartedAt: z.string(),
    startedBy: person,
    createdAt: z.string(),
    updatedAt: z.string(),
    stepVerdict: z.looseObject({ kind: z.enum(['waiting', 'failing', 'healthy']) }),
    gates: z.array(checkResult),
    rollbackChecks: z.array(checkResult),
    breachingSince: z.array(z.string().nullable()),
    checks: z.object({ failed: count, consecutiveFailed: count, inconclusive: count, providerErrors: count }),
    approvals: z.array(approval),
    watchUntil: z.string().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.planId === undefined && r.plan === undefined) ctx.addIssue({ code: 'custom', path: ['planId'], message: 'a rollout names its plan (planId)' });
    if (r.historyLength === undefined && r.history === undefined) ctx.addIssue({ code: 'custom', path: ['historyLength'], message: 'required' });
    if (r.state === 'paused' && (r.pausedFrom === undefined || r.pauseReason === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['pausedFrom'], message: 'a paused rollout says what it resumes to (pausedFrom) and why (pauseReason)' });
    }
  });

/** `active-rollouts`: the marker of the one active rollout of a flag in an environment. */
export const activeRolloutSchema = z.object({ id: z.string().min(1) });
