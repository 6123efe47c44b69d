import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenIndex } from '../auth/token-index.js';
import type { Context } from 'unleash-client';
import { contextFieldsSchema, plainStringsContext, toUnleashContext } from '../evaluation/context.js';
import type { ServerEvaluation } from '../evaluation/server-evaluation.js';
import { setBrowserHeaders } from '../http/cors.js';
import { answerFrontend } from './frontend-routes.js';
import { parsePlainQuery } from './plain-query.js';

/** The one route this lane answers (also its route label in the request metrics). */
export const FRONTEND_ROUTE = '/api/frontend';

/**
 * Browsers poll GET /api/frontend once per page view or app start, so it is the route whose load
 * grows with users: like SDK polls of the features (serving/fast-lane.ts), it bypasses express's
 * router and per-request middleware (request ids, access logs) and answers with the very code of
 * the express route (answerFrontend, the same headers). It takes only the plain case: a frontend
 * token within its rate, a query string the context schema accepts (read by plain-query.ts, which
 * gives what express's parser gives, or else by express's parser itself; a query of plain strings
 * becomes the context directly, by plainStringsContext, which gives what the schema gives).
 * Anything else falls through to express, which gives the usual answer and error body: a wrong or
 * missing token (401/403), a malformed context (400, naming the field), a token over its rate (429:
 * a refusal takes nothing from the bucket, so express finds it over the rate too), HEAD, OPTIONS, POST.
 *
 * @param parseQuery express's query parser (the app's "query parser fn"), so both read a query alike
 */
export function frontendFastLane(deps: { tokens: TokenIndex; evaluation: ServerEvaluation; parseQuery: (query: string) => unknown }) {
  const { tokens, evaluation, parseQuery } = deps;
  /** The query's context: plain strings read directly, else through the schema; undefined when the schema refuses it. */
  const contextOf = (query: string): Context | undefined => {
    const plain = parsePlainQuery(query);
    const direct = plain && plainStringsContext(plain);
    if (direct) return direct;
    const input = contextFieldsSchema.safeParse(plain ?? parseQuery(query));
    return input.success ? toUnleashContext(input.data) : undefined;
  };
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(FRONTEND_ROUTE)) return false;
    const queryAt = url.indexOf('?');
    if ((queryAt < 0 ? url.length : queryAt) !== FRONTEND_ROUTE.length || url.includes('#')) return false;
    const token = tokens.authenticate(req.headers.authorization);
    if (token?.kind !== 'frontend' || !token.environment) return false;
    const query = queryAt < 0 ? '' : url.slice(queryAt + 1);
    const context = contextOf(query);
    if (!context) return false;
    const admitted = evaluation.tryAdmit(token);
    if (typeof admitted === 'number') return false;
    setBrowserHeaders(res);
    try {
      answerFrontend(evaluation, admitted, context, req, res);
    } catch (err) {
      // Nothing was counted or sent: express runs it again and answers (and logs) the failure its usual way.
      if (res.headersSent) throw err;
      return false;
    }
    return true;
  };
}
