import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { spawnController } from '../support/controller-process.js';
import { emptyDir, uniquePrefix } from '../support/controller.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('process lifecycle', () => {
  it('stops at start-up with one line naming a bad variable', async () => {
    const port = await runToExit({ PORT: 'eighty' });
    expect(port.code).not.toBe(0);
    expect(port.output.trim().split('\n')).toHaveLength(1);
    expect(port.output).toMatch(/^invalid configuration: PORT: /);
    const redis = await runToExit({ REDIS_URL: 'localhost:6379' });
    expect(redis.output).toMatch(/^invalid configuration: REDIS_URL: /);
    const level = await runToExit({ LOG_LEVEL: 'loud' });
    expect(level.output).toMatch(/^invalid configuration: LOG_LEVEL: /);
    const oidc = await runToExit({
      OIDC_ISSUER: 'https://login.example.com',
      OIDC_CLIENT_ID: 'rollouts',
      OIDC_CLIENT_SECRET: 'a-client-secret-0123',
      OIDC_ROLE_MAP: 'ops=root',
    });
    expect(oidc.code).not.toBe(0);
    expect(oidc.output.trim().split('\n')).toHaveLength(1);
    expect(oidc.output).toMatch(/^invalid configuration: OIDC_ROLE_MAP: rule 1 "ops=root": "root" is not a role/);
  }, 30_000);

  it('on SIGTERM ends streams cleanly, finishes in-flight work and exits 0', async () => {
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    const ctl = await spawnController({ REDIS_URL: inject('redisUrl'), REDIS_PREFIX: uniquePrefix('sigterm'), ADMIN_TOKEN: adminToken, FLAGS_DIR: emptyDir() });
    const secret = (
      await (
        await fetch(`${ctl.url}/api/admin/tokens`, {
          method: 'POST',
          headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
          body: JSON.stringify({ kind: 'client', environment: 'production', name: 's' }),
        })
      ).json()
    ).secret;

    // An open stream must see its response end (not a reset) when the replica stops.
    const streamEnded = new Promise<{ ended: boolean; data: string }>((resolve) => {
      http.get(`${ctl.url}/api/client/streaming`, { headers: { Authorization: secret } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ ended: true, data }));
        res.on('error', () => resolve({ ended: false, data }));
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    // A write in flight when the signal arrives completes and is acknowledged.
    const write = fetch(`${ctl.url}/api/admin/flags/last-write`, {
      method: 'PUT',
      headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ environments: { production: { enabled: true, strategies: [] } } }),
    });
    await new Promise((r) => setTimeout(r, 5));
    const code = await ctl.stop('SIGTERM');
    expect(code).toBe(0);
    expect((await write).status).toBe(201);
    const stream = await streamEnded;
    expect(stream.ended).toBe(true);
    expect(stream.data).toContain('event: unleash-connected');
    expect(ctl.output()).toContain('shutting down');
  }, 30_000);

  it('loads valid flag files and reports an invalid one with its file and field path, loading nothing from it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-flagfiles-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(dir, 'good.yaml'),
      'flags:\n  - name: good-flag\n    environments:\n      production: { enabled: true, strategies: [{ name: default }] }\n',
    );
    writeFileSync(
      path.join(dir, 'bad.yaml'),
      'flags:\n  - name: fine-in-bad-file\n    environments: {}\n  - name: broken\n    environments:\n      production:\n        enabled: true\n        strategies:\n          - { name: flexibleRollout, parameters: { rollout: "250" } }\n',
    );
    writeFileSync(path.join(dir, 'notyaml.yaml'), 'flags: [\n');
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    const ctl = await spawnController({ DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-d-')), REDIS_URL: '', ADMIN_TOKEN: adminToken, FLAGS_DIR: dir });
    try {
      const flags = (await (await fetch(`${ctl.url}/api/admin/flags`, { headers: { Authorization: adminToken } })).json()).flags.map((f: any) => f.name);
      expect(flags).toEqual(['good-flag']);
      const out = ctl.output();
      expect(out).toContain(`${path.join(dir, 'bad.yaml')}: flags[1].environments.production.strategies[0].parameters.rollout`);
      expect(out).toContain(`${path.join(dir, 'notyaml.yaml')}: line`);
    } finally {
      await ctl.stop();
    }
  }, 30_000);
});
