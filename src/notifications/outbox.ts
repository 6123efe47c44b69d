import type { Store, Versioned } from '../store/port.js';
import { ConflictError } from '../errors/app-error.js';
import type { NotificationEvent } from './events.js';

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
/**
 * Finished jobs move here, in the same commit that takes them out of the outbox: every replica
 * reads the outbox every poll, so it holds only what still needs delivering (mostly nothing).
 */
export const DELIVERIES = 'webhook-deliveries';

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
  event: NotificationEvent;
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
      for (const job of jobs)
        await this.store.commit({ puts: [put(job)] }).catch((e) => {
          if (!(e instanceof ConflictError)) throw e;
        });
    }
  }

  /** Jobs still to deliver. */
  pending(): Promise<Versioned<DeliveryJob>[]> {
    return this.store.list<DeliveryJob>(OUTBOX);
  }

  /** Jobs delivered or given up on, as far as they are kept. */
  finished(): Promise<Versioned<DeliveryJob>[]> {
    return this.store.list<DeliveryJob>(DELIVERIES);
  }

  /**
   * Writes `next` only if the job is still at the version it was read at: back into the outbox while
   * pending, over to the finished deliveries otherwise. Null when someone else got there first.
   */
  async replace(doc: Versioned<DeliveryJob>, next: DeliveryJob): Promise<Versioned<DeliveryJob> | null> {
    const stays = next.status === 'pending';
    try {
      const { versions } = await this.store.commit(
        stays
          ? { puts: [{ collection: OUTBOX, id: doc.id, value: next, expectVersion: doc.version, quiet: true }] }
          : {
              deletes: [{ collection: OUTBOX, id: doc.id, expectVersion: doc.version, quiet: true }],
              puts: [{ collection: DELIVERIES, id: doc.id, value: next, quiet: true }],
            },
      );
      return { id: doc.id, version: versions[`${stays ? OUTBOX : DELIVERIES}/${doc.id}`] ?? doc.version + 1, value: next };
    } catch (err) {
      if (err instanceof ConflictError) return null;
      throw err;
    }
  }

  /** Keeps a job that was finished at once, without passing through the outbox (a test delivery). */
  async record(job: DeliveryJob): Promise<void> {
    await this.store.commit({ puts: [{ collection: DELIVERIES, id: job.id, value: job, quiet: true }] });
  }

  /** Drops the pending jobs of webhooks that were deleted. */
  async dropOrphans(pending: Versioned<DeliveryJob>[], liveWebhooks: Set<string>): Promise<void> {
    await this.deleteQuietly(
      OUTBOX,
      pending.filter((d) => !liveWebhooks.has(d.value.webhookId)),
    );
  }

  /** Removes finished jobs, keeping the newest `keep` per live webhook for the deliveries page. */
  async prune(keep: number, liveWebhooks: Set<string>): Promise<void> {
    const finished = (await this.finished()).sort((a, b) => b.value.createdAt.localeCompare(a.value.createdAt));
    const kept = new Map<string, number>();
    const doomed = finished.filter((d) => {
      const n = (kept.get(d.value.webhookId) ?? 0) + 1;
      kept.set(d.value.webhookId, n);
      return n > keep || !liveWebhooks.has(d.value.webhookId);
    });
    await this.deleteQuietly(DELIVERIES, doomed);
  }

  private async deleteQuietly(collection: string, docs: Versioned<DeliveryJob>[]): Promise<void> {
    if (docs.length === 0) return;
    await this.store.commit({ deletes: docs.map((d) => ({ collection, id: d.id, expectVersion: d.version, quiet: true })) }).catch((err) => {
      // Another replica deleted or touched one of them at the same time: the next round tries again.
      if (!(err instanceof ConflictError)) throw err;
    });
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
