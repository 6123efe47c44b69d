import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { say, type Wording } from '../../src/rollouts/reason-wording.js';
import { startTestController, type TestController } from '../support/controller.js';

/**
 * The pre-flight of POST /api/admin/rollouts on a real controller (Redis under a fresh prefix):
 * outcomes reported for a flag before its rollout are its baseline (all control: the flag is off).
 */
describe('starting a rollout: the pre-flight', () => {
  let t: TestController;
  let client: string;

  const report = async (flag: string, requests: number, errors: number) => {
    const res = await t.api('POST', '/api/metrics/outcomes', { appName: 'shop', records: [{ flag, cohort: 'control', requests, errors }] }, client);
    expect(res.status).toBe(202);
  };
  const flag = async (name: string) => {
    expect((await t.api('PUT', `/api/admin/flags/${name}`, { environments: { production: { enabled: true, strategies: [] } } })).status).toBeLessThan(300);
  };
  const start = (name: string, policy: string, extra: Record<string, unknown> = {}) =>
    t.api('POST', '/api/admin/rollouts', { flag: name, environment: 'production', policy, ...extra });

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
    // Default approval: every step, the Go/No-Go included, waits for a release manager.
    const strict = { name: 'strict', steps: [10, 50, 100], gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }] };
    const compared = {
      name: 'compared',
      steps: [10, 50, 100],
      gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 }],
    };
    for (const policy of [strict, compared]) expect((await t.api('PUT', `/api/admin/policies/${policy.name}`, policy)).status).toBeLessThan(300);
  });
  afterAll(() => t?.stop());

  it('refuses a start whose baseline already fails an absolute gate, with the numbers (409), and changes nothing', async () => {
    await flag('noisy');
    await report('noisy', 20_000, 500);
    const res = await start('noisy', 'strict');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('baseline_above_gate');
    for (const part of ['error_rate(control) <= 0.01', 'already 2.5%', 'against 1%', '20,000 requests', '"force": true'])
      expect(res.body.message).toContain(part);
    expect(res.body.details.violations).toEqual([
      expect.objectContaining({ rule: 'error_rate(control) <= 0.01', metric: 'error_rate', cohort: 'control', value: 0.025, threshold: 0.01, samples: 20_000 }),
    ]);
    expect(res.body.details.preflight.baseline).toMatchObject({ requests: 20_000, errors: 500, errorRate: 0.025 });
    expect((await t.api('GET', '/api/admin/rollouts')).body.rollouts.filter((r: { flag: string }) => r.flag === 'noisy')).toEqual([]);
    expect((await t.api('GET', '/api/admin/flags/noisy')).body.environments.production.strategies).toEqual([]);
  });

  it('with force: started, the warning kept on the rollout and in the audit log', async () => {
    const res = await start('noisy', 'strict', { force: true, reason: 'known noisy upstream, tracked in INC-7' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ flag: 'noisy', state: 'awaiting_approval', percentage: 0 });
    expect(res.body.preflight.violations).toHaveLength(1);
    expect(res.body.preflight.warnings).toEqual([expect.stringContaining('already 2.5% against 1%')]);
    // Each warning's wording beside it (the dashboard says it in its language); said in English, the warning.
    expect(res.body.preflight.warningWordings.map((w: Wording) => say(w))).toEqual(res.body.preflight.warnings);
    // Stored with the rollout: what the dashboard shows.
    expect((await t.api('GET', `/api/admin/rollouts/${res.body.id}`)).body.preflight.warnings).toEqual(res.body.preflight.warnings);
    // Kept once, on the start transition in the history, not on the record every analysis rewrites.
    const record = await t.controller.store.get<Record<string, unknown>>('rollouts', res.body.id);
    expect(record?.value).not.toHaveProperty('preflight');
    const history = await t.controller.store.get<Array<{ preflight?: { warnings?: string[] } }>>('rollout-histories', res.body.id);
    expect(history?.value[0]?.preflight?.warnings).toEqual(res.body.preflight.warnings);
    const audit = (await t.api('GET', '/api/admin/audit?limit=1000')).body;
    const event = (audit.events ?? audit).find((e: { action: string; target: { id: string } }) => e.action === 'rollout.start' && e.target.id === res.body.id);
    expect(event.reason).toContain('force');
    expect(event.reason).toContain('already 2.5% against 1%');
    expect(event.reason).toContain('INC-7');
    expect(event.after.preflight).toEqual({ forced: true, warnings: res.body.preflight.warnings });
  });

  it('a healthy baseline starts, and the answer says how long each step needs to see a doubling', async () => {
    await flag('steady');
    await report('steady', 72_000, 360);
    const res = await start('steady', 'compared');
    expect(res.status).toBe(201);
    const p = res.body.preflight;
    expect(p.violations).toEqual([]);
    expect(p.warnings).toBeUndefined();
    expect(p.baseline).toMatchObject({ requests: 72_000, errors: 360, errorRate: 0.005 });
    // The window reaches back an hour (to a whole bucket): about 1,200 requests a minute.
    expect(p.baseline.window.minutes).toBeGreaterThanOrEqual(60);
    expect(p.baseline.requestsPerMinute).toBeGreaterThan(1150);
    expect(p.baseline.requestsPerMinute).toBeLessThanOrEqual(1200);
    expect(p.detection).toMatchObject({ confidence: 0.95, confidenceFrom: 'policy', errorRate: 0.005 });
    expect(p.steps.map((s: { percentage: number }) => s.percentage)).toEqual([10, 50, 100]);
    const [ten, fifty] = p.steps;
    expect(ten.requestsPerMinute).toBeCloseTo(p.baseline.requestsPerMinute / 10, 0);
    expect(ten.minutesToDetectDoubling).toBeGreaterThan(fifty.minutesToDetectDoubling);
    expect(ten.minutesToDetectDoubling).toBeCloseTo(p.detection.samples / ten.requestsPerMinute, 0);
    expect(ten.limitedBy).toBe('traffic');
  });

  it('with no outcomes at all there is nothing to check: started, and the estimate says there is no traffic', async () => {
    await flag('quiet');
    const res = await start('quiet', 'strict');
    expect(res.status).toBe(201);
    expect(res.body.preflight.violations).toEqual([]);
    expect(res.body.preflight.baseline).toMatchObject({ requests: 0, errorRate: null, requestsPerMinute: 0 });
    for (const step of res.body.preflight.steps) expect(step).toMatchObject({ minutesToDetectDoubling: null, minutesNeeded: null, limitedBy: 'traffic' });
    expect(res.body.preflight.notes.join(' ')).toContain('no traffic');
  });

  it('force must be a boolean', async () => {
    await flag('typo');
    expect((await start('typo', 'strict', { force: 'yes' })).status).toBe(400);
  });
});
