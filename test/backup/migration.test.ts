import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { ensureCliBuilt, runCli, type CliResult } from '../cli/cli-process.js';
import { observable, populate, REPO_FLAGS_DIR, type Populated } from './backup-helpers.js';

/** `npm run restore` as its own process (the embedded store allows one process per directory). */
function offlineRestore(file: string, dataDir: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.resolve('node_modules/.bin/tsx'), ['src/backup/offline.ts', 'restore', '-f', file], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Moving a deployment between stores with the shipped tools: rolloutctl backup from an embedded
 * controller, rolloutctl restore into a fresh Redis prefix, and `npm run restore` into a fresh
 * embedded data directory. Each restored deployment must look the same to SDKs, people and auditors.
 */
describe('embedded → Redis migration with rolloutctl, and the offline restore', () => {
  let embedded: TestController;
  const started: TestController[] = [];
  let p: Populated;
  let before: Awaited<ReturnType<typeof observable>>;
  let file: string;

  beforeAll(async () => {
    ensureCliBuilt();
    embedded = await startTestController({ embedded: true, flagsDir: REPO_FLAGS_DIR });
    p = await populate(embedded);
    before = await observable(embedded, p);
    file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rc-backup-')), 'backup.json');
    const res = await runCli(['backup', 'export', '-o', file, '--json'], { CONTROLLER_URL: embedded.url, ROLLOUT_TOKEN: embedded.adminToken });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ file, formatVersion: 1 });
    // The file holds token hashes and webhook secrets: owner-only.
    expect(statSync(file).mode & 0o077).toBe(0);
  });
  afterAll(async () => {
    for (const t of started) await t.stop();
    await embedded.stop();
  });

  async function expectSameDeployment(t: TestController): Promise<void> {
    expect(await observable(t, p)).toEqual(before);
    expect((await t.api('GET', '/api/admin/flags', undefined, p.editor.secret)).status).toBe(200);
    expect((await t.api('GET', '/api/admin/audit/verify')).body).toMatchObject({ ok: true });
  }

  it('restores the embedded backup into a fresh Redis prefix through rolloutctl', async () => {
    const host = await startTestController();
    started.push(host);
    const prefix = uniquePrefix('migrated');
    const env = { CONTROLLER_URL: host.url, ROLLOUT_TOKEN: host.adminToken };
    const res = await runCli(['backup', 'restore', '-f', file, '--prefix', prefix], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Audit chain verified/);
    expect(res.stderr).toMatch(new RegExp(`under prefix ${prefix}`));
    // A second restore into the same prefix is refused: the controller said 409, rolloutctl exits 2.
    const again = await runCli(['backup', 'restore', '-f', file, '--prefix', prefix], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    const migrated = await startTestController({ prefix, flagsDir: REPO_FLAGS_DIR });
    started.push(migrated);
    await expectSameDeployment(migrated);
  });

  it('restores into an empty embedded data directory with npm run restore, once', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rc-restored-'));
    const res = await offlineRestore(file, dataDir);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ audit: { ok: true } });
    const again = await offlineRestore(file, dataDir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    const restored = await startTestController({ embedded: true, dataDir, flagsDir: REPO_FLAGS_DIR });
    started.push(restored);
    await expectSameDeployment(restored);
  });
});
