import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FileError } from '../../src/files/file-error.js';
import { parseFlagFile } from '../../src/flags/flag-files.js';
import { flagDefinitionSchema } from '../../src/flags/schema.js';
import { parsePolicyFile } from '../../src/policies/policy-service.js';
import { gateSchema, policySchema } from '../../src/policies/policy-schema.js';
import { parseEnvironmentsFile } from '../../src/environments/environment-files.js';
import { environmentSchema } from '../../src/environments/environment-schema.js';
import { durationSchema } from '../../src/policies/durations.js';
import { formatPath, validationError } from '../../src/validation/issues.js';
import { choiceMessage, keyedUnion } from '../../src/validation/schema-errors.js';

/**
 * Schema errors as a person reads them: every problem of a file at once, each with its full path,
 * and a wrong choice names the allowed values (src/validation/schema-errors.ts).
 */

const METRICS_LIST = 'error_rate, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms, latency_mean_ms';
const ROLES_LIST = 'viewer, editor, release-manager, admin';
const GATE_SHAPES = '{metric, max, …}, {metric, compare, maxRelativeIncrease, …}, {name, query, max, …} or {name, query, compare, maxRelativeIncrease}';

/** Every problem of a file, as the start-up log and `rolloutctl apply` print them. */
function fileProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    if (err instanceof FileError) return err.lines();
    throw err;
  }
  return expect.fail('expected the file to be refused');
}

/** Every issue of a value a schema refuses, as "path: message". */
function problems(schema: z.ZodType, input: unknown): string[] {
  const parsed = schema.safeParse(input);
  if (parsed.success) return expect.fail(`expected ${JSON.stringify(input)} to be refused`);
  return parsed.error.issues.map((i) => `${formatPath('', i.path)}: ${i.message}`);
}

const FOUR_MISTAKES = `
name: checkout-plan
steps: [10, 5]
stepDefaults:
  approval: { required: 1, roles: [boss] }
gates:
  - { metric: eror_rate, max: 0.01 }
  - { metric: latency_p99_ms, max: high }
`;

describe('every problem of a file at once', () => {
  it('a policy with four mistakes names all four, each with its path', () => {
    expect(fileProblems(() => parsePolicyFile('policies/checkout.yaml', FOUR_MISTAKES))).toEqual([
      'policies/checkout.yaml: steps[1]: steps must increase',
      `policies/checkout.yaml: stepDefaults.approval.roles[0]: "boss" is not one of ${ROLES_LIST}`,
      `policies/checkout.yaml: gates[0].metric: "eror_rate" is not one of ${METRICS_LIST}`,
      'policies/checkout.yaml: gates[1].max: Invalid input: expected number, received string',
    ]);
  });

  it('the error message names the first problem and counts the rest', () => {
    const err = (() => {
      try {
        parsePolicyFile('p.yaml', FOUR_MISTAKES);
      } catch (e) {
        return e as FileError;
      }
    })()!;
    expect(err.message).toBe('p.yaml: steps[1]: steps must increase (and 3 more problems)');
    expect([err.fieldPath, err.problem]).toEqual(['steps[1]', 'steps must increase']);
    expect(err.problems).toHaveLength(4);
  });

  it('a flag file: a wrong operator, a missing value, a bad rollout and a duplicate name, together', () => {
    const text = `
flags:
  - name: checkout
    environments:
      production:
        enabled: true
        strategies:
          - name: flexibleRollout
            parameters: { rollout: "150" }
            constraints:
              - { contextName: country, operator: EQUALS, values: [NO] }
              - { contextName: age, operator: NUM_GT }
  - name: checkout
    environments: { staging: { enabled: true } }
`;
    const at = 'flags/f.yaml: flags[0].environments.production.strategies[0]';
    expect(fileProblems(() => parseFlagFile('flags/f.yaml', text))).toEqual([
      `${at}.constraints[0].operator: "EQUALS" is not one of IN, NOT_IN, STR_ENDS_WITH, STR_STARTS_WITH, STR_CONTAINS, NUM_EQ, NUM_GT, NUM_GTE, NUM_LT, NUM_LTE, DATE_AFTER, DATE_BEFORE, SEMVER_EQ, SEMVER_GT, SEMVER_LT, SEMVER_GTE, SEMVER_LTE, REGEX, IN_CIDR`,
      `${at}.constraints[1].value: operator NUM_GT needs a "value"`,
      `${at}.parameters.rollout: flexibleRollout needs "rollout" between 0 and 100`,
      'flags/f.yaml: flags[1].name: duplicate flag "checkout"',
    ]);
  });

  it('an environments file: every rule mistake and the duplicate', () => {
    const text = 'environments:\n  - name: production\n    rules: { approval: { required: 0, roles: [boss] }, minStepDuration: soon }\n  - name: production\n';
    expect(fileProblems(() => parseEnvironmentsFile('environments.yaml', text))).toEqual([
      'environments.yaml: environments[0].rules.approval.required: at least 1 (leave out "approval" to ask for none)',
      `environments.yaml: environments[0].rules.approval.roles[0]: "boss" is not one of ${ROLES_LIST}`,
      'environments.yaml: environments[0].rules.minStepDuration: a duration such as 30s, 10m or 24h',
      'environments.yaml: environments[1].name: duplicate environment "production"',
    ]);
  });

  it('lists at most 20 problems of a file, then says how many more', () => {
    const text = `name: p\nkillSwitches: [${Array.from({ length: 60 }, (_, i) => `"bad name ${i}"`).join(', ')}]\n`;
    const lines = fileProblems(() => parsePolicyFile('p.yaml', text));
    expect(lines).toHaveLength(21);
    expect(lines[19]).toBe('p.yaml: killSwitches[19]: a flag name: letters, digits and _ . ~ - (at most 100)');
    expect(lines[20]).toBe('p.yaml: and 40 more problems (only the first 20 are listed)');
  });

  it('the API error summarises (first problem, and how many more) and lists at most 20 in details', () => {
    const err = validationError('body', policySchema.safeParse({ name: 'p', killSwitches: Array.from({ length: 60 }, (_, i) => `bad name ${i}`) }).error!);
    expect(err.message).toBe('invalid body: killSwitches[0]: a flag name: letters, digits and _ . ~ - (at most 100) (and 59 more problems)');
    const details = err.details as { issues: unknown[]; unlisted?: number };
    expect(details.issues).toHaveLength(20);
    expect(details.unlisted).toBe(40);
    const one = validationError('body', policySchema.safeParse({ name: 'p', onGateFailure: 'panic' }).error!);
    expect(one.message).toBe('invalid body: onGateFailure: "panic" is not one of hold, rollback');
    expect(one.details).toEqual({ issues: [{ path: 'onGateFailure', message: '"panic" is not one of hold, rollback' }] });
  });
});

describe('a wrong choice names the field and the allowed values', () => {
  it.each([
    {
      what: 'a misspelt gate metric',
      schema: policySchema,
      input: { name: 'p', gates: [{ metric: 'eror_rate', max: 0.01 }] },
      want: [`gates[0].metric: "eror_rate" is not one of ${METRICS_LIST}`],
    },
    {
      what: 'a misspelt rollback metric',
      schema: policySchema,
      input: { name: 'p', rollback: [{ metric: 'errors', above: 0.05 }] },
      want: [`rollback[0].metric: "errors" is not one of ${METRICS_LIST}`],
    },
    {
      what: 'a gate cohort',
      schema: policySchema,
      input: { name: 'p', gates: [{ metric: 'error_rate', cohort: 'canary', max: 1 }] },
      want: ['gates[0].cohort: "canary" is not one of treatment, control'],
    },
    {
      what: 'compare names the one value allowed',
      schema: policySchema,
      input: { name: 'p', gates: [{ metric: 'error_rate', compare: 'baseline', maxRelativeIncrease: 0.2 }] },
      want: ['gates[0].compare: "baseline" is not control'],
    },
    {
      what: 'a wrong role in the default approval',
      schema: policySchema,
      input: { name: 'p', stepDefaults: { approval: { roles: ['release-manager', 'superuser'] } } },
      want: [`stepDefaults.approval.roles[1]: "superuser" is not one of ${ROLES_LIST}`],
    },
    {
      what: "a wrong role in a step's approval",
      schema: policySchema,
      input: { name: 'p', steps: [1, { percentage: 50, approval: { roles: ['owner'] } }] },
      want: [`steps[1].approval.roles[0]: "owner" is not one of ${ROLES_LIST}`],
    },
    {
      what: "a wrong role in an environment's rules",
      schema: environmentSchema,
      input: { name: 'production', rules: { approval: { required: 1, roles: ['boss'] } } },
      want: [`rules.approval.roles[0]: "boss" is not one of ${ROLES_LIST}`],
    },
    {
      what: 'a day of the week',
      schema: policySchema,
      input: { name: 'p', windows: { allow: [{ days: ['monday'] }] } },
      want: ['windows.allow[0].days[0]: "monday" is not one of mon, tue, wed, thu, fri, sat, sun'],
    },
    {
      what: 'a number where a choice is',
      schema: policySchema,
      input: { name: 'p', onGateFailure: 1 },
      want: ['onGateFailure: 1 is not one of hold, rollback'],
    },
    { what: 'a missing choice', schema: policySchema, input: { name: 'p', gates: [{ max: 1 }] }, want: [`gates[0].metric: required: one of ${METRICS_LIST}`] },
    {
      what: 'a wrong operator in a flag constraint',
      schema: flagDefinitionSchema,
      input: {
        name: 'f',
        environments: {
          production: { enabled: true, strategies: [{ name: 'default', constraints: [{ contextName: 'country', operator: 'in', values: ['NO'] }] }] },
        },
      },
      want: [
        'environments.production.strategies[0].constraints[0].operator: "in" is not one of IN, NOT_IN, STR_ENDS_WITH, STR_STARTS_WITH, STR_CONTAINS, NUM_EQ, NUM_GT, NUM_GTE, NUM_LT, NUM_LTE, DATE_AFTER, DATE_BEFORE, SEMVER_EQ, SEMVER_GT, SEMVER_LT, SEMVER_GTE, SEMVER_LTE, REGEX, IN_CIDR',
      ],
    },
    {
      what: 'a payload type',
      schema: flagDefinitionSchema,
      input: { name: 'f', environments: { production: { enabled: true, variants: [{ name: 'v', weight: 1000, payload: { type: 'yaml', value: 'x' } }] } } },
      want: ['environments.production.variants[0].payload.type: "yaml" is not one of string, json, csv, number'],
    },
  ])('$what', ({ schema, input, want }) => {
    expect(problems(schema, input)).toEqual(want);
  });

  it('keeps the message bounded: a long value is cut short, a long list says how many more', () => {
    expect(choiceMessage('x'.repeat(500), ['a', 'b'])).toBe(`"${'x'.repeat(59)}…" is not one of a, b`);
    const many = Array.from({ length: 30 }, (_, i) => `v${i}`);
    expect(choiceMessage('nope', many)).toBe(`"nope" is not one of ${many.slice(0, 20).join(', ')}, … (10 more)`);
    expect(choiceMessage({ a: 1 }, ['a'])).toBe('an object with key a is not a');
    expect(choiceMessage(['a'], ['a', 'b'])).toBe('a list is not one of a, b');
    expect(choiceMessage(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, i])), ['a', 'b'])).toBe(
      'an object with keys k0, k1, k2, k3, k4, … (3 more) is not one of a, b',
    );
  });
});

describe('unions pick their branch by the keys present', () => {
  it.each([
    {
      what: 'metric and max: a limit on a metric',
      input: { gates: [{ metric: 'error_rate', max: 'high' }] },
      want: ['gates[0].max: Invalid input: expected number, received string'],
    },
    {
      what: 'compare: against control',
      input: { gates: [{ metric: 'error_rate', compare: 'control' }] },
      want: ['gates[0].maxRelativeIncrease: Invalid input: expected number, received undefined'],
    },
    {
      what: 'maxRelativeIncrease without compare: against control',
      input: { gates: [{ metric: 'error_rate', maxRelativeIncrease: 0.2 }] },
      want: ['gates[0].compare: required: control'],
    },
    { what: 'query: a PromQL gate', input: { gates: [{ query: 'up', max: 1 }] }, want: ['gates[0].name: Invalid input: expected string, received undefined'] },
    {
      what: 'query and compare: a PromQL gate against control',
      input: { gates: [{ name: 'q', query: 'up', compare: 'control', maxRelativeIncrease: -1 }] },
      want: ['gates[0].maxRelativeIncrease: Too small: expected number to be >=0'],
    },
    {
      what: 'a stray key: the branch it resembles names it',
      input: { gates: [{ metric: 'error_rate', max: 0.01, confidnce: 0.9 }] },
      want: ['gates[0]: Unrecognized key: "confidnce"'],
    },
    {
      what: 'a PromQL rollback rule',
      input: { rollback: [{ name: 'q', query: 'up', above: 'x' }] },
      want: ['rollback[0].above: Invalid input: expected number, received string'],
    },
    {
      what: 'a rollback rule on a metric',
      input: { rollback: [{ metric: 'error_rate', above: 0.05, for: '5 minutes' }] },
      want: ['rollback[0].for: a duration such as 30s, 10m or 24h'],
    },
    { what: 'a step object', input: { steps: [1, { percentage: 10, minDurations: '1m' }] }, want: ['steps[1]: Unrecognized key: "minDurations"'] },
    { what: 'a step number', input: { steps: [0, 10] }, want: ['steps[0]: Too small: expected number to be >0'] },
  ])('$what', ({ input, want }) => {
    expect(problems(policySchema, { name: 'p', ...input })).toEqual(want);
  });

  it.each([
    { what: 'a gate that is a string', input: { gates: ['error_rate'] }, want: [`gates[0]: expected a gate (${GATE_SHAPES}); found "error_rate"`] },
    {
      what: 'a gate with no known key',
      input: { gates: [{ metrik: 'error_rate' }] },
      want: [`gates[0]: expected a gate (${GATE_SHAPES}); found an object with key metrik`],
    },
    { what: 'an empty gate', input: { gates: [{}] }, want: [`gates[0]: expected a gate (${GATE_SHAPES}); found an empty object`] },
    {
      what: 'a rollback rule that is a number',
      input: { rollback: [5] },
      want: ['rollback[0]: expected a rollback rule ({metric, above, …} or {name, query, above, …}); found 5'],
    },
    {
      what: 'a step that is a string',
      input: { steps: ['10%'] },
      want: ['steps[0]: expected a step (a percentage, or {percentage, …} with settings of its own); found "10%"'],
    },
    {
      what: 'a duration that is a list',
      input: { analysisInterval: ['30s'] },
      want: ['analysisInterval: expected a duration (such as 30s, 10m or 24h, or a number of milliseconds); found a list'],
    },
  ])('a value of no allowed shape says which are: $what', ({ input, want }) => {
    expect(problems(policySchema, { name: 'p', ...input })).toEqual(want);
  });

  it('a flag parameter of the wrong type says what is allowed', () => {
    expect(
      problems(flagDefinitionSchema, {
        name: 'f',
        environments: { production: { enabled: true, strategies: [{ name: 'default', parameters: { groupId: { a: 1 } } }] } },
      }),
    ).toEqual(['environments.production.strategies[0].parameters.groupId: expected a parameter value (a string or a number); found an object with key a']);
  });

  it('accepts, and returns, exactly what z.union does', () => {
    const plain = z.union(gateSchema.options);
    const key = fc.constantFrom('metric', 'max', 'cohort', 'confidence', 'compare', 'maxRelativeIncrease', 'minControlSamples', 'name', 'query', 'other');
    const value = fc.constantFrom<unknown>(
      'error_rate',
      'latency_p99_ms',
      'treatment',
      'control',
      'q1',
      'rate(x[{{window}}])',
      0,
      0.5,
      0.95,
      1,
      200,
      -1,
      null,
      'x',
    );
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(key, value, { maxKeys: 5 }), value), (input) => {
        const keyed = gateSchema.safeParse(input);
        const union = plain.safeParse(input);
        expect(keyed.success).toBe(union.success);
        if (keyed.success) expect(keyed.data).toEqual(union.data);
      }),
      { numRuns: 2000 },
    );
    // The same for the other kinds of union: numbers and strings.
    for (const input of [0, 250, -1, 1.5, '30s', '1.5h', '10 minutes', '', null, true, {}]) {
      const plainDuration = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/)]);
      expect(durationSchema.safeParse(input).success, String(input)).toBe(plainDuration.safeParse(input).success);
    }
  });

  it('keeps the JSON Schema of z.union', () => {
    const options = [z.object({ a: z.string() }).strict(), z.object({ b: z.number() }).strict()] as const;
    expect(z.toJSONSchema(keyedUnion(options, 'an a or a b'))).toEqual(z.toJSONSchema(z.union(options)));
  });
});
