import type { Store } from '../store/port.js';
import { AUDIT_LOG, readAuditHead } from '../audit/audited-commit.js';
import type { AuditEvent, AuditHead } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { BACKED_UP_COLLECTIONS, BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type Backup, type BackupDocument } from './backup-format.js';

const AUDIT_PAGE = 1_000;
const SNAPSHOT_ATTEMPTS = 10;

/** The documents of a backup and the audit head they agree with; the events are read later, page by page. */
export interface StoreSnapshot {
  collections: Record<string, BackupDocument[]>;
  head: AuditHead;
}

/**
 * Reads every backed-up collection between two reads of the audit head, and keeps the result only
 * when the head did not move: every audited change moves it, so the documents then match the log
 * up to that head (no flag change without its event, no event without its change). Unaudited
 * writes (a rollout's routine analysis) may land in between; each document is still read whole.
 */
export async function readSnapshot(store: Store): Promise<StoreSnapshot> {
  for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
    const before = await readAuditHead(store);
    const collections: Record<string, BackupDocument[]> = {};
    for (const { name } of BACKED_UP_COLLECTIONS) {
      collections[name] = (await store.list(name)).map((doc) => ({ id: doc.id, value: doc.value }));
    }
    const after = await readAuditHead(store);
    if (after.seq === before.seq) return { collections, head: after };
  }
  throw new AppError('unavailable', 'store_busy', `the audit log moved during each of ${SNAPSHOT_ATTEMPTS} attempts to read a consistent backup: try again`);
}

/** Audit events 1..head.seq, oldest first, a page at a time, so a long log is never held whole. */
export async function* auditEvents(store: Store, head: AuditHead): AsyncGenerator<AuditEvent> {
  let from = 1;
  while (from <= head.seq) {
    const rows = await store.readLog<AuditEvent>(AUDIT_LOG, from, Math.min(AUDIT_PAGE, head.seq - from + 1));
    if (rows.length === 0) return;
    for (const row of rows) if (row.seq <= head.seq) yield row.entry;
    from = rows[rows.length - 1]!.seq + 1;
  }
}

export interface BackupHeader {
  createdAt: string;
  controllerVersion: string;
  storeKind: string;
}

/**
 * The backup as JSON text in pieces: the header and documents first, then one audit event per
 * line. Streamed so that exporting a log of millions of events holds one page in memory. A stream
 * cut short is not valid JSON, so a truncated file can never be restored by mistake.
 */
export async function* backupJson(store: Store, snapshot: StoreSnapshot, header: BackupHeader): AsyncGenerator<string> {
  const opening: Omit<Backup, 'audit'> = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt: header.createdAt,
    controllerVersion: header.controllerVersion,
    source: { store: header.storeKind },
    collections: snapshot.collections,
  };
  const text = JSON.stringify(opening);
  yield `${text.slice(0, -1)},\n"audit":{"head":${JSON.stringify(snapshot.head)},"events":[`;
  let first = true;
  for await (const event of auditEvents(store, snapshot.head)) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(event)}`;
    first = false;
  }
  yield '\n]}}\n';
}

/** The whole backup in memory: for tests and the offline command on small stores. */
export async function readBackup(store: Store, header: BackupHeader): Promise<Backup> {
  let text = '';
  for await (const piece of backupJson(store, await readSnapshot(store), header)) text += piece;
  return JSON.parse(text) as Backup;
}
