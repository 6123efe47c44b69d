import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isJsonText } from '../validation/json-text.js';

/**
 * The embedded store's files and how each is written and read, without I/O (docs/operations.md,
 * "The embedded store's files"):
 *   HEAD                 {"format":2,"gen":G,"seq":S}: the generation in use and the last record
 *                        sequence known to be on disk, kept apart from the journal so that a
 *                        journal cut short or emptied is seen as such
 *   snapshot-<gen>.json  the full state after record <seq>, with a checksum of the state
 *   journal-<gen>.log    one record per line, each with its sequence and a checksum, extending snapshot <gen>
 * Format 1 (before checksums) had snapshot.json and journal-<gen>.jsonl; it is still read, and
 * replaced by format 2 at the compaction that follows every open.
 */
export const HEAD_FILE = 'HEAD';
export const LOCK_FILE = 'LOCK';
export const snapshotName = (gen: number): string => `snapshot-${gen}.json`;
export const journalName = (gen: number): string => `journal-${gen}.log`;
export const LEGACY_SNAPSHOT = 'snapshot.json';
export const legacyJournalName = (gen: number): string => `journal-${gen}.jsonl`;
/** Names of files the store itself writes; anything else in the directory (a file set aside by a repair) is left alone. */
export const OWN_FILE = /^(snapshot-\d+\.json|journal-\d+\.log|snapshot\.json|journal-\d+\.jsonl)(\.tmp)?$|^HEAD\.tmp$/;

/** A written document (json) or a deletion (json null); `quiet` (1) writes stay off the change feed and take no feed seq. */
export type Write = [collection: string, id: string, version: number, json: string | null, quiet?: 1];
export type CommitRecord = { t: 'c'; s: number; w: Write[]; a: [log: string, seq: number, json: string][] };
export type JournalRecord = CommitRecord | { t: 'k'; b: string; f: CounterFields; x: number } | { t: 'f'; n: string; v: number };
export type FeedRec = [seq: number, collection: string, id: string, version: number, json: string | null];
type CounterFields = Record<string, number | number[]>;

const seqNo = z.number().int().nonnegative();
// A counter field is a number or a vector of numbers added element by element (counters.ts).
const counterFields = z.record(z.string(), z.union([z.number(), z.array(z.number())]));
const journalRecordSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('c'),
    s: seqNo,
    w: z.array(z.tuple([z.string(), z.string(), seqNo, z.string().nullable()], z.literal(1))),
    a: z.array(z.tuple([z.string(), seqNo, z.string()])),
  }),
  z.object({ t: z.literal('k'), b: z.string(), f: counterFields, x: z.number() }),
  z.object({ t: z.literal('f'), n: z.string(), v: seqNo }),
]);
const snapshotSchema = z.object({
  docs: z.record(z.string(), z.record(z.string(), z.tuple([seqNo, z.string()]))),
  head: seqNo,
  feed: z.array(z.tuple([seqNo, z.string(), z.string(), seqNo, z.string().nullable()])),
  logs: z.record(z.string(), z.array(z.tuple([seqNo, z.string()]))),
  counters: z.record(z.string(), z.object({ f: counterFields, x: z.number() })),
  fences: z.record(z.string(), seqNo),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
const headSchema = z.object({ format: z.literal(2), gen: seqNo, seq: seqNo });
export type Head = Omit<z.infer<typeof headSchema>, 'format'>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: string; offset?: number };
const bad = (problem: string, offset?: number): { ok: false; problem: string; offset?: number } => ({ ok: false, problem, offset });

/** Detects damage and edits by mistake, not by intent: whoever can edit the files can recompute it. */
export function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** One journal line, without its newline. The checksum covers the sequence and the record's exact bytes. */
export function encodeRecord(seq: number, record: JournalRecord): string {
  const text = JSON.stringify(record);
  return `{"n":${seq},"c":"${checksum(`${seq} ${text}`)}","r":${text}}`;
}

const RECORD_LINE = /^\{"n":(\d{1,15}),"c":"([0-9a-f]{16})","r":(.*)\}$/s;

export function decodeRecord(line: string): Decoded<{ seq: number; record: JournalRecord }> {
  const m = RECORD_LINE.exec(line);
  if (!m) return bad('not a journal record (format 2: {"n":seq,"c":checksum,"r":record})');
  const [, seqText, sum, text] = m as unknown as [string, string, string, string];
  if (checksum(`${seqText} ${text}`) !== sum) return bad(`record ${seqText} does not match its checksum (altered or damaged)`);
  const record = parseRecord(text);
  return record.ok ? { ok: true, value: { seq: Number(seqText), record: record.value } } : bad(`record ${seqText}: ${record.problem}`);
}

/** A format-1 line: a bare record, with no checksum to tell an edit from the original. */
export function decodeLegacyRecord(line: string): Decoded<JournalRecord> {
  const record = parseRecord(line);
  if (!record.ok) return record;
  const doc = unparsableDocument(record.value);
  return doc ? bad(doc) : record;
}

function parseRecord(text: string): Decoded<JournalRecord> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return bad(`not JSON (${(err as Error).message})`);
  }
  const parsed = journalRecordSchema.safeParse(json);
  if (!parsed.success) return bad(`not a journal record (${describeIssue(parsed.error)})`);
  return { ok: true, value: parsed.data as JournalRecord };
}

/** Format 1 had no checksum, so a document is at least checked to be JSON before it is served. */
function unparsableDocument(r: JournalRecord): string | undefined {
  if (r.t !== 'c') return undefined;
  for (const [collection, id, , json] of r.w) if (json !== null && !isJsonText(json)) return `document ${collection}/${id} is not JSON`;
  for (const [log, seq, json] of r.a) if (!isJsonText(json)) return `log ${log} entry ${seq} is not JSON`;
  return undefined;
}

export function encodeSnapshot(gen: number, seq: number, state: Snapshot): string {
  const text = JSON.stringify(state);
  return `{"format":2,"gen":${gen},"seq":${seq},"c":"${checksum(text)}","state":${text}}`;
}

const SNAPSHOT_HEADER = /^\{"format":2,"gen":(\d{1,15}),"seq":(\d{1,15}),"c":"([0-9a-f]{16})","state":/;

export function decodeSnapshot(text: string): Decoded<{ gen: number; seq: number; state: Snapshot }> {
  const m = SNAPSHOT_HEADER.exec(text);
  if (!m) return bad('not a format-2 snapshot (its header is missing or damaged)', 0);
  const [header, gen, seq, sum] = m as unknown as [string, string, string, string];
  const start = header.length;
  if (!text.endsWith('}')) return bad('the file is cut short', Buffer.byteLength(text));
  const stateText = text.slice(start, -1);
  if (checksum(stateText) !== sum) return bad('the state does not match its checksum (altered, damaged or cut short)', start);
  const state = parseSnapshotState(stateText);
  if (!state.ok) return bad(state.problem, start);
  return { ok: true, value: { gen: Number(gen), seq: Number(seq), state: state.value } };
}

/** Format 1: {"gen":G,"state":{…}}, with every document checked to be JSON. */
export function decodeLegacySnapshot(text: string): Decoded<{ gen: number; state: Snapshot }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return bad(`not JSON (${(err as Error).message})`, jsonErrorOffset(err, text));
  }
  const parsed = z.object({ gen: seqNo, state: snapshotSchema }).safeParse(json);
  if (!parsed.success) return bad(`not a snapshot (${describeIssue(parsed.error)})`, 0);
  const { docs, logs } = parsed.data.state;
  for (const [collection, ids] of Object.entries(docs)) {
    for (const [id, [, doc]] of Object.entries(ids)) if (!isJsonText(doc)) return bad(`document ${collection}/${id} is not JSON`, 0);
  }
  for (const [log, entries] of Object.entries(logs))
    for (const [seq, entry] of entries) if (!isJsonText(entry)) return bad(`log ${log} entry ${seq} is not JSON`, 0);
  return { ok: true, value: parsed.data };
}

function parseSnapshotState(text: string): Decoded<Snapshot> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return bad(`the state is not JSON (${(err as Error).message})`);
  }
  const parsed = snapshotSchema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : bad(`not a snapshot (${describeIssue(parsed.error)})`);
}

/** Fixed width, so that rewriting it in place never leaves the tail of a longer previous value behind. */
export const HEAD_BYTES = 64;

export function encodeHead(head: Head): string {
  return JSON.stringify({ format: 2, gen: head.gen, seq: head.seq }).padEnd(HEAD_BYTES - 1, ' ') + '\n';
}

export function decodeHead(text: string): Decoded<Head> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('not JSON', 0);
  }
  const parsed = headSchema.safeParse(json);
  return parsed.success ? { ok: true, value: { gen: parsed.data.gen, seq: parsed.data.seq } } : bad(`not a HEAD (${describeIssue(parsed.error)})`, 0);
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'top level'}: ${issue.message}`.slice(0, 200);
}

/** The byte offset of a JSON syntax error: V8 names its position ("… at position 12"), else the end of the text. */
function jsonErrorOffset(err: unknown, text: string): number {
  const m = /position (\d+)/.exec((err as Error).message);
  return Buffer.byteLength(m ? text.slice(0, Number(m[1])) : text);
}
