import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StoreOutcomeSource } from '../../src/metrics/outcomes.js';
import { policySchema, type PolicyInput } from '../../src/policies/policy-schema.js';
import type { Rollout, Transition } from '../../src/rollouts/rollout-model.js';
import { userLevelJudge } from '../../src/simulation/judges.js';
import { replayStored } from '../../src/simulation/replay/replay-run.js';
import { runRollout } from '../../src/simulation/simulate-rollout.js';
import { openStoreReader } from '../../src/store/index.js';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import type { FromApp, ToApp } from './two-apps-app.js';
import { planSource, planTraffic, simulatedWindow, treatedCalls, type TwoAppsPlan, type UserCalls } from './two-apps-plan.js';
import { adminPerson, ENV, expectStatus, FAST_ENV, getRollout, waitForRollout, type AdminPerson } from './scenario-helpers.js';

/**
 * The issue's scenario on real Redis: two application processes, each with the published SDK helper
 * over a stock unleash-client, report outcomes for overlapping users while a rollout runs on a live
 * controller; a release manager (a second person) approves every step. The users come from the
 * simulation's population model (heavy-tailed request rates and error propensities, seeded). Then
 * the simulation judges the very same per-user counts, and the rollout's recorded verdicts must be
 * the ones it computes: every transition, every gate's verdict and figures, on users.
 *
 * What keeps it deterministic: the traffic is drawn from a seed, the SDK assigns users by the flag's
 * hash, and each step's calls are posted once per application after the SDK serves the step. Each
 * step asks for more treatment samples than either application sends alone, so its gates are only
 * ever judged on both applications' outcomes together, whatever order they arrive in. The policy has
 * no rollback rule: those judge the last analysis interval, and which interval a post lands in is a
 * matter of wall-clock time, not of the counts.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const STEPS = [1, 10, 50, 100];
/** Requests per step, both applications together: enough users at 1 % for a ×10 regression to show beyond doubt. */
const REQUESTS_PER_STEP = [300_000, 40_000, 40_000, 40_000];
const USERS = 50_000;
const SEED = 20_261_207;
const BUCKET_MS = Number(FAST_ENV.OUTCOME_BUCKET_MS);

/** The seeded traffic for a flag: 1 % errors across users, treatment's × `errorFactor`. */
const trafficOf = (flag: string, errorFactor: number) =>
  planTraffic({ flag, seed: SEED, percentages: STEPS, users: USERS, requestsPerStep: REQUESTS_PER_STEP, errorRate: 0.01, errorFactor });

/** The standard plan's shape at test speed, each step asking for more treatment samples than one application sends. */
function policyFor(name: string, plan: TwoAppsPlan): PolicyInput {
  return {
    name,
    steps: plan.phases.map((phase) => ({
      percentage: phase.percentage,
      minSamples: Math.max(treatedCalls(plan, phase, 0), treatedCalls(plan, phase, 1)) + 1,
    })),
    stepDefaults: { minDuration: '300ms', maxDuration: '60s', approval: { required: 1, roles: ['release-manager'] } },
    analysisInterval: '100ms',
    gates: [
      { metric: 'error_rate', cohort: 'treatment', max: 0.02, confidence: 0.95 },
      { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.5, confidence: 0.95 },
    ],
    onGateFailure: 'rollback',
    rollback: [],
  };
}

interface App {
  phase(percentage: number, calls: UserCalls[]): Promise<Extract<FromApp, { type: 'done' }>>;
  close(): Promise<void>;
}

const children = new Set<ChildProcess>();

/** An application process for `flag`; resolves once its SDK has the controller's flags. */
async function startApp(t: TestController, token: string, flag: string, name: string): Promise<App> {
  const child = fork(path.join(import.meta.dirname, 'two-apps-app.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    // NODE_ENV=test (set by vitest) would keep the stock client's timers alive; an application runs without it.
    env: {
      ...process.env,
      NODE_ENV: 'production',
      APP_CONTROLLER_URL: t.url,
      APP_TOKEN: token,
      APP_NAME: name,
      APP_FLAG: flag,
      APP_BACKUP_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-two-apps-')),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const next = <T extends FromApp['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<FromApp, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no "${type}" within ${timeoutMs} ms\n${output}`)), timeoutMs);
      const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) waiting for "${type}"\n${output}`));
      const onMessage = (m: FromApp) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if (m.type === type) resolve(m as Extract<FromApp, { type: T }>);
        else reject(new Error(`${name}: ${JSON.stringify(m).slice(0, 500)}`));
      };
      child.once('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready', 20_000);
  if (ready.source !== 'controller') throw new Error(`${name}: flags from ${ready.source}, not the controller`);
  return {
    phase(percentage, calls) {
      const done = next('done', 30_000);
      child.send({ type: 'phase', percentage, calls } satisfies ToApp);
      return done;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'close' } satisfies ToApp);
      await exited;
      children.delete(child);
    },
  };
}

/** What a transition says about the verdicts, without who or when. */
function verdicts(history: Transition[]) {
  return history.map(({ from, to, stepIndex, percentage, reason, gates, samples, cause }) =>
    JSON.parse(JSON.stringify({ from, to, stepIndex, percentage, reason, gates, samples, cause })),
  );
}

describe('two applications report outcomes for overlapping users on real Redis; the verdicts are the simulation’s', () => {
  let t: TestController;
  let client: string;
  let editor: AdminPerson;
  let releaseManager: AdminPerson;

  beforeAll(async () => {
    // The applications import the helper as published: the package's built entry.
    execFileSync('npm', ['run', '--silent', 'build:sdk'], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    client = await t.token({ kind: 'client', environment: ENV });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    releaseManager = await adminPerson(t, 'release-manager', 'rita-release-manager');
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await t?.stop();
  });

  /**
   * The rollout live: for each step, both applications make that step's calls once their SDKs serve
   * it; the test waits for the verdict and, when the step is healthy, approves the next one.
   */
  async function runLive(plan: TwoAppsPlan, policy: PolicyInput) {
    const flag = plan.flag;
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { environments: { [ENV]: { enabled: false, strategies: [] } } }, editor.secret);
    await expectStatus(t, 201, 'PUT', `/api/admin/policies/${policy.name}`, policy);
    const apps = await Promise.all([startApp(t, client, flag, `${flag}-a`), startApp(t, client, flag, `${flag}-b`)]);
    const approve = (id: string) => expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/approve`, {}, releaseManager.secret);
    const reports: Array<Array<Extract<FromApp, { type: 'done' }>>> = [];
    try {
      const { id } = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: policy.name }, editor.secret);
      await approve(id); // the Go/No-Go
      for (const phase of plan.phases) {
        await waitForRollout(t, id, (r) => r.state === 'running' && r.percentage === phase.percentage, `running at ${phase.percentage}%`);
        reports.push(await Promise.all(apps.map((app, i) => app.phase(phase.percentage, phase.apps[i]!))));
        const judged = await waitForRollout(t, id, (r) => r.state !== 'running', `a verdict on the ${phase.percentage}% step`, 20_000);
        if (judged.state !== 'awaiting_approval') break;
        // Two buckets on, so the next step's first bucket holds none of this step's outcomes.
        await new Promise((r) => setTimeout(r, 2 * BUCKET_MS + 50));
        await approve(id);
      }
      return { rollout: (await getRollout(t, id)) as Rollout, reports };
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  }

  /** The simulation's rollout loop over the same counts: the user-level judge and decide(), approvals by a release manager. */
  function simulate(plan: TwoAppsPlan, policy: PolicyInput): Rollout {
    let last: Rollout | undefined;
    runRollout(
      policySchema.parse(policy),
      userLevelJudge,
      planSource(plan),
      { approvalDelayMs: 1_000, horizonMs: 3_600_000, onDecided: (r) => (last = r) },
      Date.now(),
      plan.flag,
    );
    return last!;
  }

  /** Every step's stored counts (both applications, per hashed user bucket) are the simulation's. */
  async function expectStoredCounts(plan: TwoAppsPlan, rollout: Rollout): Promise<void> {
    const entered = rollout.history.filter((h) => h.to === 'running');
    const outcomes = new StoreOutcomeSource(t.controller.store, BUCKET_MS);
    for (const [i, enter] of entered.entries()) {
      const phase = plan.phases.find((p) => p.percentage === enter.percentage)!;
      const to = entered[i + 1] ? Date.parse(entered[i + 1]!.at) : Date.now() + 1;
      const stored = await outcomes.sum(ENV, plan.flag, Date.parse(enter.at), to);
      const simulated = simulatedWindow(plan, phase);
      for (const cohort of ['treatment', 'control'] as const) {
        expect({ requests: stored[cohort].requests, errors: stored[cohort].errors }, `${cohort} at ${phase.percentage}%`).toEqual({
          requests: simulated.totals[cohort].requests,
          errors: simulated.totals[cohort].errors,
        });
        if (simulated.totals[cohort].requests > 0)
          expect(stored[cohort].units, `${cohort} buckets at ${phase.percentage}%`).toEqual(simulated.buckets![cohort]);
      }
    }
  }

  /** `npm run simulate -- --replay` over this store, read-only, under the rollout's own plan: the same verdicts again. */
  async function expectReplayed(rollout: Rollout): Promise<void> {
    const reader = await openStoreReader({ redisUrl: inject('redisUrl'), prefix: t.prefix, dataDir: emptyDir() });
    try {
      const result = await replayStored(reader, rollout, rollout.plan, { outcomeBucketMs: BUCKET_MS, now: Date.now() });
      if (result.kind === 'refused') throw new Error(`not replayed: ${result.reason}`);
      expect(result.outcome.ending).toBe(rollout.state);
      expect(verdicts(result.outcome.rollout.history)).toEqual(verdicts(rollout.history));
    } finally {
      await reader.close();
    }
  }

  function expectAppsServedAsSimulated(plan: TwoAppsPlan, reports: Array<Array<Extract<FromApp, { type: 'done' }>>>): void {
    reports.forEach((pair, step) => {
      const phase = plan.phases[step]!;
      pair.forEach((report, app) => {
        // The SDK put exactly the users in treatment that the simulation's hash does.
        expect(report.on, `app ${app} at ${phase.percentage}%`).toBe(treatedCalls(plan, phase, app as 0 | 1));
        expect(report.droppedRequests).toBe(0);
        expect(report.errors).toEqual([]);
      });
    });
  }

  it('a healthy release: every step passes on users, as the simulation computes, and the rollout completes', async () => {
    const plan = trafficOf('two-apps-healthy', 1);
    // Overlapping users: most users of one application use the other one too.
    const [a, b] = plan.phases[0]!.apps.map((calls) => new Set(calls.map(([user]) => user)));
    expect([...a!].filter((user) => b!.has(user)).length).toBeGreaterThan(0.5 * a!.size);
    const policy = policyFor('two-apps-healthy', plan);

    const { rollout, reports } = await runLive(plan, policy);
    const simulated = simulate(plan, policy);

    expect(rollout.state).toBe('completed');
    expect(verdicts(rollout.history)).toEqual(verdicts(simulated.history));
    const judged = rollout.history.flatMap((h) => h.gates ?? []).filter((g) => g.rule.startsWith('error_rate(treatment) <= 0.02'));
    expect(judged.length).toBeGreaterThanOrEqual(4);
    for (const gate of judged) expect(gate).toMatchObject({ verdict: 'pass', test: { method: 'always-valid-users' } });
    expectAppsServedAsSimulated(plan, reports);
    await expectStoredCounts(plan, rollout);
    await expectReplayed(rollout);
  });

  it('a regression (treatment errors ×10): rolled back at the first step on users, as the simulation computes', async () => {
    const plan = trafficOf('two-apps-regression', 10);
    const policy = policyFor('two-apps-regression', plan);

    const { rollout, reports } = await runLive(plan, policy);
    const simulated = simulate(plan, policy);

    expect(rollout.state).toBe('rolled_back');
    expect(rollout.history.at(-1)).toMatchObject({ from: 'running', to: 'rolled_back', percentage: 1 });
    expect(rollout.history.at(-1)!.cause).toMatchObject({ kind: 'gate', verdict: 'fail', confident: true, test: { method: 'always-valid-users' } });
    expect(verdicts(rollout.history)).toEqual(verdicts(simulated.history));
    expectAppsServedAsSimulated(plan, reports);
    await expectStoredCounts(plan, rollout);
    await expectReplayed(rollout);
  });
});
