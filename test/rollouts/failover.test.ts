import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnController, type ControllerProcess } from '../support/controller-process.js';
import { emptyDir, uniquePrefix } from '../support/controller.js';
import { api, LeaseProbe, logLines, sleep, waitFor } from './failover-helpers.js';

/**
 * Leader failover in the middle of a ramp. Two controller processes share one Redis; the one
 * holding the `rollout-leader` lease is SIGKILLed (no graceful hand-over, the lease just stops
 * being renewed) right after an approval, while a step is in flight. The survivor must take the
 * lease within its lifetime and finish the ramp from the state in the store: every step exactly
 * once, in order, every approval kept, and an audit log whose hash chain still verifies.
 */

const LEASE_MS = 1500;
const STEPS = [1, 5, 10, 25, 50, 100];
/** The leader is killed once the rollout is on this step (10%), right after the approval for the next one. */
const KILL_ON_STEP = 2;
const FLAG = 'checkout-v2';
const POLICY = 'failover-ramp';
const ENV = 'production';
const REPLICAS = ['replica-a', 'replica-b'] as const;

interface GivenApproval {
  step: number;
  via: string;
  stateWhenGiven: string;
}

describe('rollout leader failover between two controller processes', () => {
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  const prefix = uniquePrefix('failover');
  const procs = new Map<string, ControllerProcess>();
  let probe: LeaseProbe;
  let feeding = false;
  let feeder: Promise<void> | undefined;
  const feedStatuses = new Map<number, number>();

  beforeAll(async () => {
    const base = {
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN: adminToken,
      LEADER_LEASE_MS: String(LEASE_MS),
      ROLLOUT_TICK_MS: '100',
      OUTCOME_BUCKET_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '1000',
    };
    const started = await Promise.all(REPLICAS.map((id) => spawnController({ ...base, REPLICA_ID: id, FLAGS_DIR: emptyDir(), POLICIES_DIR: emptyDir() })));
    REPLICAS.forEach((id, i) => procs.set(id, started[i]!));
    probe = new LeaseProbe(inject('redisUrl'), prefix);
  }, 45_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    // Skip the process we killed: ControllerProcess.stop() only checks exitCode, which stays null for a
    // process ended by a signal, so it would wait for an 'exit' event that has already fired.
    await Promise.all([...procs.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.stop('SIGTERM')));
    await probe?.close();
  });

  it('the survivor takes over within the lease time and finishes the ramp: every step once, in order, every approval kept', async () => {
    const testStarted = Date.now();

    // Who leads? Read the lease itself, and check that the log says the same.
    const lease = await waitFor('a leader', () => probe.holder('rollout-leader').then((h) => h ?? undefined), 5_000);
    // Holders are "<REPLICA_ID>#<pid>-<nonce>": unique per process, named by the replica.
    const replicaOf = (holder: string) => holder.split('#')[0]!;
    const leaderId = replicaOf(lease.holder) as (typeof REPLICAS)[number];
    expect(REPLICAS).toContain(leaderId);
    const survivorId = REPLICAS.find((id) => id !== leaderId)!;
    const leader = procs.get(leaderId)!;
    const survivor = procs.get(survivorId)!;
    expect(logLines(leader, 'took the controller lease').map((l) => replicaOf(String(l.replica)))).toContain(leaderId);
    expect(logLines(survivor, 'took the controller lease')).toEqual([]);

    // People: an editor starts, a release manager approves; an application reports outcomes.
    const token = async (body: object) => {
      const res = await api(survivor.url, adminToken, 'POST', '/api/admin/tokens', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; secret: string };
    };
    const editor = await token({ kind: 'admin', role: 'editor', name: 'eddie-editor' });
    const releaseManager = await token({ kind: 'admin', role: 'release-manager', name: 'rita-release' });
    const client = await token({ kind: 'client', environment: ENV, name: 'shop-app' });
    // Tokens made through the survivor reach the leader through the change feed.
    for (const proc of [leader, survivor]) {
      await waitFor(
        'tokens known on both replicas',
        async () => ((await api(proc.url, releaseManager.secret, 'GET', '/api/admin/rollouts')).status === 200 ? true : undefined),
        5_000,
      );
    }

    expect(
      (await api(survivor.url, editor.secret, 'PUT', `/api/admin/flags/${FLAG}`, { environments: { [ENV]: { enabled: true, strategies: [] } } })).status,
    ).toBe(201);
    const policy = await api(survivor.url, adminToken, 'PUT', `/api/admin/policies/${POLICY}`, {
      name: POLICY,
      // No Go/No-Go: the ramp starts at once; each widening needs a release manager.
      steps: [{ percentage: STEPS[0], approval: { required: 0 } }, ...STEPS.slice(1)],
      stepDefaults: { minDuration: '300ms', minSamples: 20, maxDuration: '2m', approval: { required: 1, roles: ['release-manager'] } },
      analysisInterval: '200ms',
      gates: [{ metric: 'error_rate', max: 0.05 }],
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);

    // Healthy traffic, continuously, through the replica that will survive.
    feeding = true;
    feeder = (async () => {
      while (feeding) {
        const res = await fetch(`${survivor.url}/api/metrics/outcomes`, {
          method: 'POST',
          headers: { Authorization: client.secret, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            appName: 'shop',
            records: [
              { flag: FLAG, cohort: 'treatment', requests: 10, errors: 0 },
              { flag: FLAG, cohort: 'control', requests: 10, errors: 0 },
            ],
          }),
        }).then(
          (r) => r.status,
          () => -1,
        );
        feedStatuses.set(res, (feedStatuses.get(res) ?? 0) + 1);
        await sleep(40);
      }
    })();

    const start = await api(leader.url, editor.secret, 'POST', '/api/admin/rollouts', { flag: FLAG, environment: ENV, policy: POLICY });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({ state: 'running', stepIndex: 0, percentage: 1 });
    const id = start.body.id as string;

    const given: GivenApproval[] = [];
    const approve = async (via: ControllerProcess, viaId: string, stateWhenGiven: string, step: number) => {
      // Named by its percentage; a step not yet awaiting approval is approved ahead, as asked for.
      const res = await api(via.url, releaseManager.secret, 'POST', `/api/admin/rollouts/${id}/approve`, {
        step: STEPS[step],
        ahead: stateWhenGiven !== 'awaiting_approval',
        comment: `${STEPS[step]}% via ${viaId}`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      given.push({ step, via: viaId, stateWhenGiven });
      return res.body as { state: string; stepIndex: number };
    };

    let killedAt: number | undefined;
    let takeoverMs: number | undefined;
    let finished: { state: string; [k: string]: any } | undefined;
    const deadline = Date.now() + 40_000;
    while (!finished) {
      if (Date.now() > deadline) throw new Error(`ramp did not finish; approvals given: ${JSON.stringify(given)}`);
      const res = await api(survivor.url, adminToken, 'GET', `/api/admin/rollouts/${id}`);
      expect(res.status).toBe(200);
      const r = res.body;
      if (['completed', 'rolled_back', 'aborted', 'paused'].includes(r.state)) {
        finished = r;
        break;
      }
      const nextStep = r.stepIndex + 1;
      const alreadyApproved = given.some((g) => g.step === nextStep);
      if (killedAt === undefined && r.stepIndex === KILL_ON_STEP && !alreadyApproved && (r.state === 'running' || r.state === 'awaiting_approval')) {
        // Approve the next step through the leader, and kill the leader the moment it has answered.
        await approve(leader, leaderId, r.state, nextStep);
        killedAt = Date.now();
        await leader.stop('SIGKILL');
        // The survivor must hold the lease within the lease's lifetime (plus a tick and some scheduling slack).
        const took = await waitFor(
          'the survivor to take the lease',
          async () => (replicaOf((await probe.holder('rollout-leader'))?.holder ?? '') === survivorId ? true : undefined),
          LEASE_MS + 5_000,
          20,
        );
        expect(took).toBe(true);
        takeoverMs = Date.now() - killedAt;
        continue;
      }
      if (r.state === 'awaiting_approval' && !alreadyApproved) {
        // Before the kill, alternate replicas; after it, only the survivor is left.
        const useLeader = killedAt === undefined && given.length % 2 === 0;
        await approve(useLeader ? leader : survivor, useLeader ? leaderId : survivorId, r.state, nextStep);
        continue;
      }
      await sleep(30);
    }
    feeding = false;
    await feeder;
    if (!finished) throw new Error('the ramp loop ended without a final rollout');
    const final = finished;

    // Takeover within the lease time (measured from the kill, so it includes the rest of the dead leader's lease).
    expect(killedAt).toBeDefined();
    expect(takeoverMs).toBeDefined();
    expect(takeoverMs!).toBeLessThan(LEASE_MS + 1_000);
    expect(logLines(survivor, 'took the controller lease').map((l) => replicaOf(String(l.replica)))).toContain(survivorId);
    expect(leader.child.signalCode).toBe('SIGKILL');

    // The ramp finished through the survivor.
    expect(final.state, JSON.stringify(final.history?.at(-1))).toBe('completed');
    expect(final).toMatchObject({ stepIndex: STEPS.length - 1, percentage: 100 });

    // Every step exactly once, in order: the running transitions are exactly the policy's steps.
    const history = final.history as Array<{ at: string; from: string; to: string; stepIndex: number; percentage: number; actor: string }>;
    const entered = history.filter((t) => t.to === 'running');
    expect(entered.map((t) => t.percentage)).toEqual(STEPS);
    expect(entered.map((t) => t.stepIndex)).toEqual(STEPS.map((_, i) => i));
    expect(history.map((t) => t.to).filter((to) => to !== 'running' && to !== 'awaiting_approval')).toEqual(['completed']);
    const times = history.map((t) => Date.parse(t.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The survivor did real work after the kill: at least the steps after the killed one were entered then.
    expect(entered.filter((t) => Date.parse(t.at) >= killedAt!).map((t) => t.percentage)).toEqual(expect.arrayContaining([50, 100]));

    // Every approval given is kept (including the one given through the leader just before it was killed).
    expect(given.map((g) => g.step)).toEqual([1, 2, 3, 4, 5]);
    const approvals = final.approvals as Array<{ step: number; by: { id: string; role?: string }; comment?: string }>;
    expect(approvals.map((a) => a.step).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    for (const g of given) {
      expect(approvals).toContainEqual(
        expect.objectContaining({
          step: g.step,
          by: expect.objectContaining({ id: releaseManager.id, role: 'release-manager' }),
          comment: `${STEPS[g.step]}% via ${g.via}`,
        }),
      );
    }
    expect(given.find((g) => g.step === KILL_ON_STEP + 1)?.via).toBe(leaderId);

    // The flag is at 100% as served by the survivor.
    const flag = await api(survivor.url, adminToken, 'GET', `/api/admin/flags/${FLAG}`);
    expect(flag.status).toBe(200);
    const strategy = flag.body.environments[ENV].strategies.find((s: { id?: string }) => s.id === final.strategyId);
    expect(strategy?.parameters.rollout).toBe('100');

    // The audit log: one approve event per approval, and the hash chain verifies across both writers.
    const audit = await api(survivor.url, adminToken, 'GET', '/api/admin/audit?limit=1000');
    expect(audit.status).toBe(200);
    const approveEvents = (audit.body.events as Array<{ action: string; target: { id: string } }>).filter(
      (e) => e.action === 'rollout.approve' && e.target.id === id,
    );
    expect(approveEvents).toHaveLength(given.length);
    const verify = await api(survivor.url, adminToken, 'GET', '/api/admin/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });

    // Outcomes kept flowing through the survivor the whole time.
    expect([...feedStatuses.keys()]).toEqual([202]);

    console.info(
      `failover: leader ${leaderId} killed on step ${KILL_ON_STEP + 1} right after approving step ${KILL_ON_STEP + 2} (rollout was ${given.find((g) => g.step === KILL_ON_STEP + 1)?.stateWhenGiven}); ${survivorId} took the lease ${takeoverMs} ms after the kill; ramp done in ${Date.now() - testStarted} ms`,
    );
  }, 60_000);
});
