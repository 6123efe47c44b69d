import os from 'node:os';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { RouteSpec } from '../http/route.js';
import type { Store } from '../store/port.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import type { FlagService } from '../flags/flag-service.js';
import { NotificationDispatcher } from './dispatcher.js';
import type { NotificationEvent } from './events.js';
import { Mailer } from './mailer.js';
import { smtpSettingsOf } from './smtp-config.js';
import { webhookRoutes } from './webhook-routes.js';
import { WebhookService } from './webhook-service.js';

export interface Notifications {
  routes: RouteSpec[];
  dispatcher: NotificationDispatcher;
  /**
   * Queues an event another part built with a builder of published-events.ts (a scheduled start, a
   * pipeline's promotion, an alert acted on, a drill) for every webhook that wants it. Returns at once.
   */
  publish(event: NotificationEvent): void;
  /** Starts listening to rollout changes and kill switches, and delivering. */
  start(): void;
  /** Stops listening, lets queued notifications reach the outbox, interrupts deliveries in flight (they are retried later). Call before the store closes. */
  stop(): Promise<void>;
}

/** Wires webhooks: the admin API, the dispatcher, and its subscriptions to rollout changes and kill switches. */
export function createNotifications(deps: {
  store: Store;
  logger: Logger;
  rollouts: RolloutService;
  flags: FlagService;
  now: () => Date;
  config: Config;
  version: string;
}): Notifications {
  const { store, config } = deps;
  const logger = deps.logger.child({ component: 'notifications' });
  const smtp = smtpSettingsOf(config);
  // One transport per process; it opens a connection per message (no pool to keep alive between rare notifications).
  const mailer = smtp ? new Mailer(smtp, config.WEBHOOK_TIMEOUT_MS) : undefined;
  if (smtp)
    logger.info(
      { smtp: `${smtp.host}:${smtp.port}`, tls: smtp.secure ? 'implicit' : smtp.requireTLS ? 'STARTTLS required' : 'STARTTLS if offered' },
      'e-mail notifications go out through this SMTP server',
    );
  const dispatcher = new NotificationDispatcher(
    store,
    logger,
    {
      replicaId: `${config.REPLICA_ID ?? os.hostname()}#${process.pid}`,
      now: deps.now,
      random: Math.random,
      retry: { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, baseDelayMs: config.WEBHOOK_RETRY_BASE_MS, maxDelayMs: config.WEBHOOK_RETRY_MAX_MS },
      attemptTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      pollMs: config.WEBHOOK_POLL_MS,
      concurrency: 8,
      maxPending: 10_000,
      keepPerWebhook: 100,
      userAgent: `rollout-controller/${deps.version}`,
      publicUrl: config.PUBLIC_URL,
    },
    mailer,
  );
  let unsubscribe: Array<() => void> = [];
  const webhooks = new WebhookService(store, deps.now, { allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, emailConfigured: mailer !== undefined });
  return {
    routes: webhookRoutes(webhooks, dispatcher),
    dispatcher,
    publish: dispatcher.publish,
    start() {
      unsubscribe = [deps.rollouts.onChange(dispatcher.onRolloutChange), deps.flags.onKillSwitchChange(dispatcher.onKillSwitchChange)];
      dispatcher.start();
    },
    async stop() {
      for (const stop of unsubscribe) stop();
      unsubscribe = [];
      await dispatcher.stop();
      mailer?.close();
    },
  };
}
