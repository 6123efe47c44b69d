import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { ifMatchVersion } from '../http/if-match.js';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import type { Permission } from '../auth/permissions.js';
import type { StoredToken } from '../auth/token-model.js';
import type { Person } from './rollout-model.js';
import type { Command, RolloutService } from './rollout-service.js';

const TAG = 'Rollouts';
const idParams = z.object({ id: z.string().min(1).max(100) });
const commentBody = z
  .object({ comment: z.string().max(1000).optional() })
  .default({})
  .meta({ id: 'RolloutComment' });
const startBody = z
  .object({
    flag: flagNameSchema,
    environment: environmentNameSchema,
    policy: flagNameSchema,
    /** A killed flag is refused unless the kill switch is to be cleared as the rollout starts, for a reason. */
    restore: z.boolean().optional(),
    /** Start even when the baseline already fails one of the policy's absolute gates: recorded as a warning (with `reason`, if given). */
    force: z.boolean().optional(),
    reason: z.string().min(1).max(1000).optional(),
  })
  .strict()
  .refine((b) => !b.restore || b.reason, { message: 'restore needs a reason', path: ['reason'] })
  .meta({ id: 'StartRollout' });
const approveBody = z
  .object({
    comment: z.string().max(1000).optional(),
    /** The percentage of the step being approved, as the approver saw it; without it, the step awaiting approval. */
    step: z.number().gt(0).max(100).optional(),
    /** Approve a later step than the one awaited, in advance. */
    ahead: z.boolean().optional(),
  })
  .strict()
  .refine((b) => !b.ahead || b.step !== undefined, { message: 'ahead needs the step it approves', path: ['step'] })
  .default({})
  .meta({ id: 'ApproveRollout' });

const COMMANDS: Record<Exclude<Command, 'approve'>, { permission: Permission; summary: string }> = {
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
      responses: {
        201: {
          description:
            "The rollout, with `preflight`: the baseline (the flag's traffic without the feature over the last hour at most), " +
            'and per step how long it needs at that traffic to detect a doubling of the error rate; `preflight.warnings` when forced',
        },
        404: { description: 'No such flag, policy or environment' },
        409: {
          description:
            'The flag already has an active rollout there, or is killed there and `restore` was not asked for, ' +
            'or (`baseline_above_gate`) its baseline already fails an absolute gate of the policy and `force` was not asked for: ' +
            '`details.violations` gives each gate with value, threshold and samples',
        },
      },
      handler: async ({ body, token, actor }) => {
        const [view] = await rollouts.views([await rollouts.start(body, person(token), actor)]);
        return { status: 201, body: view };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts',
      summary: 'Every rollout, newest first.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The rollouts' } },
      handler: async () => ({ status: 200, body: { rollouts: await rollouts.views(await rollouts.list()) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts/{id}',
      summary: 'One rollout: state, step, percentage, latest gate results with values and thresholds, approvals and history.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: idParams,
      responses: { 200: { description: 'The rollout; its ETag is the version to send as If-Match with a command' }, 404: { description: 'No such rollout' } },
      handler: async ({ params, res }) => {
        const doc = await rollouts.getVersioned(params.id);
        res.setHeader('ETag', `"${doc.version}"`);
        const [view] = await rollouts.views([doc.value]);
        return { status: 200, body: view };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/rollouts/{id}/approve',
      summary:
        'Approve a step, named by its percentage (`step`; without it, the step awaiting approval). ' +
        'Any other step than the one awaited is refused with 409 and the awaited step, unless `ahead: true` approves a later step in advance. ' +
        'The same person approving the same step again gets the first approval back. ' +
        'Not by whoever started the rollout; roles as the policy names. Advances at once when the step is healthy. ' +
        'If-Match: the rollout version acted on.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'rollouts:approve' },
      params: idParams,
      body: approveBody,
      responses: {
        200: { description: 'The rollout after the approval, with `approval`: the one recorded (or given before by the same person)' },
        403: { description: 'Not allowed for this person (started the rollout, or a role the policy does not name)' },
        409: { description: 'Not the step awaiting approval, or nothing to approve; `details.awaitingStep` names the awaited step' },
        412: { description: 'If-Match named a version that is no longer current' },
      },
      handler: async ({ params, body, token, actor, req }) => {
        const { rollout, approval } = await rollouts.approve(params.id, { by: person(token), ...body }, actor, ifMatchVersion(req, 'rollout'));
        const [view] = await rollouts.views([rollout]);
        return { status: 200, body: { ...view, approval } };
      },
    }),
    ...(Object.entries(COMMANDS) as Array<[Exclude<Command, 'approve'>, (typeof COMMANDS)[keyof typeof COMMANDS]]>).map(([command, { permission, summary }]) =>
      defineRoute({
        method: 'post',
        path: `/api/admin/rollouts/{id}/${command}`,
        summary,
        tag: TAG,
        auth: { kind: 'admin', permission },
        params: idParams,
        body: commentBody,
        responses: {
          200: { description: 'The rollout after the command' },
          403: { description: 'Not allowed for this person' },
          409: { description: 'Not possible in the rollout’s state' },
          412: { description: 'If-Match named a version that is no longer current' },
        },
        handler: async ({ params, body, token, actor, req }) => {
          const rollout = await rollouts.command(params.id, command, person(token), actor, body.comment, ifMatchVersion(req, 'rollout'));
          const [view] = await rollouts.views([rollout]);
          return { status: 200, body: view };
        },
      }),
    ),
  ];
}
