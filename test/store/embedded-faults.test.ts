import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectDamage, fiveWrites, journalOf, lineStarts, open, snapshotOf, tempDirs } from '../support/embedded-files.js';

/**
 * The embedded store's fault suite (issue 13, defects 5 and 6): processes killed while they hold
 * the directory (SIGKILL, a zombie not yet reaped, PID 1 of a PID namespace) and files damaged
 * after acknowledged writes (cut short, emptied, bytes changed, a valid-JSON edit, a snapshot
 * damaged), each of which must stop the open naming the file, the byte offset and the last good
 * sequence, and change nothing (--repair and format 1: embedded-repair.test.ts).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const STORE_MODULE = path.join(ROOT, 'src/store/embedded-store.ts');
const tempDir = tempDirs('rc-faults-');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * A child process on the store in DIR. MODE=write: commits c/k<i> = i for i = 1, 2, … (carrying on
 * after the documents already there) and prints "ack <i>" once each commit has returned, until it
 * is killed. MODE=hold: opens and waits. MODE=check: prints the number of documents in c and exits.
 * Every mode first prints "ready <its pid>".
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
