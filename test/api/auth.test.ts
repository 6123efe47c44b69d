import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

describe('tokens and roles', () => {
  let t: TestController;
  let client: string;
  let frontend: string;
  let viewer: string;
  let editor: string;
  let releaseManager: string;

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
    frontend = await t.token({ kind: 'frontend', environment: 'production' });
    viewer = await t.token({ kind: 'admin', role: 'viewer' });
    editor = await t.token({ kind: 'admin', role: 'editor' });
    releaseManager = await t.token({ kind: 'admin', role: 'release-manager' });
  });
  afterAll(() => t.stop());

  it('answers 401 without a token or with an unknown one', async () => {
    expect((await fetch(`${t.url}/api/client/features`)).status).toBe(401);
    expect((await t.api('GET', '/api/client/features', undefined, 'client:production.not-a-real-secret')).status).toBe(401);
    expect((await t.api('GET', '/api/admin/flags', undefined, '')).status).toBe(401);
  });

  it('accepts the secret bare (as Unleash SDKs send it) or as a Bearer token', async () => {
    expect((await t.api('GET', '/api/client/features', undefined, client)).status).toBe(200);
    expect((await t.api('GET', '/api/client/features', undefined, `Bearer ${client}`)).status).toBe(200);
  });

  it('answers 403 to a valid token of the wrong kind', async () => {
    expect((await t.api('GET', '/api/client/features', undefined, t.adminToken)).status).toBe(403);
    expect((await t.api('GET', '/api/client/features', undefined, frontend)).status).toBe(403);
    expect((await t.api('GET', '/api/admin/flags', undefined, client)).status).toBe(403);
  });

  it('enforces roles on admin routes', async () => {
    const flag = { environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } };
    expect((await t.api('GET', '/api/admin/flags', undefined, viewer)).status).toBe(200);
    expect((await t.api('PUT', '/api/admin/flags/by-viewer', flag, viewer)).status).toBe(403);
    expect((await t.api('PUT', '/api/admin/flags/by-rm', flag, releaseManager)).status).toBe(403);
    expect((await t.api('PUT', '/api/admin/flags/by-editor', flag, editor)).status).toBe(201);
    expect((await t.api('POST', '/api/admin/flags/by-editor/environments/production/kill', { reason: 'test' }, releaseManager)).status).toBe(200);
    expect((await t.api('POST', '/api/admin/flags/by-editor/environments/production/kill', { reason: 'test' }, viewer)).status).toBe(403);
    expect((await t.api('POST', '/api/admin/tokens', { kind: 'admin', role: 'admin', name: 'x' }, editor)).status).toBe(403);
    expect((await t.api('GET', '/api/admin/tokens', undefined, releaseManager)).status).toBe(403);
  });

  it('shows a secret once, stores only its hash, and revokes on delete', async () => {
    const created = await t.api('POST', '/api/admin/tokens', { kind: 'client', environment: 'staging', name: 'ci' });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^client:staging\./);

    const listed = await t.api('GET', '/api/admin/tokens');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.tokens.find((x: any) => x.id === created.body.id)).toMatchObject({ kind: 'client', environment: 'staging' });

    // Nothing in Redis holds the secret itself.
    const redis = new Redis(inject('redisUrl'));
    const keys = await redis.keys(`{${t.prefix}}:*`);
    for (const key of keys) {
      const type = await redis.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await redis.hgetall(key))
          : type === 'stream'
            ? JSON.stringify(await redis.xrange(key, '-', '+'))
            : String(await redis.get(key).catch(() => ''));
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(t.adminToken);
    }
    await redis.quit();

    expect((await t.api('GET', '/api/client/features', undefined, secret)).status).toBe(200);
    expect((await t.api('DELETE', `/api/admin/tokens/${created.body.id}`)).status).toBe(204);
    expect((await t.api('GET', '/api/client/features', undefined, secret)).status).toBe(401);
  });

  it('rejects a malformed token request with the field named', async () => {
    const res = await t.api('POST', '/api/admin/tokens', { kind: 'admin', role: 'superuser', name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('role');
  });
});
