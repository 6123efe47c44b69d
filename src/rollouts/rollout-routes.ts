import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import type { Permission } from '../auth/permissions.js';
import type { StoredToken } from '../auth/token-model.js';
import type { Person } from './rollout-model.js';
import type { Command, RolloutService } from './rollout-service.js';

const TAG = 'Rollouts';
const idParams = z.object({ id: z.string().min(1).max(100) });
const commentBody = z.object({ comment: z.string().max(1000).optional() }).default({}).meta({ id: 'RolloutComment' });
const startBody = z.object({ flag: flagNameSchema, environment: environmentNameSchema, policy: flagNameSchema }).meta({ id: 'StartRollout' });

const COMMANDS: Record<Command, { permission: Permission; summary: string }> = {
  approve: { permission: 'rollouts:approve', summary: 'Approve the next step (not by whoever started the rollout; roles as the policy names). Advances at once when the step is healthy.' },
  reject: { permission: 'rollouts:approve', summary: 'Reject the pending step: the rollout pauses for a person.' },
  pause: { permission: 'rollouts:start', summary: 'Hold everything; rollback rules keep being checked.' },
  resume: { permission: 'rollouts:start', summary: 'Resume a paused rollout; the step restarts its clock.' },
  abort: { permission: 'rollouts:start', summary: 'Stop the rollout for good and return its strategy to 0%.' },
};

function person(token: StoredToken | undefined): Person {
  return { id: token?.id ?? 'anonymous', name: token?.name ?? 'anonymous', ...(token?.role ? { role: token.role } : {}) };
}

export function rolloutRoutes(rollouts: RolloutService): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/admin/rollouts',
      summary: 'Start a rollout of one flag in one environment, following a policy.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'rollouts:start' },
      body: startBody,
      responses: { 201: { description: 'The rollout' }, 404: { description: 'No such flag or policy' }, 409: { description: 'The flag already has an active rollout there' } },
      handler: async ({ body, token, actor }) => ({ status: 201, body: await rollouts.start(body, person(token), actor) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts',
      summary: 'Every rollout, newest first.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The rollouts' } },
      handler: async () => ({ status: 200, body: { rollouts: await rollouts.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts/{id}',
      summary: 'One rollout: state, step, percentage, latest gate results with values and thresholds, approvals and history.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: idParams,
      responses: { 200: { description: 'The rollout' }, 404: { description: 'No such rollout' } },
      handler: async ({ params }) => ({ status: 200, body: await rollouts.get(params.id) }),
    }),
    ...(Object.entries(COMMANDS) as Array<[Command, (typeof COMMANDS)[Command]]>).map(([command, { permission, summary }]) =>
      defineRoute({
        method: 'post',
        path: `/api/admin/rollouts/{id}/${command}`,
        summary,
        tag: TAG,
        auth: { kind: 'admin', permission },
        params: idParams,
        body: commentBody,
        responses: { 200: { description: 'The rollout after the command' }, 403: { description: 'Not allowed for this person' }, 409: { description: 'Not possible in the rollout’s state' } },
        handler: async ({ params, body, token, actor }) => ({ status: 200, body: await rollouts.command(params.id, command, person(token), actor, body.comment) }),
      }),
    ),
  ];
}
