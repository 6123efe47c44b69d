import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { waitUntil } from '../ha/topology.js';

/**
 * Defect 4 of issue 13: Redis restarted without its data, and the controller logged the right ERROR,
 * then served the empty store: polls got 401, ADMIN_TOKEN itself got 401 until a restart, /readyz said
 * 200, audit verification said `{"ok": true, "count": 0}`, and an open stream whose token no longer
 * existed kept its old flags. Each test starts a redis-server of its own, so it can kill it.
 */

const ENV = 'production';
const flagBody = { environments: { [ENV]: { enabled: true, strategies: [] } } };

const servers: RedisServer[] = [];
const controllers: TestController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  for (const s of servers.splice(0)) await s.stop();
});

async function redisServer(port?: number): Promise<RedisServer> {
  const server = await startRedisServer([], port);
  servers.push(server);
  return server;
}

async function controller(redis: RedisServer, prefix: string, adminToken?: string): Promise<TestController> {
  const t = await startTestController({ prefix, env: { REDIS_URL: redis.url, ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}) } });
  controllers.push(t);
  return t;
}

/** Kills Redis and brings it back on the same port without its data (no persistence). */
async function restartEmpty(redis: RedisServer): Promise<RedisServer> {
  redis.process.kill('SIGKILL');
  await new Promise((resolve) => redis.process.once('exit', resolve));
  return redisServer(redis.port);
}

const readyz = async (t: TestController) => {
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, body: await res.json() };
};
const untilReadyz = (t: TestController, status: number) =>
  waitUntil(`/readyz ${status}`, async () => ((await readyz(t)).status === status ? true : undefined), 10_000, 50);

/** A gauge's value on the replica's /metrics (open: no METRICS_TOKEN in tests). */
async function metric(t: TestController, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

async function openStream(t: TestController, secret: string) {
  const res = await fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: secret } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read(); // the hydration
  return reader;
}

describe('Redis restarted without its data', () => {
  it('keeps the snapshot, refuses writes, says why, and waits for a person to accept the loss (audited)', async () => {
    const redis = await redisServer();
    const prefix = uniquePrefix('loss');
    const a = await controller(redis, prefix);
    const viewer = await a.token({ kind: 'admin', role: 'viewer' });
    const client = await a.token({ kind: 'client', environment: ENV });
    const names = ['loss-a', 'loss-b', 'loss-c'];
    for (const name of names) expect((await a.api('PUT', `/api/admin/flags/${name}`, flagBody)).status).toBe(201);
    const before = (await a.api('GET', '/api/admin/audit/verify')).body;
    expect(before).toMatchObject({ ok: true });
    const stream = await openStream(a, client);

    await restartEmpty(redis);
    await untilReadyz(a, 503);
    expect((await readyz(a)).body).toMatchObject({ checks: { storeIntact: false }, reason: expect.stringContaining('the store lost data') });
    expect(await metric(a, 'rollout_controller_store_intact')).toBe(0);

    // SDKs keep the last snapshot (their token is one the store no longer holds).
    const polled = await a.api('GET', '/api/client/features', undefined, client);
    expect(polled.status).toBe(200);
    expect(polled.body.features.map((f: { name: string }) => f.name)).toEqual(names);
    // Writes are refused with a clear error and a Retry-After; ADMIN_TOKEN works, though the store holds no token.
    const refused = await a.api('PUT', '/api/admin/flags/loss-d', flagBody);
    expect(refused).toMatchObject({ status: 503, body: { error: 'store_lost' } });
    expect(refused.headers.get('retry-after')).toBe('30');
    // Verification knows the log held more than the store now has.
    const verdict = (await a.api('GET', '/api/admin/audit/verify')).body;
    expect(verdict).toMatchObject({ ok: false, headSeq: 0 });
    expect(verdict.problem).toContain(`its audit log held at least ${before.headSeq} events and holds 0 now`);
    const status = (await a.api('GET', '/api/admin/store/loss', undefined, viewer)).body;
    expect(status).toMatchObject({ lost: true, report: { lostFrom: { auditSeq: before.headSeq }, found: { feedHead: 0 } } });

    // A replica started now remembers nothing, but finds the first one's marker and refuses too.
    const admin = new Redis(redis.url);
    await waitUntil('the loss marker', async () => ((await admin.hget(`{${prefix}}:doc:meta`, 'store-loss')) ? true : undefined), 5_000, 50);
    await admin.quit();
    const b = await controller(redis, prefix, a.adminToken);
    expect((await readyz(b)).status).toBe(503);
    expect((await b.api('PUT', '/api/admin/flags/loss-d', flagBody, a.adminToken)).body).toMatchObject({ error: 'store_lost' });
    expect((await b.api('GET', '/api/admin/audit/verify', undefined, a.adminToken)).body.ok).toBe(false);

    // Only an admin accepts, with a reason.
    expect((await a.api('POST', '/api/admin/store/accept-loss', { reason: 'x' }, viewer)).status).toBe(403);
    expect((await a.api('POST', '/api/admin/store/accept-loss', {})).status).toBe(400);
    const accepted = await a.api('POST', '/api/admin/store/accept-loss', { reason: 'no backup since the last change; starting over' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.accepted).toMatchObject({ lostFrom: { auditSeq: before.headSeq } });

    // Every replica serves the store as it is now: the old client token no longer exists, and its stream ends.
    expect((await readyz(a)).status).toBe(200);
    expect(await metric(a, 'rollout_controller_store_intact')).toBe(1);
    await untilReadyz(b, 200);
    expect((await a.api('GET', '/api/client/features', undefined, client)).status).toBe(401);
    for (;;) if ((await stream.read()).done) break;
    // The acceptance is in the audit log, which verifies from there.
    const events = (await a.api('GET', '/api/admin/audit')).body.events;
    expect(events.at(-1)).toMatchObject({
      action: 'store.accept-loss',
      reason: 'no backup since the last change; starting over',
      before: { lostFrom: { auditSeq: before.headSeq } },
    });
    expect((await a.api('GET', '/api/admin/audit/verify')).body).toMatchObject({ ok: true });
    expect((await b.api('GET', '/api/admin/audit/verify', undefined, a.adminToken)).body).toMatchObject({ ok: true });
    // And writes go through again.
    expect((await a.api('PUT', `/api/admin/environments/${ENV}`, {})).status).toBe(201);
    expect((await b.api('PUT', '/api/admin/flags/after', flagBody, a.adminToken)).status).toBe(201);
  }, 90_000);

  it('comes back whole when a person restores a backup into the emptied store', async () => {
    const redis = await redisServer();
    const prefix = uniquePrefix('restore');
    const a = await controller(redis, prefix);
    const client = await a.token({ kind: 'client', environment: ENV });
    for (const name of ['kept-a', 'kept-b']) expect((await a.api('PUT', `/api/admin/flags/${name}`, flagBody)).status).toBe(201);
    const exported = await fetch(`${a.url}/api/admin/backup`, { headers: { Authorization: a.adminToken } });
    const backup = await exported.json();
    const stream = await openStream(a, client);

    await restartEmpty(redis);
    await untilReadyz(a, 503);
    const restored = await a.api('POST', '/api/admin/restore', backup);
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body.audit).toMatchObject({ ok: true });

    // Ready again at once, with the backup's flags and tokens: the client token works, its stream goes on.
    expect((await readyz(a)).status).toBe(200);
    const polled = await a.api('GET', '/api/client/features', undefined, client);
    expect(polled.body.features.map((f: { name: string }) => f.name)).toEqual(['kept-a', 'kept-b']);
    expect((await a.api('PUT', '/api/admin/flags/kept-c', flagBody)).status).toBe(201);
    const next = await stream.read();
    expect(next.done).toBe(false);
    const events = (await a.api('GET', '/api/admin/audit?limit=1000')).body.events;
    expect(events.find((e: { action: string }) => e.action === 'backup.restore').after).toMatchObject({ endsStoreLoss: { found: { feedHead: 0 } } });
    expect((await a.api('GET', '/api/admin/audit/verify')).body).toMatchObject({ ok: true });
    await stream.cancel();
  }, 60_000);
});

describe('what the store cannot take away', () => {
  it('ADMIN_TOKEN works whenever it is set, also once its stored token is gone', async () => {
    const redis = await redisServer();
    const t = await controller(redis, uniquePrefix('admin-token'));
    expect((await t.api('DELETE', '/api/admin/tokens/bootstrap-admin')).status).toBe(204);
    expect((await t.api('GET', '/api/admin/flags')).status).toBe(200);
    expect((await t.api('GET', '/api/admin/flags', undefined, 'not-the-admin-token')).status).toBe(401);
  });

  it('verification reports a log removed together with its head as not intact', async () => {
    const redis = await redisServer();
    const t = await controller(redis, uniquePrefix('shortened'));
    for (const name of ['s-a', 's-b']) await t.api('PUT', `/api/admin/flags/${name}`, flagBody);
    const before = (await t.api('GET', '/api/admin/audit/verify')).body;
    expect(before).toMatchObject({ ok: true });
    // Someone with database access removes the log and its head, which alone would verify as empty.
    const admin = new Redis(redis.url);
    await admin.del(`{${t.prefix}}:log:audit`);
    await admin.hdel(`{${t.prefix}}:doc:meta`, 'audit-head');
    await admin.hdel(`{${t.prefix}}:ver:meta`, 'audit-head');
    await admin.quit();
    const verdict = (await t.api('GET', '/api/admin/audit/verify')).body;
    expect(verdict).toMatchObject({ ok: false, count: 0, headSeq: 0 });
    expect(verdict.problem).toContain(`saw the audit log reach event ${before.headSeq}`);
  });
});
