import { z } from 'zod';
import type { AuditEvent } from '../audit/chain.js';
import { AUDIT_LOG } from '../audit/audited-commit.js';
import type { Store } from '../store/port.js';

/**
 * The newest audit events first, filtered, without their before/after documents: what the audit
 * page lists. The log is read backwards from its head page by page, so the page costs the same
 * however long the log is; a filter that matches rarely stops after SCAN_LIMIT events and says
 * where to continue.
 */

const PAGE = 500;
export const SCAN_LIMIT = 10_000;

export const auditFilterSchema = z.object({
  action: z.string().max(200).optional(),
  target: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  /** Only events with a lower seq (for "older"). */
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export interface AuditSummary {
  seq: number;
  at: string;
  actor: AuditEvent['actor'];
  action: string;
  target: AuditEvent['target'];
  reason?: string;
  hash: string;
}

export interface RecentAudit {
  headSeq: number;
  events: AuditSummary[];
  /** Pass as `before` to continue further back; null when the start of the log was reached. */
  nextBefore: number | null;
}

const contains = (haystack: string, needle: string | undefined) => !needle || haystack.toLowerCase().includes(needle.toLowerCase());

export function matchesFilter(event: AuditEvent, filter: Pick<AuditFilter, 'action' | 'target' | 'actor'>): boolean {
  const t = event.target;
  return (
    contains(event.action, filter.action) &&
    contains(`${t.type}:${t.id} ${t.environment ?? ''}`, filter.target) &&
    contains(`${event.actor.name} ${event.actor.id}`, filter.actor)
  );
}

function summarise(e: AuditEvent): AuditSummary {
  return { seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, ...(e.reason ? { reason: e.reason } : {}), hash: e.hash };
}

export async function recentAuditEvents(store: Store, headSeq: number, filter: AuditFilter): Promise<RecentAudit> {
  const events: AuditSummary[] = [];
  let below = Math.min(filter.before ?? headSeq + 1, headSeq + 1);
  let scanned = 0;
  while (below > 1 && events.length < filter.limit && scanned < SCAN_LIMIT) {
    const from = Math.max(1, below - PAGE);
    const rows = await store.readLog<AuditEvent>(AUDIT_LOG, from, below - from);
    const pageTop = below;
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      if (row.seq >= below) continue;
      scanned++;
      below = row.seq;
      if (matchesFilter(row.entry, filter)) events.push(summarise(row.entry));
      if (events.length >= filter.limit) break;
    }
    // A page with nothing below where it started (a gap in the log) must still move on.
    if (below === pageTop) below = from;
  }
  return { headSeq, events, nextBefore: below > 1 ? below : null };
}
