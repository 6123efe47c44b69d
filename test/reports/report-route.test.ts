import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, type AdminPerson } from '../rollouts/scenario-helpers.js';

/** The report route on a real controller and Redis: a rollout started, approved with a comment, then aborted. */
describe('GET /api/admin/rollouts/{id}/report', () => {
  let t: TestController;
  let editor: AdminPerson;
  let manager: AdminPerson;
  let viewer: AdminPerson;
  let id: string;

  const get = (path: string, token?: string) => fetch(`${t.url}${path}`, { headers: token ? { Authorization: token } : {} });

  beforeAll(async () => {
    t = await startTestController();
    editor = await adminPerson(t, 'editor', 'Erin Editor');
    manager = await adminPerson(t, 'release-manager', 'Rita <b>Manager</b>');
    viewer = await adminPerson(t, 'viewer', 'Vic Viewer');
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/two-step', {
      name: 'two-step',
      steps: [5, 100],
      stepDefaults: { minDuration: '1h', minSamples: 10 },
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/report-me', { environments: { production: { enabled: false, strategies: [] } } });
    id = (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'report-me', environment: 'production', policy: 'two-step' }, editor.secret)).id;
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/approve`, { comment: 'looks fine | <ship it>' }, manager.secret);
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/abort`, { comment: 'marketing asked to wait' }, editor.secret);
  });
  afterAll(() => t.stop());

  it('Markdown by default, as a download named after the flag, environment and rollout', async () => {
    const res = await get(`/api/admin/rollouts/${id}/report`, viewer.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="go-live-report-me-production-${id.slice(0, 8)}.md"`);
    const md = await res.text();
    expect(md).toContain('# Go-live report: `report-me` in `production`');
    expect(md).toContain('| Started by | Erin Editor (editor) |');
    expect(md).toMatch(/\| 5% \| Rita \\<b\\>Manager\\<\/b\\> \| release-manager \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| looks fine \\\| \\<ship it\\> \|/);
    expect(md).toContain('Aborted: aborted by Erin Editor: marketing asked to wait');
    // The audit trail comes from the real hash-chained log: the start, the approval and the abort, in order.
    const actions = [...md.split('## Audit trail')[1]!.matchAll(/\| `(rollout\.\w+|flag\.\w+)` \|/g)].map((m) => m[1]);
    // The approval is the Go/No-Go of the 5% step: entering it changes the flag.
    expect(actions).toEqual(['rollout.start', 'flag.rollout', 'rollout.approve', 'flag.rollout', 'rollout.abort', 'flag.rollout']);
  });

  it('HTML on request: self-contained and loading nothing', async () => {
    const res = await get(`/api/admin/rollouts/${id}/report?format=html`, viewer.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/filename="go-live-report-me-production-[0-9a-f]{8}\.html"/);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    const html = await res.text();
    expect(html).toContain('<td>Rita &lt;b&gt;Manager&lt;/b&gt;</td>');
    expect(html).toContain('looks fine | &lt;ship it&gt;');
    expect(html).not.toMatch(/<script|<link|<img|<[^>]*\b(src|href)=/i);
  });

  it('in Simplified Chinese on request (lang=zh-CN), with Content-Language; an unknown language is refused naming lang', async () => {
    const res = await get(`/api/admin/rollouts/${id}/report?format=html&lang=zh-CN`, viewer.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-language')).toBe('zh-CN');
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<h2>时间线</h2>');
    const bad = await get(`/api/admin/rollouts/${id}/report?lang=fr`, viewer.secret);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('lang');
  });

  it('refuses an unknown format (400 naming the field), an unknown rollout (404) and no token (401)', async () => {
    const bad = await get(`/api/admin/rollouts/${id}/report?format=pdf`, viewer.secret);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('format');
    expect((await get('/api/admin/rollouts/no-such-rollout/report', viewer.secret)).status).toBe(404);
    expect((await get(`/api/admin/rollouts/${id}/report`)).status).toBe(401);
  });

  it('is described in the OpenAPI document with its permission', async () => {
    const doc = await (await get('/api/openapi.json')).json();
    const op = doc.paths['/api/admin/rollouts/{id}/report'].get;
    expect(op['x-required-permission']).toBe('read');
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'format', 'lang']);
  });
});
