import type { Command } from 'commander';
import { scopeOf, type NotificationEvent } from '../notifications/events.js';
import type { DeliveryJob } from '../notifications/outbox.js';
import { WEBHOOK_FORMATS } from '../notifications/payloads.js';
import { maskUrl } from '../notifications/url-mask.js';
import type { PublicWebhook } from '../notifications/webhook-model.js';
import { contextOf } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { emit, note, print, printJson, table } from './output.js';

interface TestAnswer {
  delivered: boolean;
  status?: number;
  ms: number;
  error?: string;
  gaveUp?: string;
  eventId: string;
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const shortTime = (iso: string) => iso.slice(0, 19).replace('T', ' ');

/** A value from the environment variable an option names: secrets and keyed URLs stay out of the arguments (ps shows those). */
function fromEnvironment(option: string, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (!value) throw new CliError(`${option}: the environment variable ${variable} is not set`, EXIT.usage);
  return value;
}

/** Where a webhook goes, for a table: the URL with its keys masked, or the e-mail recipients. */
function destination(w: PublicWebhook): string {
  return w.url ? maskUrl(w.url) : (w.to ?? []).join(', ');
}

/** What one delivery was about: the event type, its flag and environment. */
function subject(event: NotificationEvent): string {
  const { flag, environment } = scopeOf(event);
  return [event.type, flag && `${flag}${environment ? ` in ${environment}` : ''}`].filter(Boolean).join(': ');
}

function lastAttempt(job: DeliveryJob): string {
  const last = job.attempts.at(-1);
  if (!last) return '';
  return [last.status !== undefined ? String(last.status) : '', last.error ?? ''].filter(Boolean).join(' ');
}

export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('List, set and test notification webhooks (chat robots, e-mail), and see their deliveries (set and test need an admin-role token)');

  webhooks
    .command('list')
    .description('Every webhook: format, where it goes (keys in URLs masked), filters; secrets are never shown')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { webhooks: all } = await ctx.client.call<{ webhooks: PublicWebhook[] }>('GET', '/api/admin/webhooks');
      if (ctx.json) return printJson(all);
      const orAll = (values: string[] | undefined) => values?.join(',') ?? 'all';
      print(
        table(
          ['ID', 'FORMAT', 'EVENTS', 'ENVIRONMENTS', 'POLICIES', 'SECRET', 'TO'],
          all.map((w) => [w.id, w.format, orAll(w.events), orAll(w.environments), orAll(w.policies), w.secretHint ?? '-', destination(w)]),
        ),
      );
    });

  webhooks
    .command('set')
    .description(
      'Create or replace a webhook with the settings given; its URL and secret are kept when not given again. ' +
        'Filters not given mean all events, environments, policies',
    )
    .argument('<id>', 'the webhook id (letters, digits, _ . -)')
    .requiredOption('-f, --format <format>', WEBHOOK_FORMATS.join(', '))
    // Not --url: that is the controller's, for every command.
    .option('--webhook-url <url>', 'where to post (every format but email); prefer --webhook-url-env when the URL holds a key')
    .option('--webhook-url-env <variable>', 'read the webhook URL from this environment variable')
    .option('--to <addresses>', 'format email: the recipients, comma-separated')
    .option('--events <types>', 'only these events, comma-separated (e.g. flag.killed,rollout.rolled_back)')
    .option('-e, --env <environments>', 'only these environments, comma-separated')
    .option('--policy <policies>', 'only rollouts following these policies, comma-separated')
    .option('--secret-env <variable>', 'read the signing secret from this environment variable (dingtalk, feishu: the robot’s; json, slack: your own)')
    .option('--rotate-secret', 'json, slack: replace the secret with a new generated one, printed once')
    .action(
      async (
        id: string,
        opts: {
          format: string;
          webhookUrl?: string;
          webhookUrlEnv?: string;
          to?: string;
          events?: string;
          env?: string;
          policy?: string;
          secretEnv?: string;
          rotateSecret?: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        if (opts.webhookUrl && opts.webhookUrlEnv) throw new CliError('give --webhook-url or --webhook-url-env, not both', EXIT.usage);
        const url = opts.webhookUrl ?? fromEnvironment('--webhook-url-env', opts.webhookUrlEnv);
        const secret = fromEnvironment('--secret-env', opts.secretEnv);
        const body = {
          format: opts.format,
          ...(url ? { url } : {}),
          ...(opts.to ? { to: list(opts.to) } : {}),
          ...(opts.events ? { events: list(opts.events) } : {}),
          ...(opts.env ? { environments: list(opts.env) } : {}),
          ...(opts.policy ? { policies: list(opts.policy) } : {}),
          ...(secret ? { secret } : {}),
          ...(opts.rotateSecret ? { rotateSecret: true } : {}),
        };
        const saved = await ctx.client.call<PublicWebhook & { secret?: string }>('PUT', `/api/admin/webhooks/${encodeURIComponent(id)}`, body);
        if (ctx.json) return printJson(saved);
        note(`Saved webhook ${saved.id} (${saved.format}, to ${destination(saved)}).`);
        if (saved.secret) {
          note('Its signing secret is shown this once; give it to the receiver:');
          // Alone on stdout, so `rolloutctl webhooks set … > file` captures exactly it.
          print(saved.secret);
        } else note(`Try it: rolloutctl webhooks test ${saved.id}`);
      },
    );

  webhooks
    .command('test')
    .description('Send a test message now, through the real delivery (signed as its format wants); exit 2 when it was not delivered')
    .argument('<id>', 'the webhook id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const answer = await ctx.client.call<TestAnswer>('POST', `/api/admin/webhooks/${encodeURIComponent(id)}/test`);
      const status = answer.status !== undefined ? `status ${answer.status}, ` : '';
      if (answer.delivered) return emit(ctx.json, answer, () => `Delivered to ${id}: ${status}${answer.ms} ms.`);
      if (ctx.json) printJson(answer);
      throw new CliError(`not delivered to ${id}: ${status}${answer.ms} ms: ${answer.error ?? answer.gaveUp ?? 'no answer'}`, EXIT.refused);
    });

  webhooks
    .command('deliveries')
    .description('Recent deliveries of a webhook, newest first: what each was about, its outcome and its last attempt')
    .argument('<id>', 'the webhook id')
    .option('-n, --limit <count>', 'at most this many (1 to 500)', '20')
    .action(async (id: string, opts: { limit: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { deliveries } = await ctx.client.call<{ deliveries: DeliveryJob[] }>(
        'GET',
        `/api/admin/webhooks/${encodeURIComponent(id)}/deliveries?limit=${encodeURIComponent(opts.limit)}`,
      );
      if (ctx.json) return printJson(deliveries);
      if (deliveries.length === 0) return print(`No deliveries for ${id} yet.`);
      print(
        table(
          ['WHEN', 'OUTCOME', 'ATTEMPTS', 'LAST', 'EVENT'],
          deliveries.map((d) => [shortTime(d.createdAt), d.status, String(d.attempts.length), lastAttempt(d), subject(d.event)]),
        ),
      );
    });
}
