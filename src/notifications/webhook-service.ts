import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { issuesError } from '../validation/issues.js';
import { literalRefusal } from './address-guard.js';
import { SIGNING } from './payloads.js';
import { generateWebhookSecret } from './signature.js';
import { secretHintOf, toPublicWebhook, WEBHOOKS, type PublicWebhook, type PutWebhook, type StoredWebhook } from './webhook-model.js';

/**
 * Webhooks are configured through the admin API only, not in policy files: a policy file is a
 * reviewed release rule kept in git, while a webhook holds a signing secret (and, for Slack, a URL
 * that is itself a credential) that must not be committed anywhere. A webhook follows policies by
 * name instead (`policies: [...]`).
 */
export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly options: {
      /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: when false, a URL naming a non-public IP address is refused when saved. */
      allowPrivateNetworks: boolean;
      /** Whether SMTP settings are configured: without them an e-mail webhook could never deliver. */
      emailConfigured: boolean;
    },
  ) {}

  /** A stored webhook, secret and all, for a delivery this process makes now (a test). */
  async stored(id: string): Promise<StoredWebhook> {
    const doc = await this.store.get<StoredWebhook>(WEBHOOKS, id);
    if (!doc) throw AppError.notFound(`webhook "${id}"`);
    return doc.value;
  }

  async list(fullUrls: boolean): Promise<PublicWebhook[]> {
    return (await this.store.list<StoredWebhook>(WEBHOOKS)).map((d) => toPublicWebhook(d.value, fullUrls)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string, fullUrl: boolean): Promise<PublicWebhook> {
    const doc = await this.store.get<StoredWebhook>(WEBHOOKS, id);
    if (!doc) throw AppError.notFound(`webhook "${id}"`);
    return toPublicWebhook(doc.value, fullUrl);
  }

  /**
   * Creates or replaces a webhook. A secret the server generates (for a new webhook without one, or
   * on `rotateSecret`) is in this answer and never again, like a token's; a caller's own is not echoed.
   */
  async put(id: string, input: PutWebhook, actor: Actor): Promise<{ created: boolean; webhook: PublicWebhook & { secret?: string } }> {
    if (input.format === 'email' && !this.options.emailConfigured)
      throw new AppError('refused', 'email_not_configured', 'format: email needs the controller’s SMTP settings: set SMTP_URL or SMTP_HOST, and SMTP_FROM');
    if (input.url) this.checkAddress(input.url);
    return auditedCommit(
      this.store,
      async () => {
        const doc = await this.store.get<StoredWebhook>(WEBHOOKS, id);
        const at = this.now().toISOString();
        const url = input.format === 'email' ? undefined : (input.url ?? doc?.value.url);
        if (input.format !== 'email' && !url) throw issuesError('body', [{ path: 'url', message: `required with format ${input.format}` }]);
        const { secret, generated } = secretFor(input, doc?.value);
        const webhook: StoredWebhook = {
          id,
          format: input.format,
          ...(url ? { url } : {}),
          ...(input.to ? { to: input.to } : {}),
          ...(input.events ? { events: input.events } : {}),
          ...(input.environments ? { environments: input.environments } : {}),
          ...(input.policies ? { policies: input.policies } : {}),
          ...(input.language && input.language !== 'en' ? { language: input.language } : {}),
          ...(secret ? { secret, secretHint: secretHintOf(secret) } : {}),
          createdAt: doc?.value.createdAt ?? at,
          updatedAt: at,
          createdBy: doc?.value.createdBy ?? actor.name,
        };
        return {
          // Quiet: no replica follows webhooks from the feed (they are read when an event needs them), and the secret stays off the feed.
          commit: { puts: [{ collection: WEBHOOKS, id, value: webhook, expectVersion: doc?.version ?? 0, quiet: true }] },
          audit: {
            actor,
            action: doc ? 'webhook.update' : 'webhook.create',
            target: { type: 'webhook', id },
            ...(doc && secret && doc.value.secret && secret !== doc.value.secret ? { reason: 'signing secret replaced' } : {}),
            before: doc ? toPublicWebhook(doc.value, false) : null,
            after: toPublicWebhook(webhook, false),
          },
          result: { created: !doc, webhook: { ...toPublicWebhook(webhook, true), ...(generated ? { secret: generated } : {}) } },
        };
      },
      this.now,
    );
  }

  /**
   * A URL naming a non-public IP address could never be delivered to: refused now (422), naming the
   * field, rather than failing every delivery. A host name is judged at each delivery instead, on
   * the address DNS gives then (it can change after the webhook is saved).
   */
  private checkAddress(url: string): void {
    if (this.options.allowPrivateNetworks) return;
    const refused = literalRefusal(new URL(url));
    if (refused)
      throw new AppError('refused', 'webhook_address_not_public', `url: ${refused.message}`, { issues: [{ path: 'url', message: refused.message }] });
  }

  async delete(id: string, actor: Actor): Promise<void> {
    await auditedCommit(
      this.store,
      async () => {
        const doc = await this.store.get<StoredWebhook>(WEBHOOKS, id);
        if (!doc) throw AppError.notFound(`webhook "${id}"`);
        return {
          commit: { deletes: [{ collection: WEBHOOKS, id, expectVersion: doc.version, quiet: true }] },
          audit: { actor, action: 'webhook.delete', target: { type: 'webhook', id }, before: toPublicWebhook(doc.value, false), after: null },
          result: undefined,
        };
      },
      this.now,
    );
  }
}

/**
 * The secret a webhook signs with after a PUT (see SIGNING): one we generate for json and slack when
 * it has none yet or on rotateSecret (returned as `generated`, shown once); the robot's own for
 * dingtalk and feishu, given by the admin, kept while the format stays; none for the rest.
 */
function secretFor(input: PutWebhook, stored: StoredWebhook | undefined): { secret?: string; generated?: string } {
  // json and slack share our signature; a robot's secret is that robot's.
  const sameScheme = stored && SIGNING[stored.format] === SIGNING[input.format] && (SIGNING[input.format] !== 'vendor' || stored.format === input.format);
  const kept = sameScheme ? stored.secret : undefined;
  switch (SIGNING[input.format]) {
    case 'rollout': {
      const generated = !input.secret && (input.rotateSecret || !kept) ? generateWebhookSecret() : undefined;
      return { secret: input.secret ?? generated ?? kept, ...(generated ? { generated } : {}) };
    }
    case 'vendor':
      if (!input.secret && !kept)
        throw issuesError('body', [
          { path: 'secret', message: `required with format ${input.format}: the robot's signing secret, as ${input.format} shows it` },
        ]);
      return { secret: input.secret ?? kept };
    case 'url':
    case 'none':
      return {};
  }
}
