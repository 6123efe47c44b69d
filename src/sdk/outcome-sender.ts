import { requestsIn, splitReports, type OutcomeRecord } from './outcome-batch.js';

/**
 * Posts outcome batches to the controller. A batch whose post fails is kept and tried again at the
 * next flush, oldest first, within two bounds: a number of attempts (the controller counts a report
 * in the time bucket it arrives in, so a very late one would describe the wrong minutes) and a number
 * of batches held (memory). What goes past either bound is dropped and counted, never thrown.
 */

export interface SenderOptions {
  endpoint: string;
  token: string;
  appName: string;
  timeoutMs: number;
  maxAttempts: number;
  maxPendingBatches: number;
  fetch: typeof fetch;
  onError: (error: Error) => void;
}

export interface SenderStats {
  /** Records and the requests they stand for, accepted by the controller. */
  sentRecords: number;
  sentRequests: number;
  /** Given up on: refused by the controller, out of attempts, or pushed out of the retry buffer. */
  droppedRecords: number;
  droppedRequests: number;
  /** Batches waiting for the next flush because their post failed. */
  pendingBatches: number;
  lastError: string | undefined;
}

/**
 * Records per post. A record with a full histogram (99 bounds) and every user bucket takes up to
 * about 4.2 kB of JSON, and a post's user samples at most MAX_USERS_PER_REPORT × 15 bytes (300 kB),
 * so 150 records stay under the controller's default body limit for outcome reports
 * (BODY_LIMIT_OUTCOMES, 1 MB); a whole report of MAX_RECORDS_PER_REPORT could not.
 */
export const RECORDS_PER_POST = 150;

interface PendingBatch {
  records: OutcomeRecord[];
  /** When the batch began counting (ms since the epoch): its users count from then. */
  start: number;
  attempts: number;
}

/** A refusal that will not change on retry (bad token, bad body); 408 and 429 are worth retrying. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export class OutcomeSender {
  private pending: PendingBatch[] = [];
  private counters = { sentRecords: 0, sentRequests: 0, droppedRecords: 0, droppedRequests: 0 };
  private lastError: string | undefined;

  constructor(private readonly options: SenderOptions) {}

  stats(): SenderStats {
    return { ...this.counters, pendingBatches: this.pending.length, lastError: this.lastError };
  }

  /** Queues new records counted since `start` (split into posts the controller takes) and posts everything queued. */
  async send(records: OutcomeRecord[], start = Date.now()): Promise<void> {
    for (const report of splitReports(records, RECORDS_PER_POST)) this.pending.push({ records: report, start, attempts: 0 });
    while (this.pending.length > 0) {
      const batch = this.pending[0]!;
      const outcome = await this.post(batch.records, batch.start);
      if (outcome === 'retry') {
        batch.attempts += 1;
        if (batch.attempts >= this.options.maxAttempts) this.drop(this.pending.shift()!.records);
        // The controller is down or busy: the rest would fail the same way, so wait for the next flush.
        break;
      }
      this.pending.shift();
      if (outcome === 'sent') {
        this.counters.sentRecords += batch.records.length;
        this.counters.sentRequests += requestsIn(batch.records);
      } else this.drop(batch.records);
    }
    while (this.pending.length > this.options.maxPendingBatches) this.drop(this.pending.shift()!.records);
  }

  private drop(records: OutcomeRecord[]): void {
    this.counters.droppedRecords += records.length;
    this.counters.droppedRequests += requestsIn(records);
  }

  private async post(records: OutcomeRecord[], start: number): Promise<'sent' | 'retry' | 'refused'> {
    const { endpoint, token, appName, timeoutMs } = this.options;
    try {
      const res = await this.options.fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: token },
        body: JSON.stringify({ appName, start, records }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await res.text();
      if (res.ok) return 'sent';
      this.fail(`the controller answered ${res.status} to an outcome report: ${body.slice(0, 200)}`);
      return isPermanent(res.status) ? 'refused' : 'retry';
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
      this.fail(`outcome report not delivered: ${err instanceof Error ? err.message : String(err)}${cause}`);
      return 'retry';
    }
  }

  private fail(message: string): void {
    this.lastError = message;
    this.options.onError(new Error(message));
  }
}
