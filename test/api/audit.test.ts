import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

/**
 * Tampering is done straight in Redis, as someone with database access would: the stream is
 * rewritten with one event edited, or without one event.
 */
describe('audit log', () => {
  let t: TestController;
  let redis: Redis;
  const logKey = () => `{${t.prefix}}:log:audit`;

  beforeAll(async () => {
    t = await startTestController();
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
    await t.stop();
  });

  async function rewriteLog(edit: (entries: Array<[string, string[]]>) => Array<[string, string[]]>): Promise<void> {
    const entries = (await redis.xrange(logKey(), '-', '+')) as Array<[string, string[]]>;
    const edited = edit(entries);
    await redis.del(logKey());
    for (const [id, fields] of edited) await redis.xadd(logKey(), id, ...fields);
  }

  it('records who did what, why, and the state before and after', async () => {
    const viewer = await t.token({ kind: 'admin', role: 'viewer' });
    await t.api('PUT', '/api/admin/flags/audited', {
      reason: 'launch prep',
      environments: { production: { enabled: true, strategies: [{ name: 'default' }] } },
    });
    await t.api('POST', '/api/admin/flags/audited/environments/production/kill', { reason: 'errors at 3%' });
    const { body } = await t.api('GET', '/api/admin/audit?limit=1000', undefined, viewer);
    const events = body.events as any[];
    const put = events.find((e) => e.action === 'flag.put' && e.target.id === 'audited');
    expect(put).toMatchObject({ actor: { type: 'token', name: 'bootstrap admin' }, reason: 'launch prep', before: null });
    expect(put.after.environments.production.enabled).toBe(true);
    const kill = events.find((e) => e.action === 'flag.kill');
    expect(kill).toMatchObject({ target: { type: 'flag', id: 'audited', environment: 'production' }, reason: 'errors at 3%', before: { killSwitch: null } });
    expect(kill.after.killSwitch.reason).toBe('errors at 3%');
    expect(new Date(kill.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // seq numbers are contiguous and each event links to the one before.
    events.forEach((e, i) => {
      expect(e.seq).toBe(i + 1);
      if (i > 0) expect(e.prevHash).toBe(events[i - 1].hash);
    });
    expect((await t.api('GET', '/api/admin/audit/verify', undefined, viewer)).body).toMatchObject({ ok: true, count: events.length });
  });

  it('detects an edited event', async () => {
    await rewriteLog((entries) =>
      entries.map(([id, fields]) => {
        const event = JSON.parse(fields[1]!);
        if (event.action !== 'flag.kill') return [id, fields];
        event.reason = 'routine maintenance';
        return [id, [fields[0]!, JSON.stringify(event)]];
      }),
    );
    const verdict = (await t.api('GET', '/api/admin/audit/verify')).body;
    expect(verdict.ok).toBe(false);
    expect(verdict.problem).toContain('altered');
  });

  it('detects a deleted head (events beyond what the head records)', async () => {
    const fresh = await startTestController();
    for (let i = 0; i < 3; i++) await fresh.api('PUT', `/api/admin/flags/h${i}`, { environments: {} });
    expect((await fresh.api('GET', '/api/admin/audit/verify')).body.ok).toBe(true);
    // Someone with database access removes the head document, hoping the log verifies as empty.
    await redis.hdel(`{${fresh.prefix}}:doc:meta`, 'audit-head');
    await redis.hdel(`{${fresh.prefix}}:ver:meta`, 'audit-head');
    const verdict = (await fresh.api('GET', '/api/admin/audit/verify')).body;
    expect(verdict).toMatchObject({ ok: false, brokenAtSeq: 1 });
    expect(verdict.problem).toContain('beyond the head');
    await fresh.stop();
  });

  it('detects a removed event in the middle, and a removed last event', async () => {
    const fresh = await startTestController();
    const key = `{${fresh.prefix}}:log:audit`;
    for (let i = 0; i < 4; i++) await fresh.api('PUT', `/api/admin/flags/f${i}`, { environments: {} });
    expect((await fresh.api('GET', '/api/admin/audit/verify')).body.ok).toBe(true);

    const all = (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>;
    await redis.xdel(key, all[2]![0]);
    const middle = (await fresh.api('GET', '/api/admin/audit/verify')).body;
    expect(middle).toMatchObject({ ok: false, brokenAtSeq: 3 });

    await redis.del(key);
    for (const [id, fields] of all.slice(0, -1)) await redis.xadd(key, id, ...fields);
    const last = (await fresh.api('GET', '/api/admin/audit/verify')).body;
    expect(last.ok).toBe(false);
    expect(last.problem).toContain('head');
    await fresh.stop();
  });
});
