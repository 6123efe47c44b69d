import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

const rollout = (pct: string) => ({ name: 'flexibleRollout', parameters: { rollout: pct, stickiness: 'default', groupId: 'g' }, constraints: [] });

describe('admin flags, kill switch and import', () => {
  let t: TestController;
  let client: string;
  const features = async () => (await t.api('GET', '/api/client/features', undefined, client)).body.features as any[];

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
  });
  afterAll(() => t.stop());

  it('creates, replaces and deletes a flag, serving each state at once', async () => {
    const body = { description: 'd', environments: { production: { enabled: true, strategies: [rollout('10')] } } };
    expect((await t.api('PUT', '/api/admin/flags/crud', body)).status).toBe(201);
    expect((await features()).find((f) => f.name === 'crud')).toMatchObject({ enabled: true, strategies: [{ parameters: { rollout: '10' } }] });
    expect(
      (await t.api('PUT', '/api/admin/flags/crud', { ...body, environments: { production: { enabled: true, strategies: [rollout('50')] } } })).status,
    ).toBe(200);
    expect((await features()).find((f) => f.name === 'crud').strategies[0].parameters.rollout).toBe('50');
    // A flag not configured in an environment is served there, disabled (as Unleash does).
    const staging = await t.token({ kind: 'client', environment: 'staging' });
    const stagingFeatures = (await t.api('GET', '/api/client/features', undefined, staging)).body.features;
    expect(stagingFeatures.find((f: any) => f.name === 'crud')).toMatchObject({ enabled: false, strategies: [] });
    expect((await t.api('DELETE', '/api/admin/flags/crud')).status).toBe(204);
    expect((await features()).find((f) => f.name === 'crud')).toBeUndefined();
    expect((await t.api('GET', '/api/admin/flags/crud')).status).toBe(404);
  });

  it('refuses a bad definition with the field path and keeps what was stored', async () => {
    await t.api('PUT', '/api/admin/flags/keep', { environments: { production: { enabled: true, strategies: [rollout('5')] } } });
    const res = await t.api('PUT', '/api/admin/flags/keep', { environments: { production: { enabled: true, strategies: [rollout('150')] } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.message).toContain('environments.production.strategies[0].parameters.rollout');
    const bad = await t.api('PUT', '/api/admin/flags/keep', {
      environments: { production: { enabled: true, strategies: [{ name: 'default', constraints: [{ contextName: 'x', operator: 'LIKE', values: [] }] }] } },
    });
    expect(bad.body.message).toContain('environments.production.strategies[0].constraints[0].operator');
    const dangling = await t.api('PUT', '/api/admin/flags/keep', {
      environments: { production: { enabled: true, strategies: [{ name: 'default', segments: [999] }] } },
    });
    expect(dangling.status).toBe(400);
    expect(dangling.body.message).toContain('segment 999 does not exist');
    expect((await features()).find((f) => f.name === 'keep').strategies[0].parameters.rollout).toBe('5');
  });

  it('kills a flag in one environment at once, keeps it killed across edits, and restores it', async () => {
    const def = { environments: { production: { enabled: true, strategies: [rollout('100')] }, staging: { enabled: true, strategies: [rollout('100')] } } };
    await t.api('PUT', '/api/admin/flags/killme', def);
    expect((await t.api('POST', '/api/admin/flags/killme/environments/production/kill', {})).status).toBe(400);
    const killed = await t.api('POST', '/api/admin/flags/killme/environments/production/kill', { reason: 'errors spiking' });
    expect(killed.body).toMatchObject({ killed: true, changed: true });
    expect((await features()).find((f) => f.name === 'killme').enabled).toBe(false);
    const staging = await t.token({ kind: 'client', environment: 'staging' });
    expect((await t.api('GET', '/api/client/features/killme', undefined, staging)).body.enabled).toBe(true);
    // Editing the definition does not bring a killed flag back.
    await t.api('PUT', '/api/admin/flags/killme', def);
    expect((await features()).find((f) => f.name === 'killme').enabled).toBe(false);
    expect((await t.api('POST', '/api/admin/flags/killme/environments/production/kill', { reason: 'again' })).body.changed).toBe(false);
    expect((await t.api('POST', '/api/admin/flags/killme/environments/production/restore', { reason: 'fixed' })).body).toMatchObject({
      killed: false,
      changed: true,
    });
    expect((await features()).find((f) => f.name === 'killme').enabled).toBe(true);
    expect((await t.api('POST', '/api/admin/flags/nope/environments/production/kill', { reason: 'x' })).status).toBe(404);
  });

  it('imports an Unleash payload whole, or nothing of a malformed one', async () => {
    const payload = {
      version: 2,
      features: [
        { name: 'imp-a', enabled: true, strategies: [{ name: 'default', segments: [7] }], variants: [] },
        { name: 'imp-b', enabled: false, strategies: [rollout('30')], variants: null, createdAt: '2024-01-01T00:00:00Z' },
      ],
      segments: [{ id: 7, name: 'beta', constraints: [{ contextName: 'userId', operator: 'IN', values: ['1', '2'] }] }],
    };
    const ok = await t.api('POST', '/api/admin/environments/production/import', payload);
    expect(ok).toMatchObject({ status: 200, body: { imported: 2 } });
    // Old SDKs (no Unleash-Client-Spec header) get the segment's constraints inlined ...
    const inlined = await t.api('GET', '/api/client/features', undefined, client);
    expect(inlined.body.segments).toBeUndefined();
    expect(inlined.body.features.find((f: any) => f.name === 'imp-a').strategies[0]).toMatchObject({
      constraints: [{ contextName: 'userId', operator: 'IN', values: ['1', '2'] }],
    });
    // ... spec 4.2.0+ SDKs get segments by reference.
    const res = await fetch(`${t.url}/api/client/features`, { headers: { Authorization: client, 'Unleash-Client-Spec': '5.2.0' } });
    const modern = (await res.json()) as any;
    expect(modern.segments).toEqual([payload.segments[0]]);
    expect(modern.features.find((f: any) => f.name === 'imp-a').strategies[0]).toMatchObject({ segments: [7], constraints: [] });

    const bad = structuredClone(payload);
    bad.features.push({ name: 'imp-c', enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: 'lots' } } as any], variants: [] });
    bad.features[0]!.enabled = false;
    const refused = await t.api('POST', '/api/admin/environments/production/import', bad);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('features[2].strategies[0].parameters.rollout');
    const after = (await t.api('GET', '/api/client/features', undefined, client)).body.features;
    expect(after.find((f: any) => f.name === 'imp-c')).toBeUndefined();
    expect(after.find((f: any) => f.name === 'imp-a').enabled).toBe(true);
  });

  it('makes PUT a compare-and-set with If-Match, so concurrent editors do not overwrite each other', async () => {
    const def = (pct: string) => ({ environments: { production: { enabled: true, strategies: [rollout(pct)] } } });
    await t.api('PUT', '/api/admin/flags/cas', def('1'));
    const read = await t.api('GET', '/api/admin/flags/cas');
    const etag = read.headers.get('etag')!;
    const put = (pct: string) =>
      fetch(`${t.url}/api/admin/flags/cas`, {
        method: 'PUT',
        headers: { Authorization: t.adminToken, 'Content-Type': 'application/json', 'If-Match': etag },
        body: JSON.stringify(def(pct)),
      });
    const [first, second] = await Promise.all([put('10'), put('50')]);
    expect([first.status, second.status].sort()).toEqual([200, 412]);
    const winner = first.status === 200 ? '10' : '50';
    expect((await t.api('GET', '/api/admin/flags/cas')).body.environments.production.strategies[0].parameters.rollout).toBe(winner);
    expect((await put('99')).status).toBe(412);
  });

  it('answers a body that is not JSON with a 400', async () => {
    const res = await fetch(`${t.url}/api/admin/flags/x`, {
      method: 'PUT',
      headers: { Authorization: t.adminToken, 'Content-Type': 'application/json' },
      body: '{nope',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('invalid_json');
  });
});
