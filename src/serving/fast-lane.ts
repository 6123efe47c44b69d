import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenIndex } from '../auth/token-index.js';
import type { Logger } from '../logger.js';
import { serveFeatures } from './client-routes.js';
import type { SdkFetchRecorder } from './sdk-fetches.js';
import type { ServingState } from './serving-state.js';

/** The one route this lane answers (also its route label in the request metrics). */
export const FEATURES_ROUTE = '/api/client/features';
const FEATURES_PATH = FEATURES_ROUTE;

/**
 * SDK polls of the full payload are nearly all of a replica's traffic, so they bypass express's
 * router and per-request middleware (request ids, access logs) and go straight to the pre-rendered
 * bytes. Same token check, same bytes and headers as the express route, which still handles every
 * other case: anything this lane does not answer itself (a query string, a missing or wrong token)
 * falls through to express and gets the usual answer and error body.
 */
export function featuresFastLane(deps: { tokens: TokenIndex; state: ServingState; fetches: SdkFetchRecorder; logger: Logger }) {
  const { tokens, state, fetches, logger } = deps;
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || req.url !== FEATURES_PATH) return false;
    const token = tokens.authenticate(req.headers.authorization);
    if (token?.kind !== 'client' || !token.environment) return false;
    serveFeatures(state, fetches, req, res, token.environment);
    if (logger.isLevelEnabled('debug')) logger.debug({ path: FEATURES_PATH, status: res.statusCode, env: token.environment }, 'request');
    return true;
  };
}
