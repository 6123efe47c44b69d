import { z } from 'zod';
import { fieldsValid, keyedUnion } from '../validation/schema-errors.js';

/**
 * The flag model: a superset of Unleash's client feature shape, per environment.
 * These schemas validate every way a flag enters (YAML files, admin API, Unleash import),
 * so that what we serve is always something every stock Unleash SDK can evaluate.
 */

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.~-]{0,99}$/;
export const flagNameSchema = z.string().regex(NAME_PATTERN, 'a flag name: letters, digits and _ . ~ - (at most 100)');
export const environmentNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'an environment name: letters, digits and _ . - (at most 100)');

export const OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_ENDS_WITH',
  'STR_STARTS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_LT',
  'SEMVER_GTE',
  'SEMVER_LTE',
  'REGEX',
  'IN_CIDR',
] as const;

const MULTI_VALUE_OPERATORS = new Set<string>(['IN', 'NOT_IN', 'STR_ENDS_WITH', 'STR_STARTS_WITH', 'STR_CONTAINS', 'IN_CIDR']);

export const constraintSchema = z
  .object({
    contextName: z.string().min(1),
    operator: z.enum(OPERATORS),
    value: z.string().optional(),
    // Unleash always sends a list (empty for single-value operators); SDKs call values.filter() unguarded.
    values: z.array(z.string()).default([]),
    inverted: z.boolean().optional(),
    caseInsensitive: z.boolean().optional(),
  })
  .superRefine(
    (c, ctx) => {
      // A single-value operator without a value would silently evaluate to false in every SDK.
      if (!MULTI_VALUE_OPERATORS.has(c.operator) && c.value === undefined) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${c.operator} needs a "value"` });
      }
      if (c.operator === 'REGEX' && c.value !== undefined) {
        try {
          new RegExp(c.value);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'not a valid regular expression' });
        }
      }
    },
    { when: fieldsValid('operator', 'value') },
  );

export const payloadSchema = z.object({
  type: z.enum(['string', 'json', 'csv', 'number']),
  value: z.string(),
});

const variantBase = {
  name: z.string().min(1),
  weight: z.number().int().min(0).max(1000),
  weightType: z.enum(['variable', 'fix']).optional(),
  stickiness: z.string().optional(),
  payload: payloadSchema.optional(),
};

export const strategyVariantSchema = z.object(variantBase);

export const variantSchema = z.object({
  ...variantBase,
  overrides: z.array(z.object({ contextName: z.string().min(1), values: z.array(z.string()) })).optional(),
});

/**
 * Older exports carry numbers; SDKs call string methods on parameters (userIds.split), so every
 * value is stored and served as a string, as Unleash itself does.
 */
const parameterValue = keyedUnion([z.string(), z.number()], 'a parameter value').transform(String);

export const strategySchema = z
  .object({
    name: z.string().min(1),
    id: z.string().optional(),
    title: z.string().nullish(),
    disabled: z.boolean().nullish(),
    sortOrder: z.number().optional(),
    parameters: z.record(z.string(), parameterValue).default({}),
    constraints: z.array(constraintSchema).default([]),
    segments: z.array(z.number().int()).optional(),
    variants: z.array(strategyVariantSchema).optional(),
  })
  .superRefine(
    (s, ctx) => {
      if (s.name === 'flexibleRollout' || s.name.startsWith('gradualRollout')) {
        const key = s.name === 'flexibleRollout' ? 'rollout' : 'percentage';
        const raw = s.parameters[key];
        const pct = Number(raw);
        if (raw === undefined || raw === '' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
          ctx.addIssue({ code: 'custom', path: ['parameters', key], message: `${s.name} needs "${key}" between 0 and 100` });
        }
      }
    },
    { when: fieldsValid('name', 'parameters') },
  );

export const dependencySchema = z.object({
  feature: flagNameSchema,
  enabled: z.boolean().optional(),
  variants: z.array(z.string()).optional(),
});

export const killSwitchSchema = z.object({
  reason: z.string(),
  actor: z.string(),
  at: z.string(),
});

export const flagEnvironmentSchema = z.object({
  enabled: z.boolean(),
  strategies: z.array(strategySchema).default([]),
  variants: z.array(variantSchema).default([]),
});

export const flagTypeSchema = z.string().min(1).default('release');

/** What a person writes (YAML file or admin API PUT). */
export const flagDefinitionSchema = z.object({
  name: flagNameSchema,
  description: z.string().nullish(),
  type: flagTypeSchema,
  project: z.string().min(1).default('default'),
  stale: z.boolean().default(false),
  impressionData: z.boolean().default(false),
  dependencies: z.array(dependencySchema).default([]),
  environments: z.record(environmentNameSchema, flagEnvironmentSchema).default({}),
});

/** What is stored: the definition plus the kill switches, which only kill/restore change. */
export const storedFlagSchema = flagDefinitionSchema.extend({
  killSwitches: z.record(environmentNameSchema, killSwitchSchema).default({}),
});

export const segmentSchema = z.object({
  id: z.number().int().nonnegative(),
  name: z.string().optional(),
  constraints: z.array(constraintSchema).default([]),
});

export type Constraint = z.infer<typeof constraintSchema>;
export type Strategy = z.infer<typeof strategySchema>;
export type Variant = z.infer<typeof variantSchema>;
export type FlagEnvironment = z.infer<typeof flagEnvironmentSchema>;
export type FlagDefinition = z.infer<typeof flagDefinitionSchema>;
export type StoredFlag = z.infer<typeof storedFlagSchema>;
export type Segment = z.infer<typeof segmentSchema>;
export type KillSwitch = z.infer<typeof killSwitchSchema>;
