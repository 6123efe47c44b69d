import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import {
  adminPerson,
  ENV,
  expectStatus,
  FAST_ENV,
  pollUntil,
  shortPolicy,
  startTraffic,
  stopAllTraffic,
  UNHEALTHY,
  waitForRollout,
} from '../rollouts/scenario-helpers.js';
import { allExpressions, referencedMetricNames } from './deploy-files.js';
import { scrape, type Scrape } from './scrape.js';

const REQUESTS = 'rollout_controller_http_requests_total';
const FEATURES = { method: 'GET', route: '/api/client/features' };

/** A flag whose only strategy is the one a rollout ramps, so a rollout can start on it. */
function rampableFlag(name: string) {
  return {
    environments: {
      [ENV]: { enabled: false, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', groupId: name, stickiness: 'userId' }, constraints: [] }] },
    },
  };
}

/** Scrapes until `predicate` holds (gauges read from the store are cached for a few seconds). */
function scrapeUntil(t: TestController, predicate: (s: Scrape) => boolean, label: string, timeoutMs = 10_000): Promise<Scrape> {
  return pollUntil(() => scrape(t.url), predicate, label, timeoutMs, 100);
}

describe('GET /metrics on a live controller (real Redis)', () => {
  let t: TestController;
  let client: string;

  beforeAll(async () => {
    t = await startTestController({ env: FAST_ENV });
    client = await t.token({ kind: 'client', environment: ENV });
  });
  afterEach(() => stopAllTraffic());
  afterAll(() => t.stop());

  it('answers in the Prometheus text format, with the process metrics and the build', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const metrics = await scrape(t.url);
    expect(metrics.families.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(metrics.families.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    expect(metrics.value('rollout_controller_build_info', { version: '0.1.0' })).toBe(1);
    expect(metrics.value('rollout_controller_store_up')).toBe(1);
  });

  it('counts fast-lane polls and express answers under the route template, never the raw path', async () => {
    await t.api('PUT', '/api/admin/flags/metrics-poll', { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } });
    const before = await scrape(t.url);
    const get = (path: string, token?: string) =>
      fetch(`${t.url}${path}`, { headers: token ? { Authorization: token } : {} }).then(async (r) => (await r.arrayBuffer(), r.status));
    for (let i = 0; i < 3; i++) expect(await get('/api/client/features', client)).toBe(200);
    expect(await get('/api/client/features')).toBe(401); // no token: the fast lane passes it to express
    expect(await get('/api/client/features/metrics-poll', client)).toBe(200);
    expect(await get('/no/such/place')).toBe(404);
    const after = await scrape(t.url);
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

    expect(delta(REQUESTS, { ...FEATURES, status: '200' })).toBe(3);
    expect(delta(REQUESTS, { ...FEATURES, status: '401' })).toBe(1);
    expect(delta(REQUESTS, { method: 'GET', route: '/api/client/features/{name}', status: '200' })).toBe(1);
    expect(delta(REQUESTS, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(delta('rollout_controller_http_request_duration_seconds_count', FEATURES)).toBe(4);
    const routes = new Set(after.samples.filter((s) => s.name === REQUESTS).map((s) => s.labels.route));
    expect([...routes].filter((r) => r!.includes('metrics-poll') || r!.includes('/no/such'))).toEqual([]);
  });

  it('an open stream raises the streams gauge, and closing it lowers it again', async () => {
    const before = (await scrape(t.url)).value('rollout_controller_streams_open');
    const abort = new AbortController();
    const res = await fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: client }, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('unleash-connected');
    expect((await scrape(t.url)).value('rollout_controller_streams_open')).toBe(before + 1);
    abort.abort();
    await reader.cancel().catch(() => {});
    await scrapeUntil(t, (s) => s.value('rollout_controller_streams_open') === before, 'the stream to close');
  });

  it('a kill through the admin API counts as a manual kill; its restore does not', async () => {
    await t.api('PUT', '/api/admin/flags/metrics-kill', { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } });
    const before = await scrape(t.url);
    await expectStatus(t, 200, 'POST', `/api/admin/flags/metrics-kill/environments/${ENV}/kill`, { reason: 'metrics test' });
    const killed = await scrape(t.url);
    expect(killed.value('rollout_controller_kills_total', { trigger: 'manual' }) - before.value('rollout_controller_kills_total', { trigger: 'manual' })).toBe(
      1,
    );
    expect(
      killed.value('rollout_controller_audit_events_total', { action: 'flag.kill' }) -
        before.value('rollout_controller_audit_events_total', { action: 'flag.kill' }),
    ).toBe(1);
    await expectStatus(t, 200, 'POST', `/api/admin/flags/metrics-kill/environments/${ENV}/restore`, { reason: 'metrics test' });
    const restored = await scrape(t.url);
    expect(restored.value('rollout_controller_kills_total', { trigger: 'manual' })).toBe(killed.value('rollout_controller_kills_total', { trigger: 'manual' }));
    expect(restored.value('rollout_controller_kills_total', { trigger: 'automatic' })).toBe(
      before.value('rollout_controller_kills_total', { trigger: 'automatic' }),
    );
  });

  it('the only replica leads: leader gauge 1, one lease acquisition, ticks timed', async () => {
    const metrics = await scrapeUntil(t, (s) => s.value('rollout_controller_leader') === 1, 'the replica to lead');
    expect(metrics.value('rollout_controller_leader_acquisitions_total')).toBe(1);
    expect(metrics.value('rollout_controller_tick_duration_seconds_count', { role: 'leader' })).toBeGreaterThan(0);
  });

  it('store latency is measured per operation, and a replica that applied every change is neither behind nor stale', async () => {
    await t.api('PUT', '/api/admin/flags/metrics-fresh', { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } });
    const metrics = await scrape(t.url);
    for (const operation of ['get', 'list', 'commit', 'feedHead', 'acquireLease']) {
      expect(metrics.value('rollout_controller_store_operation_duration_seconds_count', { operation }), operation).toBeGreaterThan(0);
    }
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'commit' })).toBe(0);
    expect(metrics.value('rollout_controller_snapshot_version_lag')).toBe(0);
    expect(metrics.value('rollout_controller_snapshot_stale_seconds')).toBeLessThan(5);
    // The PUT just changed the served flags (the route waits until this replica applied it).
    expect(metrics.value('rollout_controller_snapshot_age_seconds')).toBeLessThan(5);
  });

  it('a rollout moves the rollout metrics: transitions, rollouts by state, approvals by step, gate results, an automatic kill', async () => {
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/metrics-policy', {
      ...shortPolicy('metrics-policy'),
      // Long enough that the rollout is still running when the cached rollouts-by-state gauge is next read.
      stepDefaults: { minDuration: '400ms', minSamples: 50, maxDuration: '1m', approval: { required: 1, roles: ['release-manager'] } },
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/metrics-ramp', rampableFlag('metrics-ramp'));
    const before = await scrape(t.url);
    const delta = (after: Scrape, name: string, labels: Record<string, string> = {}) => after.sum(name, labels) - before.sum(name, labels);

    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'metrics-ramp', environment: ENV, policy: 'metrics-policy' });
    const running = await scrapeUntil(t, (s) => s.value('rollout_controller_rollouts', { state: 'running' }) >= 1, 'the rollout to be counted as running');
    expect(delta(running, 'rollout_controller_rollout_transitions_total', { to: 'running' })).toBe(1);

    const manager = await adminPerson(t, 'release-manager', 'Metrics Manager');
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/approve`, { step: 10, ahead: true, comment: 'looks fine' }, manager.secret);
    expect(delta(await scrape(t.url), 'rollout_controller_approvals_total', { step: '2' })).toBe(1);

    startTraffic(t, client, 'metrics-ramp', UNHEALTHY);
    await waitForRollout(t, rollout.id, (r) => r.state === 'rolled_back', 'the rollout to roll back', 15_000);
    const after = await scrapeUntil(t, (s) => s.value('rollout_controller_rollouts', { state: 'rolled_back' }) >= 1, 'the rollback to be counted');
    expect(delta(after, 'rollout_controller_rollout_transitions_total', { to: 'rolled_back' })).toBe(1);
    expect(delta(after, 'rollout_controller_kills_total', { trigger: 'automatic' })).toBe(1);
    expect(delta(after, 'rollout_controller_kills_total', { trigger: 'manual' })).toBe(0);
    expect(delta(after, 'rollout_controller_gate_results_total')).toBeGreaterThan(0);
    expect(delta(after, 'rollout_controller_rollouts_analysed_total')).toBeGreaterThan(0);
    expect(after.value('rollout_controller_rollouts', { state: 'running' })).toBe(running.value('rollout_controller_rollouts', { state: 'running' }) - 1);
  });

  it('every metric the alert rules and the Grafana dashboard read exists in /metrics', async () => {
    const metrics = await scrape(t.url);
    const exported = new Set([...metrics.families.keys(), ...metrics.samples.map((s) => s.name)]);
    const missing = allExpressions().flatMap(({ where, expr }) =>
      referencedMetricNames(expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${n} (${where})`),
    );
    expect(missing).toEqual([]);
    expect(allExpressions().length).toBeGreaterThan(30);
  });
});

describe('METRICS_TOKEN', () => {
  const token = 'metrics-scraper-secret-1234';
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.stop());

  it('when set, /metrics answers only a scrape that sends it, bearer or bare', async () => {
    const status = async (authorization?: string) =>
      (await fetch(`${t.url}/metrics`, { headers: authorization ? { Authorization: authorization } : {} })).status;
    expect(await status()).toBe(401);
    expect(await status('Bearer wrong-secret-of-some-length')).toBe(401);
    expect(await status(t.adminToken)).toBe(401); // an admin token is not the metrics token
    expect(await status(`Bearer ${token}`)).toBe(200);
    expect(await status(token)).toBe(200);
    const text = await (await fetch(`${t.url}/metrics`, { headers: { Authorization: token } })).text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(t.adminToken);
  });
});
