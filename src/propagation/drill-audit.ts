import { randomBytes } from 'node:crypto';
import type { Actor, AuditEvent } from '../audit/chain.js';
import { AUDIT_LOG, auditedCommit, readAuditHead } from '../audit/audited-commit.js';
import { AppError } from '../errors/app-error.js';
import type { Store } from '../store/port.js';
import type { DrillRecord } from './drill-record.js';

/**
 * A drill's record lives in the audit log, as the `after` of a `flag.drill` event: one place, in
 * the hash chain, and in every backup. Its position in the log is the drill's id.
 */

export const DRILL_ACTION = 'flag.drill';
/** How far back from the log's end a drill looks for the event it just appended (other writers may append meanwhile). */
const OWN_EVENT_SEARCH = 1_000;
const PAGE = 100;

export interface StoredDrill extends DrillRecord {
  /** Ties the event to the drill that wrote it. */
  id: string;
}

/** Appends the record; answers its position in the audit log (undefined in the unlikely case it is not found near the end). */
export async function recordDrill(store: Store, record: DrillRecord, actor: Actor, now: () => Date): Promise<number | undefined> {
  const stored: StoredDrill = { ...record, id: randomBytes(8).toString('hex') };
  await auditedCommit(
    store,
    async () => ({
      commit: {},
      audit: {
        actor,
        action: DRILL_ACTION,
        target: { type: 'flag', id: record.flag, environment: record.environment },
        reason: record.reason,
        before: null,
        after: stored,
      },
      result: undefined,
    }),
    now,
  );
  const head = await readAuditHead(store);
  for (let to = head.seq; to > 0 && to > head.seq - OWN_EVENT_SEARCH; to -= PAGE) {
    const from = Math.max(1, to - PAGE + 1);
    const rows = await store.readLog<AuditEvent>(AUDIT_LOG, from, to - from + 1);
    const own = rows.find((row) => row.entry.action === DRILL_ACTION && (row.entry.after as StoredDrill | null)?.id === stored.id);
    if (own) return own.seq;
  }
  return undefined;
}

/** The drill recorded at `seq` for this flag and environment, with who ran it and when; 404 otherwise. */
export async function readDrill(store: Store, flag: string, environment: string, seq: number): Promise<{ event: AuditEvent; record: StoredDrill }> {
  const [row] = await store.readLog<AuditEvent>(AUDIT_LOG, seq, 1);
  const event = row?.seq === seq ? row.entry : undefined;
  if (!event || event.action !== DRILL_ACTION || event.target.id !== flag || event.target.environment !== environment) {
    throw AppError.notFound(`drill ${seq} of flag "${flag}" in ${environment}`);
  }
  return { event, record: event.after as StoredDrill };
}
