import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caller, spawnController } from '../support/controller-process.js';
import { contents, head } from '../support/embedded-files.js';

const currentGen = (dir: string): number => head(dir).gen;

/**
 * Defect 6 end to end: a controller whose embedded journal lost acknowledged writes does not start
 * (naming the file, the offset and the last good sequence) and changes nothing; started with
 * --repair, or with EMBEDDED_REPAIR=true, it keeps what is good, sets the damaged file aside,
 * and its audit log, which still verifies, says what was lost.
 */
describe('defect 6: the controller on a damaged embedded store', () => {
  it('refuses to start, then --repair and EMBEDDED_REPAIR keep the good part and record the loss in the audit log', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-damage-'));
    const adminToken = `admin-${randomBytes(16).toString('hex')}`;
    const env = { DATA_DIR: dataDir, ADMIN_TOKEN: adminToken, FLAGS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'rc-noflags-')), REDIS_URL: '' };
    const call = caller(adminToken);
    const flag = (i: number) => ({ description: `flag ${i} ${'x'.repeat(400)}`, environments: { production: { enabled: true, strategies: [] } } });
    const flagNames = async (url: string) =>
      ((await (await call(url, 'GET', '/api/admin/flags')).json()).flags as Array<{ name: string }>).map((f) => f.name).sort();
    const auditEvents = async (url: string) =>
      (await (await call(url, 'GET', '/api/admin/audit?limit=1000')).json()).events as Array<{ action: string; reason?: string }>;

    const first = await spawnController(env);
    for (let i = 1; i <= 5; i++) expect((await call(first.url, 'PUT', `/api/admin/flags/acked-${i}`, flag(i))).status).toBe(201);
    expect(await first.stop('SIGTERM')).toBe(0);

    // 1,500 bytes off the journal: the last acknowledged flag writes are gone.
    const journal = path.join(dataDir, `journal-${currentGen(dataDir)}.log`);
    fs.truncateSync(journal, fs.statSync(journal).size - 1500);
    const before = contents(dataDir);
    const refused = await spawnController(env).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(refused).toMatch(
      new RegExp(`failed to start: embedded store damaged: ${journal} at byte \\d+: HEAD records sequence \\d+, so records? \\d+ (to \\d+ )?(is|are) missing`),
    );
    expect(refused).toMatch(/the last good record is sequence \d+\. Nothing was changed\. .*--repair/);
    expect(contents(dataDir)).toEqual(before);

    const repaired = await spawnController(env, 20_000, ['--repair']);
    try {
      expect(repaired.output()).toMatch(/embedded store repaired: journal-\d+\.log damaged at byte \d+/);
      const kept = await flagNames(repaired.url);
      expect(kept.length).toBeGreaterThanOrEqual(1);
      expect(kept.length).toBeLessThan(5);
      expect(kept).toEqual(['acked-1', 'acked-2', 'acked-3', 'acked-4', 'acked-5'].slice(0, kept.length));
      const last = (await auditEvents(repaired.url)).at(-1)!;
      expect(last).toMatchObject({ action: 'store.repair', actor: { type: 'system', id: 'repair' }, target: { type: 'store', id: 'embedded' } });
      // The cut went through a record, which is unreadable now: what it changed cannot be told.
      expect(last.reason).toMatch(
        /kept every record up to sequence \d+; records? \d+ (to \d+ )?lost; 1 unreadable line\(s\); set aside as journal-\d+\.log\.damaged-/,
      );
      expect(await (await call(repaired.url, 'GET', '/api/admin/audit/verify')).json()).toMatchObject({ ok: true });
      expect(fs.readdirSync(dataDir).filter((f) => f.includes('.damaged-'))).toHaveLength(1);
    } finally {
      expect(await repaired.stop('SIGTERM')).toBe(0);
    }

    // A damaged snapshot is rebuilt from the generation before it: nothing is lost.
    const snapshot = path.join(dataDir, `snapshot-${currentGen(dataDir)}.json`);
    fs.writeFileSync(snapshot, fs.readFileSync(snapshot, 'utf8').replace('"fences":', '"fences" :'));
    const rebuilt = await spawnController({ ...env, EMBEDDED_REPAIR: 'true' });
    try {
      expect((await flagNames(rebuilt.url)).length).toBeGreaterThanOrEqual(1);
      const repairs = (await auditEvents(rebuilt.url)).filter((e) => e.action === 'store.repair');
      expect(repairs).toHaveLength(2);
      expect(repairs[1]!.reason).toMatch(
        /snapshot-\d+\.json damaged at byte \d+ \(the state does not match its checksum.*\): rebuilt from snapshot-\d+\.json and journal-\d+\.log; no acknowledged record known lost/,
      );
      expect(await (await call(rebuilt.url, 'GET', '/api/admin/audit/verify')).json()).toMatchObject({ ok: true });
    } finally {
      expect(await rebuilt.stop('SIGTERM')).toBe(0);
    }
  }, 90_000);
});
