import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { eventually, startNamedSdk, type NamedSdk } from './drill-sdks.js';

/**
 * The propagation route and drills through the API, on two replicas sharing one Redis: the SDKs
 * talk to replica A, the questions go to replica B. Roles, the production guard, the refusals.
 */

const FLAG = 'checkout';
const path = (env: string, rest: string, flag = FLAG) => `/api/admin/flags/${flag}/environments/${env}/${rest}`;

describe('propagation and drills across replicas', () => {
  let a: TestController;
  let b: TestController;
  let viewer: string;
  let editor: string;
  let releaseManager: string;
  const sdks: NamedSdk[] = [];
  let slow: NamedSdk;
  let live: NamedSdk;

  beforeAll(async () => {
    const prefix = uniquePrefix('propagation');
    a = await startTestController({ prefix, env: { STREAM_HEARTBEAT_MS: '1000' } });
    b = await startTestController({ prefix, env: { STREAM_HEARTBEAT_MS: '1000' } });
    viewer = await b.token({ kind: 'admin', role: 'viewer' });
    editor = await b.token({ kind: 'admin', role: 'editor' });
    releaseManager = await b.token({ kind: 'admin', role: 'release-manager' });
    const on = { enabled: true, strategies: [{ name: 'default' }] };
    expect((await b.api('PUT', `/api/admin/flags/${FLAG}`, { environments: { staging: on, production: on } })).status).toBe(201);
    const staging = await a.token({ kind: 'client', environment: 'staging' });
    slow = await startNamedSdk(a, staging, { appName: 'billing', instanceId: 'billing-1', mode: 'polling', refreshInterval: 60_000 });
    live = await startNamedSdk(a, staging, { appName: 'web', instanceId: 'web-1', mode: 'streaming', refreshInterval: 60_000 });
    const production = await a.token({ kind: 'client', environment: 'production' });
    sdks.push(slow, live, await startNamedSdk(a, production, { appName: 'web', instanceId: 'web-prod-1', mode: 'streaming', refreshInterval: 60_000 }));
  }, 30_000);

  afterAll(async () => {
    for (const s of sdks) s.sdk.destroy();
    await a?.stop();
    await b?.stop();
  });

  const propagation = async (env = 'staging', token = viewer) => {
    const res = await b.api('GET', path(env, 'propagation'), undefined, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('answers on replica B for SDKs served by replica A, and follows a kill instance by instance', async () => {
    await eventually(propagation, (p) => p.instances === 2 && p.confirmed === 2, 'both SDKs seen on B');
    const before = await propagation();
    expect((await b.api('POST', path('staging', 'kill'), { reason: 'incident 7' })).status).toBe(200);
    // The stream has it at once; the poller holds the old state until its next poll, a minute away.
    const after = await eventually(propagation, (p) => p.version > before.version && p.confirmed === 1, 'the stream to confirm the kill');
    expect(after).toMatchObject({ killed: true, instances: 2, confirmed: 1, pendingNotListed: 0 });
    expect(after.pending).toEqual([
      { appName: 'billing', instanceId: 'billing-1', connectionId: expect.any(String), instance: expect.any(String), lastSeenAt: expect.any(String) },
    ]);
    expect(Date.parse(after.lastConfirmedAt)).toBeGreaterThan(Date.parse(before.lastConfirmedAt ?? 0));
    expect((await b.api('POST', path('staging', 'restore'), { reason: 'incident 7 over' })).status).toBe(200);
  });

  it('lets viewers read it, and only release managers and admins drill', async () => {
    expect((await b.api('GET', path('staging', 'propagation'), undefined, editor)).status).toBe(200);
    const body = { reason: 'roles', timeoutSeconds: 1 };
    expect((await b.api('POST', path('staging', 'drill'), body, viewer)).status).toBe(403);
    expect((await b.api('POST', path('staging', 'drill'), body, editor)).status).toBe(403);
    expect((await b.api('POST', path('staging', 'drill'), body, await b.token({ kind: 'client', environment: 'staging' }))).status).toBe(403);
    expect((await fetch(`${b.url}${path('staging', 'propagation')}`)).status).toBe(401);
  });

  it('refuses bad requests before killing anything, naming what is wrong', async () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      [path('staging', 'drill'), { timeoutSeconds: 5 }, 400, /reason/],
      [path('staging', 'drill'), { reason: 'x', timeoutSeconds: 10_000 }, 400, /timeoutSeconds/],
      [path('staging', 'drill', 'no-such-flag'), { reason: 'x' }, 404, /no-such-flag/],
      [path('nowhere', 'drill'), { reason: 'x' }, 404, /nowhere/],
      // No SDK is connected in development: the drill would verify nothing.
      [path('development', 'drill'), { reason: 'x' }, 409, /no SDK instance/],
    ];
    for (const [route, body, status, message] of cases) {
      const res = await b.api('POST', route, body, releaseManager);
      expect(res.status, `${route} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.message).toMatch(message);
    }
    const flag = (await b.api('GET', `/api/admin/flags/${FLAG}`)).body;
    expect(flag.killSwitches).toEqual({});
  });

  it('never drills production without a confirmation', async () => {
    const refused = await b.api('POST', path('production', 'drill'), { reason: 'quarterly', timeoutSeconds: 5 }, releaseManager);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: 'confirmation_required' });
    expect((await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches).toEqual({});
    const confirmed = await b.api('POST', path('production', 'drill'), { reason: 'quarterly', timeoutSeconds: 5, confirm: true }, releaseManager);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ environment: 'production', instances: 1, confirmed: 1, ended: 'all-confirmed', restore: { restored: true } });
  });

  it('refuses to drill a flag that is killed (it would restore it), and leaves the kill alone', async () => {
    expect((await b.api('POST', path('staging', 'kill'), { reason: 'incident 8' })).status).toBe(200);
    const res = await b.api('POST', path('staging', 'drill'), { reason: 'x' }, releaseManager);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'flag_killed' });
    expect(res.body.message).toContain('incident 8');
    expect((await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches.staging.reason).toBe('incident 8');
    expect((await b.api('POST', path('staging', 'restore'), { reason: 'incident 8 over' })).status).toBe(200);
  });

  it('keeps a real kill made during a drill: the drill does not restore it, and says so', async () => {
    // The slow poller keeps the drill waiting for its whole timeout.
    const drill = b.api('POST', path('staging', 'drill'), { reason: 'with an incident', timeoutSeconds: 3 }, releaseManager);
    await eventually(
      async () => (await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches.staging?.reason,
      (reason) => reason === 'drill: with an incident',
      'the drill’s kill',
    );
    // One drill of a flag at a time: on the same replica it is known to run, on another its kill is seen.
    const again = await b.api('POST', path('staging', 'drill'), { reason: 'twice', timeoutSeconds: 3 }, releaseManager);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('drill_running');
    const elsewhere = await a.api('POST', path('staging', 'drill'), { reason: 'twice', timeoutSeconds: 3 }, await a.token({ kind: 'admin', role: 'admin' }));
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body).toMatchObject({ error: 'flag_killed' });
    const kill = await a.api('POST', path('staging', 'kill'), { reason: 'real incident 9' });
    expect(kill.body).toMatchObject({ changed: true, killSwitch: { reason: 'real incident 9' } });
    const res = await drill;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ended: 'timed-out', confirmed: 1, restore: { restored: false } });
    expect(res.body.restore.why).toContain('real incident 9');
    expect((await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches.staging.reason).toBe('real incident 9');
    const report = await fetch(`${b.url}${res.body.report}`, { headers: { Authorization: viewer } });
    expect(await report.text()).toContain('The flag was NOT restored: the flag was killed for real during the drill (by ');
    expect((await b.api('POST', path('staging', 'restore'), { reason: 'incident 9 over' })).status).toBe(200);
  });

  it('answers 404 for a report that is not a drill of this flag and environment', async () => {
    const events = (await b.api('GET', '/api/admin/audit?limit=1000')).body.events as Array<{ seq: number; action: string }>;
    const kill = events.find((e) => e.action === 'flag.kill')!;
    const drill = events.find((e) => e.action === 'flag.drill')!;
    expect((await b.api('GET', path('staging', `drills/${kill.seq}/report`))).status).toBe(404);
    expect((await b.api('GET', path('staging', `drills/${drill.seq}/report`, 'other-flag'))).status).toBe(404);
  });

  it('stops counting a streaming SDK once its stream closes', async () => {
    await eventually(propagation, (p) => p.instances === 2, 'both seen');
    live.sdk.destroy();
    const after = await eventually(propagation, (p) => p.instances === 1, 'the closed stream to be dropped');
    expect(after.pending.map((p: { instanceId: string }) => p.instanceId)).not.toContain('web-1');
  });

  it('restores and records a drill interrupted by its replica shutting down', async () => {
    const rmOnA = await a.token({ kind: 'admin', role: 'release-manager' });
    const drill = a.api('POST', path('staging', 'drill'), { reason: 'cut short', timeoutSeconds: 60 }, rmOnA);
    await eventually(
      async () => (await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches.staging?.reason,
      (reason) => reason === 'drill: cut short',
      'the drill’s kill',
    );
    const stopping = a.stop();
    const res = await drill;
    await stopping;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ended: 'interrupted', restore: { restored: true } });
    expect((await b.api('GET', `/api/admin/flags/${FLAG}`)).body.killSwitches).toEqual({});
    const events = (await b.api('GET', '/api/admin/audit?limit=1000')).body.events as Array<{ action: string; after: { ended?: string } }>;
    expect(events.filter((e) => e.action === 'flag.drill').at(-1)?.after.ended).toBe('interrupted');
  });
});
