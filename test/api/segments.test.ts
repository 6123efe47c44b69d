import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus } from '../rollouts/scenario-helpers.js';

/** Segments written one at a time through the admin API: validated, audited, compare-and-set, served at once. */
describe('admin segments', () => {
  let t: TestController;
  let client: string;
  const modernFeatures = async () =>
    (await (await fetch(`${t.url}/api/client/features`, { headers: { Authorization: client, 'Unleash-Client-Spec': '5.2.0' } })).json()) as any;
  const put = (id: number, body: unknown, ifMatch?: string) =>
    fetch(`${t.url}/api/admin/segments/${id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${t.adminToken}`, 'Content-Type': 'application/json', ...(ifMatch ? { 'If-Match': ifMatch } : {}) },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
  });
  afterAll(() => t.stop());

  it('creates a segment, lets a flag name it, replaces it with If-Match, and serves each state at once', async () => {
    const beta = { name: 'beta', constraints: [{ contextName: 'userId', operator: 'IN', values: ['1', '2'] }] };
    const created = await put(3, { ...beta, reason: 'beta testers' }, '"0"');
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/seg-flag', {
      environments: { production: { enabled: true, strategies: [{ name: 'default', segments: [3] }] } },
    });
    expect((await modernFeatures()).segments).toEqual([{ id: 3, ...beta }]);

    const wider = { name: 'beta', constraints: [{ contextName: 'userId', operator: 'IN', values: ['1', '2', '3'] }] };
    expect((await put(3, wider, '"1"')).status).toBe(200);
    expect((await modernFeatures()).segments[0].constraints[0].values).toEqual(['1', '2', '3']);
    // Someone read version 1 and writes after that change: refused, not overwritten.
    const stale = await put(3, beta, '"1"');
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as any).error).toBe('version_mismatch');
    // Creating only: an id in use is refused with "0".
    expect((await put(3, beta, '"0"')).status).toBe(412);

    expect((await expectStatus(t, 200, 'GET', '/api/admin/segments')).segments).toEqual([{ id: 3, ...wider }]);
    const audit = await expectStatus(t, 200, 'GET', '/api/admin/audit?limit=1000');
    const events = audit.events.filter((e: any) => e.action === 'segment.put');
    expect(events.map((e: any) => e.reason ?? null)).toEqual(['beta testers', null]);
    expect(events[1].before).toEqual({ id: 3, ...beta });
  });

  it('refuses a bad segment with each field path and keeps what was stored', async () => {
    const res = await put(4, {
      constraints: [
        { contextName: 'userId', operator: 'LIKE', values: [] },
        { contextName: 'v', operator: 'NUM_GT' },
      ],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.details.issues.map((i: any) => i.path)).toEqual(['constraints[0].operator', 'constraints[1].value']);
    expect((await put(4, { id: 5, constraints: [] })).status).toBe(400);
    expect((await t.api('GET', '/api/admin/segments/4')).status).toBe(404);
  });

  it('lets readers read and only flag writers write', async () => {
    const viewer = await adminPerson(t, 'viewer', 'seg-viewer');
    expect((await t.api('GET', '/api/admin/segments/3', undefined, viewer.secret)).status).toBe(200);
    expect((await t.api('PUT', '/api/admin/segments/9', { constraints: [] }, viewer.secret)).status).toBe(403);
    expect((await t.api('GET', '/api/admin/segments/9')).status).toBe(404);
  });
});
