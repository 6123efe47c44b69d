import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnController, type ControllerProcess } from '../support/controller-process.js';
import { emptyDir, uniquePrefix, type TestController } from '../support/controller.js';
import { api, LeaseProbe, logLines, sleep } from '../rollouts/failover-helpers.js';
import { destroyAllSdks, SDK_MODES, startLiveSdk, until, type TrackedSdk } from '../sdk/sdk-helpers.js';
import { Topology, waitUntil } from './topology.js';

/**
 * Degraded mode on a real redis-server and a real controller process. While Redis is stopped
 * (SIGSTOP: its sockets stay open and nothing answers, the hardest case for timeouts) the stock SDKs
 * keep getting their flags from the replica's snapshot, /readyz says the store is down and the
 * leader stops; once Redis is back everything resumes by itself. And when Redis comes back EMPTY,
 * the replica notices the store lost data and keeps its snapshot until a person accepts the loss.
 */

const ENV = 'production';
/** Longer than the store's command timeout (5 s), so that the leader's lease renewal fails and it steps down. */
const PAUSE_MS = 7_000;
const STEPS = [10, 20, 30, 40, 50, 100];

const topology = new Topology();
const procs: ControllerProcess[] = [];
afterEach(() => destroyAllSdks());
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await topology.stop();
});

async function controllerOn(redisUrl: string, prefix: string, adminToken: string): Promise<ControllerProcess> {
  const proc = await spawnController({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN: adminToken,
    LEADER_LEASE_MS: '1500',
    ROLLOUT_TICK_MS: '100',
    OUTCOME_BUCKET_MS: '200',
    STREAM_HEARTBEAT_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '1000',
    FLAGS_DIR: emptyDir(),
    POLICIES_DIR: emptyDir(),
  });
  procs.push(proc);
  return proc;
}

async function ok(base: string, token: string, status: number, method: string, route: string, body?: unknown): Promise<any> {
  const res = await api(base, token, method, route, body);
  expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}

const readyz = (base: string) => fetch(`${base}/readyz`).then((r) => r.status);

describe('Redis stops answering while SDKs poll and stream', () => {
  it('serves the last snapshot to every SDK, reports the store down, stops the leader, and resumes by itself', async () => {
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    const prefix = uniquePrefix('outage');
    const redis = await topology.server();
    const ctl = await controllerOn(redis.url, prefix, adminToken);
    const as = (status: number, method: string, route: string, body?: unknown) => ok(ctl.url, adminToken, status, method, route, body);
    const client = (await as(201, 'POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'shop' })).secret as string;
    for (const name of ['outage-a', 'outage-b', 'ramped']) {
      await as(201, 'PUT', `/api/admin/flags/${name}`, { environments: { [ENV]: { enabled: true, strategies: [] } } });
    }
    await as(201, 'PUT', '/api/admin/policies/unattended', {
      name: 'unattended',
      steps: STEPS,
      stepDefaults: { minDuration: '700ms', minSamples: 0, maxDuration: '1m', approval: { required: 0 } },
      analysisInterval: '100ms',
    });

    // One stock SDK per mode; the polling one also sends metrics, which do need the store.
    const target = { url: ctl.url } as TestController;
    const sdks: Array<{ mode: string } & TrackedSdk> = [];
    for (const mode of SDK_MODES) {
      const tracked = await startLiveSdk(target, client, mode, mode === 'polling' ? { disableMetrics: false, metricsInterval: 500 } : {});
      sdks.push({ mode, ...tracked });
    }
    const emptySeen: string[] = [];
    const watch = setInterval(() => {
      for (const s of sdks) if (s.sdk.getFeatureToggleDefinitions().length === 0) emptySeen.push(s.mode);
    }, 20);

    const rollout = await ok(ctl.url, adminToken, 201, 'POST', '/api/admin/rollouts', { flag: 'ramped', environment: ENV, policy: 'unattended' });
    const probe = new LeaseProbe(redis.url, prefix);
    const before = await waitUntil('a leader', async () => (await probe.holder('rollout-leader')) ?? undefined, 5_000);
    await waitUntil(
      'the ramp to be under way',
      async () => ((await api(ctl.url, adminToken, 'GET', `/api/admin/rollouts/${rollout.id}`)).body.stepIndex >= 1 ? true : undefined),
      5_000,
      50,
    );

    // Redis stops answering.
    redis.process.kill('SIGSTOP');
    const pausedAt = Date.now();
    const linesBefore = ctl.output().split('\n').length;
    await waitUntil('/readyz to report the store down', async () => ((await readyz(ctl.url)) === 503 ? true : undefined), PAUSE_MS - 1_000, 100);
    const readyBody = await (await fetch(`${ctl.url}/readyz`)).json();
    expect(readyBody).toMatchObject({ checks: { state: true, store: false } });
    // Serving goes on from the snapshot: full payload, single flag, delta.
    const polled = await api(ctl.url, client, 'GET', '/api/client/features');
    expect(polled.status).toBe(200);
    expect(polled.body.features.map((f: { name: string }) => f.name)).toEqual(['outage-a', 'outage-b', 'ramped']);
    expect((await api(ctl.url, client, 'GET', '/api/client/features/outage-a')).body.enabled).toBe(true);
    expect((await api(ctl.url, client, 'GET', '/api/client/delta')).status).toBe(200);
    const stepDuringPause = (await api(ctl.url, adminToken, 'GET', `/api/admin/rollouts/${rollout.id}`)).status;
    await sleep(Math.max(0, PAUSE_MS - (Date.now() - pausedAt)));
    const linesDuringPause = ctl.output().split('\n').length - linesBefore;
    redis.process.kill('SIGCONT');
    const resumedAt = Date.now();

    await waitUntil('/readyz to be 200 again', async () => ((await readyz(ctl.url)) === 200 ? true : undefined), 10_000, 100);
    // A kill made after Redis returns reaches every SDK.
    const killed = sdks.map((s) => until(s.sdk, () => !s.sdk.isEnabled('outage-a'), `${s.mode} SDK to see the kill`, 10_000));
    await as(200, 'POST', `/api/admin/flags/outage-a/environments/${ENV}/kill`, { reason: 'after the outage' });
    await Promise.all(killed);

    // The leader resumes (a fresh lease: the old one lapsed while it could not renew) and the ramp completes, each step once.
    const final = await waitUntil(
      'the ramp to complete',
      async () => {
        const r = (await api(ctl.url, adminToken, 'GET', `/api/admin/rollouts/${rollout.id}`)).body;
        return r.state === 'completed' ? r : undefined;
      },
      20_000,
      100,
    );
    const entered = (final.history as Array<{ to: string; percentage: number; at: string }>).filter((h) => h.to === 'running');
    expect(entered.map((h) => h.percentage)).toEqual(STEPS);
    // Nothing was written while Redis was stopped.
    expect(final.history.filter((h: { at: string }) => Date.parse(h.at) > pausedAt + 100 && Date.parse(h.at) < resumedAt)).toEqual([]);
    const after = await probe.holder('rollout-leader');
    expect(after?.token).toBeGreaterThan(before.token);
    // Whether the leader noticed by a failed renewal or by its next grant carrying a new token depends
    // on where its tick was when Redis stopped; either way it took the lease afresh.
    expect(logLines(ctl, 'took the controller lease').length).toBeGreaterThanOrEqual(2);
    await probe.close();

    clearInterval(watch);
    // No SDK saw an error or an empty flag set, and the process neither crashed nor logged a flood.
    expect(emptySeen).toEqual([]);
    for (const s of sdks) expect(s.errors, `${s.mode} SDK errors`).toEqual([]);
    expect(ctl.child.exitCode).toBeNull();
    expect(ctl.output()).not.toMatch(/unhandled|uncaught/i);
    expect(linesDuringPause).toBeLessThan(40);
    console.info(
      `outage: Redis stopped ${PAUSE_MS} ms; a rollout read during it answered ${stepDuringPause}; ${linesDuringPause} log lines meanwhile; SDK warnings: ${sdks.map((s) => `${s.mode} ${s.warnings.length}`).join(', ')}; ramp completed ${Date.now() - resumedAt} ms after Redis returned`,
    );
  }, 60_000);
});

describe('Redis restarts without its data', () => {
  it('the replica keeps serving its snapshot, refuses writes and reports not ready until a person accepts the loss', async () => {
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    const prefix = uniquePrefix('empty');
    const redis = await topology.server();
    const first = await controllerOn(redis.url, prefix, adminToken);
    const client = (await ok(first.url, adminToken, 201, 'POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'before' })).secret as string;
    const names = Array.from({ length: 20 }, (_, i) => `old-${i}`);
    for (const name of names)
      await ok(first.url, adminToken, 201, 'PUT', `/api/admin/flags/${name}`, { environments: { [ENV]: { enabled: true, strategies: [] } } });

    // The server dies and comes back on the same address with nothing (no persistence).
    redis.process.kill('SIGKILL');
    await topology.server({ port: redis.port });

    await waitUntil('/readyz to report the loss', async () => ((await readyz(first.url)) === 503 ? true : undefined), 10_000, 100);
    const ready = await (await fetch(`${first.url}/readyz`)).json();
    expect(ready).toMatchObject({ checks: { storeIntact: false }, reason: expect.stringContaining('the store lost data') });
    // SDKs keep the last snapshot, with the token the store no longer holds.
    const polled = await api(first.url, client, 'GET', '/api/client/features');
    expect(polled.status).toBe(200);
    expect(polled.body.features.map((f: { name: string }) => f.name)).toEqual([...names].sort());
    // Writes are refused, and ADMIN_TOKEN works though the store holds no token at all.
    const refused = await fetch(`${first.url}/api/admin/flags/new`, {
      method: 'PUT',
      headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ environments: {} }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.json()).toMatchObject({ error: 'store_lost' });
    // Said once at ERROR (a person must act), not once per look or per refused write.
    const errors = first
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{') && JSON.parse(line).level === 50);
    expect(errors, errors.join('\n')).toEqual([expect.stringContaining('"msg":"the store lost data (')]);

    // A person accepts the loss: the replica serves what the store holds (nothing; the old token is gone).
    const accepted = await ok(first.url, adminToken, 200, 'POST', '/api/admin/store/accept-loss', { reason: 'no backup of this test deployment' });
    expect(accepted.accepted.lostFrom.auditSeq).toBeGreaterThanOrEqual(names.length + 1);
    expect(await readyz(first.url)).toBe(200);
    expect((await api(first.url, client, 'GET', '/api/client/features')).status).toBe(401);
    // The environments file was applied at start-up, to the store that was lost: declared again here
    // (the runbook restarts the replicas, which applies every file again).
    await ok(first.url, adminToken, 201, 'PUT', `/api/admin/environments/${ENV}`, {});
    const fresh = (await ok(first.url, adminToken, 201, 'POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'after' })).secret as string;
    await ok(first.url, adminToken, 201, 'PUT', '/api/admin/flags/after-restart', { environments: { [ENV]: { enabled: true, strategies: [] } } });
    expect((await api(first.url, fresh, 'GET', '/api/client/features')).body.features.map((f: { name: string }) => f.name)).toEqual(['after-restart']);
  }, 60_000);
});
