import { z } from 'zod';
import type { Evaluation } from '../evaluation/evaluation.js';
import { JsonList, renderedOnce } from '../evaluation/rendered.js';
import { sendJsonWithEtag, fillDefaults, type ServerEvaluation } from '../evaluation/server-evaluation.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { failure, parseOfrepContext, targetingKeyMissing, toOfrepSuccess } from './ofrep-response.js';

const TAG = 'OpenFeature Remote Evaluation Protocol (OFREP)';

/** The context is checked by the handler, so that a bad one gets OFREP's INVALID_CONTEXT body rather than the API's own. */
const requestSchema = z
  .object({
    context: z
      .unknown()
      .optional()
      .describe('OpenFeature evaluation context: targetingKey and attributes (strings, numbers, booleans; properties under "properties" or at the top)'),
  })
  .optional()
  .meta({ id: 'OfrepEvaluationRequest' });

const successSchema = z.object({
  key: z.string(),
  value: z.union([z.boolean(), z.string(), z.number(), z.record(z.string(), z.unknown())]),
  reason: z.enum(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT']),
  variant: z.string(),
  metadata: z.object({ cohort: z.enum(['treatment', 'control']) }),
});
const failureSchema = z.object({ key: z.string(), errorCode: z.string(), errorDetails: z.string() });
const rateLimited = { description: 'Too many requests for this token; Retry-After says how many seconds to wait' };

/**
 * OFREP's two evaluation routes over the same engines as the frontend API. Client and frontend
 * tokens are both accepted (server providers and web providers speak the same protocol); either is
 * bound to one environment, which is the one evaluated.
 */
export function ofrepRoutes(evaluation: ServerEvaluation): RouteSpec[] {
  const auth = { kind: 'client-or-frontend' } as const;
  const successJson = renderedOnce(toOfrepSuccess);
  // A flag's "targeting key missing" failure is one piece per answer of the flag, serialised and digested once like the successes.
  const missingJson = renderedOnce((result) => targetingKeyMissing(result.flag));
  const flagList = JsonList.of('{"flags":[', ']}');
  return [
    defineRoute({
      method: 'post',
      path: '/ofrep/v1/evaluate/flags/{key}',
      summary: 'Evaluates one flag for the context.',
      tag: TAG,
      auth,
      browsers: true,
      params: z.object({ key: z.string() }),
      body: requestSchema,
      responses: {
        200: {
          description: 'The evaluation (metadata.cohort: treatment when the flag is on, control when off)',
          schema: successSchema.meta({ id: 'OfrepEvaluationSuccess' }),
        },
        400: { description: 'INVALID_CONTEXT or TARGETING_KEY_MISSING', schema: failureSchema.meta({ id: 'OfrepEvaluationFailure' }) },
        404: { description: 'FLAG_NOT_FOUND', schema: failureSchema },
        429: rateLimited,
      },
      handler: ({ res, token, params, body }) => {
        const { env, engine } = evaluation.admit(token);
        const parsed = parseOfrepContext(body?.context);
        if (!parsed.ok) return { status: 400, body: failure(params.key, parsed.errorCode, parsed.errorDetails) };
        if (!engine.has(params.key)) return { status: 404, body: failure(params.key, 'FLAG_NOT_FOUND', `flag "${params.key}" does not exist`) };
        const context = fillDefaults(parsed.context, env);
        if (engine.needsTargetingKey(params.key, context)) return { status: 400, body: targetingKeyMissing(params.key) };
        const result = engine.evaluate(params.key, context)!;
        evaluation.count(env, [result], context, engine);
        return { status: 200, body: toOfrepSuccess(result) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/ofrep/v1/evaluate/flags',
      summary: 'Evaluates every flag of the token’s environment for the context (ETag of the body; If-None-Match → 304).',
      tag: TAG,
      auth,
      browsers: true,
      body: requestSchema,
      responses: {
        200: {
          description: '{flags: [...]}: one success or failure per flag',
          schema: z.object({ flags: z.array(z.union([successSchema, failureSchema])) }).meta({ id: 'OfrepBulkEvaluation' }),
        },
        304: { description: 'Same answer as the ETag in If-None-Match' },
        400: { description: 'INVALID_CONTEXT', schema: z.object({ errorCode: z.string(), errorDetails: z.string() }) },
        429: rateLimited,
      },
      handler: ({ req, res, token, body }) => {
        const { env, engine } = evaluation.admit(token);
        const parsed = parseOfrepContext(body?.context);
        if (!parsed.ok) return { status: 400, body: { errorCode: parsed.errorCode, errorDetails: parsed.errorDetails } };
        const context = fillDefaults(parsed.context, env);
        // One pass over every flag (the context resolved once); a flag that needs an identity the context lacks is a failure instead.
        const all = engine.evaluateAll(context);
        const flags = flagList();
        const evaluated: Evaluation[] = [];
        for (const result of all) {
          if (engine.needsTargetingKey(result.flag, context)) {
            flags.add(missingJson(result));
            continue;
          }
          evaluated.push(result);
          flags.add(successJson(result));
        }
        if (evaluated.length === all.length) evaluation.countAll(env, all, context, engine);
        else evaluation.count(env, evaluated, context, engine);
        sendJsonWithEtag(req, res, flags);
        return undefined;
      },
    }),
  ];
}
