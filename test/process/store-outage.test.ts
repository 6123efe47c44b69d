import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';

async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = (await fetch(url)).status;
    if (seen === status) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

describe('when Redis goes away', () => {
  it('reports not ready but keeps serving the last snapshot, and becomes ready again when Redis returns', async () => {
    // Redis comes back with its data (append-only file, synced on every write), as a production
    // Redis does; coming back without it is a loss of data (test/hardening/store-loss.test.ts).
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rc-aof-'));
    const persistent = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir];
    const redis = await startRedisServer(persistent);
    let again: RedisServer | undefined;
    let t: TestController | undefined;
    try {
      t = await startTestController({ env: { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('outage') } });
      await t.api('PUT', '/api/admin/flags/steady', { environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } });
      const client = await t.token({ kind: 'client', environment: 'production' });
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

      await redis.stop();
      expect(await waitForStatus(`${t.url}/readyz`, 503, 10_000)).toBe(503);
      const served = await t.api('GET', '/api/client/features', undefined, client);
      expect(served.status).toBe(200);
      expect(served.body.features.map((f: any) => f.name)).toEqual(['steady']);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);

      // Redis comes back on the same port: the replica reconnects and is ready again by itself.
      again = await startRedisServer(persistent, redis.port);
      expect(await waitForStatus(`${t.url}/readyz`, 200, 15_000)).toBe(200);
    } finally {
      await t?.stop();
      await again?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
