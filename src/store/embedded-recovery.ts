import fs from 'node:fs';
import path from 'node:path';
import { StoreDamagedError } from '../errors/app-error.js';
import {
  decodeHead,
  decodeLegacySnapshot,
  decodeSnapshot,
  HEAD_FILE,
  journalName,
  LEGACY_SNAPSHOT,
  legacyJournalName,
  snapshotName,
  type Head,
  type JournalRecord,
  type Snapshot,
} from './embedded-format.js';
import { describeRecords, scanJournal } from './embedded-scan.js';

/** Something a person should know about the start-up: a torn final record that was dropped. */
export interface StoreNotice {
  message: string;
  details: Record<string, unknown>;
}

/** What a repair set aside and what was lost with it (recorded in the audit log as `store.repair`). */
export interface RepairReport {
  /** The damaged file's name in the data directory, and the name it was moved to there. */
  file: string;
  movedTo: string | null;
  offset: number;
  problem: string;
  lastGoodSeq: number | null;
  /** Record sequences known to be lost (HEAD told how far the journal reached); null when none or unknown. */
  lostSeqs: { from: number; to: number } | null;
  /** What the readable records past the damage would have changed, at most 20 (`more` counts the rest). */
  lostChanges: string[];
  more: number;
  /** Lines past the damage that could not be read at all. */
  unreadable: number;
  /** When the damaged file was the snapshot: the files the state was rebuilt from. */
  rebuiltFrom?: string[];
}

export interface Recovered {
  /** The generation read: the compaction that follows the open writes the next. */
  gen: number;
  /** The sequence of the last good record: the next one written is seq + 1. */
  seq: number;
  state: Snapshot | null;
  records: JournalRecord[];
  /** Nothing on disk: HEAD must be written before anything else. */
  fresh: boolean;
  notices: StoreNotice[];
  repairs: RepairReport[];
}

interface Damage {
  file: string;
  offset: number;
  lastGoodSeq: number | null;
  problem: string;
}

/**
 * Reads the data directory and checks every byte of it before anything is written: any damage stops
 * the open with a StoreDamagedError, unless `repair` is set, and then the good part is kept, each
 * damaged file is renamed to `<name>.damaged-<time>` and a RepairReport says what was lost.
 */
export function recover(dir: string, opts: { repair: boolean; now: () => Date }): Recovered {
  const result: Recovered = { gen: 0, seq: 0, state: null, records: [], fresh: false, notices: [], repairs: [] };
  const problem = (d: Damage, extra: Partial<RepairReport> = {}): void => {
    if (!opts.repair) throw new StoreDamagedError(path.join(dir, d.file), d.offset, d.lastGoodSeq, d.problem);
    result.repairs.push({ ...d, movedTo: null, lostSeqs: null, lostChanges: [], more: 0, unreadable: 0, ...extra });
  };

  const head = readHead(dir);
  if (head.kind === 'missing') {
    if (hasLegacyFiles(dir)) return finish(dir, recoverLegacy(dir, result, problem), opts.now);
    const gens = generations(dir);
    if (gens.length === 0) return { ...result, fresh: true };
    problem({ file: HEAD_FILE, offset: 0, lastGoodSeq: null, problem: `missing, yet the directory holds ${snapshotName(gens.at(-1)!)} or its journal` });
  } else if (head.kind === 'damaged') {
    problem({ file: HEAD_FILE, offset: 0, lastGoodSeq: null, problem: head.problem });
  }
  const gen = head.kind === 'ok' ? head.head.gen : (generations(dir).at(-1) ?? 0);
  let headSeq = head.kind === 'ok' ? head.head.seq : null;

  let base = readBase(dir, gen);
  if (!base.ok) {
    const fallback = opts.repair ? readPrevious(dir, gen - 1) : undefined;
    if (fallback && !fallback.ok) {
      throw new StoreDamagedError(
        path.join(dir, snapshotName(gen)),
        base.offset,
        null,
        base.problem,
        `--repair cannot rebuild it: ${fallback.problem}. Restore a backup (npm run restore into an empty DATA_DIR), or move the directory away to start empty.`,
      );
    }
    problem({ file: snapshotName(gen), offset: base.offset, lastGoodSeq: null, problem: base.problem }, { rebuiltFrom: fallback?.ok ? fallback.files : [] });
    base = fallback as Extract<Base, { ok: true }>;
  }
  if (headSeq !== null && headSeq < base.seq) {
    problem({ file: HEAD_FILE, offset: 0, lastGoodSeq: null, problem: `records sequence ${headSeq}, older than ${snapshotName(gen)} (${base.seq})` });
    headSeq = null;
  }

  const file = journalName(gen);
  const buf = readFile(dir, file) ?? Buffer.alloc(0);
  const scan = scanJournal(buf, base.seq, false);
  // A damaged journal is set aside whole and replaced by its good records, which keeps this generation
  // one that a later repair can rebuild the next snapshot from.
  const goodPart = new Map([[file, buf.subarray(0, scan.goodEnd)]]);
  const lost = (to: number | null) => (to !== null && to > scan.lastSeq ? { from: scan.lastSeq + 1, to } : null);
  if (scan.damage) {
    problem(
      { file, offset: scan.damage.offset, lastGoodSeq: scan.lastSeq, problem: scan.damage.problem },
      { lostSeqs: lost(headSeq), ...describeRecords(buf, scan.damage.offset) },
    );
  } else if (headSeq !== null && headSeq > scan.lastSeq) {
    const missing = `${HEAD_FILE} records sequence ${headSeq}, so ${seqRange(scan.lastSeq + 1, headSeq)} ${headSeq > scan.lastSeq + 1 ? 'are' : 'is'} missing: the journal was cut short or emptied`;
    problem({ file, offset: scan.goodEnd, lastGoodSeq: scan.lastSeq, problem: missing }, { lostSeqs: lost(headSeq), ...describeRecords(buf, scan.goodEnd) });
  } else if (scan.torn) {
    const why = headSeq === null ? `${HEAD_FILE} was unreadable, so this is assumed` : `${HEAD_FILE} records sequence ${headSeq}, which is on disk whole`;
    result.notices.push(tornNotice(path.join(dir, file), scan.torn, scan.lastSeq, headSeq, why));
  }
  return finish(dir, { ...result, gen, seq: scan.lastSeq, state: base.state, records: [...base.records, ...scan.records] }, opts.now, goodPart);
}

type Base = { ok: true; state: Snapshot | null; seq: number; records: JournalRecord[]; files: string[] } | { ok: false; offset: number; problem: string };

/** Generation `gen`'s snapshot; generation 0 is the empty state before the first snapshot. */
function readBase(dir: string, gen: number): Base {
  if (gen === 0) return { ok: true, state: null, seq: 0, records: [], files: [] };
  const buf = readFile(dir, snapshotName(gen));
  if (!buf) return { ok: false, offset: 0, problem: 'missing' };
  const decoded = decodeSnapshot(buf.toString('utf8'));
  if (!decoded.ok) return { ok: false, offset: decoded.offset ?? 0, problem: decoded.problem };
  if (decoded.value.gen !== gen) return { ok: false, offset: 0, problem: `holds generation ${decoded.value.gen}` };
  return { ok: true, state: decoded.value.state, seq: decoded.value.seq, records: [], files: [snapshotName(gen)] };
}

/**
 * The generation before the current one, kept by each compaction for this: its snapshot and its
 * whole journal rebuild the current snapshot (all but the counter increments of the last second
 * before that compaction, which were never journaled).
 */
function readPrevious(dir: string, gen: number): Base {
  if (gen < 0) return { ok: false, offset: 0, problem: 'there is no earlier generation' };
  const base = readBase(dir, gen);
  if (!base.ok) return { ...base, problem: `${snapshotName(gen)} is ${base.problem === 'missing' ? 'missing' : `damaged too (${base.problem})`}` };
  const buf = readFile(dir, journalName(gen));
  if (!buf && gen > 0) return { ok: false, offset: 0, problem: `${journalName(gen)} is missing` };
  const scan = scanJournal(buf ?? Buffer.alloc(0), base.seq, false);
  if (scan.damage) return { ok: false, offset: 0, problem: `${journalName(gen)} is damaged too (at byte ${scan.damage.offset}: ${scan.damage.problem})` };
  return { ok: true, state: base.state, seq: scan.lastSeq, records: scan.records, files: [...base.files, journalName(gen)] };
}

/** Format 1 (no HEAD, no checksums): snapshot.json and journal-<gen>.jsonl, read as before and migrated by the next compaction. */
function recoverLegacy(dir: string, result: Recovered, problem: (d: Damage) => void): Recovered {
  let gen = 0;
  let state: Snapshot | null = null;
  const snap = readFile(dir, LEGACY_SNAPSHOT);
  if (snap) {
    const decoded = decodeLegacySnapshot(snap.toString('utf8'));
    // There is no earlier generation to rebuild it from, so not even a repair can go on.
    if (!decoded.ok) {
      const hint = 'A format-1 snapshot cannot be rebuilt: restore a backup (npm run restore into an empty DATA_DIR).';
      throw new StoreDamagedError(path.join(dir, LEGACY_SNAPSHOT), decoded.offset ?? 0, null, decoded.problem, hint);
    }
    ({ gen, state } = decoded.value);
  }
  const file = legacyJournalName(gen);
  const buf = readFile(dir, file) ?? Buffer.alloc(0);
  const scan = scanJournal(buf, 0, true);
  if (scan.damage) problem({ file, offset: scan.damage.offset, lastGoodSeq: scan.lastSeq, problem: scan.damage.problem });
  else if (scan.torn) result.notices.push(tornNotice(path.join(dir, file), scan.torn, scan.lastSeq, null, 'format 1 kept no record of what was acknowledged'));
  return { ...result, gen, seq: scan.lastSeq, state, records: scan.records };
}

/** Moves every damaged file aside, now that nothing can stop the open any more, leaving its `goodPart` in its place. */
function finish(dir: string, result: Recovered, now: () => Date, goodPart = new Map<string, Buffer>()): Recovered {
  const stamp = now().toISOString().replace(/[:.]/g, '-');
  for (const report of result.repairs) {
    if (!fs.existsSync(path.join(dir, report.file))) continue;
    report.movedTo = `${report.file}.damaged-${stamp}`;
    fs.renameSync(path.join(dir, report.file), path.join(dir, report.movedTo));
    const good = goodPart.get(report.file);
    if (!good) continue;
    const fd = fs.openSync(path.join(dir, report.file), 'w');
    try {
      fs.writeSync(fd, good);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  return result;
}

function tornNotice(file: string, torn: { offset: number; bytes: number }, lastSeq: number, headSeq: number | null, why: string): StoreNotice {
  return {
    message: `dropped an incomplete record at the end of ${file} (bytes ${torn.offset} to ${torn.offset + torn.bytes}): a write cut off by a crash, never acknowledged (${why})`,
    details: { file, offset: torn.offset, bytes: torn.bytes, lastGoodSeq: lastSeq, headSeq },
  };
}

/** "record 7" or "records 7 to 9". */
export function seqRange(from: number, to: number): string {
  return from === to ? `record ${from}` : `records ${from} to ${to}`;
}

function readHead(dir: string): { kind: 'missing' } | { kind: 'damaged'; problem: string } | { kind: 'ok'; head: Head } {
  const buf = readFile(dir, HEAD_FILE);
  if (!buf) return { kind: 'missing' };
  const decoded = decodeHead(buf.toString('utf8'));
  return decoded.ok ? { kind: 'ok', head: decoded.value } : { kind: 'damaged', problem: decoded.problem };
}

function hasLegacyFiles(dir: string): boolean {
  return fs.readdirSync(dir).some((f) => f === LEGACY_SNAPSHOT || /^journal-\d+\.jsonl$/.test(f));
}

/** The generations of format-2 snapshots and journals in the directory, in order. */
function generations(dir: string): number[] {
  const gens = fs.readdirSync(dir).flatMap((f) => {
    const m = /^(?:snapshot-(\d+)\.json|journal-(\d+)\.log)$/.exec(f);
    return m ? [Number(m[1] ?? m[2])] : [];
  });
  return [...new Set(gens)].sort((a, b) => a - b);
}

function readFile(dir: string, name: string): Buffer | null {
  try {
    return fs.readFileSync(path.join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
