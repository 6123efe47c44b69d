import type { Commit, Store } from '../store/port.js';
import { ConflictError } from '../errors/app-error.js';
import { GENESIS_HASH, sealEvent, type AuditHead, type AuditInput, type AuditEvent } from './chain.js';

export const AUDIT_LOG = 'audit';
export const META = 'meta';
export const HEAD_ID = 'audit-head';

/** What a mutation wants written, and the audit event that explains it. */
export interface Mutation<T> {
  commit: Commit;
  audit: AuditInput | AuditInput[];
  result: T;
}

/**
 * Every change people or the controller make to flags, rollouts, policies, environments and tokens
 * goes through here: the state change, the audit events and the audit head are one atomic commit,
 * so there is never such a change without its audit record or the reverse. Two writers commit
 * directly, as bookkeeping that is not a change of anyone's intent: the loop's routine analyses
 * (a rollout's own measurements, RolloutWriter.commitRoutine) and the webhook outbox's jobs.
 * `plan` reads what it needs and returns writes with compare-and-set versions; on any
 * conflict (a racing writer, another replica appending to the log) it is re-run on fresh reads.
 */
export async function auditedCommit<T>(
  store: Store,
  plan: () => Promise<Mutation<T>>,
  now: () => Date,
  /** Waits until this replica serves the commit, so a caller reads its own write on the next request. */
  awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  maxAttempts = 20,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const mutation = await plan();
    const inputs = Array.isArray(mutation.audit) ? mutation.audit : [mutation.audit];
    // A plan that found nothing to change writes nothing, not even an audit event.
    if (inputs.length === 0 && isEmptyCommit(mutation.commit)) return mutation.result;
    // The head is read only when there are events to chain (most rollout analyses have none). Read
    // after the plan is fine: the head's compare-and-set catches any append in between.
    const headDoc = inputs.length === 0 ? null : await store.get<AuditHead>(META, HEAD_ID);
    let head: AuditHead = headDoc?.value ?? { seq: 0, hash: GENESIS_HASH };
    const at = now().toISOString();
    const events: AuditEvent[] = inputs.map((input) => {
      const event = sealEvent(input, head, at);
      head = { seq: event.seq, hash: event.hash };
      return event;
    });
    // The head is read by verification only, so it stays off the change feed (quiet).
    const commit: Commit =
      events.length === 0
        ? mutation.commit
        : {
            ...mutation.commit,
            puts: [...(mutation.commit.puts ?? []), { collection: META, id: HEAD_ID, value: head, expectVersion: headDoc?.version ?? 0, quiet: true }],
            appends: [...(mutation.commit.appends ?? []), ...events.map((e) => ({ log: AUDIT_LOG, seq: e.seq, entry: e }))],
          };
    try {
      const { seq } = await store.commit(commit);
      await awaitApplied(seq);
      return mutation.result;
    } catch (err) {
      // A lost fence will not come back by retrying: the writer is no longer the leader.
      if (!(err instanceof ConflictError) || err.kind === 'fence' || attempt >= maxAttempts) throw err;
      // Back off a little with jitter so racing replicas do not collide in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}

export async function readAuditHead(store: Store): Promise<AuditHead> {
  return (await store.get<AuditHead>(META, HEAD_ID))?.value ?? { seq: 0, hash: GENESIS_HASH };
}

function isEmptyCommit(commit: Commit): boolean {
  return !commit.puts?.length && !commit.deletes?.length && !commit.appends?.length;
}
