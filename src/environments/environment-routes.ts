import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { environmentNameSchema } from '../flags/schema.js';
import { environmentBodySchema, environmentSchema } from './environment-schema.js';
import type { EnvironmentService } from './environment-service.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';

const TAG = 'Environments';
const nameParams = z.object({ name: environmentNameSchema });

export function environmentRoutes(environments: EnvironmentService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/environments',
      summary: 'Every declared environment with its owner, description and guard rails (durations in milliseconds).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The environments', schema: z.object({ environments: z.array(environmentSchema) }) } },
      handler: async () => ({ status: 200, body: { environments: await environments.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/environments/{name}',
      summary: 'One declared environment.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: nameParams,
      responses: {
        200: { description: 'The environment', schema: environmentSchema },
        404: { description: 'Not declared (unknown_environment; details.declared lists the declared ones)' },
      },
      handler: async ({ params }) => ({ status: 200, body: await environments.get(params.name) }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/environments/{name}',
      summary:
        'Declare an environment or replace its description, owner and rules (admins only). Rules are minimums every policy must meet to start a rollout there.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'environments:write' },
      params: nameParams,
      body: environmentBodySchema,
      responses: {
        200: { description: 'Replaced (or unchanged)', schema: environmentSchema },
        201: { description: 'Declared', schema: environmentSchema },
        400: { description: 'Invalid environment (the error names the field)' },
      },
      handler: async ({ params, body, actor }) => {
        const { reason, ...rest } = body;
        assertNameMatchesPath(rest.name, params.name);
        const { environment, created } = await environments.put({ ...rest, name: params.name }, actor, reason);
        return { status: created ? 201 : 200, body: environment };
      },
    }),
  ];
}
