import type { MessageLanguage } from './message.js';
import { z } from 'zod';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import { EVENT_TYPES, scopeOf, type EventType, type NotificationEvent } from './events.js';
import { SIGNING, WEBHOOK_FORMATS, type WebhookFormat } from './payloads.js';
import { redactUrl } from './url-mask.js';

export { redactUrl } from './url-mask.js';

export const MESSAGE_LANGUAGES = ['en', 'zh-CN'] as const;

export const WEBHOOKS = 'webhooks';

/** Recipients of one e-mail webhook (README, "Limits"). */
export const MAX_RECIPIENTS = 50;

export const webhookIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a webhook id: letters, digits and _ . - (at most 64)');

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
const recipients = z
  .array(z.email({ error: 'an e-mail address' }))
  .min(1)
  .max(MAX_RECIPIENTS);

/** Why a format takes no secret of ours. */
const UNSIGNED: Partial<Record<WebhookFormat, string>> = {
  wecom: 'WeCom robots do not sign: the key in the url is the credential',
  teams: 'Teams workflows do not sign (no HMAC): the url, with its sig, is the credential',
  email: 'e-mail is not signed: it goes out through the SMTP server the controller is configured with',
};

export const putWebhookSchema = z
  .object({
    /** Where to post; every format but email. May be left out when changing a webhook: its URL stays. */
    url: httpUrl.optional(),
    /** The recipients of an e-mail webhook (format email only); one e-mail webhook per environment list, with `environments`. */
    to: recipients.optional(),
    format: z.enum(WEBHOOK_FORMATS).default('json'),
    /** Only these events (all when absent). */
    events: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
    /** Only rollouts and kill switches in these environments (all when absent). */
    environments: z.array(environmentNameSchema).min(1).optional(),
    /** Only rollouts following these policies (all when absent); a kill switch matches through the rollout active in its environment. */
    policies: z.array(flagNameSchema).min(1).optional(),
    /**
     * json and slack: a signing secret of your choosing (when absent a new webhook gets a generated
     * one, shown once). dingtalk and feishu: the robot's own secret, as the vendor shows it (required).
     */
    secret: z.string().min(16, 'at least 16 characters').max(256).optional(),
    /** json and slack: replace the secret with a generated one (shown once). */
    rotateSecret: z.boolean().optional(),
    /** The language of its messages (what people and alerts wrote stays as written); default en. */
    language: z.enum(MESSAGE_LANGUAGES).optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (w.format === 'email') {
      if (w.url !== undefined) issue('url', 'an e-mail webhook has no url: its recipients are `to`');
      if (w.to === undefined) issue('to', 'required with format email: the addresses to send to');
    } else if (w.to !== undefined) issue('to', 'only with format email');
    const unsigned = UNSIGNED[w.format];
    if (unsigned && w.secret !== undefined) issue('secret', unsigned);
    if (unsigned && w.rotateSecret) issue('rotateSecret', unsigned);
    if (SIGNING[w.format] === 'vendor' && w.rotateSecret) issue('rotateSecret', `the ${w.format} robot makes its own secret: give the new one as secret`);
    if (w.secret !== undefined && w.rotateSecret) issue('rotateSecret', 'give either a secret or rotateSecret, not both');
  })
  .meta({ id: 'PutWebhook' });
export type PutWebhook = z.infer<typeof putWebhookSchema>;

/**
 * A webhook as stored. The secret is stored as it is, not hashed, unlike token secrets: a token is
 * only ever compared with what a caller presents, so its hash suffices, but a signing secret must be
 * used as the HMAC key for every delivery, by whichever replica delivers it. Its protection is
 * therefore that it never leaves the store: not in any API answer after the PUT that set it, not
 * in the audit log, not on the change feed (webhook writes are quiet), not in a log line. The same
 * holds for URLs that are credentials themselves (WeCom's key, a Teams workflow's sig).
 */
export interface StoredWebhook {
  id: string;
  format: WebhookFormat;
  /** Every format but email. */
  url?: string;
  /** Format email only. */
  to?: string[];
  events?: EventType[];
  environments?: string[];
  policies?: string[];
  /** Formats that sign (SIGNING: rollout or vendor). */
  secret?: string;
  /** A few characters of the secret, so people can tell which one a receiver holds. */
  secretHint?: string;
  /** Messages in this language; absent: English. */
  language?: MessageLanguage;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

/** A stored webhook, as a restore checks it: deliveries need a format, where to go, and the secret of a format that signs. */
export const storedWebhookSchema = z
  .object({
    id: webhookIdSchema,
    format: z.enum(WEBHOOK_FORMATS),
    url: httpUrl.optional(),
    to: recipients.optional(),
    events: z.array(z.enum(EVENT_TYPES)).optional(),
    environments: z.array(environmentNameSchema).optional(),
    policies: z.array(flagNameSchema).optional(),
    secret: z.string().min(1).optional(),
    secretHint: z.string().optional(),
    language: z.enum(MESSAGE_LANGUAGES).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
  })
  .superRefine((w, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (w.format === 'email' ? !w.to : !w.url) issue(w.format === 'email' ? 'to' : 'url', `required with format ${w.format}`);
    if ((SIGNING[w.format] === 'rollout' || SIGNING[w.format] === 'vendor') && !w.secret) issue('secret', `required with format ${w.format}`);
  }) satisfies z.ZodType<StoredWebhook>;

export type PublicWebhook = Omit<StoredWebhook, 'secret'>;

export function secretHintOf(secret: string): string {
  return `${secret.slice(0, 10)}…`;
}

/**
 * What callers and the audit log see. The URL is shown whole only to those who manage webhooks:
 * many chat URLs carry their own credential, so readers get the origin only.
 */
export function toPublicWebhook(w: StoredWebhook, fullUrl: boolean): PublicWebhook {
  const { secret: _never, ...rest } = w;
  return { ...rest, ...(w.url ? { url: fullUrl ? w.url : redactUrl(w.url) } : {}) };
}

/** Where deliveries go, for logs: the origin of a URL, or how many recipients an e-mail has. */
export function destinationOf(w: Pick<StoredWebhook, 'url' | 'to'>): string {
  return w.url ? redactUrl(w.url) : `${w.to?.length ?? 0} e-mail recipient(s)`;
}

/**
 * Whether `webhook` wants `event`: every filter it sets must include the event's value. A kill
 * switch event has a policy only when a rollout was active in its environment, so a webhook that
 * follows policies hears of the kills that hit one of its rollouts and of no others.
 */
export function wants(webhook: Pick<StoredWebhook, 'events' | 'environments' | 'policies'>, event: NotificationEvent): boolean {
  // A test goes to the one webhook it was asked for, never through filters.
  if (event.type === 'webhook.test') return false;
  const scope = scopeOf(event);
  return (
    (!webhook.events || webhook.events.includes(event.type)) &&
    (!webhook.environments || webhook.environments.includes(scope.environment)) &&
    (!webhook.policies || (scope.policy !== undefined && webhook.policies.includes(scope.policy)))
  );
}
