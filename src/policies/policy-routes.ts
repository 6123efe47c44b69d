import { z } from 'zod';
import { AppError } from '../http/app-error.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { flagNameSchema } from '../flags/schema.js';
import { policySchema } from './policy-schema.js';
import type { PolicyService } from './policy-service.js';

const TAG = 'Policies';
const nameParams = z.object({ name: flagNameSchema });

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
      summary: 'Create or replace a rollout policy. Rollouts already running keep the policy they started with.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'policies:write' },
      params: nameParams,
      body: policySchema,
      responses: { 200: { description: 'Replaced' }, 201: { description: 'Created' }, 400: { description: 'Invalid policy (the error names the field)' } },
      handler: async ({ params, body, actor }) => {
        if (body.name !== params.name) throw new AppError(400, 'validation_failed', `invalid body: name: "${body.name}" does not match the path’s "${params.name}"`);
        const { policy, created } = await policies.put(body, actor);
        return { status: created ? 201 : 200, body: policy };
      },
    }),
  ];
}
