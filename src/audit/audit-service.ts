import type { Store } from '../store/port.js';
import type { Wording } from '../rollouts/reason-wording.js';
import { eventBeyondHead, eventsRemovedWithHead, storeLostData } from './chain-wording.js';
import { ChainVerifier, problemOf, type AuditEvent, type ChainVerdict } from './chain.js';
import { AUDIT_LOG, readAuditHead } from './audited-commit.js';

const PAGE = 500;

export async function listAuditEvents(store: Store, fromSeq: number, limit: number): Promise<AuditEvent[]> {
  const rows = await store.readLog<AuditEvent>(AUDIT_LOG, fromSeq, limit);
  return rows.map((r) => r.entry);
}

/**
 * What is known of the log from outside it: the highest event this replica saw the store hold, and
 * a loss of data a replica noticed (StoreWatch.auditMemory). The head is kept apart from the log, so
 * a log cut short under an intact head shows by itself; but a store that restarts without its data,
 * or from an older snapshot, takes the head back together with the log (one commit writes both, so
 * they share every AOF record and RDB snapshot). Only a memory kept outside the store can tell then.
 */
export type AuditMemory = () => Promise<{ seen: number; loss?: { reason: string; lostFrom: { auditSeq: number } } }>;

/** Walks the whole log page by page and checks every link against the stored head, then against what is remembered of it. */
export async function verifyAuditLog(store: Store, memory?: AuditMemory): Promise<ChainVerdict> {
  // Read the head first: events appended while we walk only extend past it and are not judged.
  const head = await readAuditHead(store);
  const verifier = new ChainVerifier();
  let from = 1;
  while (from <= head.seq) {
    const rows = await store.readLog<AuditEvent>(AUDIT_LOG, from, Math.min(PAGE, head.seq - from + 1));
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq > head.seq) break;
      verifier.check(row.seq, row.entry);
    }
    from = rows[rows.length - 1]!.seq + 1;
  }
  const verdict = verifier.finish(head);
  if (!verdict.ok) return verdict;
  // Events past the head are fine only if they were appended while we walked: each append moves the
  // head in the same commit, so a head read after such an event has reached it. An event the head
  // never reaches means the head was deleted or rolled back to hide what came after.
  const [beyond] = await store.readLog<AuditEvent>(AUDIT_LOG, head.seq + 1, 1);
  if (beyond && (await readAuditHead(store)).seq < beyond.seq) {
    return {
      ok: false,
      count: verdict.count,
      headSeq: head.seq,
      brokenAtSeq: beyond.seq,
      ...problemOf(eventBeyondHead(beyond.seq, head.seq)),
    };
  }
  return memory ? compareWithMemory(verdict, await memory()) : verdict;
}

/** An intact chain that is shorter than what was seen of it is not intact: events were lost or removed with their head. */
function compareWithMemory(verdict: ChainVerdict & { ok: true }, known: Awaited<ReturnType<AuditMemory>>): ChainVerdict {
  const broken = (problem: Wording): ChainVerdict => ({
    ok: false,
    count: verdict.count,
    headSeq: verdict.headSeq,
    brokenAtSeq: verdict.headSeq + 1,
    ...problemOf(problem),
  });
  if (known.loss) {
    return broken(storeLostData(known.loss.reason, known.loss.lostFrom.auditSeq, verdict.headSeq));
  }
  if (known.seen > verdict.headSeq) {
    return broken(eventsRemovedWithHead(known.seen, verdict.headSeq));
  }
  return verdict;
}
