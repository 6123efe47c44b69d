import { z } from 'zod';
import { ROLES } from '../auth/token-model.js';
import { flagNameSchema } from '../flags/schema.js';
import { durationSchema } from './durations.js';
import { toMinutes } from './clock-time.js';
import { renderQuery } from '../metrics/prometheus/query-template.js';
import { keyedUnion } from '../validation/schema-errors.js';

/**
 * A rollout policy: the go-live plan as data. Everything is validated when the policy enters
 * (file or API), so the decision core can trust it.
 */

export const METRICS = ['error_rate', 'latency_p50_ms', 'latency_p90_ms', 'latency_p95_ms', 'latency_p99_ms', 'latency_mean_ms'] as const;
export type MetricName = (typeof METRICS)[number];

const approvalSchema = z
  .object({
    required: z.number().int().min(0).max(10).default(1),
    roles: z.array(z.enum(ROLES)).min(1).default(['release-manager']),
  })
  .strict();

/** A step's own approval: only what it names overrides stepDefaults.approval. */
const stepApprovalSchema = z.object({ required: z.number().int().min(0).max(10).optional(), roles: z.array(z.enum(ROLES)).min(1).optional() }).strict();

const stepSettings = {
  minDuration: durationSchema.optional(),
  minSamples: z.number().int().min(0).optional(),
  maxDuration: durationSchema.optional(),
  approval: stepApprovalSchema.optional(),
};

const percentage = z.number().gt(0).max(100);

const stepSchema = keyedUnion(
  [percentage, z.object({ percentage, ...stepSettings }).strict()],
  'a step',
  'a percentage, or {percentage, …} with settings of its own',
);

/**
 * With a confidence, a gate fails only on evidence: an always-valid bound (src/rollouts/statistics.ts)
 * that clears the limit, however often it is looked at. Without one, the point estimate decides.
 */
const confidence = z.number().min(0.5).max(0.9999);

const absoluteGate = z
  .object({
    metric: z.enum(METRICS),
    cohort: z.enum(['treatment', 'control']).default('treatment'),
    max: z.number().nonnegative(),
    confidence: confidence.optional(),
  })
  .strict();
const relativeGate = z
  .object({
    metric: z.enum(METRICS),
    compare: z.literal('control'),
    maxRelativeIncrease: z.number().nonnegative(),
    /** Fail only when an always-valid test shows treatment worse than control × (1 + margin) at this confidence. */
    confidence: confidence.optional(),
    minControlSamples: z.number().int().min(1).default(100),
  })
  .strict();
/**
 * A PromQL query (see src/metrics/prometheus): `{{flag}}`, `{{environment}}`, `{{cohort}}` and
 * `{{window}}` are filled in per analysis. Checked here so a policy with a template that can never
 * render is refused when it enters, not at its first analysis.
 */
const promQuery = z
  .string()
  .min(1)
  .max(4000)
  .superRefine((template, ctx) => {
    const rendered = renderQuery(template, { flag: 'f', environment: 'e', cohort: 'treatment', windowMs: 60_000 });
    if (!rendered.ok) ctx.addIssue({ code: 'custom', message: `not a usable query template: ${rendered.reason}` });
  });
/** How a query check is named in results and charts. */
const checkName = z.string().regex(/^[A-Za-z][A-Za-z0-9_:.-]{0,63}$/, 'a name: a letter, then letters, digits and _ : . - (at most 64)');

const queryGate = z.object({ name: checkName, query: promQuery, cohort: z.enum(['treatment', 'control']).default('treatment'), max: z.number() }).strict();
const queryRelativeGate = z
  .object({ name: checkName, query: promQuery, compare: z.literal('control'), maxRelativeIncrease: z.number().nonnegative() })
  .strict();
/** Told apart by their keys (`query` → PromQL, `compare` → against control, `max` → a limit), so an error names the gate's own field. */
export const gateSchema = keyedUnion([absoluteGate, relativeGate, queryGate, queryRelativeGate], 'a gate');

export const rollbackRuleSchema = z
  .object({
    metric: z.enum(METRICS),
    cohort: z.enum(['treatment', 'control']).default('treatment'),
    above: z.number().nonnegative(),
    for: durationSchema.prefault(0),
    /** Fewer requests than this in an analysis window say nothing either way. */
    minSamples: z.number().int().min(1).default(20),
    /** With a confidence, a window counts as breaching only when its rate is above the threshold beyond doubt. */
    confidence: confidence.optional(),
  })
  .strict();

/** A rollback rule on a PromQL query for the treatment cohort, over the last analysis interval (at least a minute). */
const queryRollbackRule = z.object({ name: checkName, query: promQuery, above: z.number(), for: durationSchema.prefault(0) }).strict();

/** Checks on the exposures SDKs report (`/api/client/metrics`, frontend API, OFREP). */
export const trafficSchema = z
  .object({
    /** Evaluations of the flag the step needs before its gates count: a flag nobody evaluates proves nothing. */
    minExposures: z.number().int().min(0).default(100),
    /** Sample-ratio mismatch: hold the ramp when the share of evaluations that got the feature is not the step's percentage. */
    sampleRatio: z
      .object({ pValue: z.number().gt(0).max(0.05).default(0.001) })
      .strict()
      .optional(),
  })
  .strict();

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Oslo or UTC');

export { toMinutes } from './clock-time.js';
const hourRange = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/, { message: 'hours as "HH:MM-HH:MM" (24-hour clock, end at most 24:00)', abort: true })
  // A window that ends before it starts would never open; overnight windows are two entries.
  .refine((h) => toMinutes(h.slice(0, 5)) < toMinutes(h.slice(6)), 'the end must be after the start (split overnight windows in two)');

const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/**
 * Days on which no step is entered, read in `tz`: listed `dates`, the last `lastDaysOfMonth` days of
 * every month (month-end closing), and the dates of a `holidays` calendar (policies/holidays/*.yaml),
 * which a rollout copies into its plan's `dates` when it starts, so the decision core stays pure.
 */
export const denyEntrySchema = z
  .object({
    dates: z.array(dateSchema).min(1).optional(),
    lastDaysOfMonth: z.number().int().min(1).max(27).optional(),
    holidays: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a holiday calendar name (the file policies/holidays/<name>.yaml)')
      .optional(),
    tz: timeZone.default('UTC'),
  })
  .strict()
  .refine((d) => d.dates !== undefined || d.lastDaysOfMonth !== undefined || d.holidays !== undefined, {
    message: 'a deny entry needs dates, lastDaysOfMonth or holidays',
  });
export type DenyEntry = z.output<typeof denyEntrySchema>;

export const windowsSchema = z
  .object({
    allow: z
      .array(
        z
          .object({
            days: z
              .array(z.enum(DAYS))
              .min(1)
              .default([...DAYS]),
            hours: hourRange.default('00:00-24:00'),
            tz: timeZone.default('UTC'),
          })
          .strict(),
      )
      .default([]),
    deny: z.array(denyEntrySchema).default([]),
  })
  .strict();

export const policySchema = z
  .object({
    name: flagNameSchema,
    description: z.string().optional(),
    steps: z
      .array(stepSchema)
      .min(1)
      .max(20)
      // On the steps alone (not the whole policy), so a mistake elsewhere does not hide this one.
      .superRefine((steps, ctx) => {
        const pcts = steps.map((s) => (typeof s === 'number' ? s : s.percentage));
        pcts.forEach((p, i) => {
          if (i > 0 && p <= pcts[i - 1]!) ctx.addIssue({ code: 'custom', path: [i], message: 'steps must increase' });
        });
      })
      .default([1, 10, 50, 100]),
    stepDefaults: z
      .object({
        minDuration: durationSchema.prefault('10m'),
        minSamples: z.number().int().min(0).default(1000),
        maxDuration: durationSchema.prefault('24h'),
        approval: approvalSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    analysisInterval: durationSchema.refine((ms) => ms >= 100, 'at least 100ms').prefault('30s'),
    gates: z.array(gateSchema).default([]),
    rollback: z.array(keyedUnion([rollbackRuleSchema, queryRollbackRule], 'a rollback rule')).default([]),
    windows: windowsSchema.optional(),
    /** Other flags to flip off together with the rollout's own when a rollback rule fires. */
    killSwitches: z.array(flagNameSchema).default([]),
    /**
     * What a gate that fails on evidence (one with a confidence) does: hold the ramp until a person
     * looks, or roll back as a breached rollback rule would. Point-estimate failures always hold.
     */
    onGateFailure: z.enum(['hold', 'rollback']).default('hold'),
    /**
     * What a breach does that control shares (attribution: the same rollback rule, or the same gate
     * failing beyond doubt, breached on control over the same window). `hold`: an incident, not the
     * feature's fault: the step holds and goes on by itself once it clears. `rollback`: kill anyway.
     */
    onSharedBreach: z.enum(['hold', 'rollback']).default('hold'),
    /**
     * A confidence gate whose value is over its line but not beyond doubt stays inconclusive, which
     * on real traffic can last the whole step: which users the hash put in treatment (a heavy user,
     * a bot) moves its rate for good, and more time does not make the doubt go away. The benefit of
     * the doubt lets such a gate pass once the step has `after` times its minimum duration and
     * samples, while its value is at most `upTo` times its line (a gross excess keeps holding).
     * `false`: never (the gate must come under its line).
     */
    benefitOfDoubt: z
      .union([
        z.literal(false),
        z
          .object({
            after: z.number().min(1).max(100).default(2),
            upTo: z.number().min(1).max(100).default(1.5),
          })
          .strict(),
      ])
      .prefault({}),
    /** How long a completed rollout keeps its rollback rules watching (0: not at all); a breach then still kills the flag. */
    watchAfterCompletion: durationSchema.prefault(0),
    traffic: trafficSchema.optional(),
    /**
     * Incoming alerts (src/alerts). `resumeOnResolve`: when the alert that paused a rollout resolves,
     * resume it, provided nobody moved it since; by default it stays paused for a person.
     */
    alerts: z
      .object({ resumeOnResolve: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict()
  .meta({ id: 'Policy' });

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;
export type Gate = z.output<typeof gateSchema>;
/** Gates on the outcomes applications report (as opposed to PromQL queries). */
export type OutcomeGate = Extract<Gate, { metric: MetricName }>;
export type QueryGate = Extract<Gate, { query: string }>;
export type RollbackRule = z.output<typeof rollbackRuleSchema>;
export type QueryRollbackRule = z.output<typeof queryRollbackRule>;
export type AnyRollbackRule = RollbackRule | QueryRollbackRule;
export type Windows = z.output<typeof windowsSchema>;
export type Traffic = z.output<typeof trafficSchema>;

export { type StepPlan, stepPlans } from './policy-words.js';
