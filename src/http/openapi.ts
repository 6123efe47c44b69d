import { z } from 'zod';
import { SESSION_COOKIE } from '../people/session-cookies.js';
import { CSRF_HEADER } from '../people/browser-contract.js';
import type { RouteSpec } from './route.js';

/**
 * The OpenAPI document, generated from the same route list and zod schemas that validate
 * requests, so the document cannot drift from what the server accepts.
 */
export function buildOpenApi(routes: RouteSpec[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, object> = {};
  const toSchema = (schema: z.ZodType, io: 'input' | 'output') => convert(schema, io, components);
  const objectParameters = (schema: z.ZodType | undefined, where: 'path' | 'query') => parametersOf(schema, where, toSchema);
  for (const route of routes) {
    const parameters = [...objectParameters(route.params, 'path'), ...objectParameters(route.query, 'query')];
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, r]) => [
          status,
          r.schema
            ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: toSchema(r.schema, 'output') } } }
            : { description: r.description },
        ]),
      ),
    };
    if (route.auth.kind === 'admin') {
      // A person's session works as well as an admin token; its writes also need the CSRF token.
      const session = route.method === 'get' ? { sessionCookie: [] } : { sessionCookie: [], csrfToken: [] };
      operation.security = [{ adminToken: [] }, session];
      operation['x-required-permission'] = route.auth.permission;
    } else if (route.auth.kind !== 'none') {
      const schemes = route.auth.kind === 'client-or-frontend' ? ['clientToken', 'frontendToken'] : [`${route.auth.kind}Token`];
      operation.security = schemes.map((scheme) => ({ [scheme]: [] }));
    }
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    }
    (paths[route.path] ??= {})[route.method] = operation;
  }
  const apiKey = (description: string) => ({ type: 'apiKey', in: 'header', name: 'Authorization', description });
  return {
    openapi: '3.1.0',
    info: { title: 'Rollout controller', version },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        clientToken: apiKey('A client token (server SDKs), bound to one environment.'),
        frontendToken: apiKey('A frontend token (browser SDKs), bound to one environment.'),
        alertToken: apiKey('An alert token (monitoring systems), bound to environments.'),
        adminToken: apiKey('An admin token with a role: viewer, editor, release-manager or admin.'),
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `A person's session, after signing in with OpenID Connect (GET /auth/login); named __Host-${SESSION_COOKIE} when PUBLIC_URL is https. Its role comes from the person's claims (OIDC_ROLE_MAP).`,
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: CSRF_HEADER,
          description:
            'The session’s CSRF token (GET /api/admin/me gives it): every write made with the session cookie sends it, or is refused with 403 csrf_token_missing / csrf_token_invalid.',
        },
      },
    },
  };
}

/**
 * Schemas named with .meta({ id }) become shared components: zod emits them under $defs, and we
 * hoist them into components.schemas so each is described once in the document.
 */
function convert(schema: z.ZodType, io: 'input' | 'output', components: Record<string, object>): object {
  const {
    $defs,
    $schema: _dialect,
    ...json
  } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown> & {
    $defs?: Record<string, object>;
  };
  const rewrite = (value: object) => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as object;
  for (const [name, def] of Object.entries($defs ?? {})) components[name] ??= rewrite(def);
  return rewrite(json);
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query', toSchema: (s: z.ZodType, io: 'input') => object): object[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}
