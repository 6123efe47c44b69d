import type { Logger } from '../logger.js';
import { sendWebhook } from './delivery.js';
import { scopeOf, type NotificationEvent } from './events.js';
import type { Mailer } from './mailer.js';
import type { DeliveryAttempt, DeliveryJob } from './outbox.js';
import { judgeAttempt, type AttemptResult, type RetryPolicy } from './retry-policy.js';
import { destinationOf, type StoredWebhook } from './webhook-model.js';

export interface DelivererOptions {
  /** Names this process in the attempts it records. */
  replicaId: string;
  now: () => Date;
  random: () => number;
  retry: RetryPolicy;
  attemptTimeoutMs: number;
  userAgent: string;
  /** Let deliveries reach loopback, private and link-local addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks: boolean;
}

/**
 * One attempt at one job, whatever the format: an HTTP POST, or an e-mail through the SMTP server.
 * It records the attempt, judges it (delivered, retried later, given up) and logs it, the same way
 * for the outbox's jobs and for a test sent from the admin API, so a test shows what a real event
 * would meet. Log lines name where a delivery went by its origin only: many URLs are credentials.
 */
export class Deliverer {
  constructor(
    private readonly logger: Logger,
    private readonly opts: DelivererOptions,
    /** Undefined when no SMTP server is configured. */
    private readonly mailer: Mailer | undefined,
    /** Aborts HTTP attempts at shutdown. */
    private readonly signal: AbortSignal,
  ) {}

  /** The job after one attempt (`retry: false`: a test, given up on after its one attempt). */
  async attemptJob(job: DeliveryJob, webhook: StoredWebhook, attempt: number, retry = true): Promise<{ next: DeliveryJob; record: DeliveryAttempt }> {
    const startedAt = this.opts.now();
    const t0 = performance.now();
    const result = await this.send(webhook, job.event, attempt);
    const record: DeliveryAttempt = {
      at: startedAt.toISOString(),
      attempt,
      durationMs: Math.round(performance.now() - t0),
      replica: this.opts.replicaId,
      ...(result.status !== undefined ? { status: result.status } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    };
    const verdict = judgeAttempt(result, attempt, retry ? this.opts.retry : { ...this.opts.retry, maxAttempts: attempt }, this.opts.random);
    const { claim: _released, ...rest } = job;
    const base = { ...rest, attempts: [...job.attempts, record] };
    const finishedAt = this.opts.now().toISOString();
    const next: DeliveryJob =
      verdict.kind === 'delivered'
        ? { ...base, status: 'delivered', finishedAt }
        : verdict.kind === 'give-up'
          ? { ...base, status: 'failed', finishedAt, gaveUp: verdict.reason }
          : { ...base, nextAttemptAt: new Date(this.opts.now().getTime() + verdict.delayMs).toISOString() };
    const where = {
      webhook: webhook.id,
      format: webhook.format,
      to: destinationOf(webhook),
      event: job.event.type,
      eventId: job.event.id,
      ...scopeOf(job.event),
      attempt,
      status: result.status,
      error: result.error,
    };
    if (verdict.kind === 'give-up') this.logger.error({ ...where, reason: verdict.reason }, 'webhook delivery failed for good');
    else if (verdict.kind === 'retry') this.logger.warn({ ...where, retryInMs: verdict.delayMs }, 'webhook delivery failed; will retry');
    else this.logger.info(where, 'webhook delivered');
    return { next, record };
  }

  private send(webhook: StoredWebhook, event: NotificationEvent, attempt: number): Promise<AttemptResult> {
    if (webhook.format === 'email') {
      if (!this.mailer) return Promise.resolve({ answer: 'refused', error: 'no SMTP server is configured (SMTP_URL or SMTP_HOST)' });
      return this.mailer.send(webhook.to ?? [], webhook.id, event, attempt, webhook.language ?? 'en');
    }
    if (!webhook.url) return Promise.resolve({ answer: 'refused', error: 'no url stored for this webhook' });
    const target = { format: webhook.format, url: webhook.url, language: webhook.language ?? 'en', ...(webhook.secret ? { secret: webhook.secret } : {}) };
    return sendWebhook(target, event, attempt, {
      now: this.opts.now,
      timeoutMs: this.opts.attemptTimeoutMs,
      signal: this.signal,
      userAgent: this.opts.userAgent,
      allowPrivateNetworks: this.opts.allowPrivateNetworks,
    });
  }
}
