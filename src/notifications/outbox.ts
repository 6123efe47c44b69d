import type { Store, Versioned } from '../store/port.js';
import { ConflictError } from '../store/errors.js';
import type { RolloutEvent } from './events.js';

/**
 * The outbox: one document per (event, webhook) in the store, so a delivery survives the process
 * that queued it. Jobs are claimed with compare-and-set and a claim expiry (a lease in miniature):
 * whoever claims a job delivers it; if that process dies, the claim runs out and any replica takes
 * the job over. Delivery is therefore at least once: a replica that dies after the receiver
 * answered but before it recorded the answer leaves a job that is sent again, with the same event
 * id, which receivers use to drop the repeat.
 *
 * Jobs are written with plain commits, not through auditedCommit: they are the bookkeeping of
 * messages about changes that are already in the audit log, and an audit event per attempt would
 * bury the changes people made. Writes are quiet: no replica follows the outbox from the feed.
 */
export const OUTBOX = 'webhook-outbox';

export interface DeliveryAttempt {
  at: string;
  attempt: number;
  durationMs: number;
  status?: number;
  error?: string;
  replica: string;
}

export type JobStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryJob {
  id: string;
  webhookId: string;
  event: RolloutEvent;
  status: JobStatus;
  /** Attempts started, including any whose deliverer died before recording its outcome. */
  started: number;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string;
  /** Held while an attempt is in flight; past `until`, anyone may take the job over. */
  claim?: { by: string; until: string };
  createdAt: string;
  finishedAt?: string;
  /** Why it failed for good. */
  gaveUp?: string;
}

export const jobId = (eventId: string, webhookId: string) => `${eventId}~${webhookId}`;

export class Outbox {
  constructor(private readonly store: Store) {}

  /** Adds jobs that are not there yet (a job id is fixed by event and webhook, so adding twice is harmless). */
  async add(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const put = (j: DeliveryJob) => ({ collection: OUTBOX, id: j.id, value: j, expectVersion: 0, quiet: true });
    try {
      await this.store.commit({ puts: jobs.map(put) });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Some were already written (a retried write that had landed): add the rest one by one.
      for (const job of jobs) await this.store.commit({ puts: [put(job)] }).catch((e) => {
        if (!(e instanceof ConflictError)) throw e;
      });
    }
  }

  all(): Promise<Versioned<DeliveryJob>[]> {
    return this.store.list<DeliveryJob>(OUTBOX);
  }

  /** Writes `next` only if the job is still at the version it was read at; null when someone else got there first. */
  async replace(doc: Versioned<DeliveryJob>, next: DeliveryJob): Promise<Versioned<DeliveryJob> | null> {
    try {
      const { versions } = await this.store.commit({ puts: [{ collection: OUTBOX, id: doc.id, value: next, expectVersion: doc.version, quiet: true }] });
      return { id: doc.id, version: versions[`${OUTBOX}/${doc.id}`] ?? doc.version + 1, value: next };
    } catch (err) {
      if (err instanceof ConflictError) return null;
      throw err;
    }
  }

  /** Removes finished jobs, keeping the newest `keep` per webhook for the deliveries page; returns how many went. */
  async prune(docs: Versioned<DeliveryJob>[], keep: number, liveWebhooks: Set<string>): Promise<number> {
    const finished = docs.filter((d) => d.value.status !== 'pending' || !liveWebhooks.has(d.value.webhookId)).sort((a, b) => b.value.createdAt.localeCompare(a.value.createdAt));
    const kept = new Map<string, number>();
    const doomed = finished.filter((d) => {
      if (!liveWebhooks.has(d.value.webhookId)) return true;
      const n = (kept.get(d.value.webhookId) ?? 0) + 1;
      kept.set(d.value.webhookId, n);
      return n > keep;
    });
    if (doomed.length === 0) return 0;
    await this.store
      .commit({ deletes: doomed.map((d) => ({ collection: OUTBOX, id: d.id, expectVersion: d.version, quiet: true })) })
      .catch((err) => {
        // Another replica pruned or touched one of them at the same time: the next round tries again.
        if (!(err instanceof ConflictError)) throw err;
      });
    return doomed.length;
  }
}

/** Due for an attempt at `now`: pending, its time has come, and nobody holds a live claim on it. */
export function isDue(job: DeliveryJob, now: Date): boolean {
  const t = now.getTime();
  return job.status === 'pending' && Date.parse(job.nextAttemptAt) <= t && (!job.claim || Date.parse(job.claim.until) <= t);
}

/** When the job next needs looking at (its retry time, or its claim's expiry), or undefined when finished. */
export function nextLookAt(job: DeliveryJob): number | undefined {
  if (job.status !== 'pending') return undefined;
  return Math.max(Date.parse(job.nextAttemptAt), job.claim ? Date.parse(job.claim.until) : 0);
}
