import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Context } from 'unleash-client';
import { z } from 'zod';
import type { StoredToken } from '../auth/token-model.js';
import { clientAddress, contextFieldsSchema, contextSchema, toUnleashContext } from '../evaluation/context.js';
import type { Evaluation } from '../evaluation/evaluation.js';
import type { EvaluationEngine } from '../evaluation/flag-catalog.js';
import { JsonList, renderedOnce } from '../evaluation/rendered.js';
import { sendJsonWithEtag, fillDefaults, type ServerEvaluation } from '../evaluation/server-evaluation.js';
import { defineRoute, type RouteSpec } from '../http/route.js';

const TAG = 'Frontend API (browser SDKs)';

/** One toggle as unleash-proxy-client reads it, plus `cohort` (extra fields are ignored by the SDK). */
export interface FrontendToggle {
  name: string;
  enabled: boolean;
  variant: Evaluation['variant'];
  impressionData: boolean;
  cohort: Evaluation['cohort'];
}

const variantSchema = z.object({
  name: z.string(),
  enabled: z.boolean(),
  payload: z.object({ type: z.string(), value: z.string() }).optional(),
  feature_enabled: z.boolean(),
  featureEnabled: z.boolean(),
});
const togglesSchema = z
  .object({
    toggles: z.array(
      z.object({ name: z.string(), enabled: z.boolean(), variant: variantSchema, impressionData: z.boolean(), cohort: z.enum(['treatment', 'control']) }),
    ),
  })
  .meta({ id: 'FrontendToggles' });

const responses = {
  200: { description: 'The flags that are on for this context (strong ETag of the body)', schema: togglesSchema },
  304: { description: 'Same answer as the ETag in If-None-Match' },
  400: { description: 'A context field is malformed (the message names it)' },
  429: { description: 'Too many requests for this token; Retry-After says how many seconds to wait' },
};

/**
 * Unleash's frontend API: the server evaluates every flag of the token's environment for the
 * context in the query string (GET) or body (POST) and answers with the flags that are on. The
 * request's address is the context's remoteAddress unless the context names one.
 */
export function frontendRoutes(evaluation: ServerEvaluation): RouteSpec[] {
  const auth = { kind: 'frontend' } as const;
  const answer = (req: Request, res: Response, token: StoredToken | undefined, input: z.output<typeof contextSchema> | undefined) => {
    answerFrontend(evaluation, evaluation.admit(token), toUnleashContext(input ?? {}), req, res);
    return undefined;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/frontend',
      summary: 'Flags evaluated for the context in the query string (properties as properties[name]=value).',
      tag: TAG,
      auth,
      browsers: true,
      query: contextFieldsSchema,
      responses,
      handler: ({ req, res, token, query }) => answer(req, res, token, query),
    }),
    defineRoute({
      method: 'post',
      path: '/api/frontend',
      summary: 'Flags evaluated for the context in the body ({context}), as unleash-proxy-client sends it with usePOSTrequests.',
      tag: TAG,
      auth,
      browsers: true,
      body: z.object({ context: contextSchema.optional() }).meta({ id: 'FrontendRequest' }),
      responses,
      handler: ({ req, res, token, body }) => answer(req, res, token, body.context),
    }),
    ...['metrics', 'register'].map((what) =>
      defineRoute({
        method: 'post',
        path: `/api/frontend/client/${what}`,
        summary: `Accepted and not recorded: the server already counted every evaluation it served (see docs/api.md, "Browsers and OpenFeature").`,
        tag: TAG,
        auth,
        browsers: true,
        responses: { 202: { description: 'Accepted' } },
        handler: () => ({ status: 202 }),
      }),
    ),
  ];
}

const toggleJson = renderedOnce(toToggle);
const toggleList = JsonList.of('{"toggles":[', ']}');

/**
 * The frontend API's answer to one admitted request (the express routes' and the fast lane's):
 * every flag evaluated for the context (the request's address as remoteAddress unless it names
 * one) and counted, the flags that are on joined from their pre-serialised pieces.
 */
export function answerFrontend(
  evaluation: ServerEvaluation,
  { env, engine }: { env: string; engine: EvaluationEngine },
  requested: Context,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const context = fillDefaults(requested, env, clientAddress(req.socket.remoteAddress));
  const evaluations = engine.evaluateAll(context);
  const toggles = toggleList();
  for (const e of evaluations) if (e.enabled) toggles.add(toggleJson(e));
  evaluation.countAll(env, evaluations, context, engine);
  sendJsonWithEtag(req, res, toggles);
}

function toToggle(evaluation: Evaluation): FrontendToggle {
  return {
    name: evaluation.flag,
    enabled: evaluation.enabled,
    variant: evaluation.variant,
    impressionData: evaluation.impressionData,
    cohort: evaluation.cohort,
  };
}
