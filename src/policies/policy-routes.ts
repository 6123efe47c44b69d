import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { flagNameSchema } from '../flags/schema.js';
import { roleAllows } from '../auth/permissions.js';
import { policySchema } from './policy-schema.js';
import type { PolicyService } from './policy-service.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';

const TAG = 'Policies';
const nameParams = z.object({ name: flagNameSchema });
const proposalParams = z.object({ id: z.string().min(1).max(100) });
const optionalReason = z.object({ reason: z.string().max(1000).optional() }).default({});

export function policyRoutes(policies: PolicyService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/policies',
      summary: 'Every rollout policy (durations in milliseconds).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The policies' } },
      handler: async () => ({ status: 200, body: { policies: await policies.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/policies/{name}',
      summary: 'One rollout policy.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: nameParams,
      responses: { 200: { description: 'The policy' }, 404: { description: 'No such policy' } },
      handler: async ({ params }) => ({ status: 200, body: await policies.get(params.name) }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/policies/{name}',
      summary:
        'Create or replace a rollout policy (admins). From an editor it becomes a proposal instead: ' +
        'stored, audited as policy.proposed, answered 202, applied when an admin accepts it. ' +
        'Rollouts already running keep the policy they started with.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'policies:propose' },
      params: nameParams,
      body: policySchema,
      responses: {
        200: { description: 'Replaced' },
        201: { description: 'Created' },
        202: { description: 'Proposed (editors): {proposal: {id, policy, by, at}}' },
        400: { description: 'Invalid policy (the error names the field)' },
      },
      handler: async ({ params, body, actor, caller }) => {
        assertNameMatchesPath(body.name, params.name);
        // Only admins write policies: how much scrutiny a release gets is not for its author to lower.
        if (!caller || !roleAllows(caller.role, 'policies:write')) {
          return { status: 202, body: { proposal: await policies.propose(body, actor) } };
        }
        const { policy, created } = await policies.put(body, actor);
        return { status: created ? 201 : 200, body: policy };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/policy-proposals',
      summary: 'Policy changes editors proposed, oldest first, waiting for an admin.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: '{proposals: [{id, policy, by, at}]}' } },
      handler: async () => ({ status: 200, body: { proposals: await policies.proposals() } }),
    }),
    ...(['accept', 'reject'] as const).map((decision) =>
      defineRoute({
        method: 'post',
        path: `/api/admin/policy-proposals/{id}/${decision}`,
        summary:
          decision === 'accept'
            ? 'Apply a proposed policy (admins): written as a PUT would, audited as policy.put naming the proposal, and the proposal is removed.'
            : 'Discard a proposed policy (admins), audited as policy.proposal.reject.',
        tag: TAG,
        auth: { kind: 'admin', permission: 'policies:write' },
        params: proposalParams,
        body: optionalReason,
        responses: {
          200: { description: decision === 'accept' ? 'The policy as now stored' : 'The rejected policy' },
          404: { description: 'No such proposal' },
        },
        handler: async ({ params, body, actor }) => ({
          status: 200,
          body: (await policies.decideProposal(params.id, decision === 'accept', actor, body.reason)).policy,
        }),
      }),
    ),
  ];
}
