import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caller, spawnController } from '../support/controller-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('embedded store across a restart', () => {
  it('finds every flag, kill switch, token and audit event as it was', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rc-restart-'));
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    // The shipped example flags load too, so the restart also proves files are not re-applied over API changes.
    const env = { DATA_DIR: dataDir, ADMIN_TOKEN: adminToken, FLAGS_DIR: path.join(ROOT, 'flags'), REDIS_URL: '' };
    const call = caller(adminToken);

    const first = await spawnController(env);
    expect(first.output()).toContain('embedded store');
    const secret = (await (await call(first.url, 'POST', '/api/admin/tokens', { kind: 'client', environment: 'production', name: 'sdk' })).json()).secret;
    for (let i = 0; i < 20; i++) {
      await call(first.url, 'PUT', `/api/admin/flags/restart-${i}`, {
        environments: {
          production: { enabled: i % 2 === 0, strategies: [{ name: 'flexibleRollout', parameters: { rollout: String(i * 5), groupId: `g${i}` } }] },
        },
      });
    }
    // An API change to a file-defined flag must survive the restart.
    const fileFlag = await (await call(first.url, 'GET', '/api/admin/flags/search-v2')).json();
    fileFlag.description = 'changed through the API';
    await call(first.url, 'PUT', '/api/admin/flags/search-v2', fileFlag);
    await call(first.url, 'POST', '/api/admin/flags/restart-4/environments/production/kill', { reason: 'before restart' });
    const before = await (await call(first.url, 'GET', '/api/client/features', undefined, secret)).json();
    const adminBefore = await (await call(first.url, 'GET', '/api/admin/flags')).json();
    const auditBefore = await (await call(first.url, 'GET', '/api/admin/audit?limit=1000')).json();
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await spawnController(env);
    try {
      const after = await (await call(second.url, 'GET', '/api/client/features', undefined, secret)).json();
      expect(after.features).toEqual(before.features);
      expect(after.features.find((f: any) => f.name === 'restart-4').enabled).toBe(false);
      expect(after.features.find((f: any) => f.name === 'search-v2').description).toBe('changed through the API');
      expect((await (await call(second.url, 'GET', '/api/admin/flags')).json()).flags).toEqual(adminBefore.flags);
      const auditAfter = await (await call(second.url, 'GET', '/api/admin/audit?limit=1000')).json();
      expect(auditAfter.events).toEqual(auditBefore.events);
      expect(await (await call(second.url, 'GET', '/api/admin/audit/verify')).json()).toMatchObject({ ok: true, count: auditBefore.events.length });
      // The secret printed or used before the restart never reached the log.
      expect(second.output()).not.toContain(secret);
      expect(first.output()).not.toContain(secret);
      expect(first.output()).not.toContain(adminToken);
    } finally {
      await second.stop();
    }
    expect(readFileSync(path.join(ROOT, 'flags', 'operations.yaml'), 'utf8')).toContain('search-v2');
  }, 60_000);

  it('prints a generated admin token once when ADMIN_TOKEN is unset', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rc-bootstrap-'));
    const env = { DATA_DIR: dataDir, ADMIN_TOKEN: '', FLAGS_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-noflags-')), REDIS_URL: '' };
    const first = await spawnController(env);
    const secret = first.output().match(/admin:\*\.[0-9a-f]+/)?.[0];
    expect(secret).toBeDefined();
    const res = await fetch(`${first.url}/api/admin/flags`, { headers: { Authorization: secret! } });
    expect(res.status).toBe(200);
    await first.stop();
    const second = await spawnController(env);
    expect(second.output()).not.toMatch(/admin:\*\.[0-9a-f]+/);
    expect((await fetch(`${second.url}/api/admin/flags`, { headers: { Authorization: secret! } })).status).toBe(200);
    await second.stop();
  }, 60_000);
});
