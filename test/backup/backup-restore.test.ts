import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { expectStatus, getRollout } from '../rollouts/scenario-helpers.js';
import { BACKED_UP_COLLECTIONS, BACKUP_FORMAT, NOT_BACKED_UP_COLLECTIONS } from '../../src/backup/backup-format.js';
import { fetchBackup, observable, populate, postRestore, REPO_FLAGS_DIR, type Populated } from './backup-helpers.js';
import { createRedisStore, type Store } from '../../src/store/index.js';
import { parseBackup, restoreBackup } from '../../src/backup/restore-backup.js';
import { readBackup } from '../../src/backup/export-backup.js';
import { verifyAuditLog } from '../../src/audit/audit-service.js';

/**
 * Backup and restore on the real test Redis: export one deployment (one key prefix), restore into a
 * fresh prefix through the admin API, start a controller on it and compare everything an SDK, an
 * operator and an auditor see.
 */
describe('backup and restore on Redis', () => {
  let source: TestController;
  let restored: TestController | undefined;
  let p: Populated;
  let backup: any;
  let backupText: string;
  let before: Awaited<ReturnType<typeof observable>>;
  const target = uniquePrefix('restored');

  beforeAll(async () => {
    source = await startTestController({ flagsDir: REPO_FLAGS_DIR });
    p = await populate(source);
    before = await observable(source, p);
    const res = await fetchBackup(source);
    expect(res.status).toBe(200);
    backup = res.backup;
    backupText = res.text;
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="rollout-backup-.*\.json"$/);
  });
  afterAll(async () => {
    await restored?.stop();
    await source.stop();
  });

  it('exports every collection and the whole audit log with a format version', async () => {
    expect(backup).toMatchObject({ format: BACKUP_FORMAT, formatVersion: 1, source: { store: 'redis' } });
    expect(backup.collections.flags.map((d: { id: string }) => d.id)).toEqual(expect.arrayContaining(['kept-a', 'kept-b', 'ramped', 'new-checkout']));
    expect(backup.collections.segments.length).toBeGreaterThan(0);
    expect(backup.collections['file-sources'].length).toBeGreaterThan(0);
    expect(backup.collections.rollouts.map((d: { id: string }) => d.id)).toEqual([p.rolloutId]);
    expect(backup.collections['active-rollouts']).toHaveLength(1);
    expect(backup.collections.policies.map((d: { id: string }) => d.id)).toContain('backup-policy');
    // Token metadata with the hash (not the secret), webhooks with the signing secret.
    const editor = backup.collections.tokens.find((d: { id: string }) => d.id === p.editor.id).value;
    expect(editor.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(backupText).not.toContain(p.editor.secret);
    expect(backup.collections.webhooks[0].value.secret).toBe(p.webhookSecret);
    // The log up to its head, ending with the export itself.
    expect(backup.audit.events).toHaveLength(backup.audit.head.seq);
    expect(backup.audit.events.at(-1)).toMatchObject({ action: 'backup.export', hash: backup.audit.head.hash });
  });

  it('leaves out only the collections it says it leaves out', async () => {
    const redis = new Redis(inject('redisUrl'), { lazyConnect: false });
    try {
      const keys = await redis.keys(`{${source.prefix}}:doc:*`);
      const collections = keys.map((k) => k.slice(`{${source.prefix}}:doc:`.length));
      const known = [...BACKED_UP_COLLECTIONS.map((c) => c.name), ...NOT_BACKED_UP_COLLECTIONS];
      expect(collections.filter((c) => !known.includes(c))).toEqual([]);
      // The audit log is the only append-only log; a new one would need a place in the backup too.
      expect(await redis.keys(`{${source.prefix}}:log:*`)).toEqual([`{${source.prefix}}:log:audit`]);
    } finally {
      redis.disconnect();
    }
  });

  it('is for admins only', async () => {
    expect((await fetchBackup(source, p.editor.secret)).status).toBe(403);
    expect((await postRestore(source, backup, uniquePrefix('denied'), p.releaseManager.secret)).status).toBe(403);
    expect((await fetchBackup(source, p.clientToken)).status).toBe(403);
  });

  it('refuses a store that is not empty with 409, its own included', async () => {
    const own = await postRestore(source, backup);
    expect(own.status).toBe(409);
    expect(own.body).toMatchObject({ error: 'store_not_empty' });
    expect(own.body.message).toMatch(/flags/);
  });

  it('refuses an edited or truncated backup and writes nothing', async () => {
    const edited = structuredClone(backup);
    edited.audit.events[1].reason = 'rewritten history';
    const prefix = uniquePrefix('tampered');
    const res = await postRestore(source, edited, prefix);
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/event 2 was altered/);
    const cut = structuredClone(backup);
    cut.audit.events.pop();
    expect((await postRestore(source, cut, prefix)).status).toBe(422);
    expect((await postRestore(source, backupText.slice(0, -20), prefix)).status).toBe(400);
    const newer = { ...backup, formatVersion: 2 };
    const future = await postRestore(source, newer, prefix);
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/formatVersion: made by a newer controller/);
    // Nothing was written under the prefix: a good backup still restores there.
    expect((await postRestore(source, backup, prefix)).status).toBe(200);
  });

  it('restores into a fresh prefix in one commit and verifies the audit chain', async () => {
    const res = await postRestore(source, backup, target);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      target: { prefix: target },
      restoreEventSeq: backup.audit.head.seq + 1,
      commits: 1,
      audit: { ok: true, headSeq: backup.audit.head.seq + 1 },
      restored: { auditEvents: backup.audit.head.seq, collections: { flags: backup.collections.flags.length, tokens: backup.collections.tokens.length } },
    });
    expect((await postRestore(source, backup, target)).status).toBe(409);
  });

  it('serves the same flags, rollouts, tokens and audit log from the restored prefix', async () => {
    restored = await startTestController({ prefix: target, flagsDir: REPO_FLAGS_DIR });
    const after = await observable(restored, p);
    expect(after).toEqual(before);
    // Old tokens authenticate: their hashes came along.
    expect((await restored.api('GET', '/api/admin/flags', undefined, p.editor.secret)).status).toBe(200);
    // The audit log: the source's events as they were, then the restore, then this controller's own
    // bootstrap (its ADMIN_TOKEN differs from the source's), all on one verified chain.
    const verify = (await restored.api('GET', '/api/admin/audit/verify')).body;
    expect(verify).toMatchObject({ ok: true });
    const events = (await restored.api('GET', `/api/admin/audit?from=1&limit=1000`)).body.events;
    expect(events.slice(0, backup.audit.events.length)).toEqual(backup.audit.events);
    expect(events[backup.audit.events.length]).toMatchObject({
      action: 'backup.restore',
      actor: { name: 'bootstrap admin' },
      target: { type: 'store', id: target },
    });
    expect(events.at(-1)).toMatchObject({ action: 'token.rotate', target: { id: 'bootstrap-admin' } });
    const webhook = await restored.controller.store.get<{ secret: string }>('webhooks', 'release-room');
    expect(webhook?.value.secret).toBe(p.webhookSecret);
  });

  it('carries on where the source left off: the paused rollout resumes and the kill switch holds', async () => {
    const r = restored!;
    await expectStatus(r, 200, 'POST', `/api/admin/rollouts/${p.rolloutId}/resume`, { comment: 'after restore' }, p.releaseManager.secret);
    expect((await getRollout(r, p.rolloutId)).state).toBe('running');
    const served = async (flag: string) =>
      (await (await fetch(`${r.url}/api/client/features/${flag}`, { headers: { Authorization: p.clientToken } })).json()).enabled;
    expect(await served('kept-a')).toBe(true);
    expect(await served('kept-b')).toBe(false); // same definition as kept-a, but killed before the backup
  });

  describe('a backup too large for one commit', () => {
    const actor = { type: 'system' as const, id: 'test', name: 'test' };
    const now = () => new Date('2026-03-01T00:00:00.000Z');
    const open = (label: string) => createRedisStore(inject('redisUrl'), uniquePrefix(label));

    it('is written in stages and ends the same as a single commit', async () => {
      const store = await open('staged');
      try {
        const result = await restoreBackup(store, parseBackup(backup), { actor, now, targetName: 'staged', maxOpsPerCommit: 5 });
        expect(result.commits).toBeGreaterThan(5);
        expect(result.audit).toMatchObject({ ok: true, headSeq: backup.audit.head.seq + 1 });
        const again = await readBackup(store, { createdAt: backup.createdAt, controllerVersion: backup.controllerVersion, storeKind: 'redis' });
        expect(again.collections).toEqual(backup.collections);
        expect(again.audit.events.slice(0, -1)).toEqual(backup.audit.events);
        expect(await store.get('meta', 'restore-in-progress')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('leaves a marker and no audit head when interrupted, and a second restore there is refused', async () => {
      const store = await open('interrupted');
      let commits = 0;
      // The process dies after two stages: later commits never happen.
      const dying: Store = new Proxy(store, {
        get: (target, key) =>
          key === 'commit'
            ? (c: Parameters<Store['commit']>[0]) => (++commits > 2 ? Promise.reject(new Error('killed')) : target.commit(c))
            : Reflect.get(target, key),
      });
      try {
        await expect(restoreBackup(dying, parseBackup(backup), { actor, now, targetName: 'x', maxOpsPerCommit: 5 })).rejects.toThrow('killed');
        // Events are there, but no head: verification reports events past the head, never the backup's log as intact.
        expect(await store.readLog('audit', 1, 1)).toHaveLength(1);
        expect(await verifyAuditLog(store)).toMatchObject({ ok: false, count: 0, headSeq: 0, brokenAtSeq: 1 });
        expect(await store.get('meta', 'restore-in-progress')).not.toBeNull();
        const retry = restoreBackup(store, parseBackup(backup), { actor, now, targetName: 'x', maxOpsPerCommit: 5 });
        await expect(retry).rejects.toMatchObject({ kind: 'conflict', message: expect.stringMatching(/an interrupted restore/) });
      } finally {
        await store.close();
      }
    });
  });
});
