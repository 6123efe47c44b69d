import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicyFiles } from '../../src/policies/policy-service.js';
import { startTestController, type TestController } from '../support/controller.js';

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
    const created = await t.api('PUT', '/api/admin/policies/quick', { name: 'quick', analysisInterval: '5s', rollback: [{ metric: 'error_rate', above: 0.05, for: '1m' }] });
    expect(created.status).toBe(201);
    const got = (await t.api('GET', '/api/admin/policies/quick')).body;
    expect(got).toMatchObject({ steps: [1, 10, 50, 100], analysisInterval: 5000, stepDefaults: { minDuration: 600_000, minSamples: 1000 }, rollback: [{ for: 60_000, cohort: 'treatment' }] });
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
});
