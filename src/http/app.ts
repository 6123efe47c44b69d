import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../logger.js';
import { configSchema } from '../config/config.js';
import { STATUS_OF, kindOfStatus } from './error-status.js';
import { AppError, ConflictError, STORE_RETRY_AFTER_SECONDS } from '../errors/app-error.js';
import { LimitError } from '../errors/limit-error.js';
import type { Authenticator } from './auth.js';
import { type BodyLimits, bodyLimitsOf } from './body-limits.js';
import { allowBrowsers } from './cors.js';
import { LimitLog } from './limit-log.js';
import { buildOpenApi } from './openapi.js';
import { dropUnreadBody } from './read-body.js';
import { expressPath, mountRoutes, type RouteSpec } from './route.js';

/** Client polls are the bulk of traffic and are logged at debug; everything else at info. */
function isHotPath(path: string): boolean {
  return path.startsWith('/api/client/') || path.startsWith('/api/metrics/') || path === '/healthz' || path === '/readyz';
}

export interface AppDeps {
  logger: Logger;
  auth: Authenticator;
  routes: RouteSpec[];
  version: string;
  /** Counts requests in flight, so shutdown can wait for writes to finish. */
  inFlight: { count: number };
  /** Body limits per route family (default: the configuration's defaults). */
  bodyLimits?: BodyLimits;
  /** Where refusals by a limit are logged, once per client (default: one of the app's own). */
  limitLog?: LimitLog;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'extended');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.log = deps.logger.child({ requestId });
    const started = process.hrtime.bigint();
    deps.inFlight.count++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      deps.inFlight.count--;
      // 503 is the store saying "not now" (away, busy, or a loss a person is deciding about): it is
      // logged where it is noticed, once, not at ERROR for every request it refuses.
      const level = res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : isHotPath(req.path) ? 'debug' : 'info';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Method, path and status only: never headers (tokens) or bodies.
      res.locals.log[level]({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  });

  // Routes browsers call from other origins answer preflights and carry CORS headers on every answer.
  for (const path of new Set(deps.routes.filter((r) => r.browsers).map((r) => expressPath(r.path)))) app.all(path, allowBrowsers);
  // No body parser here: each route reads its body itself, after authentication (route.ts).

  const openApi = buildOpenApi(deps.routes, deps.version);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  const router = express.Router();
  mountRoutes(router, deps.routes, deps.auth, deps.bodyLimits ?? bodyLimitsOf(configSchema.parse({})));
  app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new AppError('not-found', 'not_found', `no route for ${req.method} ${req.path.slice(0, 200)}`));
  });

  const limitLog = deps.limitLog ?? new LimitLog(deps.logger);
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toAppError(err);
    const status = STATUS_OF[error.kind];
    // 503s (the store down or busy, a loss not yet dealt with) are expected states, logged where they arise.
    if (status >= 500 && status !== 503) (res.locals.log ?? deps.logger).error({ err }, 'request failed');
    if (error instanceof LimitError) {
      const client = res.locals.tokenId ? `token ${res.locals.tokenId}` : `address ${req.socket.remoteAddress}`;
      limitLog.refused(error.limit, client, error.message, { method: req.method, path: req.route?.path ?? req.path.slice(0, 200) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    dropUnreadBody(req, res);
    res.status(status).json({ error: error.errorId, message: error.message, ...(error.details ? { details: error.details } : {}) });
  });
  return app;
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // A race the service's own retries did not absorb (they are bounded in time): never a 500.
  if (err instanceof ConflictError)
    return new AppError('unavailable', 'store_busy', 'the write kept meeting concurrent writes; retry shortly', undefined, STORE_RETRY_AFTER_SECONDS);
  const e = err as { status?: number; message?: string };
  // Errors of HTTP middleware carry a status: a 4xx is the client's fault (its message is the middleware's own, cut short).
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return new AppError(kindOfStatus(e.status), 'bad_request', (e.message ?? 'bad request').slice(0, 200));
  return new AppError('internal', 'internal', 'internal error');
}
