import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createRedisStore } from '../../src/store/index.js';
import { hashSecret } from '../../src/auth/token-model.js';
import { policySchema } from '../../src/policies/policy-schema.js';
import { EnvironmentService } from '../../src/environments/environment-service.js';
import { readEnvironmentsFile } from '../../src/environments/environment-files.js';
import { FileError } from '../../src/files/file-error.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { spawnController } from '../support/controller-process.js';
import { TEST_ENVIRONMENTS, writeEnvironmentsFile } from '../support/environments.js';

const enabled = { enabled: true, strategies: [{ name: 'default' }] };
const auditEvents = async (t: TestController) => (await t.api('GET', '/api/admin/audit?limit=1000')).body.events as any[];

describe('declared environments', () => {
  let t: TestController;
  let viewer: string;
  let editor: string;
  let releaseManager: string;
  beforeAll(async () => {
    t = await startTestController();
    [viewer, editor, releaseManager] = (await Promise.all(['viewer', 'editor', 'release-manager'].map((role) => t.token({ kind: 'admin', role })))) as [
      string,
      string,
      string,
    ];
  });
  afterAll(() => t.stop());

  it('lists and gets the declared environments for every role; only admins declare or change one', async () => {
    const listed = await t.api('GET', '/api/admin/environments', undefined, viewer);
    expect(listed.status).toBe(200);
    expect(listed.body.environments.map((e: any) => e.name)).toEqual([...TEST_ENVIRONMENTS].sort());
    expect((await t.api('GET', '/api/admin/environments/staging', undefined, viewer)).body).toEqual({ name: 'staging', description: 'staging (tests)' });

    const body = {
      description: 'Edge locations',
      owner: 'edge-team',
      rules: { approval: { required: 1, roles: ['release-manager'] }, minStepDuration: '5m', requireRollbackRules: true },
    };
    for (const token of [viewer, editor, releaseManager]) {
      const refused = await t.api('PUT', '/api/admin/environments/edge', body, token);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toContain('environments:write');
    }
    const created = await t.api('PUT', '/api/admin/environments/edge', { ...body, reason: 'new region' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'edge',
      description: 'Edge locations',
      owner: 'edge-team',
      rules: { approval: { required: 1, roles: ['release-manager'] }, minStepDuration: 300_000, requireRollbackRules: true },
    });
    expect((await t.api('GET', '/api/admin/environments/edge', undefined, viewer)).body).toEqual(created.body);
    expect((await t.api('PUT', '/api/admin/environments/edge', { ...body, owner: 'sre' })).status).toBe(200);

    const events = (await auditEvents(t)).filter((e) => e.action === 'environment.put' && e.target.id === 'edge');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ reason: 'new region', before: null, after: { owner: 'edge-team' } });
    expect(events[1]).toMatchObject({ before: { owner: 'edge-team' }, after: { owner: 'sre' } });
  });

  it('refuses a bad environment naming the field, and a body whose name is not the path’s', async () => {
    const bad = await t.api('PUT', '/api/admin/environments/edge', { rules: { approval: { required: 0 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('rules.approval.required');
    const typo = await t.api('PUT', '/api/admin/environments/edge', { rules: { minStepDuraton: '5m' } });
    expect(typo.body.message).toContain('minStepDuraton');
    expect((await t.api('PUT', '/api/admin/environments/edge', { name: 'other' })).status).toBe(400);
    expect((await t.api('GET', '/api/admin/environments/edge')).body.owner).toBe('sre');
  });

  it('refuses a flag change, import, kill, restore or token naming an undeclared environment, with the declared names', async () => {
    const declared = (await t.api('GET', '/api/admin/environments')).body.environments.map((e: any) => e.name);
    const expectUnknown = (res: { status: number; body: any }, name: string) => {
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error).toBe('unknown_environment');
      expect(res.body.message).toContain(`environment "${name}" is not declared`);
      expect(res.body.message).toContain(`declared environments: ${declared.join(', ')}`);
      expect(res.body.details).toEqual({ undeclared: [name], declared });
    };
    expectUnknown(await t.api('PUT', '/api/admin/flags/typo', { environments: { production: enabled, prodution: enabled } }), 'prodution');
    expect((await t.api('GET', '/api/admin/flags/typo')).status).toBe(404);

    expect((await t.api('PUT', '/api/admin/flags/guarded', { environments: { production: enabled } })).status).toBe(201);
    expectUnknown(await t.api('POST', '/api/admin/environments/qa/import', { features: [{ name: 'guarded', enabled: true, strategies: [] }] }), 'qa');
    expectUnknown(await t.api('POST', '/api/admin/flags/guarded/environments/qa/kill', { reason: 'typo' }, releaseManager), 'qa');
    expectUnknown(await t.api('POST', '/api/admin/flags/guarded/environments/qa/restore', { reason: 'typo' }, releaseManager), 'qa');
    expectUnknown(await t.api('POST', '/api/admin/tokens', { kind: 'client', environment: 'qa', name: 'shop' }), 'qa');
    expectUnknown(await t.api('POST', '/api/admin/tokens', { kind: 'frontend', environment: 'qa', name: 'web' }), 'qa');
    expectUnknown(await t.api('GET', '/api/admin/environments/qa'), 'qa');
    expect((await t.api('GET', '/api/admin/flags/guarded')).body.environments).toEqual({ production: expect.anything() });
    expect((await t.api('GET', '/api/admin/audit/verify')).body.ok).toBe(true);

    // Declared, the same requests go through.
    expect((await t.api('PUT', '/api/admin/environments/qa', {})).status).toBe(201);
    expect((await t.api('POST', '/api/admin/environments/qa/import', { features: [{ name: 'guarded', enabled: true, strategies: [] }] })).body).toEqual({
      imported: 1,
    });
    expect((await t.api('POST', '/api/admin/flags/guarded/environments/qa/kill', { reason: 'drill' }, releaseManager)).status).toBe(200);
    expect((await t.api('POST', '/api/admin/tokens', { kind: 'client', environment: 'qa', name: 'shop' })).status).toBe(201);
  });

  it('judges a policy against an environment’s rules: 422 policy_not_allowed naming each rule', async () => {
    const environments = new EnvironmentService(t.controller.store, () => new Date());
    const weak = policySchema.parse({ name: 'weak', steps: [1, 100], stepDefaults: { minDuration: '1m', approval: { required: 0 } } });
    const err = await environments.assertPolicyAllowed(weak, 'edge').then(
      () => undefined,
      (e) => e,
    );
    expect(err).toMatchObject({ kind: 'refused', errorId: 'policy_not_allowed' });
    expect(err.message).toContain('policy "weak" may not be used in edge');
    expect(err.details.violations.map((v: any) => v.rule)).toEqual([
      'rules.approval.required',
      'rules.approval.required',
      'rules.minStepDuration',
      'rules.minStepDuration',
      'rules.requireRollbackRules',
    ]);
    expect(err.message).toContain('rules.approval.required: step 1%: asks for 0 approvals, edge requires at least 1 from release-manager');
    await expect(environments.assertPolicyAllowed(weak, 'staging')).resolves.toBeUndefined();
    await expect(environments.assertPolicyAllowed(weak, 'nowhere')).rejects.toMatchObject({ kind: 'not-found', errorId: 'unknown_environment' });
    await expect(environments.require('staging')).resolves.toMatchObject({ name: 'staging' });
  });

  it('an editor’s policy write is a proposal, in the audit log; an admin accepts it', async () => {
    const policy = { name: 'careful', steps: [5, 100], rollback: [{ metric: 'error_rate', above: 0.05, for: '1m' }] };
    const proposed = await t.api('PUT', '/api/admin/policies/careful', policy, editor);
    expect(proposed.status).toBe(202);
    expect(proposed.body.proposal).toMatchObject({
      id: expect.any(String),
      by: 'test-admin',
      policy: { name: 'careful', steps: [5, 100] },
      at: expect.any(String),
    });
    expect((await t.api('GET', '/api/admin/policies/careful')).status).toBe(404);
    const { proposals } = (await t.api('GET', '/api/admin/policy-proposals', undefined, viewer)).body;
    expect(proposals.map((p: any) => p.id)).toContain(proposed.body.proposal.id);

    const event = (await auditEvents(t)).find((e) => e.action === 'policy.proposed');
    expect(event).toMatchObject({ target: { type: 'policy', id: 'careful' }, before: null, after: { name: 'careful', steps: [5, 100] } });
    expect(event.actor).toMatchObject({ type: 'token', name: 'test-admin' });

    expect((await t.api('PUT', '/api/admin/policies/careful', policy, releaseManager)).status).toBe(403);
    expect((await t.api('POST', `/api/admin/policy-proposals/${proposed.body.proposal.id}/accept`, {}, editor)).status).toBe(403);
    const accepted = await t.api('POST', `/api/admin/policy-proposals/${proposed.body.proposal.id}/accept`, { reason: 'reviewed' });
    expect(accepted.status).toBe(200);
    expect((await t.api('GET', '/api/admin/policies/careful')).body.steps).toEqual([5, 100]);
    expect((await t.api('GET', '/api/admin/policy-proposals')).body.proposals).toEqual([]);
    expect((await auditEvents(t)).at(-1)).toMatchObject({
      action: 'policy.put',
      reason: expect.stringMatching(/^accepted proposal .* by test-admin: reviewed$/),
    });
    // An admin writes directly.
    expect((await t.api('PUT', '/api/admin/policies/careful', { ...policy, steps: [1, 100] })).status).toBe(200);
  });

  it('describes the routes in the OpenAPI document with their permissions', async () => {
    const doc = (await t.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/admin/environments'])).toEqual(['get']);
    expect(doc.paths['/api/admin/environments/{name}'].put['x-required-permission']).toBe('environments:write');
    expect(doc.paths['/api/admin/environments/{name}'].get['x-required-permission']).toBe('read');
    expect(doc.paths['/api/admin/policy-proposals/{id}/accept'].post['x-required-permission']).toBe('policies:write');
  });
});

describe('the upgrade and the environments file', () => {
  it('declares, once and audited, the environments that already hold flags or tokens', async () => {
    const prefix = uniquePrefix('env-upgrade');
    // State as an older version left it: flags and a token in environments nobody declared.
    const store = await createRedisStore(inject('redisUrl'), prefix);
    const flag = (name: string, environments: object, killSwitches = {}) => ({
      collection: 'flags',
      id: name,
      value: { name, type: 'release', project: 'default', stale: false, impressionData: false, dependencies: [], environments, killSwitches },
    });
    await store.commit({
      puts: [
        flag('old-a', { 'eu-west': { enabled: true, strategies: [], variants: [] } }),
        flag(
          'old-b',
          { production: { enabled: true, strategies: [], variants: [] } },
          { legacy: { reason: 'old incident', actor: 'x', at: '2025-01-01T00:00:00.000Z' } },
        ),
        {
          collection: 'tokens',
          id: 'edge-token',
          value: {
            id: 'edge-token',
            name: 'edge app',
            kind: 'client',
            environment: 'edge',
            secretHash: hashSecret('client:edge.0000'),
            hint: 'client:edge.0000…',
            createdAt: '2025-01-01T00:00:00.000Z',
            createdBy: 'someone',
          },
        },
      ],
    });
    await store.close();

    const first = await startTestController({ prefix, environmentsFile: writeEnvironmentsFile([{ name: 'production', owner: 'release-management' }]) });
    try {
      const names = (await first.api('GET', '/api/admin/environments')).body.environments.map((e: any) => e.name);
      expect(names).toEqual(['edge', 'eu-west', 'legacy', 'production']);
      const declared = (await auditEvents(first)).filter((e) => e.action === 'environment.declared');
      expect(declared.map((e) => [e.target.id, e.reason])).toEqual([
        ['edge', 'declared by upgrade: a client or frontend token was bound to it'],
        ['eu-west', 'declared by upgrade: already held flags'],
        ['legacy', 'declared by upgrade: already held flags'],
      ]);
      expect(new Set(declared.map((e) => e.seq)).size).toBe(3);
      expect(declared[0]).toMatchObject({ actor: { type: 'system', name: 'upgrade' }, before: null, after: { name: 'edge' } });
      // Production came from the file, not the upgrade.
      expect((await first.api('GET', '/api/admin/environments/production')).body.owner).toBe('release-management');
      expect((await first.api('GET', '/api/admin/audit/verify')).body.ok).toBe(true);
    } finally {
      await first.stop();
    }
    // A restart finds everything declared and writes nothing: not the upgrade, not the unchanged file.
    const again = await startTestController({ prefix, environmentsFile: writeEnvironmentsFile([{ name: 'production', owner: 'release-management' }]) });
    try {
      const events = await auditEvents(again);
      expect(events.filter((e) => e.action.startsWith('environment.')).length).toBe(4);
    } finally {
      await again.stop();
    }
  });

  it('a flag file naming an undeclared environment loads nothing from that file', async () => {
    const flagsDir = mkdtempSync(path.join(os.tmpdir(), 'rc-envflags-'));
    writeFileSync(path.join(flagsDir, 'ok.yaml'), 'flags:\n  - name: fine\n    environments:\n      staging: { enabled: true }\n');
    writeFileSync(
      path.join(flagsDir, 'typo.yaml'),
      'flags:\n  - name: also-fine\n    environments:\n      staging: { enabled: true }\n  - name: typo\n    environments:\n      prodution: { enabled: true }\n',
    );
    const t = await startTestController({ flagsDir });
    try {
      expect((await t.api('GET', '/api/admin/flags')).body.flags.map((f: any) => f.name)).toEqual(['fine']);
    } finally {
      await t.stop();
    }
  });

  it('an environments file with a bad field is refused naming the file and the field path, and declares nothing', async () => {
    const file = writeEnvironmentsFile([
      { name: 'production', rules: { approval: { required: 1 } } },
      { name: 'shiny', rules: { minStepDuration: 'soon' } },
    ]);
    const err = await readEnvironmentsFile(file).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toBe(`${file}: environments[1].rules.minStepDuration: a duration such as 30s, 10m or 24h`);

    const ctl = await spawnController({
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: uniquePrefix('env-badfile'),
      ADMIN_TOKEN: `admin-${'x'.repeat(20)}`,
      FLAGS_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-noflags-')),
      ENVIRONMENTS_FILE: file,
    });
    try {
      expect(ctl.output()).toContain(`environments file not loaded: ${file}: environments[1].rules.minStepDuration`);
      const res = await fetch(`${ctl.url}/api/admin/environments`, { headers: { Authorization: `admin-${'x'.repeat(20)}` } });
      expect((await res.json()).environments).toEqual([]);
    } finally {
      await ctl.stop();
    }
  });
});
