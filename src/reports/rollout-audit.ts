import type { Store } from '../store/port.js';
import type { AuditEvent } from '../audit/chain.js';
import { AUDIT_LOG, readAuditHead } from '../audit/audited-commit.js';
import type { Rollout } from '../rollouts/rollout-model.js';

const PAGE = 500;
/** A report reads at most this many events past the rollout's start; beyond, it says it stopped. */
export const AUDIT_SCAN_LIMIT = 20_000;
/** Replicas' clocks may differ a little: start looking this long before the rollout was created. */
const CLOCK_SLACK_MS = 60_000;

async function atOf(store: Store, seq: number): Promise<{ seq: number; at: number } | undefined> {
  const [row] = await store.readLog<AuditEvent>(AUDIT_LOG, seq, 1);
  return row ? { seq: row.seq, at: Date.parse(row.entry.at) } : undefined;
}

/**
 * The first seq written at or after `since`. The log has no index by time, but events are appended
 * in commit order with the committer's clock, so a binary search over seq finds the rollout's
 * start in a few reads instead of walking the whole log from its first event.
 */
async function firstSeqSince(store: Store, since: number, headSeq: number): Promise<number> {
  let lo = 1;
  let hi = headSeq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await atOf(store, mid);
    if (!row || row.at >= since) hi = mid;
    else lo = Math.max(mid, row.seq) + 1;
  }
  return lo;
}

function concerns(rollout: Rollout, e: AuditEvent): boolean {
  if (e.target.type === 'rollout') return e.target.id === rollout.id;
  // The flag's own changes in the rollout's environment: the ramps it made, kills and restores.
  return e.target.type === 'flag' && e.target.id === rollout.flag && e.target.environment === rollout.environment;
}

/** The audit events about one rollout and its flag in its environment, from its start on. */
export async function auditEventsFor(store: Store, rollout: Rollout, scanLimit = AUDIT_SCAN_LIMIT): Promise<{ events: AuditEvent[]; truncated: boolean }> {
  const head = await readAuditHead(store);
  if (head.seq === 0) return { events: [], truncated: false };
  let from = await firstSeqSince(store, Date.parse(rollout.createdAt) - CLOCK_SLACK_MS, head.seq);
  const events: AuditEvent[] = [];
  let scanned = 0;
  while (from <= head.seq) {
    if (scanned >= scanLimit) return { events, truncated: true };
    const rows = await store.readLog<AuditEvent>(AUDIT_LOG, from, Math.min(PAGE, head.seq - from + 1, scanLimit - scanned));
    if (rows.length === 0) break;
    for (const row of rows) if (row.seq <= head.seq && concerns(rollout, row.entry)) events.push(row.entry);
    scanned += rows.length;
    from = rows.at(-1)!.seq + 1;
  }
  return { events, truncated: false };
}
