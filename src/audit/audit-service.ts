import type { Store } from '../store/port.js';
import { ChainVerifier, type AuditEvent, type ChainVerdict } from './chain.js';
import { AUDIT_LOG, readAuditHead } from './audited-commit.js';

const PAGE = 500;

export async function listAuditEvents(store: Store, fromSeq: number, limit: number): Promise<AuditEvent[]> {
  const rows = await store.readLog<AuditEvent>(AUDIT_LOG, fromSeq, limit);
  return rows.map((r) => r.entry);
}

/** Walks the whole log page by page and checks every link against the stored head. */
export async function verifyAuditLog(store: Store): Promise<ChainVerdict> {
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
      problem: `event ${beyond.seq} lies beyond the head, which records event ${head.seq}: the head was deleted or rolled back`,
    };
  }
  return verdict;
}
