import { z } from 'zod';
import { isJsonText } from '../validation/json-text.js';
import { fieldsValid, keyedUnion } from '../validation/schema-errors.js';
import { flagNameSchema, storedFlagNameSchema } from './flag-name.js';
import { MULTI_VALUE_OPERATORS, OPERATORS } from './operators.js';

/**
 * The flag model: a superset of Unleash's client feature shape, per environment.
 * These schemas validate every way a flag enters (YAML files, admin API, Unleash import),
 * so that what we serve is always something every stock Unleash SDK can evaluate.
 */

export { NAME_PATTERN, flagNameSchema, storedFlagNameSchema } from './flag-name.js';
export const environmentNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'an environment name: letters, digits and _ . - (at most 100)');

export { OPERATORS } from './operators.js';

const KNOWN_OPERATORS = new Set<string>(OPERATORS);
/** An operator an import may bring that this server does not know is kept; this bounds its name. */
export const MAX_OPERATOR_CHARS = 100;

/**
 * Two strictnesses of one shape (docs/api.md, "Import"):
 * - `authored`: what a person writes (PUT, flag files). Only operators this server knows, only
 *   regular expressions that compile, only `json` payloads that parse (Unleash refuses the others
 *   too; an SDK's variant.payload would hand the application text it cannot parse): a mistake is
 *   refused with its field path.
 * - `held`: what is stored and served. An Unleash server hands SDKs operators added after this
 *   server was written and regular expressions that do not compile, and the client specification
 *   says SDKs evaluate such a constraint as false; an import keeps them as they came (and reports
 *   them), so SDKs see exactly what Unleash would have shown them.
 * Everything else (a single-value operator without a value, a rollout outside 0–100) is refused in both.
 */
type Strictness = 'authored' | 'held';

function constraintSchemaOf(strictness: Strictness) {
  return z
    .object({
      contextName: z.string().min(1),
      operator: strictness === 'authored' ? z.enum(OPERATORS) : z.string().min(1).max(MAX_OPERATOR_CHARS),
      value: z.string().optional(),
      // Unleash always sends a list (empty for single-value operators); SDKs call values.filter() unguarded.
      values: z.array(z.string()).default([]),
      inverted: z.boolean().optional(),
      caseInsensitive: z.boolean().optional(),
    })
    .superRefine(
      (c, ctx) => {
        const known = KNOWN_OPERATORS.has(c.operator);
        // A single-value operator without a value would silently evaluate to false in every SDK.
        if (known && !MULTI_VALUE_OPERATORS.has(c.operator) && c.value === undefined) {
          ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${c.operator} needs a "value"` });
        }
        if (strictness === 'authored' && c.operator === 'REGEX' && c.value !== undefined && !compiles(c.value)) {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'not a valid regular expression' });
        }
      },
      { when: fieldsValid('operator', 'value') },
    );
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function payloadSchemaOf(strictness: Strictness) {
  return z
    .object({
      type: z.enum(['string', 'json', 'csv', 'number']),
      value: z.string(),
    })
    .superRefine(
      (p, ctx) => {
        if (strictness === 'authored' && p.type === 'json' && !isJsonText(p.value)) {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'not valid JSON (a payload of type "json" must parse as JSON)' });
        }
      },
      { when: fieldsValid('type', 'value') },
    );
}

function variantBaseOf(strictness: Strictness) {
  return {
    name: z.string().min(1),
    weight: z.number().int().min(0).max(1000),
    weightType: z.enum(['variable', 'fix']).optional(),
    stickiness: z.string().optional(),
    payload: payloadSchemaOf(strictness).optional(),
  };
}

const strategyVariantSchemaOf = (strictness: Strictness) => z.object(variantBaseOf(strictness));

function variantSchemaOf(strictness: Strictness) {
  return z.object({
    ...variantBaseOf(strictness),
    overrides: z.array(z.object({ contextName: z.string().min(1), values: z.array(z.string()) })).optional(),
  });
}

/**
 * Older exports carry numbers; SDKs call string methods on parameters (userIds.split), so every
 * value is stored and served as a string, as Unleash itself does.
 */
const parameterValue = keyedUnion([z.string(), z.number()], 'a parameter value').transform(String);

function strategySchemaOf(strictness: Strictness) {
  return z
    .object({
      name: z.string().min(1),
      id: z.string().optional(),
      title: z.string().nullish(),
      disabled: z.boolean().nullish(),
      sortOrder: z.number().optional(),
      parameters: z.record(z.string(), parameterValue).default({}),
      constraints: z.array(constraintSchemaOf(strictness)).default([]),
      segments: z.array(z.number().int()).optional(),
      variants: z.array(strategyVariantSchemaOf(strictness)).optional(),
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
}

function flagEnvironmentSchemaOf(strictness: Strictness) {
  return z.object({
    enabled: z.boolean(),
    strategies: z.array(strategySchemaOf(strictness)).default([]),
    variants: z.array(variantSchemaOf(strictness)).default([]),
  });
}

function segmentSchemaOf(strictness: Strictness) {
  return z.object({
    id: z.number().int().nonnegative(),
    name: z.string().optional(),
    constraints: z.array(constraintSchemaOf(strictness)).default([]),
  });
}

function dependencySchemaOf(strictness: Strictness) {
  return z.object({
    feature: strictness === 'authored' ? flagNameSchema : storedFlagNameSchema,
    enabled: z.boolean().optional(),
    variants: z.array(z.string()).optional(),
  });
}

export const flagTypeSchema = z.string().min(1).default('release');

function flagDefinitionSchemaOf(strictness: Strictness) {
  return z.object({
    name: strictness === 'authored' ? flagNameSchema : storedFlagNameSchema,
    description: z.string().nullish(),
    type: flagTypeSchema,
    project: z.string().min(1).default('default'),
    stale: z.boolean().default(false),
    impressionData: z.boolean().default(false),
    dependencies: z.array(dependencySchemaOf(strictness)).default([]),
    environments: z.record(environmentNameSchema, flagEnvironmentSchemaOf(strictness)).default({}),
  });
}

/** What is held and served (stored flags, segments, imports, backups): see Strictness. */
export const constraintSchema = constraintSchemaOf('held');
export const strategySchema = strategySchemaOf('held');
export const flagEnvironmentSchema = flagEnvironmentSchemaOf('held');
export const segmentSchema = segmentSchemaOf('held');
export const dependencySchema = dependencySchemaOf('held');
export const variantSchema = variantSchemaOf('held');

/** What a person writes (a flag file's segments; strategies and dependencies as an import would have to be authored). */
export const authoredSegmentSchema = segmentSchemaOf('authored');
export const authoredStrategySchema = strategySchemaOf('authored');
export const authoredDependencySchema = dependencySchemaOf('authored');
export const authoredVariantSchema = variantSchemaOf('authored');

export const killSwitchSchema = z.object({
  reason: z.string(),
  actor: z.string(),
  at: z.string(),
});

/** What a person writes (YAML file or admin API PUT). */
export const flagDefinitionSchema = flagDefinitionSchemaOf('authored');

/** What is stored: a held definition plus the kill switches, which only kill/restore change. */
export const storedFlagSchema = flagDefinitionSchemaOf('held').extend({
  killSwitches: z.record(environmentNameSchema, killSwitchSchema).default({}),
});

export type Constraint = z.infer<typeof constraintSchema>;
export type Strategy = z.infer<typeof strategySchema>;
export type Variant = z.infer<typeof variantSchema>;
export type FlagEnvironment = z.infer<typeof flagEnvironmentSchema>;
/** A definition as held: what a PUT or a file gives passes as one too (the same shape, checked more strictly). */
export type FlagDefinition = Omit<StoredFlag, 'killSwitches'>;
export type StoredFlag = z.infer<typeof storedFlagSchema>;
export type Segment = z.infer<typeof segmentSchema>;
export type KillSwitch = z.infer<typeof killSwitchSchema>;
