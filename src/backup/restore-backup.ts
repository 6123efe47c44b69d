import type { AppendOp, Commit, PutOp, Store } from '../store/port.js';
import { ConflictError } from '../errors/app-error.js';
import { AUDIT_LOG, HEAD_ID, META, readAuditHead } from '../audit/audited-commit.js';
import { ChainVerifier, sealEvent, type Actor, type AuditEvent, type ChainVerdict } from '../audit/chain.js';
import { verifyAuditLog } from '../audit/audit-service.js';
import { validationError } from '../validation/issues.js';
import { AppError } from '../errors/app-error.js';
import { asBackup, BACKED_UP_COLLECTIONS, backupCounts, backupSchema, type Backup } from './backup-format.js';
import { assertDocumentsValid } from './backup-documents.js';

export const RESTORE_ACTION = 'backup.restore';

/** Checks a backup's shape, every document and its audit chain before anything is written; throws a 400 or 422 naming the problem. */
export function parseBackup(input: unknown): Backup {
  const parsed = backupSchema.safeParse(input);
  if (!parsed.success) throw validationError('backup', parsed.error);
  return checkBackup(asBackup(parsed.data));
}

/** After the envelope: every document with its readers' schema (400), then the audit chain (422). */
export function checkBackup(backup: Backup): Backup {
  assertDocumentsValid(backup);
  return assertChainIntact(backup);
}

/** A backup whose audit chain does not verify was edited or cut short: refused whole (422). */
export function assertChainIntact(backup: Backup): Backup {
  const verifier = new ChainVerifier();
  backup.audit.events.forEach((event, i) => verifier.check(i + 1, event));
  const verdict = verifier.finish(backup.audit.head);
  if (!verdict.ok) {
    throw new AppError('refused', 'backup_audit_broken', `the backup's audit log does not verify: ${verdict.problem}`, verdict);
  }
  return backup;
}

/**
 * Most operations one restore commit carries. A commit travels as one script call whose payloads
 * are its arguments: a very large one overflows the client's call stack and blocks Redis for its
 * whole length. Larger backups are written in stages (see restoreCommits).
 */
export const MAX_OPS_PER_COMMIT = 2_000;

/** Present only while a staged restore is being written; the last stage removes it. */
export const RESTORE_MARKER_ID = 'restore-in-progress';

export interface RestorePlan {
  /** Every document, as new (expected version 0). */
  documents: PutOp[];
  /** The backup's audit events at their own positions. */
  events: AppendOp[];
  /** The event that records the restore, chained on the backup's head, and the head after it. */
  restoreEvent: AuditEvent;
  head: PutOp;
}

/** What a restore writes. Pure, so it can be checked without a store. `note` goes into the restore event's `after`. */
export function planRestore(backup: Backup, actor: Actor, at: string, target: string, note: Record<string, unknown> = {}): RestorePlan {
  const documents: PutOp[] = [];
  for (const { name, quiet } of BACKED_UP_COLLECTIONS) {
    for (const doc of backup.collections[name] ?? []) documents.push({ collection: name, id: doc.id, value: doc.value, expectVersion: 0, quiet });
  }
  const restoreEvent = sealEvent(
    {
      actor,
      action: RESTORE_ACTION,
      target: { type: 'store', id: target },
      before: null,
      after: {
        backupCreatedAt: backup.createdAt,
        controllerVersion: backup.controllerVersion,
        formatVersion: backup.formatVersion,
        ...(backup.source ? { source: backup.source } : {}),
        ...backupCounts(backup),
        ...note,
      },
    },
    backup.audit.head,
    at,
  );
  return {
    documents,
    events: backup.audit.events.map((entry) => ({ log: AUDIT_LOG, seq: entry.seq, entry })),
    restoreEvent,
    head: { collection: META, id: HEAD_ID, value: { seq: restoreEvent.seq, hash: restoreEvent.hash }, expectVersion: 0, quiet: true },
  };
}

/**
 * The commits that write a plan: one when it fits, so the restore is all or nothing. Otherwise
 * stages: the first also writes a marker, the stages write the events in order and then the
 * documents, and the last writes the restore event and the audit head and removes the marker. Until
 * that last commit the marker is there and the log has no head (verification sees no events at all),
 * so an interrupted restore is never mistaken for a finished one, and a second restore into that
 * store is refused.
 */
export function restoreCommits(plan: RestorePlan, at: string, maxOps = MAX_OPS_PER_COMMIT, last: Commit = {}): Commit[] {
  const restoreAppend: AppendOp = { log: AUDIT_LOG, seq: plan.restoreEvent.seq, entry: plan.restoreEvent };
  const withLast = (commit: Commit): Commit =>
    last.puts || last.deletes
      ? { ...commit, puts: [...(commit.puts ?? []), ...(last.puts ?? [])], deletes: [...(commit.deletes ?? []), ...(last.deletes ?? [])] }
      : commit;
  if (plan.documents.length + plan.events.length + 2 <= maxOps) {
    return [withLast({ puts: [...plan.documents, plan.head], appends: [...plan.events, restoreAppend] })];
  }
  const marker: PutOp = {
    collection: META,
    id: RESTORE_MARKER_ID,
    value: { startedAt: at, restoreEventSeq: plan.restoreEvent.seq },
    expectVersion: 0,
    quiet: true,
  };
  // Events first: an interrupted restore then shows at once as a log with events beyond its head.
  const ops: Array<{ put: PutOp } | { append: AppendOp }> = [...plan.events.map((append) => ({ append })), ...plan.documents.map((put) => ({ put }))];
  const size = Math.max(1, maxOps - 1);
  const commits: Commit[] = [];
  for (let i = 0; i < ops.length; i += size) {
    const stage = ops.slice(i, i + size);
    commits.push({
      puts: [...(i === 0 ? [marker] : []), ...stage.flatMap((op) => ('put' in op ? [op.put] : []))],
      appends: stage.flatMap((op) => ('append' in op ? [op.append] : [])),
    });
  }
  commits.push(
    withLast({ puts: [plan.head], appends: [restoreAppend], deletes: [{ collection: META, id: RESTORE_MARKER_ID, expectVersion: 1, quiet: true }] }),
  );
  return commits;
}

/** What a non-empty store holds, in words; undefined when it holds nothing a restore would write. */
export async function describeContents(store: Store): Promise<string | undefined> {
  const held: string[] = [];
  if (await store.get(META, RESTORE_MARKER_ID)) held.push('an interrupted restore (restore into another empty store, and delete this one)');
  for (const { name } of BACKED_UP_COLLECTIONS) {
    const count = (await store.list(name)).length;
    if (count > 0) held.push(`${count} ${name}`);
  }
  const head = await readAuditHead(store);
  const firstEvent = await store.readLog(AUDIT_LOG, 1, 1);
  if (head.seq > 0 || firstEvent.length > 0) held.push(`an audit log of ${head.seq} events`);
  return held.length > 0 ? held.join(', ') : undefined;
}

export interface RestoreResult {
  restored: { collections: Record<string, number>; auditEvents: number };
  /** The restore's own audit event (the one after the backup's last). */
  restoreEventSeq: number;
  /** How many commits wrote it: 1 unless the backup was too large for one. */
  commits: number;
  /** The target's audit log verified after the commit: the backup's chain and the restore event. */
  audit: ChainVerdict;
}

/**
 * Restores into an empty store only: merging a backup into live state would have to choose between
 * two histories, and the audit log can only be restored as it was (its positions are part of its
 * hashes). The emptiness check gives a clear answer; the commits' own expectations (every document
 * new, the log's next position as planned) make it safe against a writer that arrives in between.
 */
export async function restoreBackup(
  target: Store,
  backup: Backup,
  opts: {
    actor: Actor;
    now: () => Date;
    targetName: string;
    maxOpsPerCommit?: number;
    /** Written with the last commit, and noted in the restore event: how a restore ends a store loss (see resolution()). */
    alsoInLastCommit?: { commit: Commit; note: Record<string, unknown> };
  },
): Promise<RestoreResult> {
  const contents = await describeContents(target);
  if (contents) {
    throw new AppError('conflict', 'store_not_empty', `the target store is not empty (it holds ${contents}): a backup is restored into an empty store only`);
  }
  const at = opts.now().toISOString();
  const plan = planRestore(backup, opts.actor, at, opts.targetName, opts.alsoInLastCommit?.note);
  const commits = restoreCommits(plan, at, opts.maxOpsPerCommit, opts.alsoInLastCommit?.commit);
  for (const [i, commit] of commits.entries()) {
    try {
      await target.commit(commit);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const written = i === 0 ? 'nothing was restored' : 'the restore stopped part-way (its marker stays): restore into another empty store';
      throw new AppError('conflict', 'store_not_empty', `the target store was written to during the restore (${err.reason}); ${written}`);
    }
  }
  const audit = await verifyAuditLog(target);
  return { restored: backupCounts(backup), restoreEventSeq: plan.restoreEvent.seq, commits: commits.length, audit };
}
