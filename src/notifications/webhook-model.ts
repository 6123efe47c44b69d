import { z } from 'zod';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import { EVENT_TYPES, scopeOf, type EventType, type NotificationEvent } from './events.js';
import { WEBHOOK_FORMATS, type WebhookFormat } from './payloads.js';

export const WEBHOOKS = 'webhooks';

export const webhookIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a webhook id: letters, digits and _ . - (at most 64)');

export const putWebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    format: z.enum(WEBHOOK_FORMATS).default('json'),
    /** Only these events (all when absent). */
    events: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
    /** Only rollouts and kill switches in these environments (all when absent). */
    environments: z.array(environmentNameSchema).min(1).optional(),
    /** Only rollouts following these policies (all when absent); a kill switch matches through the rollout active in its environment. */
    policies: z.array(flagNameSchema).min(1).optional(),
    /** Signing secret of your choosing; when absent a new webhook gets a generated one (shown once). */
    secret: z.string().min(16, 'at least 16 characters').max(256).optional(),
    /** Replace the secret of an existing webhook with a generated one (shown once). */
    rotateSecret: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'PutWebhook' });
export type PutWebhook = z.infer<typeof putWebhookSchema>;

/**
 * A webhook as stored. The secret is stored as it is, not hashed, unlike token secrets: a token is
 * only ever compared with what a caller presents, so its hash suffices, but a signing secret must be
 * used as the HMAC key for every delivery, by whichever replica delivers it. Its protection is
 * therefore that it never leaves the store: not in any API answer after the PUT that set it, not
 * in the audit log, not on the change feed (webhook writes are quiet), not in a log line.
 */
export interface StoredWebhook {
  id: string;
  url: string;
  format: WebhookFormat;
  events?: EventType[];
  environments?: string[];
  policies?: string[];
  secret: string;
  /** A few characters of the secret, so people can tell which one a receiver holds. */
  secretHint: string;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

/** A stored webhook, as a restore checks it: deliveries need a URL, a format and the secret. */
export const storedWebhookSchema = z.object({
  id: webhookIdSchema,
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  format: z.enum(WEBHOOK_FORMATS),
  events: z.array(z.enum(EVENT_TYPES)).optional(),
  environments: z.array(environmentNameSchema).optional(),
  policies: z.array(flagNameSchema).optional(),
  secret: z.string().min(1),
  secretHint: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
}) satisfies z.ZodType<StoredWebhook>;

export type PublicWebhook = Omit<StoredWebhook, 'secret'>;

export function secretHintOf(secret: string): string {
  return `${secret.slice(0, 10)}…`;
}

/**
 * What callers and the audit log see. The URL is shown whole only to those who manage webhooks:
 * Slack-style URLs carry their own credential in the path, so readers get the origin only.
 */
export function toPublicWebhook(w: StoredWebhook, fullUrl: boolean): PublicWebhook {
  const { secret: _never, ...rest } = w;
  return { ...rest, url: fullUrl ? w.url : redactUrl(w.url) };
}

/** `https://hooks.example.com/…`: where it goes, without the part that may be a credential. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return '…';
  }
}

/**
 * Whether `webhook` wants `event`: every filter it sets must include the event's value. A kill
 * switch event has a policy only when a rollout was active in its environment, so a webhook that
 * follows policies hears of the kills that hit one of its rollouts and of no others.
 */
export function wants(webhook: Pick<StoredWebhook, 'events' | 'environments' | 'policies'>, event: NotificationEvent): boolean {
  const scope = scopeOf(event);
  return (
    (!webhook.events || webhook.events.includes(event.type)) &&
    (!webhook.environments || webhook.environments.includes(scope.environment)) &&
    (!webhook.policies || (scope.policy !== undefined && webhook.policies.includes(scope.policy)))
  );
}
