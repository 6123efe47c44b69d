import fs from 'node:fs';
import path from 'node:path';
import type { CounterFields } from './port.js';

/**
 * Files of the embedded store under dataDir:
 *   LOCK                 pid of the process that has the directory open
 *   snapshot.json        { gen, state } - full state, replaced atomically (temp file + rename)
 *   journal-<gen>.jsonl  one JSON record per line, committed after snapshot <gen> was taken
 *
 * The generation number ties a journal to the snapshot it extends. A compaction creates the next
 * (empty) journal before renaming the new snapshot into place, so a crash at any point leaves
 * either the old snapshot + old journal or the new snapshot + new journal - never a journal
 * replayed twice on top of a snapshot that already contains it.
 */
/** The persisted format: journal lines are JournalRecords, the snapshot holds a Snapshot. */
/** A written document (json) or a deletion (json null), exactly as journaled and replayed. */
/** A document write; `quiet` (1) writes stay off the change feed and take no feed seq. */
export type Write = [collection: string, id: string, version: number, json: string | null, quiet?: 1];
export type CommitRecord = { t: 'c'; s: number; w: Write[]; a: [log: string, seq: number, json: string][] };
export type JournalRecord = CommitRecord | { t: 'k'; b: string; f: CounterFields; x: number } | { t: 'f'; n: string; v: number };
export type FeedRec = [seq: number, collection: string, id: string, version: number, json: string | null];

export interface Snapshot {
  docs: Record<string, Record<string, [number, string]>>;
  head: number;
  feed: FeedRec[];
  logs: Record<string, [number, string][]>;
  counters: Record<string, { f: CounterFields; x: number }>;
  fences: Record<string, number>;
}

export interface Loaded {
  journal: Journal;
  state: Snapshot | null;
  records: JournalRecord[];
}

const SNAPSHOT = 'snapshot.json';
const journalName = (gen: number): string => `journal-${gen}.jsonl`;

export function openJournal(dir: string): Loaded {
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = takeLock(dir);
  try {
    const { gen, state, records } = readStoreFiles(dir);
    const fd = fs.openSync(path.join(dir, journalName(gen)), 'a');
    return { journal: new Journal(dir, lockPath, gen, fd, fs.fstatSync(fd).size), state, records };
  } catch (err) {
    fs.rmSync(lockPath, { force: true });
    throw err;
  }
}

/**
 * The snapshot and the journal that extends it, as they are on disk: no lock is taken and nothing
 * is written. openJournal reads through this under the lock; a read-only reader (embedded-reader.ts)
 * reads through it beside a running controller and checks that no compaction moved the files meanwhile.
 */
export function readStoreFiles(dir: string): { gen: number; state: Snapshot | null; records: JournalRecord[]; journalMissing: boolean } {
  let gen = 0;
  let state: Snapshot | null = null;
  const snapPath = path.join(dir, SNAPSHOT);
  if (fs.existsSync(snapPath)) {
    const snap = JSON.parse(fs.readFileSync(snapPath, 'utf8')) as { gen: number; state: Snapshot };
    gen = snap.gen;
    state = snap.state;
  }
  const jPath = path.join(dir, journalName(gen));
  const journalMissing = !fs.existsSync(jPath);
  return { gen, state, records: journalMissing ? [] : parseJournal(jPath), journalMissing };
}

/** Identity of the snapshot file (a compaction renames a new one into place), or null when there is none. */
export function snapshotIdentity(dir: string): string | null {
  try {
    const stat = fs.statSync(path.join(dir, SNAPSHOT));
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function parseJournal(file: string): JournalRecord[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const records: JournalRecord[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch (err) {
      // Only the final line can be torn by a crash mid-append; anything earlier is corruption.
      const isLast = lines.slice(i + 1).every((l) => l === '');
      if (!isLast) throw new Error(`embedded store journal ${file} is corrupt at line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return records;
}

function takeLock(dir: string): string {
  const lockPath = path.join(dir, 'LOCK');
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
    if (attempt > 0 || (pid > 0 && isAlive(pid))) {
      throw new Error(
        `embedded store directory ${dir} is already open (by process ${pid || 'unknown'}); ` +
          `only one process may use it. If that process is gone, delete ${lockPath}.`,
      );
    }
    // The previous owner died without closing: the lock is stale.
    fs.rmSync(lockPath, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Journal {
  private closed = false;
  /** Set when a failed append could not be rolled back: further appends would follow a torn line. */
  private broken = false;

  constructor(
    private readonly dir: string,
    private readonly lockPath: string,
    private gen: number,
    private fd: number,
    /** Bytes in the current journal; compaction is triggered from it. */
    public size: number,
  ) {}

  /** Appends whole lines; with `durable` they are on disk before this returns. */
  append(lines: string[], durable: boolean): void {
    if (this.closed) throw new Error('embedded store is closed');
    if (this.broken) throw new Error('embedded store journal is unusable after a failed write; reopen the store');
    const buf = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
    try {
      for (let off = 0; off < buf.length; ) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      if (durable) fs.fdatasyncSync(this.fd);
    } catch (err) {
      // Cut off a partial write, so later appends do not land behind a torn line.
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        this.broken = true;
      }
      throw err;
    }
    this.size += buf.length;
  }

  /** Replaces snapshot + journal with a snapshot of `state` and an empty journal. */
  compact(state: Snapshot): void {
    if (this.closed) throw new Error('embedded store is closed');
    const next = this.gen + 1;
    const nextFd = fs.openSync(path.join(this.dir, journalName(next)), 'w');
    fs.fsyncSync(nextFd);
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const tfd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(tfd, JSON.stringify({ gen: next, state }));
      fs.fsyncSync(tfd);
    } finally {
      fs.closeSync(tfd);
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    this.syncDir();
    fs.closeSync(this.fd);
    this.fd = nextFd;
    this.gen = next;
    this.size = 0;
    for (const f of fs.readdirSync(this.dir)) {
      if (/^journal-\d+\.jsonl$/.test(f) && f !== journalName(next)) fs.rmSync(path.join(this.dir, f), { force: true });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
    } finally {
      fs.rmSync(this.lockPath, { force: true });
    }
  }

  private syncDir(): void {
    // Makes the rename itself durable; not supported everywhere (e.g. Windows), hence best effort.
    try {
      const dfd = fs.openSync(this.dir, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch {
      /* best effort */
    }
  }
}
