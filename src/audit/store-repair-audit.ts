import { seqRange } from '../store/embedded-recovery.js';
import type { RepairReport } from '../store/embedded-store.js';
import type { Store } from '../store/port.js';
import { auditedCommit } from './audited-commit.js';
import type { Actor } from './chain.js';

const REPAIR: Actor = { type: 'system', id: 'repair', name: '--repair' };

/**
 * Records a repair of the embedded store in its audit log: one `store.repair` event per file set
 * aside, saying where the damage was, what was kept and what was lost. Written right after the
 * open, before anything else changes, so the repair stands at the point of the history where it happened.
 */
export async function auditStoreRepairs(store: Store, reports: RepairReport[], now: () => Date): Promise<void> {
  if (reports.length === 0) return;
  await auditedCommit(
    store,
    async () => ({
      commit: {},
      audit: reports.map(({ file, movedTo, offset, problem, lastGoodSeq, ...lost }) => ({
        actor: REPAIR,
        action: 'store.repair',
        target: { type: 'store', id: 'embedded' },
        reason: describeRepair({ file, movedTo, offset, problem, lastGoodSeq, ...lost }),
        before: { file, offset, problem, lastGoodSeq },
        after: { movedTo, ...lost },
      })),
      result: undefined,
    }),
    now,
  );
}

/** One line for the log and the audit event: the damage, what was kept, what was lost, where the file went. */
export function describeRepair(r: RepairReport): string {
  const kept = r.rebuiltFrom
    ? r.rebuiltFrom.length > 0
      ? `rebuilt from ${r.rebuiltFrom.join(' and ')}`
      : 'nothing before it kept'
    : `kept every record up to sequence ${r.lastGoodSeq ?? 'none'}`;
  const lostRecords = r.lostSeqs
    ? `${seqRange(r.lostSeqs.from, r.lostSeqs.to)} lost`
    : r.file === 'HEAD'
      ? 'how many records there were is unknown'
      : 'no acknowledged record known lost';
  const changes = r.lostChanges.length > 0 ? ` (they changed ${r.lostChanges.join(', ')}${r.more > 0 ? ` and ${r.more} more` : ''})` : '';
  const unreadable = r.unreadable > 0 ? `; ${r.unreadable} unreadable line(s)` : '';
  const aside = r.movedTo ? `; set aside as ${r.movedTo}` : '';
  return `${r.file} damaged at byte ${r.offset} (${r.problem}): ${kept}; ${lostRecords}${changes}${unreadable}${aside}`;
}
