import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, type AdminPerson } from '../rollouts/scenario-helpers.js';

/**
 * The dashboard's own server side on real Redis: its page and script with their security headers,
 * and the admin routes it reads (who am I, the rollout board, a rollout's series, the audit list),
 * each refusing tokens without the role and answering 304 when nothing changed.
 */

const ENV = 'production';

async function get(t: TestController, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('dashboard server side', () => {
  let t: TestController;
  let viewer: AdminPerson;
  let editor: AdminPerson;
  let client: string;

  beforeAll(async () => {
    t = await startTestController();
    viewer = await adminPerson(t, 'viewer', 'vera-viewer');
    editor = await adminPerson(t, 'editor', 'erin-editor');
    client = await t.token({ kind: 'client', environment: ENV });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/slow', { name: 'slow', steps: [{ percentage: 1, approval: { required: 0 } }, 10, 50, 100] });
  });
  afterAll(() => t?.stop());

  it('serves the page and its files from this server, with a strict Content-Security-Policy and no inline script', async () => {
    const page = await get(t, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    // Every script and stylesheet is a file of ours: no inline code, nothing from another origin.
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/ui\//);
      expect(body!.trim()).toBe('');
    }
    expect(page.text).not.toMatch(/\sstyle=|\son[a-z]+=|https?:\/\//);

    const script = await get(t, '/ui/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(script.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(script.text).toContain('/api/admin/me');
    // The bundle is self-contained: it fetches only relative paths of this server.
    expect(script.text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const again = await get(t, '/ui/app.js', { 'If-None-Match': script.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect((await get(t, '/ui/app.css')).headers.get('content-type')).toContain('text/css');
    expect((await get(t, '/ui/secrets.json')).status).toBe(400);
  });

  it('GET /api/admin/me tells the role and its permissions; no token is 401, a client token 403', async () => {
    const me = await expectStatus(t, 200, 'GET', '/api/admin/me', undefined, viewer.secret);
    expect(me).toEqual({ id: viewer.id, name: 'vera-viewer', kind: 'admin', via: 'token', role: 'viewer', permissions: ['read'] });
    const ed = await expectStatus(t, 200, 'GET', '/api/admin/me', undefined, editor.secret);
    expect(ed.permissions).toEqual(expect.arrayContaining(['read', 'flags:write', 'flags:kill', 'rollouts:start']));
    expect(ed.permissions).not.toContain('rollouts:approve');
    expect((await get(t, '/api/admin/me')).status).toBe(401);
    expect((await get(t, '/api/admin/me', { Authorization: client })).status).toBe(403);
  });

  it('a rollout’s series sums the outcomes reported since it started, per cohort; unchanged answers are 304', async () => {
    const flag = 'series-flag';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { environments: { [ENV]: { enabled: false, strategies: [] } } }, editor.secret);
    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'slow' }, editor.secret);
    const report = (treatment: number, tErrors: number, control: number, cErrors: number) =>
      fetch(`${t.url}/api/metrics/outcomes`, {
        method: 'POST',
        headers: { Authorization: client, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          appName: 'series-test',
          records: [
            { flag, cohort: 'treatment', requests: treatment, errors: tErrors, latencyMs: { buckets: { '100': treatment }, sum: 50 * treatment } },
            { flag, cohort: 'control', requests: control, errors: cErrors },
          ],
        }),
      }).then((r) => expect(r.status).toBe(202));
    await report(300, 6, 100, 1);
    await report(100, 2, 100, 1);
    // Aborted, the rollout's series is fixed: it ends where the rollout ended.
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/abort`, { comment: 'series test' }, editor.secret);

    const res = await get(t, `/api/admin/rollouts/${rollout.id}/series`, { Authorization: viewer.secret });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-server-time'))).toBeGreaterThan(0);
    const body = JSON.parse(res.text);
    expect(body.rollout).toMatchObject({ id: rollout.id, state: 'aborted' });
    expect(body.rollout.status).toMatchObject({
      steps: [1, 10, 50, 100],
      active: false,
      waitingFor: [],
      served: { percentage: 0, text: 'serving nobody (0%)' },
      ended: { state: 'aborted' },
    });
    const s = body.series;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(s.cohorts.treatment.requests)).toBe(400);
    expect(sum(s.cohorts.treatment.errors)).toBe(8);
    expect(sum(s.cohorts.control.requests)).toBe(200);
    const withTraffic = s.cohorts.treatment.requests.findIndex((n: number) => n > 0);
    expect(s.cohorts.treatment.metrics.error_rate[withTraffic]).toBeCloseTo(
      s.cohorts.treatment.errors[withTraffic] / s.cohorts.treatment.requests[withTraffic],
      6,
    );
    expect(s.cohorts.treatment.metrics.latency_p99_ms[withTraffic]).toBe(99);
    expect(s.times).toHaveLength(s.cohorts.control.requests.length);
    expect(s.percentage.map((p: any) => p.percentage)).toEqual([0, 1, 0]);

    const cached = await get(t, `/api/admin/rollouts/${rollout.id}/series`, { Authorization: viewer.secret, 'If-None-Match': res.headers.get('etag')! });
    expect(cached.status).toBe(304);
    expect(cached.text).toBe('');
    expect((await get(t, `/api/admin/rollouts/nope/series`, { Authorization: viewer.secret })).status).toBe(404);
    expect((await get(t, `/api/admin/rollouts/${rollout.id}/series`)).status).toBe(401);
  });

  it('the rollout board lists active rollouts with what they wait for, without plans or history', async () => {
    const flag = 'board-flag';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { environments: { [ENV]: { enabled: false, strategies: [] } } }, editor.secret);
    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'slow' }, editor.secret);
    const { rollouts } = await expectStatus(t, 200, 'GET', '/api/admin/dashboard/rollouts', undefined, viewer.secret);
    const entry = rollouts.find((r: any) => r.id === rollout.id);
    expect(entry).toMatchObject({ flag, environment: ENV, state: 'running', stepIndex: 0, percentage: 1, gateCount: 0 });
    expect(entry.plan).toBeUndefined();
    expect(entry.history).toBeUndefined();
    expect(entry.status.served).toEqual({ percentage: 1, killed: false, text: 'serving 1%', textWording: { template: 'serving {pct}%', values: { pct: 1 } } });
    expect(entry.status.waitingFor.map((i: any) => i.kind)).toEqual(['time', 'samples', 'gates', 'approval', 'window']);
    expect(entry.status.waitingFor.find((i: any) => i.kind === 'approval')).toMatchObject({
      met: false,
      required: 1,
      roles: ['release-manager'],
      forPercentage: 10,
    });
    // Active ones come first, then finished ones.
    const states = rollouts.map((r: any) => r.status.active);
    expect(states).toEqual([...states].sort((a: boolean, b: boolean) => Number(b) - Number(a)));
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/abort`, {}, editor.secret);
  });

  it('the audit list is newest first, filtered by action, target and actor, paged with before, 304 until something new happens', async () => {
    await expectStatus(t, 200, 'POST', `/api/admin/flags/board-flag/environments/${ENV}/kill`, { reason: 'audit test' }, editor.secret);
    const path = '/api/admin/dashboard/audit';
    const all = JSON.parse((await get(t, `${path}?limit=500`, { Authorization: viewer.secret })).text);
    const seqs = all.events.map((e: any) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(all.headSeq).toBe(seqs[0]);
    expect(all.events[0]).toMatchObject({
      action: 'flag.kill',
      target: { type: 'flag', id: 'board-flag', environment: ENV },
      reason: 'audit test',
      actor: { name: 'erin-editor' },
    });
    expect(all.events[0].before).toBeUndefined();

    const starts = JSON.parse((await get(t, `${path}?action=rollout.start&actor=ERIN`, { Authorization: viewer.secret })).text);
    expect(starts.events.length).toBe(2);
    expect(starts.events.every((e: any) => e.action === 'rollout.start' && e.actor.name === 'erin-editor')).toBe(true);
    const flagEvents = JSON.parse((await get(t, `${path}?target=flag:series-flag`, { Authorization: viewer.secret })).text);
    expect(flagEvents.events.length).toBeGreaterThan(0);
    expect(flagEvents.events.every((e: any) => e.target.id === 'series-flag')).toBe(true);

    const page1 = JSON.parse((await get(t, `${path}?limit=3`, { Authorization: viewer.secret })).text);
    expect(page1.events.map((e: any) => e.seq)).toEqual(seqs.slice(0, 3));
    const page2 = JSON.parse((await get(t, `${path}?limit=3&before=${page1.nextBefore}`, { Authorization: viewer.secret })).text);
    expect(page2.events.map((e: any) => e.seq)).toEqual(seqs.slice(3, 6));

    const first = await get(t, `${path}?limit=3`, { Authorization: viewer.secret });
    expect((await get(t, `${path}?limit=3`, { Authorization: viewer.secret, 'If-None-Match': first.headers.get('etag')! })).status).toBe(304);
    await expectStatus(t, 200, 'POST', `/api/admin/flags/board-flag/environments/${ENV}/restore`, { reason: 'audit test over' }, editor.secret);
    const after = await get(t, `${path}?limit=3`, { Authorization: viewer.secret, 'If-None-Match': first.headers.get('etag')! });
    expect(after.status).toBe(200);
    expect(JSON.parse(after.text).events[0]).toMatchObject({ action: 'flag.restore', reason: 'audit test over' });
  });
});
