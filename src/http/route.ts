import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { actorOf, type Caller } from '../auth/caller.js';
import type { Permission } from '../auth/permissions.js';
import type { StoredToken } from '../auth/token-model.js';
import type { Actor } from '../audit/chain.js';
import { validationError } from '../validation/issues.js';
import type { Authenticator } from './auth.js';
import { type BodyFamily, type BodyLimits, defaultFamily } from './body-limits.js';
import { dropUnreadBody, readJsonBody } from './read-body.js';

/** Who may call a route. */
export type AuthRequirement =
  | { kind: 'none' }
  | { kind: 'client' }
  | { kind: 'frontend' }
  /** Either environment-bound kind (OFREP serves server apps and browsers alike). */
  | { kind: 'client-or-frontend' }
  /** Monitoring systems reporting alerts (bound to environments). */
  | { kind: 'alert' }
  | { kind: 'admin'; permission: Permission };

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  /** The token the request sent; undefined for a person signed in with a session cookie. */
  token: StoredToken | undefined;
  /** Admin routes: who calls, by token or session, with their role. Decide on this, not on `token`. */
  caller: Caller | undefined;
  /** The caller as the audit log names it. */
  actor: Actor;
}

/** A handler returns the reply, or undefined when it wrote the response itself (streams, 304s). */
export type Reply = { status: number; body?: unknown } | undefined;

export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI-style path, e.g. /api/admin/flags/{name}. */
  path: string;
  summary: string;
  tag: string;
  auth: AuthRequirement;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** Whose body limit applies (body-limits.ts); by default the family the route's token kind implies. */
  bodyFamily?: BodyFamily;
  /** Browsers on any origin may call it (CORS preflights answered, headers on every answer). */
  browsers?: boolean;
  handler: (ctx: RouteContext<z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<Reply> | Reply;
}

/** Keeps the generic types of one route while letting a list hold routes of many shapes. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

const ANONYMOUS: Actor = { type: 'system', id: 'anonymous', name: 'anonymous' };

export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}

function parseOr400<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return value as z.infer<T>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(where, parsed.error, where === 'body' ? '' : where);
  return parsed.data;
}

/**
 * Mounts routes: authenticate (and check the role), validate params and query, only then read the
 * body within the route family's limit and validate it, run, reply. Nothing of a body is read for
 * a caller without the right token, nor for a public route.
 */
export function mountRoutes(router: Router, routes: RouteSpec[], auth: Authenticator, limits: BodyLimits): void {
  for (const route of routes) {
    const family = route.bodyFamily ?? defaultFamily(route.auth);
    router[route.method](expressPath(route.path), async (req: Request, res: Response) => {
      const { token, caller } = await auth.check(req, route.auth);
      // Who the caller is, for the log of limits reached (app.ts).
      res.locals.tokenId = caller?.id ?? token?.id;
      const params = parseOr400(route.params, req.params, 'params');
      const query = parseOr400(route.query, req.query, 'query');
      const raw = family ? await readJsonBody(req, family, limits[family]) : undefined;
      const body = parseOr400(route.body, raw, 'body');
      const actor: Actor = caller ? actorOf(caller) : token ? { type: 'token', id: token.id, name: token.name } : ANONYMOUS;
      const reply = await route.handler({ req, res, params, query, body, token, caller, actor });
      if (reply && !res.headersSent) {
        dropUnreadBody(req, res);
        if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).json(reply.body);
      }
    });
  }
}
