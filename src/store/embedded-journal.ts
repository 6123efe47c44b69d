import fs from 'node:fs';
import path from 'node:path';
import {
  encodeHead,
  encodeRecord,
  encodeSnapshot,
  HEAD_FILE,
  journalName,
  OWN_FILE,
  snapshotName,
  type JournalRecord,
  type Snapshot,
} from './embedded-format.js';
import { type DirectoryLock, lockDirectory } from './embedded-lock.js';
import { type Recovered, recover } from './embedded-recovery.js';

export interface OpenedJournal {
  journal: Journal;
  recovered: Recovered;
}

/**
 * Locks the data directory, then reads and checks it (embedded-recovery.ts). The journal appends
 * nothing until its first compact(), which the store runs as soon as it has loaded what was read.
 */
export function openJournal(dir: string, opts: { repair: boolean; now: () => Date }): OpenedJournal {
  fs.mkdirSync(dir, { recursive: true });
  const lock = lockDirectory(dir);
  try {
    const recovered = recover(dir, opts);
    // HEAD comes first, so that from now on format-2 files without a HEAD can only mean it was lost.
    if (recovered.fresh) writeDurably(dir, HEAD_FILE, encodeHead({ gen: 0, seq: 0 }));
    return { journal: new Journal(dir, lock, recovered.gen, recovered.seq), recovered };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * The writer of the data directory (file formats in embedded-format.ts). Every append is on disk
 * (fdatasync) before it returns, and only then is HEAD moved on to its sequence: HEAD may lag the
 * journal (a crash between the two, or a power loss before the page with HEAD was written back),
 * never lead it. So a journal that ends before HEAD's sequence lost acknowledged records, and an
 * incomplete last record past it was never acknowledged.
 */
export class Journal {
  private closed = false;
  /** Set when a failed append could not be rolled back: further appends would follow a torn line. */
  private broken = false;
  private fd: number | null = null;
  private headFd: number | null = null;
  /** Bytes in the current journal; compaction is triggered from it. */
  size = 0;

  constructor(
    private readonly dir: string,
    private readonly lock: DirectoryLock,
    private gen: number,
    /** The sequence of the last record written. */
    private seq: number,
  ) {}

  append(records: JournalRecord[]): void {
    if (this.closed) throw new Error('embedded store is closed');
    if (this.broken) throw new Error('embedded store journal is unusable after a failed write; reopen the store');
    if (this.fd === null) throw new Error('embedded store journal is not started: compact() first');
    if (records.length === 0) return;
    const buf = Buffer.from(records.map((r, i) => `${encodeRecord(this.seq + 1 + i, r)}\n`).join(''), 'utf8');
    try {
      for (let off = 0; off < buf.length; ) off += fs.writeSync(this.fd, buf, off, buf.length - off);
      fs.fdatasyncSync(this.fd);
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
    this.seq += records.length;
    try {
      fs.writeSync(this.headFd!, encodeHead({ gen: this.gen, seq: this.seq }), 0);
    } catch {
      // The records are durable; a HEAD left behind is safe (it only ever lags) and the next append or compaction moves it on.
    }
  }

  /**
   * Replaces the current generation with a snapshot of `state` and an empty journal. Each step is
   * durable before the next, and HEAD, renamed into place last, is the switch: a crash before it
   * leaves the current generation whole. The generation before the current one is kept, so that a
   * repair can rebuild a damaged snapshot from it.
   */
  compact(state: Snapshot): void {
    if (this.closed) throw new Error('embedded store is closed');
    const next = this.gen + 1;
    const nextFd = fs.openSync(path.join(this.dir, journalName(next)), 'w');
    let headFd: number;
    try {
      fs.fsyncSync(nextFd);
      writeDurably(this.dir, snapshotName(next), encodeSnapshot(next, this.seq, state));
      // Kept open from its writing on: once the new HEAD is in place, nothing is left that can fail.
      headFd = writeDurably(this.dir, HEAD_FILE, encodeHead({ gen: next, seq: this.seq }), true);
    } catch (err) {
      fs.closeSync(nextFd);
      throw err;
    }
    if (this.fd !== null) fs.closeSync(this.fd);
    if (this.headFd !== null) fs.closeSync(this.headFd);
    this.fd = nextFd;
    this.headFd = headFd;
    this.gen = next;
    this.size = 0;
    const keep = new Set([snapshotName(next), journalName(next), snapshotName(next - 1), journalName(next - 1)]);
    for (const f of fs.readdirSync(this.dir)) if (OWN_FILE.test(f) && !keep.has(f)) fs.rmSync(path.join(this.dir, f), { force: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.fd !== null) {
        fs.fsyncSync(this.fd);
        fs.closeSync(this.fd);
      }
      if (this.headFd !== null) {
        fs.fsyncSync(this.headFd);
        fs.closeSync(this.headFd);
      }
    } finally {
      this.lock.release();
    }
  }
}

/**
 * Writes `name` whole or not at all: a temporary file, synced, renamed into place, and the rename
 * synced. With `keepOpen` the file's descriptor is returned instead of closed.
 */
function writeDurably(dir: string, name: string, text: string, keepOpen = false): number {
  const tmp = path.join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.renameSync(tmp, path.join(dir, name));
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!keepOpen) fs.closeSync(fd);
  syncDir(dir);
  return fd;
}

function syncDir(dir: string): void {
  // Makes a rename itself durable; not supported everywhere (e.g. Windows), hence best effort.
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    /* best effort */
  }
}
