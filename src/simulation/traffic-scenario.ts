import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYamlFile } from '../files/yaml-files.js';
import { durationSchema } from '../policies/durations.js';
import { uniqueNames } from '../validation/schema-errors.js';

/**
 * A scenario file (`npm run simulate -- --scenarios file.yaml`): a team describes its own service
 * (its users, their traffic and errors, its daily cycle and incidents) and what a release does to
 * it. Validated here; an error names the path, e.g. `scenarios[3].regression.segment: …`.
 * src/simulation/scenarios/real-traffic.yaml is the worked example; docs/simulation.md the reference.
 */

const fraction = z.number().min(0).max(1);
const factor = z.number().positive();

const latencySchema = z
  .object({
    /** Median latency of a typical user's requests, ms. */
    medianMs: z.number().positive().default(80),
    /** Standard deviation of the log of one user's request latencies. */
    sigma: z.number().positive().default(0.6),
    /** Spread between users: each user's median is the median × a log-normal factor with this sigma. */
    userSigma: z.number().min(0).default(0.3),
  })
  .strict();

const botSchema = z
  .object({
    name: z.string().min(1).optional(),
    count: z.number().int().min(1).max(100).default(1),
    /** Requests per second of each, as a multiple of the mean user's. */
    rateFactor: factor,
    errorRate: fraction,
  })
  .strict();

const segmentSchema = z
  .object({
    name: z.string().min(1),
    /** Share of users in it, chosen by a stable hash of the user id and the segment's name. */
    fraction: z.number().gt(0).max(1),
    rateFactor: factor.default(1),
    errorFactor: factor.default(1),
  })
  .strict();

const dailyCycleSchema = z
  .object({
    /** Traffic is multiplied by 1 + amplitude × cos(2π (hour − peakHour) / 24). */
    amplitude: z.number().min(0).lt(1),
    peakHour: z.number().min(0).max(24).default(15),
    /** The same for every user's error propensity (busy hours fail more), 0 by default. */
    errorAmplitude: z.number().min(0).lt(1).default(0),
  })
  .strict();

const effects = {
  /** Each request's error probability × this (at most 1). */
  errorFactor: factor.optional(),
  /** An extra chance of failing, on top of the user's own: p → 1 − (1 − p)(1 − extraErrorRate). */
  extraErrorRate: fraction.optional(),
  /** Latency × this. */
  latencyFactor: factor.optional(),
};
type Effects = { errorFactor?: number | undefined; extraErrorRate?: number | undefined; latencyFactor?: number | undefined };
const hasEffect = (e: Effects) => e.errorFactor !== undefined || e.extraErrorRate !== undefined || e.latencyFactor !== undefined;
const effectMessage = 'set at least one of errorFactor, extraErrorRate, latencyFactor';

const incidentSchema = z
  .object({
    /** Since the rollout started. */
    start: durationSchema,
    duration: durationSchema,
    ...effects,
  })
  .strict()
  .refine(hasEffect, effectMessage);

const regressionSchema = z
  .object({
    ...effects,
    /** Only treatment users in this segment are hit (one of the scenario's segments); everyone in treatment without it. */
    segment: z.string().min(1).optional(),
    /** The regression shows this long after the rollout started (a leak, a cache that fills); at once without it. */
    after: durationSchema.optional(),
    /** The regression shows once the flag is served to this percentage or more (load-dependent). */
    fromPercentage: z.number().min(0).max(100).optional(),
  })
  .strict()
  .refine(hasEffect, effectMessage);

const targetsSchema = z
  .object({
    maxRolledBack: fraction.optional(),
    minCompleted: fraction.optional(),
    minStoppedBefore100: fraction.optional(),
    /** Stopped (rolled back or paused) while still at the plan's first step. */
    minStoppedAtFirstStep: fraction.optional(),
  })
  .strict();

export const trafficScenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    users: z.number().int().min(1).max(200_000).default(20_000),
    /** Requests per second from the users, on average over the day (bots come on top). */
    ratePerSecond: z.number().positive(),
    /** The service's error rate: users' propensities are scaled so the request-weighted mean is this. */
    errorRate: fraction.default(0.005),
    rateDistribution: z.enum(['lognormal', 'pareto']).default('lognormal'),
    /** Log-normal: standard deviation of the log of users' request rates (0: all alike; 2: the top 1 % make about 37 %). */
    sigma: z.number().min(0).max(4).default(1),
    /** Pareto: its shape (> 1; the smaller, the heavier the tail). */
    paretoAlpha: z.number().gt(1).default(1.5),
    /** Users' error propensities are Beta around errorRate with this concentration (a + b): the smaller, the more errors bunch in a few users. */
    errorConcentration: z.number().positive().default(20),
    latency: latencySchema.prefault({}),
    bots: z.array(botSchema).default([]),
    segments: uniqueNames(z.array(segmentSchema), 'segment').default([]),
    dailyCycle: dailyCycleSchema.optional(),
    incidents: z.array(incidentSchema).default([]),
    /** What the release does to its treatment cohort; without it the release is healthy and ought to complete. */
    regression: regressionSchema.optional(),
    /** Shares of rollouts the report checks (e.g. maxRolledBack: 0.02), for every arm. */
    targets: targetsSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const segment = s.regression?.segment;
    if (segment !== undefined && !s.segments.some((x) => x.name === segment))
      ctx.addIssue({
        code: 'custom',
        path: ['regression', 'segment'],
        message: `no segment named "${segment}" (segments: ${s.segments.map((x) => x.name).join(', ') || 'none'})`,
      });
  });

export const scenarioFileSchema = z.object({ scenarios: uniqueNames(z.array(trafficScenarioSchema).min(1), 'scenario') }).strict();

export type TrafficScenario = z.output<typeof trafficScenarioSchema>;
export type Incident = TrafficScenario['incidents'][number];
export type Regression = NonNullable<TrafficScenario['regression']>;

export function parseScenarioFile(file: string, text: string): TrafficScenario[] {
  return parseYamlFile(file, text, scenarioFileSchema).scenarios;
}

export function readScenarioFile(file: string): TrafficScenario[] {
  return parseScenarioFile(file, readFileSync(file, 'utf8'));
}
