import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import type { Store } from '../../src/store/port.js';
import { journalOf, tempDirs } from '../support/embedded-files.js';
import { storeContract, type MakeStore } from './contract.js';
import { sampleContract } from './sample-contract.js';

const tempDir = tempDirs('rc-embedded-');

const makeEmbedded: MakeStore = async ({ feedMaxLen }) => {
  const dir = tempDir();
  let current = await openEmbeddedStore(dir, { feedMaxLen });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      return (current = await openEmbeddedStore(dir, { feedMaxLen }));
    },
    cleanup: () => current.close(),
  };
};
storeContract('embedded', makeEmbedded);
sampleContract('embedded', makeEmbedded);

async function seed(store: Store): Promise<void> {
  await store.commit({ puts: [{ collection: 'c', id: 'a', value: 1 }], appends: [{ log: 'audit', seq: 1, entry: 'e1' }] });
  await store.commit({ puts: [{ collection: 'c', id: 'a', value: 2 }] });
}

describe('embedded store specifics', () => {
  it('drops a torn trailing journal line left by a crash mid-write, with a warning', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore(dir);
    await seed(s1);
    await s1.close();
    fs.appendFileSync(journalOf(dir), '{"n":3,"c":"0123456789abcdef","r":{"t":"c","s":3,"w":[["c","b",1,"{\\"half');
    const warnings: string[] = [];
    const s2 = await openEmbeddedStore(dir, { warn: (_details, message) => warnings.push(message) });
    expect(warnings).toEqual([expect.stringMatching(/dropped an incomplete record at the end of .*journal-\d+\.log/)]);
    expect(await s2.list('c')).toEqual([{ id: 'a', version: 2, value: 2 }]);
    expect(await s2.feedHead()).toBe(2);
    await s2.commit({ puts: [{ collection: 'c', id: 'b', value: 'b' }] });
    await s2.close();
    const s3 = await openEmbeddedStore(dir);
    expect((await s3.list('c')).map((d) => d.id)).toEqual(['a', 'b']);
    expect(await s3.feedHead()).toBe(3);
    await s3.close();
  });

  it('refuses a journal that is corrupt before its last line', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore(dir);
    await seed(s1);
    await s1.close();
    const file = journalOf(dir);
    fs.writeFileSync(file, 'garbage\n' + fs.readFileSync(file, 'utf8'));
    await expect(openEmbeddedStore(dir)).rejects.toThrow(/embedded store damaged: .*journal-\d+\.log at byte 0: /);
    // A failed open leaves no lock behind: the next attempt meets the damage again, not a lock.
    await expect(openEmbeddedStore(dir)).rejects.toThrow(/embedded store damaged/);
  });

  it('lets only one opener use a directory at a time', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore(dir);
    await expect(openEmbeddedStore(dir)).rejects.toThrow(dir);
    await s1.close();
    const s2 = await openEmbeddedStore(dir);
    await s2.close();
  });

  it('keeps every acknowledged commit when the process is killed', async () => {
    const dir = tempDir();
    const storeModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/store/embedded-store.ts');
    const script = path.join(dir, 'crash.mts');
    fs.writeFileSync(
      script,
      `
      import { openEmbeddedStore } from ${JSON.stringify(storeModule)};
      const store = await openEmbeddedStore(${JSON.stringify(path.join(dir, 'data'))});
      for (let i = 1; i <= 50; i++) await store.commit({ puts: [{ collection: 'c', id: 'k' + i, value: i }], appends: [{ log: 'l', seq: i, entry: i }] });
      await store.incrementCounters('b', { n: 1 }, 60);
      await store.acquireLease('leader', 'child', 60_000);
      process.kill(process.pid, 'SIGKILL');
    `,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    // The dead child's lock is stale and taken over; its acknowledged commits and fence are there.
    const store = await openEmbeddedStore(path.join(dir, 'data'));
    expect(await store.list('c')).toHaveLength(50);
    expect(await store.feedHead()).toBe(50);
    expect((await store.readLog('l', 50, 10)).map((r) => r.seq)).toEqual([50]);
    expect((await store.acquireLease('leader', 'parent', 1000))!.token).toBe(2);
    await store.close();
  });

  it('compacts a growing journal into a snapshot without losing anything', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore(dir, { compactBytes: 2048, feedMaxLen: 50 });
    for (let i = 1; i <= 200; i++) await s1.commit({ puts: [{ collection: 'c', id: `k${i % 7}`, value: 'x'.repeat(i % 50) }] });
    expect(fs.statSync(journalOf(dir)).size).toBeLessThan(4096);
    await s1.close();
    const s2 = await openEmbeddedStore(dir, { feedMaxLen: 50 });
    expect(await s2.feedHead()).toBe(200);
    expect(await s2.list('c')).toHaveLength(7);
    expect(await s2.readFeed(150, 100)).toHaveLength(50);
    expect(await s2.readFeed(149, 100)).toBeNull();
    // The current generation and the one before it remain (a repair rebuilds a damaged snapshot from it), nothing older.
    const gen = JSON.parse(fs.readFileSync(path.join(dir, 'HEAD'), 'utf8')).gen;
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['HEAD', 'LOCK', `journal-${gen - 1}.log`, `journal-${gen}.log`, `snapshot-${gen - 1}.json`, `snapshot-${gen}.json`].sort(),
    );
    await s2.close();
  });
});
