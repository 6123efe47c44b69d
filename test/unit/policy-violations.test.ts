import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policySchema, type PolicyInput } from '../../src/policies/policy-schema.js';
import { parsePolicyFile } from '../../src/policies/policy-service.js';
import { environmentSchema, type EnvironmentInput } from '../../src/environments/environment-schema.js';
import { parseEnvironmentsFile } from '../../src/environments/environment-files.js';
import { policyViolations } from '../../src/environments/policy-violations.js';

const policy = (input: Omit<PolicyInput, 'name'>) => policySchema.parse({ name: 'p', ...input });
const env = (rules: EnvironmentInput['rules']) => environmentSchema.parse({ name: 'production', rules });

const RM: EnvironmentInput['rules'] = { approval: { required: 1, roles: ['release-manager'] } };
const rollback = [{ metric: 'error_rate' as const, above: 0.05, for: '1m' }];
const gate = [{ metric: 'error_rate' as const, max: 0.01 }];

describe('policyViolations: what a policy asks less than an environment requires', () => {
  it.each([
    { what: 'an environment without rules takes any policy', policy: { stepDefaults: { approval: { required: 0 } } }, rules: undefined, want: [] },
    { what: 'the default policy (1 release-manager approval, 10m steps) meets an approval rule', policy: {}, rules: RM, want: [] },
    {
      what: 'no approvals anywhere: every step is named, the first included',
      policy: { steps: [1, 50, 100], stepDefaults: { approval: { required: 0 } } },
      rules: RM,
      want: [
        ['rules.approval.required', 'step 1%: asks for 0 approvals, production requires at least 1 from release-manager'],
        ['rules.approval.required', 'step 50%: asks for 0 approvals, production requires at least 1 from release-manager'],
        ['rules.approval.required', 'step 100%: asks for 0 approvals, production requires at least 1 from release-manager'],
      ],
    },
    {
      what: 'only the first step skips approval (a step override)',
      policy: { steps: [{ percentage: 1, approval: { required: 0 } }, 100] },
      rules: RM,
      want: [['rules.approval.required', 'step 1%: asks for 0 approvals, production requires at least 1 from release-manager']],
    },
    {
      what: 'too few approvals for a rule asking two',
      policy: { steps: [10, 100] },
      rules: { approval: { required: 2 } },
      want: [
        ['rules.approval.required', 'step 10%: asks for 1 approval, production requires at least 2'],
        ['rules.approval.required', 'step 100%: asks for 1 approval, production requires at least 2'],
      ],
    },
    {
      what: 'an editor may approve a step: a role the environment does not accept',
      policy: { steps: [5, { percentage: 100, approval: { roles: ['release-manager', 'editor'] } }] },
      rules: RM,
      want: [['rules.approval.roles', 'step 100%: lets editor approve, production accepts approvals only from release-manager']],
    },
    {
      what: 'roles are not checked where the count is not limited by roles',
      policy: { stepDefaults: { approval: { roles: ['viewer'] } } },
      rules: { approval: { required: 1 } },
      want: [],
    },
    {
      what: 'a step shorter than the minimum step duration',
      policy: { steps: [1, { percentage: 100, minDuration: '1m' }] },
      rules: { minStepDuration: '5m' },
      want: [['rules.minStepDuration', 'step 100%: lasts at least 1m, production requires at least 5m per step']],
    },
    { what: 'steps as long as the minimum pass', policy: { stepDefaults: { minDuration: '5m' } }, rules: { minStepDuration: 300_000 }, want: [] },
    {
      what: 'no rollback rules',
      policy: {},
      rules: { requireRollbackRules: true },
      want: [['rules.requireRollbackRules', 'the policy has no rollback rules, production requires at least one']],
    },
    { what: 'rollback rules present', policy: { rollback }, rules: { requireRollbackRules: true }, want: [] },
    {
      what: 'no gates',
      policy: { rollback },
      rules: { requireGates: true },
      want: [['rules.requireGates', 'the policy has no gates, production requires at least one']],
    },
    { what: 'gates present', policy: { gates: gate }, rules: { requireGates: true, requireRollbackRules: false }, want: [] },
  ])('$what', ({ policy: input, rules, want }) => {
    const found = policyViolations(policy(input as Omit<PolicyInput, 'name'>), env(rules as EnvironmentInput['rules']));
    expect(found.map((v) => [v.rule, v.message])).toEqual(want);
  });

  it('names every rule a policy breaks, in the order rules are listed', () => {
    const weak = policy({ steps: [50, 100], stepDefaults: { minDuration: '30s', approval: { required: 0 } } });
    const rules = env({ ...RM, minStepDuration: '5m', requireRollbackRules: true, requireGates: true });
    expect([...new Set(policyViolations(weak, rules).map((v) => v.rule))]).toEqual([
      'rules.approval.required',
      'rules.minStepDuration',
      'rules.requireRollbackRules',
      'rules.requireGates',
    ]);
  });

  it('the shipped policies/standard.yaml meets the shipped production rules', () => {
    const standard = parsePolicyFile('policies/standard.yaml', readFileSync('policies/standard.yaml', 'utf8')).policy;
    const shipped = parseEnvironmentsFile('policies/environments.yaml', readFileSync('policies/environments.yaml', 'utf8')).environments;
    expect(shipped.find((e) => e.name === 'production')?.rules).toBeDefined();
    for (const e of shipped) expect(policyViolations(standard, e), e.name).toEqual([]);
  });

  it('the shipped environments file declares every environment the shipped flag files use', () => {
    const declared = parseEnvironmentsFile('policies/environments.yaml', readFileSync('policies/environments.yaml', 'utf8')).environments.map((e) => e.name);
    for (const file of ['flags/checkout.yaml', 'flags/operations.yaml']) {
      const used = [...readFileSync(file, 'utf8').matchAll(/^ {6}([a-z][\w.-]*):\s*$/gm)].map((m) => m[1]!);
      expect(used.length, file).toBeGreaterThan(0);
      for (const name of used) expect(declared, `${file} uses ${name}`).toContain(name);
    }
  });
});

describe('environment schema: clear errors', () => {
  const issues = (input: unknown) => {
    const parsed = environmentSchema.safeParse(input);
    if (parsed.success) expect.fail(`expected ${JSON.stringify(input)} to be refused`);
    return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each([
    { input: { name: 'production', rules: { approval: { required: 0 } } }, want: 'rules.approval.required: at least 1' },
    { input: { name: 'production', rules: { approval: { required: 1, roles: ['boss'] } } }, want: 'rules.approval.roles.0' },
    { input: { name: 'production', rules: { minStepDuration: '5 minutes' } }, want: 'rules.minStepDuration: a duration such as 30s, 10m or 24h' },
    { input: { name: 'production', rules: { requireRollback: true } }, want: 'rules: Unrecognized key: "requireRollback"' },
    { input: { name: 'prod uction' }, want: 'name: an environment name' },
    { input: { name: 'production', colour: 'red' }, want: ': Unrecognized key: "colour"' },
  ])('$want', ({ input, want }) => {
    expect(issues(input).join('\n')).toContain(want);
  });

  it('stores durations in milliseconds', () => {
    expect(environmentSchema.parse({ name: 'production', rules: { minStepDuration: '5m' } }).rules).toEqual({ minStepDuration: 300_000 });
  });
});
