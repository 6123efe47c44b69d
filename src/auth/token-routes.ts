import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { createTokenSchema } from './token-model.js';
import type { TokenService } from './token-service.js';

const TAG = 'Tokens';
const auth = { kind: 'admin', permission: 'tokens:manage' } as const;

export function tokenRoutes(tokens: TokenService): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/admin/tokens',
      summary: 'Create a token. The secret is in this response only; the controller keeps its hash.',
      tag: TAG,
      auth,
      body: createTokenSchema,
      responses: {
        201: { description: 'Created, with the secret' },
        404: { description: 'A client or frontend token’s environment is not declared (unknown_environment)' },
      },
      handler: async ({ body, actor }) => ({ status: 201, body: await tokens.create(body, actor) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/tokens',
      summary: 'Every token’s metadata (never a secret).',
      tag: TAG,
      auth,
      responses: { 200: { description: 'The tokens' } },
      handler: async () => ({ status: 200, body: { tokens: await tokens.list() } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/admin/tokens/{id}',
      summary: 'Revoke a token on every replica.',
      tag: TAG,
      auth,
      params: z.object({ id: z.string().min(1) }),
      responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token' } },
      handler: async ({ params, actor }) => {
        await tokens.delete(params.id, actor);
        return { status: 204 };
      },
    }),
  ];
}
