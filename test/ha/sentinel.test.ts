import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnController, type ControllerProcess } from '../support/controller-process.js';
import { emptyDir, uniquePrefix } from '../support/controller.js';
import type { RedisServer } from '../support/redis-server.js';
import { api, sleep } from '../rollouts/failover-helpers.js';
import { Topology, waitUntil } from './topology.js';

/**
 * A master with one replica and three Sentinels; a controller on the Sentinel URL that has every
 * write confirmed by one replica (REDIS_WAIT_REPLICAS=1). A rollout ramps with approvals, a flag is
 * killed, and the master is SIGKILLed right after an approval was acknowledged. After the Sentinels
 * promote the replica (and a fresh replica replaces the dead master, so writes can be confirmed
 * again), the ramp goes on to the end, and everything acknowledged before the kill is still there.
 */

const ENV = 'production';
const FLAG = 'checkout';
const KILLED = 'payments';
const UNCONFIRMED = 'search';
const POLICY = 'ha-ramp';
const STEPS = [1, 10, 50, 100];
/** The master dies once the rollout is on this step, right after the approval of the next one. */
const KILL_ON_STEP = 1;

describe('Redis Sentinel failover in the middle of a ramp', () => {
  const topology = new Topology();
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  let master: RedisServer;
  let replica: RedisServer;
  let sentinelPorts: number[];
  let controller: ControllerProcess;
  let feeding = false;
  let feeder: Promise<void> | undefined;

  beforeAll(async () => {
    const replicated = await topology.replicated(1);
    master = replicated.master;
    replica = replicated.replicas[0]!;
    const sentinels = await topology.sentinelSet(master.port, { replicas: 1 });
    sentinelPorts = sentinels.ports;
    controller = await spawnController({
      REDIS_URL: sentinels.url,
      REDIS_PREFIX: uniquePrefix('sentinel'),
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '1500',
      ADMIN_TOKEN: adminToken,
      LEADER_LEASE_MS: '1500',
      ROLLOUT_TICK_MS: '100',
      OUTCOME_BUCKET_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '1000',
      FLAGS_DIR: emptyDir(),
      POLICIES_DIR: emptyDir(),
    });
  }, 60_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    await controller?.stop();
    await topology.stop();
  });

  it('keeps every acknowledged approval and kill, fails unconfirmed writes loudly, and finishes the ramp after failover', async () => {
    const call = (method: string, route: string, body?: unknown, token = adminToken) => api(controller.url, token, method, route, body);
    const ok = async (status: number, method: string, route: string, body?: unknown, token?: string) => {
      const res = await call(method, route, body, token);
      expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBe(status);
      return res.body;
    };
    const token = async (body: object) => (await ok(201, 'POST', '/api/admin/tokens', body)) as { id: string; secret: string };
    const editor = await token({ kind: 'admin', role: 'editor', name: 'eddie' });
    const releaseManager = await token({ kind: 'admin', role: 'release-manager', name: 'rita' });
    const client = await token({ kind: 'client', environment: ENV, name: 'shop' });
    for (const name of [FLAG, KILLED, UNCONFIRMED]) {
      await ok(201, 'PUT', `/api/admin/flags/${name}`, { environments: { [ENV]: { enabled: true, strategies: [] } } }, editor.secret);
    }
    await ok(201, 'PUT', `/api/admin/policies/${POLICY}`, {
      name: POLICY,
      // No Go/No-Go: the ramp starts at once; each widening needs a release manager.
      steps: [{ percentage: STEPS[0], approval: { required: 0 } }, ...STEPS.slice(1)],
      stepDefaults: { minDuration: '300ms', minSamples: 20, maxDuration: '2m', approval: { required: 1, roles: ['release-manager'] } },
      analysisInterval: '200ms',
      gates: [{ metric: 'error_rate', max: 0.05 }],
    });

    // Healthy outcomes all along; during the failover some are refused (503), which the SDK helper retries.
    feeding = true;
    feeder = (async () => {
      while (feeding) {
        await call(
          'POST',
          '/api/metrics/outcomes',
          {
            appName: 'shop',
            records: [
              { flag: FLAG, cohort: 'treatment', requests: 10, errors: 0 },
              { flag: FLAG, cohort: 'control', requests: 10, errors: 0 },
            ],
          },
          client.secret,
        ).catch(() => undefined);
        await sleep(40);
      }
    })();

    const id = (await ok(201, 'POST', '/api/admin/rollouts', { flag: FLAG, environment: ENV, policy: POLICY }, editor.secret)).id as string;

    // A write the replica cannot confirm (it is stopped) is refused with 503, not reported as done.
    replica.process.kill('SIGSTOP');
    const refused = await call('POST', `/api/admin/flags/${UNCONFIRMED}/environments/${ENV}/kill`, { reason: 'unconfirmed' }, releaseManager.secret);
    replica.process.kill('SIGCONT');
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body).toMatchObject({ error: 'store_unavailable' });
    expect(refused.body.message).toMatch(/0 of the 1 replica/);
    // As with Redis' own WAIT, the refused write was applied on the primary: it is there once the replica is back.
    await waitUntil(
      'the unconfirmed kill to show',
      async () => ((await call('GET', `/api/admin/flags/${UNCONFIRMED}`)).body?.killSwitches?.[ENV] ? true : undefined),
      5_000,
    );

    // Acknowledged before the master dies: a kill, and approvals of the steps up to the one the master dies on.
    await ok(200, 'POST', `/api/admin/flags/${KILLED}/environments/${ENV}/kill`, { reason: 'incident' }, releaseManager.secret);
    const acknowledged: number[] = [];
    let refusedDuringFailover = 0;
    const approve = async (step: number, ahead: boolean): Promise<boolean> => {
      // Named by its percentage, so a retry after a refused (503) answer can only repeat the same approval.
      const res = await call('POST', `/api/admin/rollouts/${id}/approve`, { step: STEPS[step], ahead, comment: `${STEPS[step]}%` }, releaseManager.secret);
      if (res.status === 200) acknowledged.push(step);
      else {
        // During the failover the store is away (503); anything else is a failure.
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        refusedDuringFailover++;
      }
      return res.status === 200;
    };

    let killedAt: number | undefined;
    let promotedAfterMs = 0;
    let final: any;
    const deadline = Date.now() + 90_000;
    while (!final) {
      if (Date.now() > deadline) throw new Error(`the ramp did not finish; acknowledged approvals: ${acknowledged}`);
      const res = await call('GET', `/api/admin/rollouts/${id}`);
      if (res.status !== 200) {
        expect(res.status).toBe(503); // the store is failing over
        refusedDuringFailover++;
        await sleep(100);
        continue;
      }
      const r = res.body;
      if (['completed', 'rolled_back', 'aborted', 'paused'].includes(r.state)) {
        final = r;
        break;
      }
      const next = r.stepIndex + 1;
      if (!acknowledged.includes(next) && (r.state === 'awaiting_approval' || (killedAt === undefined && r.stepIndex === KILL_ON_STEP))) {
        if ((await approve(next, r.state !== 'awaiting_approval')) && killedAt === undefined && r.stepIndex === KILL_ON_STEP) {
          // The approval was acknowledged, so it is on the replica: kill the master at once.
          master.process.kill('SIGKILL');
          killedAt = Date.now();
          const promoted = await waitUntil(
            'the Sentinels to promote the replica',
            async () => ((await topology.masterPort(sentinelPorts[0]!)) === replica.port ? true : undefined),
            20_000,
            100,
          );
          expect(promoted).toBe(true);
          promotedAfterMs = Date.now() - killedAt;
          // A fresh replica (on a port of its own, so the Sentinels' handling of a returning old
          // master cannot race with it), so that writes can be confirmed again. Generous timeout:
          // on a loaded machine the first sync can take a while.
          await topology.server({ replicaOf: replica.port });
          await topology.waitForReplicas(replica.port, 1, 40_000);
        }
        continue;
      }
      await sleep(50);
    }
    feeding = false;
    await feeder;

    expect(killedAt, 'the master was killed mid-ramp').toBeDefined();
    expect(final.state, JSON.stringify(final.history?.at(-1))).toBe('completed');
    const history = final.history as Array<{ at: string; to: string; percentage: number }>;
    const entered = history.filter((h) => h.to === 'running');
    // Every step exactly once, in order; the last ones entered after the failover.
    expect(entered.map((h) => h.percentage)).toEqual(STEPS);
    expect(entered.filter((h) => Date.parse(h.at) > killedAt!).map((h) => h.percentage)).toEqual(expect.arrayContaining([50, 100]));

    // Every acknowledged approval is there, including the one acknowledged just before the master died.
    expect(acknowledged).toContain(KILL_ON_STEP + 1);
    const approvals = final.approvals as Array<{ step: number; comment?: string }>;
    for (const step of acknowledged) expect(approvals).toContainEqual(expect.objectContaining({ step, comment: `${STEPS[step]}%` }));

    // The replica's serving state followed the feed across the failover: it serves the last step.
    const ramped = (await api(controller.url, client.secret, 'GET', `/api/client/features/${FLAG}`)).body;
    expect(ramped.strategies.find((s: { name: string }) => s.name === 'flexibleRollout')?.parameters.rollout).toBe('100');

    // The acknowledged kill is still there, and served.
    expect((await ok(200, 'GET', `/api/admin/flags/${KILLED}`)).killSwitches?.[ENV]).toBeDefined();
    const served = await api(controller.url, client.secret, 'GET', `/api/client/features/${KILLED}`);
    expect(served.body.enabled).toBe(false);

    // The audit log has them all, and its hash chain still verifies across the failover.
    const events = (await ok(200, 'GET', '/api/admin/audit?limit=1000')).events as Array<{ action: string; target: { id: string } }>;
    expect(events.filter((e) => e.action === 'flag.kill' && e.target.id.includes(KILLED))).toHaveLength(1);
    expect(events.filter((e) => e.action === 'rollout.approve' && e.target.id === id).length).toBeGreaterThanOrEqual(acknowledged.length);
    expect(await ok(200, 'GET', '/api/admin/audit/verify')).toMatchObject({ ok: true });
    expect((await fetch(`${controller.url}/readyz`)).status).toBe(200);
    console.info(
      `sentinel: master killed on step ${KILL_ON_STEP + 1} right after an acknowledged approval; replica promoted ${promotedAfterMs} ms later; ${refusedDuringFailover} requests refused (503) after it; ramp completed ${Date.now() - killedAt!} ms after the kill`,
    );
  }, 150_000);
});
