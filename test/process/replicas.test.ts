import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Unleash } from 'unleash-client';
import { caller, spawnController, type ControllerProcess } from '../support/controller-process.js';
import { emptyDir, uniquePrefix } from '../support/controller.js';

/** Two controller processes on one Redis: what is done through one is served by the other. */
describe('replicas on one Redis', () => {
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  let a: ControllerProcess;
  let b: ControllerProcess;
  let sdk: Unleash | undefined;
  const call = caller(adminToken);

  beforeAll(async () => {
    const env = { REDIS_URL: inject('redisUrl'), REDIS_PREFIX: uniquePrefix('replicas'), ADMIN_TOKEN: adminToken, FLAGS_DIR: emptyDir() };
    [a, b] = await Promise.all([spawnController(env), spawnController(env)]);
  }, 60_000);
  afterAll(async () => {
    sdk?.destroy();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a kill made through one replica reaches a streaming SDK connected to the other', async () => {
    const put = await call(a.url, 'PUT', '/api/admin/flags/shared', { environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } });
    expect(put.status).toBe(201);
    const secret = (await (await call(a.url, 'POST', '/api/admin/tokens', { kind: 'client', environment: 'production', name: 'sdk' })).json()).secret;

    sdk = new Unleash({
      appName: 'replica-test',
      url: `${b.url}/api/`,
      customHeaders: { Authorization: secret },
      experimentalMode: { type: 'streaming' },
      refreshInterval: 60_000, // only the stream can explain a quick change
      disableMetrics: true,
      backupPath: mkdtempSync(path.join(os.tmpdir(), 'rc-sdk-')),
    });
    await new Promise<void>((resolve) => sdk!.once('synchronized', resolve));
    expect(sdk.isEnabled('shared')).toBe(true);

    const changed = new Promise<number>((resolve) => sdk!.on('changed', () => !sdk!.isEnabled('shared') && resolve(Date.now())));
    const started = Date.now();
    const kill = await call(a.url, 'POST', '/api/admin/flags/shared/environments/production/kill', { reason: 'replica test' });
    expect(kill.status).toBe(200);
    const seenAt = await changed;
    expect(sdk.isEnabled('shared')).toBe(false);
    // Generous bound for a shared CI machine; `npm run bench` measures the real figure.
    expect(seenAt - started).toBeLessThan(2_000);
  });

  it('a change through one replica is polled from the other, and tokens made on one work on the other', async () => {
    const secret = (await (await call(b.url, 'POST', '/api/admin/tokens', { kind: 'client', environment: 'production', name: 'poller' })).json()).secret;
    await call(b.url, 'PUT', '/api/admin/flags/ramp', {
      environments: { production: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '1', groupId: 'ramp' } }] } },
    });
    await call(b.url, 'PUT', '/api/admin/flags/ramp', {
      environments: { production: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '10', groupId: 'ramp' } }] } },
    });
    const deadline = Date.now() + 2_000;
    let rollout: string | undefined;
    while (Date.now() < deadline) {
      const res = await call(a.url, 'GET', '/api/client/features/ramp', undefined, secret);
      if (res.status === 200) rollout = (await res.json()).strategies[0].parameters.rollout;
      if (rollout === '10') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(rollout).toBe('10');
  });
});
