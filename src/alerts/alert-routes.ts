import { z } from 'zod';
import { flagNameSchema } from '../flags/schema.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { ALERT_ACTIONS } from './alert-model.js';
import type { AlertIntake } from './alert-intake.js';
import { alertmanagerPayloadSchema, genericAlertSchema } from './alert-schemas.js';
import { routingRuleSchema } from './routing-rules.js';
import type { RoutingRuleService } from './routing-rule-service.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';

const TAG = 'Alerts';
const alertToken = { kind: 'alert' } as const;
const nameParams = z.object({ name: flagNameSchema });
const optionalReason = z.object({ reason: z.string().max(1000).optional() });

const target = z.object({ kind: z.enum(['flag', 'release']), name: z.string() }).nullable();
const resultsSchema = z
  .object({
    results: z.array(
      z.object({
        fingerprint: z.string(),
        status: z.enum(['firing', 'resolved']),
        target,
        environment: z.string().nullable(),
        action: z.enum([...ALERT_ACTIONS, 'resume']).nullable(),
        outcome: z.enum(['acted', 'duplicate', 'nothing_to_act_on', 'unknown_target', 'invalid']),
        detail: z.string(),
        rolloutId: z.string().optional(),
        via: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'AlertResults' });

const answered = {
  description:
    'Per alert and target: `acted`, `duplicate` (acted on before: a resend), `nothing_to_act_on` (recorded), ' +
    '`unknown_target` or `invalid`. Always 200 for a well-formed delivery, so a sender does not retry what cannot succeed',
  schema: resultsSchema,
};
const refusals = {
  400: { description: 'The body is not a delivery of this kind (the error names the field)' },
  401: { description: 'No token, or one nobody issued' },
  403: { description: 'Not an alert token, or an alert names an environment the token is not bound to (nothing acted on)' },
  413: { description: 'The body is larger than BODY_LIMIT_ALERTS' },
};

export function alertRoutes(intake: AlertIntake, rules: RoutingRuleService): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/alerts/alertmanager',
      summary:
        "Prometheus Alertmanager's webhook (webhook_config url), as Alertmanager sends it. Each alert acts on the flag of its `flag` label " +
        '(or the release of its `release` label) in the environment of its `environment` label, with its `action` label (pause, rollback, kill; ' +
        'default pause), or on the targets of the routing rules it matches; once per alert fingerprint and start.',
      tag: TAG,
      auth: alertToken,
      body: alertmanagerPayloadSchema,
      responses: { 200: answered, ...refusals },
      handler: async ({ body, token }) => ({ status: 200, body: { results: await intake.alertmanager(body, token!) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/alerts/generic',
      summary: 'An alert from any system: pause, roll back or kill one flag or release in one environment; once per `fingerprint` when one is given.',
      tag: TAG,
      auth: alertToken,
      body: genericAlertSchema,
      responses: { 200: answered, ...refusals },
      handler: async ({ body, token }) => ({ status: 200, body: { results: await intake.generic(body, token!) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/alert-routes',
      summary: 'Every routing rule for incoming alerts.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The rules' } },
      handler: async () => ({ status: 200, body: { routes: await rules.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/alert-routes/{name}',
      summary: 'One routing rule.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: nameParams,
      responses: { 200: { description: 'The rule' }, 404: { description: 'No such rule' } },
      handler: async ({ params }) => ({ status: 200, body: await rules.get(params.name) }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/alert-routes/{name}',
      summary:
        'Create or replace a routing rule (admins): alerts matching every matcher (Alertmanager syntax, RE2 expressions) ' +
        'act on its flags and releases with its action, unless they name a flag or release in their labels.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'alert-routes:write' },
      params: nameParams,
      body: routingRuleSchema,
      responses: {
        200: { description: 'Replaced' },
        201: { description: 'Created' },
        400: { description: 'Invalid rule (the error names the field)' },
        404: { description: 'An environment it names is not declared' },
        409: { description: 'There are already as many rules as are kept (too_many_alert_routes)' },
      },
      handler: async ({ params, body, actor }) => {
        assertNameMatchesPath(body.name, params.name);
        const { rule, created } = await rules.put(body, actor);
        return { status: created ? 201 : 200, body: rule };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/admin/alert-routes/{name}',
      summary: 'Delete a routing rule (admins).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'alert-routes:write' },
      params: nameParams,
      query: optionalReason,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such rule' } },
      handler: async ({ params, query, actor }) => {
        await rules.delete(params.name, actor, query.reason);
        return { status: 204 };
      },
    }),
  ];
}
