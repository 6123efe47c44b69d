import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { roleAllows } from '../auth/permissions.js';
import type { Caller } from '../auth/caller.js';
import type { NotificationDispatcher } from './dispatcher.js';
import { putWebhookSchema, webhookIdSchema } from './webhook-model.js';
import type { WebhookService } from './webhook-service.js';

const TAG = 'Webhooks';
const manage = { kind: 'admin', permission: 'webhooks:manage' } as const;
const read = { kind: 'admin', permission: 'read' } as const;
const idParams = z.object({ id: webhookIdSchema });

/** Whole URLs for those who manage webhooks; the origin only for everyone else (see toPublicWebhook). */
const seesFullUrls = (caller: Caller | undefined) => !!caller && roleAllows(caller.role, 'webhooks:manage');

export function webhookRoutes(webhooks: WebhookService, dispatcher: NotificationDispatcher): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/webhooks',
      summary: 'Every webhook (never its secret; the URL in full only for admins).',
      tag: TAG,
      auth: read,
      responses: { 200: { description: 'The webhooks' } },
      handler: async ({ caller }) => ({ status: 200, body: { webhooks: await webhooks.list(seesFullUrls(caller)) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/webhooks/{id}',
      summary: 'One webhook (never its secret).',
      tag: TAG,
      auth: read,
      params: idParams,
      responses: { 200: { description: 'The webhook' }, 404: { description: 'No such webhook' } },
      handler: async ({ params, caller }) => ({ status: 200, body: await webhooks.get(params.id, seesFullUrls(caller)) }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/webhooks/{id}',
      summary:
        'Create or replace a webhook. Without a secret a new webhook gets a generated signing secret, returned in this answer only; ' +
        '`rotateSecret: true` replaces it the same way.',
      tag: TAG,
      auth: manage,
      params: idParams,
      body: putWebhookSchema,
      responses: {
        200: { description: 'Replaced' },
        201: { description: 'Created (with `secret` when it was generated)' },
        422: { description: 'The URL names a non-public IP address (loopback, private, documentation…) and WEBHOOK_ALLOW_PRIVATE_NETWORKS is not set' },
      },
      handler: async ({ params, body, actor }) => {
        const { created, webhook } = await webhooks.put(params.id, body, actor);
        return { status: created ? 201 : 200, body: webhook };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/admin/webhooks/{id}',
      summary: 'Delete a webhook; its undelivered notifications are dropped.',
      tag: TAG,
      auth: manage,
      params: idParams,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such webhook' } },
      handler: async ({ params, actor }) => {
        await webhooks.delete(params.id, actor);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/webhooks/{id}/test',
      summary:
        'Send a test message to this webhook now, through the same delivery as real events (signed as its format wants), once, without retries. ' +
        'Answers what happened: `delivered`, the status code (for e-mail the SMTP reply code), the time taken and the error, if any; ' +
        'the attempt is also listed with the deliveries.',
      tag: TAG,
      auth: manage,
      params: idParams,
      responses: { 200: { description: 'The outcome of the attempt (delivered or not)' }, 404: { description: 'No such webhook' } },
      handler: async ({ params, actor }) => {
        const { job, attempt } = await dispatcher.sendTest(await webhooks.stored(params.id), actor.name);
        return {
          status: 200,
          body: {
            delivered: job.status === 'delivered',
            ...(attempt.status !== undefined ? { status: attempt.status } : {}),
            ms: attempt.durationMs,
            ...(attempt.error !== undefined ? { error: attempt.error } : {}),
            ...(job.gaveUp ? { gaveUp: job.gaveUp } : {}),
            eventId: job.event.id,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/webhooks/{id}/deliveries',
      summary:
        'Recent deliveries of a webhook, newest first (the last 100 finished ones are kept, and those still pending): ' +
        'each event with its attempts (status codes, errors, times) and outcome. Never a secret or a URL.',
      tag: TAG,
      auth: read,
      params: idParams,
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: { 200: { description: 'The deliveries' }, 404: { description: 'No such webhook' } },
      handler: async ({ params, query, caller }) => {
        await webhooks.get(params.id, seesFullUrls(caller)); // 404 for an unknown webhook
        const jobs = await dispatcher.deliveriesOf(params.id);
        return {
          status: 200,
          body: {
            // The claim is the dispatchers' own bookkeeping; the rest is what happened.
            deliveries: jobs.slice(0, query.limit).map(({ claim: _internal, ...job }) => job),
          },
        };
      },
    }),
  ];
}
