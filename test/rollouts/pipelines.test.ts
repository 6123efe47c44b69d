import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestController } from '../support/controller.js';
import { FAST_WEBHOOKS } from '../notifications/sample-events.js';
import { startEventReceiver } from './event-receiver.js';
import { destroyAllSdks, startLiveSdk, until } from '../sdk/sdk-helpers.js';
import {
  FAST_ENV,
  HEALTHY,
  UNHEALTHY,
  adminPerson,
  auditEvents,
  expectStatus,
  pollUntil,
  servedPercentage,
  shiftedClock,
  shortPolicy,
  startClockedController,
  startTraffic,
  stopAllTraffic,
  waitForRollout,
  type AdminPerson,
  type Clock,
} from './scenario-helpers.js';

/**
 * Environment pipelines end to end on the real test Redis: staging then production, each under
 * its own policy; the production rollout starts by itself once staging completed and stayed
 * without a breach for the pipeline's wait, and a rollback in staging stops what follows.
 */

const flagIn = (...envs: string[]) => ({ environments: Object.fromEntries(envs.map((env) => [env, { enabled: true, strategies: [] }])) });

/** Two quick steps, no approvals: staging completes on healthy traffic in about a second. */
const autoPolicy = (name: string, overrides: Record<string, unknown> = {}) =>
  shortPolicy(name, {
    steps: [1, 100],
    stepDefaults: { minDuration: '400ms', minSamples: 50, maxDuration: '4s', approval: { required: 0 } },
    ...overrides,
  });

describe('environment pipelines', () => {
  let t: TestController;
  let clock: Clock;
  let staging: string;
  let production: string;
  let editor: AdminPerson;

  beforeAll(async () => {
    clock = shiftedClock();
    t = await startClockedController(clock, { ...FAST_ENV, ...FAST_WEBHOOKS });
    staging = await t.token({ kind: 'client', environment: 'staging' });
    production = await t.token({ kind: 'client', environment: 'production' });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/auto', autoPolicy('auto'));
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/watched', autoPolicy('watched', { watchAfterCompletion: '10m' }));
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
  });

  afterAll(async () => {
    destroyAllSdks();
    await stopAllTraffic();
    await t?.stop();
  });

  it('promotes staging to production after its rule (completed, then an hour without a breach), and not before', async () => {
    const flag = 'p1-checkout';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, flagIn('staging', 'production'), editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/pipelines/to-prod', {
      name: 'to-prod',
      stages: [
        { environment: 'staging', policy: 'auto' },
        { environment: 'production', policy: 'short' },
      ],
      promoteAfter: '1h',
    });
    const editorPut = await t.api('PUT', '/api/admin/pipelines/to-prod', { name: 'to-prod', stages: [] }, editor.secret);
    expect(editorPut.status).toBe(403);
    const live = await startLiveSdk(t, production, 'streaming', { refreshInterval: 60_000 });
    const receiver = await startEventReceiver(t, 'pipeline-news', ['pipeline.promoted']);
    const traffic = startTraffic(t, staging, flag, HEALTHY);
    const run = await expectStatus(t, 201, 'POST', '/api/admin/pipelines/to-prod/runs', { flag }, editor.secret);
    expect(run).toMatchObject({
      state: 'running',
      stages: [
        { environment: 'staging', status: 'active' },
        { environment: 'production', status: 'waiting' },
      ],
    });
    const stagingRollout = run.stages[0].rolloutId;
    await waitForRollout(t, stagingRollout, (r) => r.state === 'completed', 'staging completed', 8_000);
    traffic.set(HEALTHY);

    // Completed, but the hour has not passed: production waits, and the run says until when.
    const waiting = await pollUntil(
      () => expectStatus(t, 200, 'GET', `/api/admin/pipeline-runs/${run.id}`),
      (r) => r.stages[0].status === 'completed' && /starts at .*1h after staging completed without a breach/.test(r.stages[1].note ?? ''),
      'the run waiting for its hour',
    );
    expect(waiting.stages[1]).toMatchObject({ status: 'waiting' });
    expect(servedPercentage(live.sdk, flag) ?? 0, 'production serves nobody yet').toBe(0);

    // An hour later (the controller's clock): production starts by itself, under its own policy, as the person's.
    clock.offsetMs += 3_600_000;
    const promoted = await pollUntil(
      () => expectStatus(t, 200, 'GET', `/api/admin/pipeline-runs/${run.id}`),
      (r) => r.stages[1].status === 'active' && r.stages[1].rolloutId,
      'production promoted',
    );
    const prod = await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${promoted.stages[1].rolloutId}`);
    expect(prod).toMatchObject({ environment: 'production', policy: 'short', flag, startedBy: { name: 'erin-editor' } });
    await until(live.sdk, () => servedPercentage(live.sdk, flag) === 1, 'production serves 1%', 3_000);
    const audit = await auditEvents(t);
    expect(audit.some((e: any) => e.action === 'pipeline.run.promote' && e.target.id === run.id)).toBe(true);
    // Everyone is told: the promotion is a notification of its own, naming both environments.
    const told = await receiver.waitFor('pipeline.promoted');
    expect(told).toMatchObject({
      rollout: { id: prod.id, environment: 'production' },
      details: { pipeline: 'to-prod', fromEnvironment: 'staging', toEnvironment: 'production' },
    });
    await receiver.stop();
    expect(traffic.failures).toEqual([]);
  });

  it('stops at a rollback in staging: production never starts', async () => {
    const flag = 'p2-search';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, flagIn('staging', 'production'), editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/pipelines/quick', {
      name: 'quick',
      stages: [
        { environment: 'staging', policy: 'auto' },
        { environment: 'production', policy: 'short', promoteAfter: '1s' },
      ],
    });
    const traffic = startTraffic(t, staging, flag, UNHEALTHY);
    const run = await expectStatus(t, 201, 'POST', '/api/admin/pipelines/quick/runs', { flag }, editor.secret);
    await waitForRollout(t, run.stages[0].rolloutId, (r) => r.state === 'rolled_back', 'staging rolled back', 8_000);
    const stopped = await pollUntil(
      () => expectStatus(t, 200, 'GET', `/api/admin/pipeline-runs/${run.id}`),
      (r) => r.state === 'stopped',
      'the run stopped',
    );
    expect(stopped.reason).toMatch(/^staging: the rollout rolled back/);
    expect(stopped.stages.map((s: any) => s.status)).toEqual(['stopped', 'stopped']);
    expect(stopped.stages[1].rolloutId).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1_500));
    const rollouts = (await expectStatus(t, 200, 'GET', '/api/admin/rollouts')).rollouts;
    expect(rollouts.filter((r: any) => r.flag === flag && r.environment === 'production')).toEqual([]);
    expect(traffic.failures).toEqual([]);
  });

  it('a rollback in staging during its watch pauses production already under way', async () => {
    const flag = 'p3-cart';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, flagIn('staging', 'production'), editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/pipelines/watched', {
      name: 'watched',
      stages: [
        { environment: 'staging', policy: 'watched' },
        { environment: 'production', policy: 'short' },
      ],
      promoteAfter: '500ms',
    });
    const traffic = startTraffic(t, staging, flag, HEALTHY);
    const prodTraffic = startTraffic(t, production, flag, HEALTHY);
    const run = await expectStatus(t, 201, 'POST', '/api/admin/pipelines/watched/runs', { flag }, editor.secret);
    const promoted = await pollUntil(
      () => expectStatus(t, 200, 'GET', `/api/admin/pipeline-runs/${run.id}`),
      (r) => r.stages[1].rolloutId,
      'production promoted',
      10_000,
    );
    traffic.set(UNHEALTHY);
    await waitForRollout(t, run.stages[0].rolloutId, (r) => r.state === 'rolled_back', 'staging rolled back during its watch', 8_000);
    const paused = await waitForRollout(t, promoted.stages[1].rolloutId, (r) => r.state === 'paused', 'production paused');
    expect(paused.pauseReason).toMatch(/pipeline watched stopped: staging: the rollout rolled back/);
    expect((await expectStatus(t, 200, 'GET', `/api/admin/pipeline-runs/${run.id}`)).state).toBe('stopped');
    expect([...traffic.failures, ...prodTraffic.failures]).toEqual([]);
  });

  it('validates pipelines and runs, naming the field', async () => {
    const bad = await t.api('PUT', '/api/admin/pipelines/solo', { name: 'solo', stages: [{ environment: 'staging', policy: 'auto' }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/stages.*at least two environments/);
    const twice = await t.api('PUT', '/api/admin/pipelines/twice', {
      name: 'twice',
      stages: [
        { environment: 'staging', policy: 'auto' },
        { environment: 'staging', policy: 'auto' },
      ],
    });
    expect(twice.status).toBe(400);
    const both = await t.api('POST', '/api/admin/pipelines/quick/runs', { flag: 'x', release: { name: 'r', flags: ['x'] } }, editor.secret);
    expect(both.status).toBe(400);
    expect((await t.api('POST', '/api/admin/pipelines/nope/runs', { flag: 'p1-checkout' }, editor.secret)).status).toBe(404);
  });
});
