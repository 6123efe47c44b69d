import type { Commit, PutOp, Store } from '../store/port.js';
import { ConflictError } from '../store/errors.js';
import { AUDIT_LOG, HEAD_ID, META, readAuditHead } from '../audit/audited-commit.js';
import { ChainVerifier, sealEvent, type Actor, type AuditEvent, type ChainVerdict } from '../audit/chain.js';
import { verifyAuditLog } from '../audit/audit-service.js';
import { AppError, validationError } from '../http/app-error.js';
import { asBackup, BACKED_UP_COLLECTIONS, backupCounts, backupSchema, type Backup } from './backup-format.js';

export const RESTORE_ACTION = 'backup.restore';

/** Checks a backup's shape and its audit chain before anything is written; throws a 400 or 422 naming the problem. */
export function parseBackup(input: unknown): Backup {
  const parsed = backupSchema.safeParse(input);
  if (!parsed.success) throw validationError('backup', parsed.error);
  return assertChainIntact(asBackup(parsed.data));
}

/** A backup whose audit chain does not verify was edited or cut short: refused whole (422). */
export function assertChainIntact(backup: Backup): Backup {
  const verifier = new ChainVerifier();
  backup.audit.events.forEach((event, i) => verifier.check(i + 1, event));
  const verdict = verifier.finish(backup.audit.head);
  if (!verdict.ok) {
    throw new AppError(422, 'backup_audit_broken', `the backup's audit log does not verify: ${verdict.problem}`, verdict);
  }
  return backup;
}

/**
 * One commit that writes the whole backup: every document as new (expected version 0), the audit
 * events at their own positions, then one more event that records the restore, chained on the
 * backup's head. Pure, so the plan can be checked without a store.
 */
export function planRestore(backup: Backup, actor: Actor, at: string, target: string): { commit: Commit; restoreEvent: AuditEvent } {
  const puts: PutOp[] = [];
  for (const { name, quiet } of BACKED_UP_COLLECTIONS) {
    for (const doc of backup.collections[name] ?? []) puts.push({ collection: name, id: doc.id, value: doc.value, expectVersion: 0, quiet });
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
      },
    },
    backup.audit.head,
    at,
  );
  puts.push({ collection: META, id: HEAD_ID, value: { seq: restoreEvent.seq, hash: restoreEvent.hash }, expectVersion: 0, quiet: true });
  const appends = [...backup.audit.events, restoreEvent].map((entry) => ({ log: AUDIT_LOG, seq: entry.seq, entry }));
  return { commit: { puts, appends }, restoreEvent };
}

/** What a non-empty store holds, in words; undefined when it holds nothing a restore would write. */
export async function describeContents(store: Store): Promise<string | undefined> {
  const held: string[] = [];
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
  /** The target's audit log verified after the commit: the backup's chain and the restore event. */
  audit: ChainVerdict;
}

/**
 * Restores into an empty store only: merging a backup into live state would have to choose between
 * two histories, and the audit log can only be restored as it was (its positions are part of its
 * hashes). The emptiness check gives a clear answer; the commit's own expectations (every document
 * new, the log's next position 1) make it safe against a writer that arrives in between.
 */
export async function restoreBackup(target: Store, backup: Backup, opts: { actor: Actor; now: () => Date; targetName: string }): Promise<RestoreResult> {
  const contents = await describeContents(target);
  if (contents) {
    throw new AppError(409, 'store_not_empty', `the target store is not empty (it holds ${contents}): a backup is restored into an empty store only`);
  }
  const { commit, restoreEvent } = planRestore(backup, opts.actor, opts.now().toISOString(), opts.targetName);
  try {
    await target.commit(commit);
  } catch (err) {
    if (err instanceof ConflictError) throw new AppError(409, 'store_not_empty', `the target store was written to during the restore (${err.reason}); nothing was restored`);
    throw err;
  }
  const audit = await verifyAuditLog(target);
  return { restored: backupCounts(backup), restoreEventSeq: restoreEvent.seq, audit };
}
