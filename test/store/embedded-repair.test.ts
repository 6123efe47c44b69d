import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RepairReport } from '../../src/store/embedded-store.js';
import { expectDamage, fiveWrites, head, journalOf, lineStarts, open, snapshotOf, tempDirs } from '../support/embedded-files.js';

/** The embedded store's --repair (issue 13, defect 6), and directories written by format 1, before checksums. */

const tempDir = tempDirs('rc-repair-');

describe('--repair', () => {
  it('keeps every good record, sets the damaged journal aside and reports what was lost', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const file = journalOf(dir);
    const third = lineStarts(file)[2]!;
    const original = fs.readFileSync(file);
    const damaged = Buffer.concat([original.subarray(0, third + 100), Buffer.from('garbage'), original.subarray(third + 107)]);
    fs.writeFileSync(file, damaged);
    const reports: RepairReport[] = [];
    const store = await open(dir, { repair: true, now: () => Date.parse('2026-11-02T10:00:00Z'), onRepair: (r) => reports.push(...r) });
    expect((await store.list('flags')).map((d) => d.id)).toEqual(['f1', 'f2']);
    expect((await store.readLog('audit', 1, 10)).map((r) => r.seq)).toEqual([1, 2]);
    await store.commit({ puts: [{ collection: 'flags', id: 'after', value: 1 }], appends: [{ log: 'audit', seq: 3, entry: { n: 3 } }] });
    await store.close();
    const name = path.basename(file);
    expect(reports).toEqual([
      {
        file: name,
        movedTo: `${name}.damaged-2026-11-02T10-00-00-000Z`,
        offset: third,
        problem: 'record 3 does not match its checksum (altered or damaged)',
        lastGoodSeq: 2,
        lostSeqs: { from: 3, to: 5 },
        lostChanges: ['flags/f4 v1', 'log audit #4', 'flags/f5 v1', 'log audit #5'],
        more: 0,
        unreadable: 1,
      },
    ]);
    expect(fs.readFileSync(path.join(dir, reports[0]!.movedTo!)).equals(damaged), 'the damaged journal is set aside as it was').toBe(true);
    const again = await open(dir);
    expect((await again.list('flags')).map((d) => d.id)).toEqual(['after', 'f1', 'f2']);
    await again.close();
  });

  it('rebuilds a damaged snapshot from the generation before it, losing nothing', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const reopened = await open(dir);
    await reopened.commit({ puts: [{ collection: 'flags', id: 'f6', value: 6 }] });
    await reopened.close();
    const file = snapshotOf(dir);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"head":', '"head" :'));
    const reports: RepairReport[] = [];
    const store = await open(dir, { repair: true, onRepair: (r) => reports.push(...r) });
    expect((await store.list('flags')).map((d) => d.id)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    expect(await store.feedHead()).toBe(6);
    await store.close();
    expect(reports).toMatchObject([
      { file: path.basename(file), lostSeqs: null, rebuiltFrom: [expect.stringMatching(/^snapshot-\d+\.json$/), expect.stringMatching(/^journal-\d+\.log$/)] },
    ]);
  });
});

describe('format 1 (before checksums)', () => {
  /** A directory as the previous release left it: snapshot.json, journal-<gen>.jsonl of bare records, a LOCK with a process id. */
  function formatOne(dir: string, journal: string[]): void {
    fs.mkdirSync(dir, { recursive: true });
    const state = {
      docs: { flags: { a: [1, '{"enabled":true}'] } },
      head: 1,
      feed: [[1, 'flags', 'a', 1, '{"enabled":true}']],
      logs: {},
      counters: {},
      fences: {},
    };
    fs.writeFileSync(path.join(dir, 'snapshot.json'), JSON.stringify({ gen: 3, state }));
    fs.writeFileSync(path.join(dir, 'journal-3.jsonl'), journal.map((l) => `${l}\n`).join(''));
    fs.writeFileSync(path.join(dir, 'LOCK'), '1');
  }

  it('opens, and the first compaction writes format 2 in its place', async () => {
    const dir = tempDir();
    formatOne(dir, ['{"t":"c","s":2,"w":[["flags","b",1,"{\\"enabled\\":false}"]],"a":[["audit",1,"{\\"n\\":1}"]]}', '{"t":"f","n":"leader","v":7}']);
    const store = await open(dir);
    expect(head(dir)).toEqual({ format: 2, gen: 4, seq: 2 }); // the two format-1 records, numbered as they were read
    expect((await store.list('flags')).map((d) => [d.id, d.value])).toEqual([
      ['a', { enabled: true }],
      ['b', { enabled: false }],
    ]);
    expect(await store.feedHead()).toBe(2);
    expect((await store.acquireLease('leader', 'me', 1000))!.token).toBe(8);
    await store.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['HEAD', 'LOCK', 'journal-4.log', 'snapshot-4.json']);
    const again = await open(dir);
    expect(await again.list('flags')).toHaveLength(2);
    await again.close();
  });

  it('refuses a format-1 journal with a document that is not JSON, naming the file', async () => {
    const dir = tempDir();
    formatOne(dir, ['{"t":"c","s":2,"w":[["flags","b",1,"{\\"enabled\\":"]],"a":[]}', '{"t":"f","n":"leader","v":7}']);
    await expectDamage(dir, path.join(dir, 'journal-3.jsonl'), 0, 0, /document flags\/b is not JSON/);
  });
});
