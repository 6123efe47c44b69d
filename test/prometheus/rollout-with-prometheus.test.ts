import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { waitForRollout } from '../rollouts/scenario-helpers.js';
import { startPrometheus, startScrapedApp, type RunningPrometheus, type ScrapedApp } from './prometheus-server.js';

/**
 * A rollout judged by PromQL: a controller on real Redis with PROMETHEUS_URL pointing at a real
 * Prometheus that scrapes a tiny application every second. The application serves one flag's
 * treatment healthily (1 % errors) and another's badly (50 %). The policy has no outcome checks at
 * all, only a query gate and a query rollback rule, so whatever happens is Prometheus' doing.
 */

const ENV = 'production';
const ERROR_RATE =
  'sum(rate(app_requests_total{flag="{{flag}}",cohort="{{cohort}}",status="500"}[{{window}}]))' +
  ' / sum(rate(app_requests_total{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}]))';

const policy = {
  name: 'prom-judged',
  steps: [1, 100],
  stepDefaults: { minDuration: '300ms', minSamples: 0, maxDuration: '1h', approval: { required: 0 } },
  analysisInterval: '300ms',
  gates: [{ name: 'prom_error_rate', query: ERROR_RATE, max: 0.1 }],
  rollback: [{ name: 'prom_error_rate', query: ERROR_RATE, above: 0.2, for: '0s' }],
};

describe('rollouts judged by Prometheus queries', () => {
  let app: ScrapedApp;
  let prometheus: RunningPrometheus;
  let t: TestController;

  const waitFor = (id: string, done: (r: Rollout) => boolean, label: string): Promise<Rollout> => waitForRollout(t, id, done, label, 40_000);

  beforeAll(async () => {
    app = await startScrapedApp([
      ['prom-good', 'treatment', 99, 1],
      ['prom-bad', 'treatment', 10, 10],
    ]);
    prometheus = await startPrometheus([app.target]);
    t = await startTestController({ prefix: uniquePrefix('prom-rollout'), env: { PROMETHEUS_URL: prometheus.url, ROLLOUT_TICK_MS: '50' } });
    expect((await t.api('PUT', `/api/admin/policies/${policy.name}`, policy)).status).toBe(201);
    for (const name of ['prom-good', 'prom-bad']) {
      expect((await t.api('PUT', `/api/admin/flags/${name}`, { name, environments: { [ENV]: { enabled: false, strategies: [] } } })).status).toBeLessThan(300);
    }
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await prometheus?.stop();
    await app?.close();
  });

  it('a healthy query gate takes the flag to 100 %, with the queried value recorded', async () => {
    const started = await t.api('POST', '/api/admin/rollouts', { flag: 'prom-good', environment: ENV, policy: policy.name });
    expect(started.status).toBe(201);
    const done = await waitFor(started.body.id, (r) => r.state === 'completed' || r.state === 'rolled_back', 'the healthy rollout finished');
    expect(done.state).toBe('completed');
    const advanced = done.history.find((h) => h.to === 'running' && h.percentage === 100)!;
    expect(advanced.gates?.[0]).toMatchObject({ metric: 'prom_error_rate', rule: 'prom_error_rate(treatment) <= 0.1', verdict: 'pass' });
    expect(advanced.gates?.[0]?.value).toBeCloseTo(0.01, 5);
  }, 60_000);

  it('a query rollback rule over its threshold rolls back and the flag is served disabled', async () => {
    const started = await t.api('POST', '/api/admin/rollouts', { flag: 'prom-bad', environment: ENV, policy: policy.name });
    expect(started.status).toBe(201);
    const done = await waitFor(started.body.id, (r) => r.state === 'rolled_back' || r.state === 'completed', 'the bad rollout finished');
    expect(done.state).toBe('rolled_back');
    expect(done.history.at(-1)?.reason).toMatch(/rollback rule prom_error_rate\(treatment\) > 0\.2 breached: prom_error_rate 0\.5/);
    const client = await t.token({ kind: 'client', environment: ENV });
    const served = await fetch(`${t.url}/api/client/features/prom-bad`, { headers: { Authorization: client } });
    expect((await served.json()).enabled).toBe(false);
  }, 60_000);
});
