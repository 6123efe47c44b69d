import { Mutex, withTimeout, type MutexInterface } from 'async-mutex';
import type { Commit, CommitResult, Store } from '../store/port.js';
import { AppError, ConflictError, STORE_RETRY_AFTER_SECONDS } from '../errors/app-error.js';
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
 * How long an audited write keeps trying while it races other writers for the audit head (and for
 * its documents). A bound in time, not in attempts: under a burst of writers every attempt is quick
 * and the store moves on, so giving up after a count of them turned ordinary contention into errors.
 * Past it the caller is told to retry (503 with Retry-After), never shown a 500.
 */
export const AUDIT_COMMIT_BUDGET_MS = 10_000;
/** Backoff between attempts that met a conflict: exponential, capped, with full jitter. */
const BACKOFF_FIRST_MS = 4;
const BACKOFF_CAP_MS = 250;

/**
 * Every audited write of this process to one store waits its turn for the audit head: reading the
 * head, sealing the events onto it and committing is one short critical section, so writers on
 * different documents never fail each other's head compare-and-set. Plans (their reads) still run
 * side by side. Other processes (replicas) still race for the head through the store's compare-and-set,
 * which the backoff resolves.
 */
const headLocks = new WeakMap<Store, MutexInterface>();

function headLock(store: Store): MutexInterface {
  let lock = headLocks.get(store);
  if (!lock) headLocks.set(store, (lock = withTimeout(new Mutex(), AUDIT_COMMIT_BUDGET_MS, busy())));
  return lock;
}

function busy(): AppError {
  return new AppError(
    'unavailable',
    'store_busy',
    `the write kept meeting concurrent writes for ${AUDIT_COMMIT_BUDGET_MS / 1000} s; retry shortly`,
    undefined,
    STORE_RETRY_AFTER_SECONDS,
  );
}

/**
 * Every change people or the controller make to flags, rollouts, policies, environments and tokens
 * goes through here: the state change, the audit events and the audit head are one atomic commit,
 * so there is never such a change without its audit record or the reverse. A few writers commit
 * directly, as bookkeeping that is not a change of anyone's intent: the loop's routine analyses
 * (a rollout's own measurements, RolloutWriter.commitRoutine), the webhook outbox's jobs, and the
 * store's identity and loss marker (src/store-loss/).
 * `plan` reads what it needs and returns writes with compare-and-set versions; on any
 * conflict (a racing writer, another replica appending to the log) it is re-run on fresh reads,
 * for up to `budgetMs` (then AppError store_busy: 503 with Retry-After).
 */
export async function auditedCommit<T>(
  store: Store,
  plan: () => Promise<Mutation<T>>,
  now: () => Date,
  /** Waits until this replica serves the commit, so a caller reads its own write on the next request. */
  awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  budgetMs = AUDIT_COMMIT_BUDGET_MS,
): Promise<T> {
  const deadline = performance.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    const mutation = await plan();
    const inputs = Array.isArray(mutation.audit) ? mutation.audit : [mutation.audit];
    // A plan that found nothing to change writes nothing, not even an audit event.
    if (inputs.length === 0 && isEmptyCommit(mutation.commit)) return mutation.result;
    try {
      // Without events (most rollout analyses) there is no head to wait for.
      const { seq } =
        inputs.length === 0
          ? await store.commit(mutation.commit)
          : await headLock(store).runExclusive(() => commitWithEvents(store, mutation.commit, inputs, now));
      await awaitApplied(seq);
      return mutation.result;
    } catch (err) {
      // A lost fence will not come back by retrying: the writer is no longer the leader.
      if (!(err instanceof ConflictError) || err.kind === 'fence') throw err;
      const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1));
      if (performance.now() + delay > deadline) throw busy();
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Reads the head, seals the events onto it and commits them with the change and the new head. */
async function commitWithEvents(store: Store, change: Commit, inputs: AuditInput[], now: () => Date): Promise<CommitResult> {
  // Read after the plan is fine: the head's compare-and-set catches any append in between.
  const headDoc = await store.get<AuditHead>(META, HEAD_ID);
  let head: AuditHead = headDoc?.value ?? { seq: 0, hash: GENESIS_HASH };
  const at = now().toISOString();
  const events: AuditEvent[] = inputs.map((input) => {
    const event = sealEvent(input, head, at);
    head = { seq: event.seq, hash: event.hash };
    return event;
  });
  // Nobody follows the head from the change feed (the next commit, verification and the replicas' look
  // at the store read it directly), so it stays off it (quiet).
  return store.commit({
    ...change,
    puts: [...(change.puts ?? []), { collection: META, id: HEAD_ID, value: head, expectVersion: headDoc?.version ?? 0, quiet: true }],
    appends: [...(change.appends ?? []), ...events.map((e) => ({ log: AUDIT_LOG, seq: e.seq, entry: e }))],
  });
}

export async function readAuditHead(store: Store): Promise<AuditHead> {
  return (await store.get<AuditHead>(META, HEAD_ID))?.value ?? { seq: 0, hash: GENESIS_HASH };
}

function isEmptyCommit(commit: Commit): boolean {
  return !commit.puts?.length && !commit.deletes?.length && !commit.appends?.length;
}
