import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readPolicyFiles } from '../../src/policies/policy-service.js';
import { emptyDir, startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { spawnController } from '../support/controller-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-policies-'));
writeFileSync(path.join(dir, 'fast.yaml'), 'name: fast\nsteps: [5, 100]\nstepDefaults: { minDuration: 1m, minSamples: 10 }\n');
writeFileSync(path.join(dir, 'broken.yaml'), 'name: broken\nsteps: [10, 5]\n');
writeFileSync(path.join(dir, 'typo.yaml'), 'name: typo\ngates:\n  - { metric: error_rate, cohort: treatment, maxx: 0.01 }\n');

describe('policies', () => {
  let t: TestController;
  beforeAll(async () => (t = await startTestController({ env: { POLICIES_DIR: dir } })));
  afterAll(() => t.stop());

  it('reports each invalid policy file with its file and field path, and loads only the valid ones', async () => {
    const { files, errors } = await readPolicyFiles(dir);
    expect(files.map((f) => f.policy.name)).toEqual(['fast']);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^${path.join(dir, 'broken.yaml')}: steps\\[1\\]: steps must increase`)),
      expect.stringContaining(`${path.join(dir, 'typo.yaml')}: gates[0]`),
    ]);
    const listed = (await t.api('GET', '/api/admin/policies')).body.policies.map((p: any) => p.name);
    expect(listed).toEqual(['fast']);
  });

  it('stores a policy with its defaults filled in and durations in milliseconds', async () => {
    const created = await t.api('PUT', '/api/admin/policies/quick', {
      name: 'quick',
      analysisInterval: '5s',
      rollback: [{ metric: 'error_rate', above: 0.05, for: '1m' }],
    });
    expect(created.status).toBe(201);
    const got = (await t.api('GET', '/api/admin/policies/quick')).body;
    expect(got).toMatchObject({
      steps: [1, 10, 50, 100],
      analysisInterval: 5000,
      stepDefaults: { minDuration: 600_000, minSamples: 1000 },
      rollback: [{ for: 60_000, cohort: 'treatment' }],
    });
    // What GET returns is valid input for PUT.
    expect((await t.api('PUT', '/api/admin/policies/quick', got)).status).toBe(200);
  });

  it('refuses an invalid policy with the field path, keeping the stored one', async () => {
    const bad = await t.api('PUT', '/api/admin/policies/quick', { name: 'quick', windows: { allow: [{ hours: '25:00-26:00', tz: 'Mars/Olympus' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/windows\.allow\[0\]\.(hours|tz)/);
    expect((await t.api('GET', '/api/admin/policies/quick')).body.analysisInterval).toBe(5000);
    const viewer = await t.token({ kind: 'admin', role: 'viewer' });
    expect((await t.api('PUT', '/api/admin/policies/quick', { name: 'quick' }, viewer)).status).toBe(403);
  });

  it('refuses a policy with several mistakes naming them all: the message summarises, details.issues lists each', async () => {
    const bad = await t.api('PUT', '/api/admin/policies/four', {
      name: 'four',
      steps: [10, 5],
      stepDefaults: { approval: { roles: ['boss'] } },
      gates: [
        { metric: 'eror_rate', max: 0.01 },
        { metric: 'latency_p99_ms', max: 'high' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(bad.body.message).toBe('invalid body: steps[1]: steps must increase (and 3 more problems)');
    expect(bad.body.details.issues).toEqual([
      { path: 'steps[1]', message: 'steps must increase' },
      { path: 'stepDefaults.approval.roles[0]', message: '"boss" is not one of viewer, editor, release-manager, admin' },
      {
        path: 'gates[0].metric',
        message: '"eror_rate" is not one of error_rate, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms, latency_mean_ms',
      },
      { path: 'gates[1].max', message: 'Invalid input: expected number, received string' },
    ]);
    expect((await t.api('GET', '/api/admin/policies/four')).status).toBe(404);
  });
});

describe('policy files at start-up', () => {
  it('logs every problem of an invalid policy file, one line each', async () => {
    const policies = mkdtempSync(path.join(os.tmpdir(), 'rc-policies-'));
    const file = path.join(policies, 'four.yaml');
    writeFileSync(
      file,
      'name: four\nsteps: [10, 5]\nstepDefaults: { approval: { roles: [boss] } }\ngates:\n  - { metric: eror_rate, max: 0.01 }\n  - { metric: latency_p99_ms, max: high }\n',
    );
    const ctl = await spawnController({
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: uniquePrefix('policy-badfile'),
      ADMIN_TOKEN: `admin-${'x'.repeat(20)}`,
      FLAGS_DIR: emptyDir(),
      POLICIES_DIR: policies,
    });
    try {
      for (const line of [
        `${file}: steps[1]: steps must increase`,
        `${file}: stepDefaults.approval.roles[0]: \\"boss\\" is not one of viewer, editor, release-manager, admin`,
        `${file}: gates[0].metric: \\"eror_rate\\" is not one of error_rate, latency_p50_ms`,
        `${file}: gates[1].max: Invalid input: expected number, received string`,
      ]) {
        expect(ctl.output()).toContain(`policy file not loaded: ${line}`);
      }
    } finally {
      await ctl.stop();
    }
  });
});
