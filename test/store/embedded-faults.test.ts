import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreDamagedError } from '../../src/errors/app-error.js';
import { type EmbeddedStoreOptions, openEmbeddedStore, type RepairReport } from '../../src/store/embedded-store.js';
import type { Store } from '../../src/store/port.js';

/**
 * The embedded store's fault suite (issue 13, defects 5 and 6): processes killed while they hold
 * the directory (SIGKILL, a zombie not yet reaped, PID 1 of a PID namespace) and files damaged
 * after acknowledged writes (cut short, emptied, bytes changed, a valid-JSON edit, a snapshot
 * damaged), each of which must stop the open naming the file, the byte offset and the last good
 * sequence, and change nothing; --repair, and format 1 directories.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const STORE_MODULE = path.join(ROOT, 'src/store/embedded-store.ts');
const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-faults-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A child process on the store in DIR. MODE=write: commits c/k<i> = i for i = 1, 2, … (carrying on
 * after the documents already there) and prints "ack <i>" once each commit has returned, until it is killed. MODE=hold: opens and waits. MODE=check:
 * prints the number of documents in c and exits. Every mode first prints "ready <its pid>".
 */
const CHILD = `
import { openEmbeddedStore } from ${JSON.stringify(STORE_MODULE)};
const store = await openEmbeddedStore(process.env.DIR, { warn: () => {} });
process.stdout.write('ready ' + process.pid + '\\n');
if (process.env.MODE === 'check') {
  process.stdout.write('count ' + (await store.list('c')).length + '\\n');
  await store.close();
  process.exit(0);
}
if (process.env.MODE === 'hold') setInterval(() => {}, 1000);
else for (let i = (await store.list('c')).length + 1; ; i++) {
  await store.commit({ puts: [{ collection: 'c', id: 'k' + i, value: i }], appends: [{ log: 'l', seq: i, entry: i }] });
  process.stdout.write('ack ' + i + '\\n');
}
`;

function childScript(dir: string): string {
  const file = path.join(dir, 'child.mts');
  fs.writeFileSync(file, CHILD);
  return file;
}

/** Spawns `command`, collecting its output; `waitFor` resolves once a line matches. */
function run(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = async (re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = out.match(re);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw new Error(`no ${re} from ${command}:\n${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { child, exited, waitFor, output: () => out };
}

const node = (script: string, env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', script], env);
const lastAck = (out: string) => Math.max(0, ...[...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])));

async function open(dir: string, opts: EmbeddedStoreOptions = {}): Promise<Store> {
  return openEmbeddedStore(dir, { warn: () => {}, ...opts });
}

/** Five more acknowledged commits of a 300-byte flag each, closed: the journal of HEAD's generation holds them. */
async function fiveWrites(dir: string): Promise<void> {
  const store = await open(dir);
  const done = (await store.list('flags')).length;
  for (let i = done + 1; i <= done + 5; i++) {
    await store.commit({
      puts: [{ collection: 'flags', id: `f${i}`, value: { enabled: true, description: 'x'.repeat(300) } }],
      appends: [{ log: 'audit', seq: i, entry: { n: i } }],
    });
  }
  await store.close();
}

const head = (dir: string): { gen: number; seq: number } => JSON.parse(fs.readFileSync(path.join(dir, 'HEAD'), 'utf8'));
/** The newest file named like `pattern` (the current generation's); found by name alone, so the tests also run against format 1. */
const newest = (dir: string, pattern: RegExp): string => {
  const gen = (f: string) => Number(/\d+/.exec(f)?.[0] ?? 0);
  const files = fs.readdirSync(dir).filter((f) => pattern.test(f));
  return path.join(dir, files.sort((a, b) => gen(a) - gen(b)).at(-1)!);
};
const journalOf = (dir: string) => newest(dir, /^journal-\d+\.(log|jsonl)$/);
const snapshotOf = (dir: string) => newest(dir, /^snapshot(-\d+)?\.json$/);

/** Every file's name and content hash: a refused open must leave all of them as they were. */
function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir).map((f) => [
      f,
      createHash('sha256')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex'),
    ]),
  );
}

async function expectDamage(dir: string, file: string, offset: number, lastGoodSeq: number | null, problem: RegExp): Promise<StoreDamagedError> {
  const before = contents(dir);
  const err = await open(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreDamagedError);
  const damage = err as StoreDamagedError;
  expect({ file: damage.file, offset: damage.offset, lastGoodSeq: damage.lastGoodSeq }).toEqual({ file, offset, lastGoodSeq });
  expect(damage.problem).toMatch(problem);
  expect(damage.message).toContain(`${file} at byte ${offset}`);
  expect(damage.message).toContain(lastGoodSeq === null ? 'the last good record is none' : `the last good record is sequence ${lastGoodSeq}`);
  expect(contents(dir), 'a refused open changes no file (no compaction over the damage)').toEqual(before);
  return damage;
}

/** Byte offsets at which each line of a file starts. */
const lineStarts = (file: string): number[] => {
  const buf = fs.readFileSync(file);
  const starts = [0];
  for (let i = buf.indexOf(10); i !== -1 && i < buf.length - 1; i = buf.indexOf(10, i + 1)) starts.push(i + 1);
  return starts;
};

describe('defect 5: the embedded store lock is an OS lock the kernel releases when its owner dies', () => {
  it('refuses a second process while the first holds the directory, and lets it in right after the first is SIGKILLed', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    const holder = node(childScript(dir), { DIR: data, MODE: 'hold' });
    await holder.waitFor(/^ready \d+$/m);
    await expect(open(data)).rejects.toThrow(/is in use: another process holds the lock on .*LOCK/);
    holder.child.kill('SIGKILL');
    await holder.exited;
    const store = await open(data);
    await store.close();
  }, 30_000);

  it('lets the directory be opened while its SIGKILLed owner is a zombie not yet reaped', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    // The shell puts the store's process in the background and becomes `sleep`, which never reaps it.
    const script = childScript(dir);
    const parent = run('sh', ['-c', `"${process.execPath}" --import tsx "${script}" & exec sleep 60`], { DIR: data, MODE: 'hold' });
    const pid = Number((await parent.waitFor(/^ready (\d+)$/m))[1]);
    process.kill(pid, 'SIGKILL');
    const state = () => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    // Node runs several threads; they share the descriptors, which close when the last one has exited.
    const dead = () => state() === 'Z' && fs.readdirSync(`/proc/${pid}/task`).length === 1;
    for (const deadline = Date.now() + 5000; !dead(); ) {
      if (Date.now() > deadline) throw new Error(`process ${pid} did not become a zombie (state ${state()})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const store = await open(data);
    expect(state(), 'the owner is still an unreaped zombie').toBe('Z');
    await store.close();
  }, 30_000);

  it('starts again as PID 1 of a new PID namespace after being SIGKILLed as PID 1 of another, with every acknowledged write', async () => {
    const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      // Loud on purpose: a machine without PID namespaces must not pass this test without running it.
      throw new Error(`cannot create a PID namespace here (unshare: ${probe.error?.message ?? probe.stderr.trim()}); this test needs root and unshare(1)`);
    }
    const dir = tempDir();
    const data = path.join(dir, 'data');
    const script = childScript(dir);
    const inNamespace = (mode: string) =>
      run('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', script], { DIR: data, MODE: mode });

    const first = inNamespace('write');
    expect((await first.waitFor(/^ready (\d+)$/m))[1], 'the store runs as PID 1 of its namespace').toBe('1');
    await first.waitFor(/^ack 20$/m);
    // From outside: inside its namespace, PID 1 ignores even SIGKILL. Its host pid is unshare's child.
    const hostPid = Number(fs.readFileSync(`/proc/${first.child.pid}/task/${first.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(hostPid, 'SIGKILL');
    await first.exited;
    const acked = lastAck(first.output());

    const second = inNamespace('check');
    expect((await second.waitFor(/^ready (\d+)$/m))[1]).toBe('1');
    const count = Number((await second.waitFor(/^count (\d+)$/m))[1]);
    expect(count).toBeGreaterThanOrEqual(acked);
    await second.exited;
  }, 60_000);
});

describe('defect 6: a damaged embedded store stops start-up, naming the file, the offset and the last good sequence', () => {
  it('keeps every acknowledged write across SIGKILLs in the middle of writing', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    const script = childScript(dir);
    let acked = 0;
    for (let round = 0; round < 3; round++) {
      const writer = node(script, { DIR: data, MODE: 'write' });
      await writer.waitFor(new RegExp(`^ack ${acked + 10 + Math.floor(Math.random() * 40)}$`, 'm'));
      writer.child.kill('SIGKILL');
      await writer.exited;
      acked = lastAck(writer.output());
      const store = await open(data);
      const docs = await store.list<number>('c');
      await store.close();
      for (let i = 1; i <= acked; i++) expect(docs.find((d) => d.id === `k${i}`)?.value, `k${i} was acknowledged`).toBe(i);
    }
  }, 60_000);

  it('a journal cut short after acknowledged writes (1,500 bytes off)', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const file = journalOf(dir);
    fs.truncateSync(file, fs.statSync(file).size - 1500);
    const kept = fs.readFileSync(file);
    const complete = kept.filter((b) => b === 10).length;
    await expectDamage(dir, file, kept.lastIndexOf(10) + 1, complete, new RegExp(`HEAD records sequence 5, so records ${complete + 1} to 5 are missing`));
  });

  it('an emptied journal', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    fs.truncateSync(journalOf(dir), 0);
    await expectDamage(dir, journalOf(dir), 0, 0, /records 1 to 5 are missing: the journal was cut short or emptied/);
  });

  it('a corrupted journal record (bytes overwritten)', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const file = journalOf(dir);
    const third = lineStarts(file)[2]!;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, 'XXXX', third + 100);
    fs.closeSync(fd);
    await expectDamage(dir, file, third, 2, /record 3 does not match its checksum/);
  });

  it('a valid-JSON edit of a flag in the journal (the checksum catches it)', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const file = journalOf(dir);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[3] = lines[3]!.replace('\\"enabled\\":true', '\\"enabled\\":false');
    fs.writeFileSync(file, lines.join('\n'));
    for (const line of lines.filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    await expectDamage(dir, file, lineStarts(file)[3]!, 3, /record 4 does not match its checksum \(altered or damaged\)/);
  });

  it('a torn final record whose write never finished is dropped with a warning, unless HEAD says it was acknowledged', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    const file = journalOf(dir);
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, '{"n":6,"c":"00000000000000');
    const warnings: Array<{ details: Record<string, unknown>; message: string }> = [];
    const store = await open(dir, { warn: (details, message) => warnings.push({ details, message }) });
    expect(warnings).toEqual([
      {
        message: expect.stringMatching(new RegExp(`dropped an incomplete record at the end of ${file} \\(bytes ${size} to ${size + 26}\\)`)),
        details: expect.objectContaining({ file, offset: size, lastGoodSeq: 5, headSeq: 5 }),
      },
    ]);
    expect(await store.list('flags')).toHaveLength(5);
    await store.close();

    // The last acknowledged record cut in half: HEAD knows it was there.
    await fiveWrites(dir);
    const now = journalOf(dir);
    const last = lineStarts(now).at(-1)!;
    fs.truncateSync(now, fs.statSync(now).size - 20);
    await expectDamage(dir, now, last, 9, /HEAD records sequence 10, so record 10 is missing/);
  });

  it('a snapshot cut short, or with a document edited inside it', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    await (await open(dir)).close(); // the open compacts the five writes into a snapshot
    const file = snapshotOf(dir);
    const text = fs.readFileSync(file, 'utf8');
    let cut = 50;
    while (text[text.length - cut - 1] === '}') cut++;
    fs.writeFileSync(file, text.slice(0, -cut));
    await expectDamage(dir, file, text.length - cut, null, /cut short/);
    const stateAt = text.indexOf('"state":') + 8;
    fs.writeFileSync(file, text.replace('\\"enabled\\":true', '\\"enabled\\":tru'));
    await expectDamage(dir, file, stateAt, null, /the state does not match its checksum/);
  });

  it('a lost HEAD', async () => {
    const dir = tempDir();
    await fiveWrites(dir);
    fs.rmSync(path.join(dir, 'HEAD'));
    await expectDamage(dir, path.join(dir, 'HEAD'), 0, null, /missing, yet the directory holds snapshot-\d+\.json/);
  });
});

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
