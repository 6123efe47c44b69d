import { decodeLegacyRecord, decodeRecord, type JournalRecord } from './embedded-format.js';

export interface JournalScan {
  records: JournalRecord[];
  /** The sequence of the last good record (the snapshot's when there is none). */
  lastSeq: number;
  /** The byte just past the last good record. */
  goodEnd: number;
  /** The first complete line that is not a good record, or does not carry the next sequence. */
  damage?: { offset: number; problem: string };
  /**
   * Bytes after the last newline: a record whose write never finished (a crash mid-append). In
   * format 1, whose records carry no checksum, a final line that does not parse counts as torn too.
   */
  torn?: { offset: number; bytes: number };
}

/**
 * Reads a journal's records in order, stopping at the first one that is damaged. Format-2 records
 * must carry the sequences after `afterSeq`, one by one; format-1 records (`legacy`) carry none and
 * are numbered after it as they come.
 */
export function scanJournal(buf: Buffer, afterSeq: number, legacy: boolean): JournalScan {
  const scan: JournalScan = { records: [], lastSeq: afterSeq, goodEnd: 0 };
  for (const { offset, end, text, complete } of lines(buf)) {
    if (!complete) {
      scan.torn = { offset, bytes: buf.length - offset };
      break;
    }
    if (legacy && text === '') {
      scan.goodEnd = end; // format 1 tolerated blank lines
      continue;
    }
    const problem = legacy ? addLegacy(scan, text) : add(scan, text);
    if (problem) {
      // Format 1 could only be torn on its last line, and that is what the old reader allowed too.
      if (legacy && end === buf.length) scan.torn = { offset, bytes: buf.length - offset };
      else scan.damage = { offset, problem };
      break;
    }
    scan.goodEnd = end;
  }
  return scan;
}

function add(scan: JournalScan, text: string): string | undefined {
  const decoded = decodeRecord(text);
  if (!decoded.ok) return decoded.problem;
  const { seq, record } = decoded.value;
  if (seq !== scan.lastSeq + 1) return `record ${seq} where record ${scan.lastSeq + 1} was expected (records are missing or out of order)`;
  scan.records.push(record);
  scan.lastSeq = seq;
  return undefined;
}

function addLegacy(scan: JournalScan, text: string): string | undefined {
  const decoded = decodeLegacyRecord(text);
  if (!decoded.ok) return decoded.problem;
  scan.records.push(decoded.value);
  scan.lastSeq++;
  return undefined;
}

/** Lines with their byte offsets; the last is incomplete when the buffer does not end with a newline. */
function* lines(buf: Buffer): Generator<{ offset: number; end: number; text: string; complete: boolean }> {
  for (let offset = 0; offset < buf.length; ) {
    const nl = buf.indexOf(0x0a, offset);
    if (nl === -1) {
      yield { offset, end: buf.length, text: buf.toString('utf8', offset), complete: false };
      return;
    }
    yield { offset, end: nl + 1, text: buf.toString('utf8', offset, nl), complete: true };
    offset = nl + 1;
  }
}

const MAX_LISTED = 20;

/**
 * What the readable records from `offset` on would have changed ("flags/checkout v4", "log audit
 * #57"), at most 20 entries: what a repair reports as lost. Unreadable lines are only counted.
 */
export function describeRecords(buf: Buffer, offset: number): { lostChanges: string[]; unreadable: number; more: number } {
  const changes: string[] = [];
  let unreadable = 0;
  let more = 0;
  for (const line of lines(buf.subarray(offset))) {
    const decoded = decodeRecord(line.text);
    if (!decoded.ok) {
      if (line.text !== '') unreadable++;
      continue;
    }
    for (const change of changesOf(decoded.value.record)) {
      if (changes.length < MAX_LISTED) changes.push(change);
      else more++;
    }
  }
  return { lostChanges: changes, unreadable, more };
}

function changesOf(r: JournalRecord): string[] {
  if (r.t === 'k') return [`counter ${r.b}`];
  if (r.t === 'f') return [`fence ${r.n} ${r.v}`];
  return [
    ...r.w.map(([collection, id, version, json]) => (json === null ? `${collection}/${id} deleted` : `${collection}/${id} v${version}`)),
    ...r.a.map(([log, seq]) => `log ${log} #${seq}`),
  ];
}
