import { fieldsOf } from '../../src/metrics/outcome-fields.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import type { OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { CounterOutcomeSource, OUTCOME_TTL_SECONDS, outcomeBucketKey } from '../../src/metrics/outcomes.js';
import { policySchema, type Policy, type PolicyInput } from '../../src/policies/policy-schema.js';
import { decide } from '../../src/rollouts/decide.js';
import { Measure } from '../../src/rollouts/measure.js';
import { newRollout } from '../../src/rollouts/new-rollout.js';
import { RolloutDocs } from '../../src/rollouts/rollout-docs.js';
import { isDone, type DecisionInput, type Person, type Rollout } from '../../src/rollouts/rollout-model.js';
import { assignUsers, drawPopulation } from '../../src/simulation/population.js';
import { seededRandom } from '../../src/simulation/random.js';
import { realTraffic } from '../../src/simulation/traffic.js';
import { trafficScenarioSchema } from '../../src/simulation/traffic-scenario.js';
import type { Store } from '../../src/store/port.js';

/**
 * Recorded rollouts for the replay tests, made the way the controller makes them: every interval the
 * applications' outcomes (the simulation's per-user traffic model) land in the store's buckets, the
 * leader's Measure reads them back from the store, decide() moves the rollout on, and a release
 * manager approves each step a while after it starts waiting. The rollout's documents are then
 * committed as the service commits them.
 */

export const BUCKET_MS = 10_000;
export const STARTER: Person = { id: 'tok-erin', name: 'erin-editor', role: 'editor' };
export const APPROVER: Person = { id: 'tok-rita', name: 'rita-release-manager', role: 'release-manager' };

/** The standard plan's shape with minutes instead of hours: 1 → 10 → 50 → 100 with a release manager per step. */
export function fixturePolicy(name: string, overrides: Partial<PolicyInput> = {}): Policy {
  return policySchema.parse({
    name,
    steps: [1, 10, 50, 100],
    stepDefaults: { minDuration: '2m', minSamples: 200, maxDuration: '30m', approval: { required: 1, roles: ['release-manager'] } },
    analysisInterval: '10s',
    gates: [
      { metric: 'error_rate', cohort: 'treatment', max: 0.02, confidence: 0.95 },
      { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.5, confidence: 0.95 },
    ],
    onGateFailure: 'rollback',
    rollback: [{ metric: 'error_rate', cohort: 'treatment', above: 0.1, for: '1m', confidence: 0.95 }],
    ...overrides,
  });
}

export interface Recording {
  store: Store;
  policy: Policy;
  flag: string;
  environment?: string;
  /** When the rollout starts (a multiple of BUCKET_MS). */
  t0: number;
  /** treatment's errors × this (1: healthy). */
  errorFactor?: number;
  seed?: number;
  approvalDelayMs?: number;
  /** Stop recording here even if the rollout is still active. */
  until?: number;
  /** People's commands, each given at the first analysis at or after its time. */
  commands?: Array<{ at: number; input: DecisionInput }>;
  id?: string;
}

export async function recordRollout(o: Recording): Promise<Rollout> {
  const environment = o.environment ?? 'production';
  const interval = o.policy.analysisInterval;
  if (interval !== BUCKET_MS || o.t0 % BUCKET_MS !== 0) throw new Error('the fixture writes one bucket per analysis interval');
  const scenario = trafficScenarioSchema.parse({
    name: 'fixture',
    users: 20_000,
    ratePerSecond: 100,
    errorRate: 0.005,
    // Errors spread over many users, so a regression shows at 1 % within minutes.
    errorConcentration: 200,
    ...(o.errorFactor && o.errorFactor !== 1 ? { regression: { errorFactor: o.errorFactor } } : {}),
  });
  const random = seededRandom(o.seed ?? 7);
  const population = drawPopulation(scenario, random);
  const traffic = realTraffic(scenario, population, assignUsers(population, o.flag), random, o.t0, interval);
  let clock = o.t0;
  const measure = new Measure({ store: o.store, outcomes: new CounterOutcomeSource(o.store, BUCKET_MS), now: () => new Date(clock) });
  let r = newRollout({ id: o.id ?? `r-${o.flag}`, flag: o.flag, environment, policy: o.policy.name, plan: o.policy, startedBy: STARTER, at: new Date(o.t0) });
  const apply = (input: DecisionInput, at: number) => {
    const d = decide(r, input, new Date(at));
    if (d.kind === 'decided') r = d.next;
  };
  apply({ kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, o.t0);
  let waitingSince: number | undefined;
  const commands = [...(o.commands ?? [])].sort((a, b) => a.at - b.at);
  for (let t = o.t0 + interval; t <= (o.until ?? o.t0 + 6 * 3_600_000) && !isDone(r); t += interval) {
    // The interval's outcomes, at what the flag served: nobody in treatment once it is killed.
    const served = r.state === 'rolled_back' || r.state === 'aborted' ? 0 : r.percentage;
    const recent = traffic.measure(t, { ...r, percentage: served }).recent;
    const totals: OutcomeTotals = {
      treatment: { ...recent.totals.treatment, units: recent.buckets!.treatment },
      control: { ...recent.totals.control, units: recent.buckets!.control },
    };
    await o.store.incrementCounters(outcomeBucketKey(environment, o.flag, t - interval), fieldsOf(totals), OUTCOME_TTL_SECONDS);
    clock = t;
    const [input] = await measure.many([r]);
    apply(input!, t);
    while (commands.length > 0 && commands[0]!.at <= t) apply(commands.shift()!.input, t);
    if (r.state === 'awaiting_approval') {
      waitingSince ??= t;
      if (t - waitingSince >= (o.approvalDelayMs ?? 60_000)) {
        apply({ kind: 'approve', by: APPROVER }, t);
        waitingSince = undefined;
      }
    } else waitingSince = undefined;
  }
  const docs = new RolloutDocs(o.store);
  await o.store.commit({ puts: docs.puts(r, null, 0) });
  return r;
}
