import type { Store, Versioned } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { RolloutChange } from '../rollouts/rollout-writer.js';
import { ACTIVE } from '../rollouts/rollout-writer.js';
import { ROLLOUTS, type Rollout } from '../rollouts/rollout-model.js';
import type { KillSwitchChange } from '../flags/flag-service.js';
import { Deliverer, type DelivererOptions } from './deliverer.js';
import { deriveEvents, flagEvent, scopeOf, type NotificationEvent } from './events.js';
import { withLinks } from './links.js';
import type { Mailer } from './mailer.js';
import { isDue, jobId, nextLookAt, Outbox, type DeliveryAttempt, type DeliveryJob } from './outbox.js';
import { testEvent } from './published-events.js';
import { wants, WEBHOOKS, type StoredWebhook } from './webhook-model.js';

/** How often finished deliveries beyond what is kept are removed. */
const PRUNE_EVERY_MS = 60_000;
/** Outbox writes in flight at once; beyond this, notifications are dropped (and logged). */
const MAX_QUEUING = 1_000;

export interface DispatcherOptions extends DelivererOptions {
  /** How often the outbox is looked at when nothing wakes the dispatcher sooner. */
  pollMs: number;
  /** Deliveries in flight at once from this process. */
  concurrency: number;
  /** Undelivered jobs beyond this are not queued (and the loss is logged): a dead receiver cannot grow the store without bound. */
  maxPending: number;
  /** Finished deliveries kept per webhook, for GET …/deliveries. */
  keepPerWebhook: number;
  /** The dashboard's address (PUBLIC_URL) for the links in every event; unset: paths on the controller. */
  publicUrl?: string;
}

/**
 * Turns committed rollout changes, kill switches people flip and the events other parts publish
 * into webhook deliveries, in the background of the replica that made the change (RolloutService
 * and FlagService tell only the process that committed, and publishers publish where they acted, so
 * each event is queued once however many replicas run). Queuing writes a job per webhook into the
 * store's outbox; delivering claims due jobs and sends them (Deliverer: HTTP or e-mail) with bounded
 * concurrency, so the controller never waits for a receiver. A job queued here and not delivered (this process died) is delivered by
 * another replica once its claim expires, or by this one after a restart.
 *
 * One gap remains: the rollout commit and the outbox write are two writes, so a process that
 * dies between them loses that event. A listener cannot join the rollout's commit; the gap is one
 * store round trip wide.
 */
export class NotificationDispatcher {
  private readonly outbox: Outbox;
  private readonly deliverer: Deliverer;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly queuing = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private pending = 0;
  private stopped = false;
  private prunedAt = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly opts: DispatcherOptions,
    /** Sends e-mail webhooks; undefined when no SMTP server is configured. */
    mailer?: Mailer,
  ) {
    this.outbox = new Outbox(store);
    this.deliverer = new Deliverer(logger, opts, mailer, this.shutdown.signal);
  }

  /**
   * For the parts that publish their own events (published-events.ts: scheduled starts, pipeline
   * promotions, alerts acted on, drills): queued to every webhook that wants them, in the
   * background, like a rollout's. Call it once the change it tells of is committed.
   */
  readonly publish = (event: NotificationEvent): void => {
    const { flag, environment } = scopeOf(event);
    this.enqueue({ event: event.type, flag, environment }, async () => [event]);
  };

  /** The RolloutService listener: returns at once; the work happens in the background. */
  readonly onRolloutChange = (change: RolloutChange): void => {
    const events = deriveEvents(change.before, change.after);
    if (events.length === 0) return;
    this.enqueue({ rollout: change.after.id }, async () => events);
  };

  /**
   * The FlagService listener for kill switches people flip (FlagService tells only of switches that
   * moved, on the replica that moved them). The rollout active in the environment, if any, is looked
   * up in the background: the kill itself never waits for it.
   */
  readonly onKillSwitchChange = (change: KillSwitchChange): void => {
    this.enqueue({ flag: change.flag, environment: change.environment }, async () => [
      flagEvent(change, await this.activeRollout(change.flag, change.environment)),
    ]);
  };

  private async activeRollout(flag: string, environment: string): Promise<Pick<Rollout, 'id' | 'policy' | 'state' | 'percentage'> | undefined> {
    const active = await this.store.get<{ id: string }>(ACTIVE, `${environment}:${flag}`);
    if (!active) return undefined;
    // The record, not the whole rollout: only these fields are read (see rollout-docs.ts).
    return (await this.store.get<Pick<Rollout, 'id' | 'policy' | 'state' | 'percentage'>>(ROLLOUTS, active.value.id))?.value;
  }

  private enqueue(where: Record<string, string>, events: () => Promise<NotificationEvent[]>): void {
    if (this.stopped) return;
    if (this.queuing.size >= MAX_QUEUING) {
      // The store is not answering: keep memory bounded rather than pile up writes that may never land.
      this.logger.error(where, 'webhook notifications dropped: too many still waiting to be queued');
      return;
    }
    const queued = events()
      .then((list) => this.queue(where, list))
      .catch((err) => this.logger.error({ ...where, err: String(err) }, 'webhook notifications could not be queued and are lost'));
    this.queuing.add(queued);
    void queued.finally(() => this.queuing.delete(queued));
  }

  private async queue(where: Record<string, string>, events: NotificationEvent[]): Promise<void> {
    const webhooks = (await this.store.list<StoredWebhook>(WEBHOOKS)).map((d) => d.value);
    const at = this.opts.now().toISOString();
    const jobs: DeliveryJob[] = events.flatMap((event) =>
      webhooks
        .filter((w) => wants(w, event))
        .map((w) => ({
          id: jobId(event.id, w.id),
          webhookId: w.id,
          event: withLinks(event, this.opts.publicUrl),
          status: 'pending' as const,
          started: 0,
          attempts: [],
          nextAttemptAt: at,
          createdAt: at,
        })),
    );
    if (jobs.length === 0) return;
    if (this.pending + jobs.length > this.opts.maxPending) {
      this.logger.error(
        { ...where, pending: this.pending, dropped: jobs.map((j) => j.id) },
        'webhook outbox full: notifications dropped (are the receivers down?)',
      );
      return;
    }
    this.pending += jobs.length;
    await this.outbox.add(jobs);
    this.wake();
  }

  start(): void {
    this.wake();
  }

  /** Look at the outbox now (after the round in progress, if any). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.pumping = this.pump()
      .catch((err) => this.logger.warn({ err: String(err) }, 'webhook outbox not readable; trying again'))
      .then((nextInMs) => {
        this.pumping = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          return this.wake();
        }
        this.timer = setTimeout(() => this.wake(), Math.max(5, Math.min(this.opts.pollMs, nextInMs ?? Infinity)));
        this.timer.unref();
      });
  }

  /** One round: prune, claim what is due up to the free delivery slots, start those deliveries. Returns ms until something falls due. */
  private async pump(): Promise<number | undefined> {
    // Jobs before webhooks: every job read was queued for a webhook that existed, so a webhook
    // missing from the later read was deleted, and its jobs go.
    const docs = await this.outbox.pending();
    const now = this.opts.now();
    const pruneDue = now.getTime() - this.prunedAt >= PRUNE_EVERY_MS;
    // The usual round on an idle controller: an empty outbox, one read.
    if (docs.length === 0 && !pruneDue) {
      this.pending = 0;
      return undefined;
    }
    const webhooks = new Map((await this.store.list<StoredWebhook>(WEBHOOKS)).map((d) => [d.id, d.value]));
    await this.outbox.dropOrphans(docs, new Set(webhooks.keys()));
    if (pruneDue) {
      this.prunedAt = now.getTime();
      await this.outbox.prune(this.opts.keepPerWebhook, new Set(webhooks.keys()));
    }
    const live = docs.filter((d) => webhooks.has(d.value.webhookId));
    this.pending = live.length;
    const due = live.filter((d) => isDue(d.value, now) && !this.inFlight.has(d.id)).sort((a, b) => a.value.nextAttemptAt.localeCompare(b.value.nextAttemptAt));
    for (const doc of due.slice(0, Math.max(0, this.opts.concurrency - this.inFlight.size))) {
      const claimed = await this.claim(doc, now);
      if (!claimed) continue; // another replica took it
      const delivery = this.deliver(claimed, webhooks.get(doc.value.webhookId)!)
        .catch((err) => this.logger.warn({ job: doc.id, err: String(err) }, 'webhook delivery outcome not recorded; the job will be retried'))
        .finally(() => {
          this.inFlight.delete(doc.id);
          this.wake();
        });
      this.inFlight.set(doc.id, delivery);
    }
    const soonest = Math.min(...live.map((d) => nextLookAt(d.value) ?? Infinity));
    return Number.isFinite(soonest) ? soonest - now.getTime() : undefined;
  }

  private claim(doc: Versioned<DeliveryJob>, now: Date): Promise<Versioned<DeliveryJob> | null> {
    // Long enough for the attempt and the write of its outcome; a deliverer that died is replaced after it.
    const until = new Date(now.getTime() + 2 * this.opts.attemptTimeoutMs + 5_000).toISOString();
    return this.outbox.replace(doc, { ...doc.value, started: doc.value.started + 1, claim: { by: this.opts.replicaId, until } });
  }

  private async deliver(doc: Versioned<DeliveryJob>, webhook: StoredWebhook): Promise<void> {
    const { next } = await this.deliverer.attemptJob(doc.value, webhook, doc.value.started);
    if (!(await this.outbox.replace(doc, next))) {
      this.logger.warn({ job: doc.id }, 'webhook delivery claim was lost while delivering; another replica retries it');
    }
  }

  /**
   * A test event sent to one webhook now, through the same attempt as any delivery, once (no retry):
   * its outcome is answered and recorded with the webhook's deliveries.
   */
  async sendTest(webhook: StoredWebhook, by: string): Promise<{ job: DeliveryJob; attempt: DeliveryAttempt }> {
    const at = this.opts.now().toISOString();
    const event = withLinks(testEvent(webhook.id, by, at), this.opts.publicUrl);
    const job: DeliveryJob = {
      id: jobId(event.id, webhook.id),
      webhookId: webhook.id,
      event,
      status: 'pending',
      started: 1,
      attempts: [],
      nextAttemptAt: at,
      createdAt: at,
    };
    const { next, record } = await this.deliverer.attemptJob(job, webhook, 1, false);
    await this.outbox.record(next);
    return { job: next, attempt: record };
  }

  /** Stops looking for work, lets queued writes land, and interrupts deliveries in flight (each is retried later, by someone). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.queuing]);
    await this.pumping;
    this.shutdown.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** For tests and the deliveries route: the recorded jobs of one webhook, newest first. */
  async deliveriesOf(webhookId: string): Promise<DeliveryJob[]> {
    const [pending, finished] = await Promise.all([this.outbox.pending(), this.outbox.finished()]);
    return [...pending, ...finished]
      .map((d) => d.value)
      .filter((j) => j.webhookId === webhookId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
