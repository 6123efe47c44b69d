import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';

/**
 * Defect 9 of issue 13 (contention): every audited write shares one audit head, and writers that
 * raced for it gave up after 20 attempts with a 500 `store conflict: put meta/audit-head`, although
 * their documents (different flags) never conflicted. Here 16 writers on different flags, split
 * over two replicas of one deployment (so the head is also contended between processes' stores),
 * put thousands of flags on a redis-server of their own: no answer may be a 5xx, and the audit
 * chain must verify with one event per write.
 */

const WRITERS = 16;
const PUTS_PER_WRITER = 150;

describe('16 writers on different flags share the audit head', () => {
  let redis: RedisServer;
  const replicas: TestController[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const prefix = uniquePrefix('contention');
    const first = await startTestController({ prefix, env: { REDIS_URL: redis.url } });
    // The same ADMIN_TOKEN on both, as replicas of one deployment share their Secret.
    replicas.push(first, await startTestController({ prefix, env: { REDIS_URL: redis.url, ADMIN_TOKEN: first.adminToken } }));
  }, 60_000);
  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await redis?.stop();
  });

  it('answers every PUT with 2xx (never a 5xx for a conflict) and keeps the chain intact', async () => {
    const [a] = replicas;
    const before = (await a!.api('GET', '/api/admin/audit/verify')).body;
    expect(before.ok).toBe(true);

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const writer = async (w: number) => {
      const replica = replicas[w % replicas.length]!;
      for (let i = 0; i < PUTS_PER_WRITER; i++) {
        // Each PUT changes the flag (enabled flips), so each is a write with its own audit event.
        const body = { environments: { production: { enabled: i % 2 === 0, strategies: [] } } };
        const res = await replica.api('PUT', `/api/admin/flags/contended-${w}`, body, a!.adminToken);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 300 && failures.length < 5) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const ms = Date.now() - started;
    const total = WRITERS * PUTS_PER_WRITER;
    console.info(`contention: ${total} PUTs by ${WRITERS} writers on 2 replicas in ${ms} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((s) => s === 200 || s === 201)).toBe(true);
    // One event per PUT, chained without a gap, on both replicas' view of the store.
    const after = (await a!.api('GET', '/api/admin/audit/verify')).body;
    expect(after).toMatchObject({ ok: true, count: before.count + total });
    expect((await replicas[1]!.api('GET', '/api/admin/audit/verify', undefined, a!.adminToken)).body.ok).toBe(true);
  }, 240_000);
});
