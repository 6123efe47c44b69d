import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Context } from 'unleash-client';
import type { StoredToken } from '../auth/token-model.js';
import { LimitError } from '../errors/limit-error.js';
import { tokenEnvironment } from '../http/auth.js';
import type { Logger } from '../logger.js';
import { matchesIfNoneMatch } from '../serving/rendered-payload.js';
import type { ServingState } from '../serving/serving-state.js';
import type { Store } from '../store/port.js';
import { stickinessValue } from '../rollouts/stickiness.js';
import { userSampleHash } from '../rollouts/unit-bucket.js';
import { EngineCache } from './engine-cache.js';
import type { Evaluation } from './evaluation.js';
import { ExposureBatcher } from './exposure-batcher.js';
import { RateLimiter } from './rate-limiter.js';
import type { EvaluationEngine } from './flag-catalog.js';

export interface ServerEvaluationOptions {
  /** Requests per second per token on this replica (0: no limit). */
  ratePerSecond: number;
  /** Requests a token may send at once before the rate applies. */
  burst: number;
  /** How often counted exposures are written to the store. */
  exposureFlushMs: number;
}

/**
 * What the frontend API and OFREP share: the engines over the serving snapshot, per-token rate
 * limits, exposure counting, and replies whose ETag is the hash of their body (an answer depends
 * on the flags, the context and, for date constraints, the time: only the body itself says whether
 * it changed).
 */
export class ServerEvaluation {
  private readonly engines: EngineCache;
  private readonly limiter: RateLimiter;
  private readonly exposures: ExposureBatcher;
  private readonly sweep: NodeJS.Timeout;

  constructor(state: ServingState, store: Store, logger: Logger, now: () => number, options: ServerEvaluationOptions) {
    this.engines = new EngineCache(state);
    this.limiter = new RateLimiter(options.ratePerSecond, options.burst, now);
    this.exposures = new ExposureBatcher(store, now, logger, options.exposureFlushMs);
    this.sweep = setInterval(() => this.limiter.sweep(), 60_000);
    this.sweep.unref();
  }

  /**
   * The token's environment and engine, once the token is within its rate. Over it: 429 with
   * Retry-After in seconds (OFREP providers and browsers both read that form).
   */
  admit(token: StoredToken | undefined): { env: string; engine: EvaluationEngine } {
    const env = tokenEnvironment(token);
    const waitSeconds = this.limiter.take(token!.id);
    if (waitSeconds > 0) {
      throw new LimitError(
        'rate-limited',
        'rate_limited',
        `this token sent too many evaluation requests; retry after ${waitSeconds} s`,
        'EVALUATION_RATE_LIMIT',
        waitSeconds,
      );
    }
    return { env, engine: this.engines.forEnvironment(env) };
  }

  /**
   * Every evaluation served counts as an exposure, as an SDK's isEnabled/getVariant would, and its
   * user in the flag's user sample. The user's hash is taken once per stickiness value, however
   * many flags the request evaluated.
   */
  count(env: string, evaluations: Iterable<Evaluation>, context: Context, engine: EvaluationEngine): void {
    const hashes = new Map<string, string>();
    this.exposures.count(env, evaluations, (flag) => {
      const stickiness = engine.rolloutStickiness(flag);
      const value = stickiness && stickinessValue(stickiness, context);
      if (value === undefined) return undefined;
      let hash = hashes.get(value);
      if (hash === undefined) hashes.set(value, (hash = userSampleHash(value)));
      return hash;
    });
  }

  flushExposures(): Promise<void> {
    return this.exposures.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    this.engines.close();
    await this.exposures.close();
  }
}

/** The context fields every evaluation gets unless the caller set them: the token's environment. */
export function withDefaults(context: Context, env: string, remoteAddress?: string): Context {
  return {
    ...context,
    environment: context.environment ?? env,
    ...(context.remoteAddress === undefined && remoteAddress ? { remoteAddress } : {}),
  };
}

/** Sends a JSON body with an ETag of its hash; a matching If-None-Match gets 304 and no body. */
export function sendWithEtag(req: Request, res: Response, body: unknown): void {
  sendJsonWithEtag(req, res, JSON.stringify(body));
}

/** The same for a body already serialised (assembled from pre-serialised pieces). */
export function sendJsonWithEtag(req: Request, res: Response, json: string): void {
  const tag = createHash('sha1').update(json).digest('base64url');
  res.setHeader('ETag', `"${tag}"`);
  res.setHeader('Cache-Control', 'no-cache');
  if (matchesIfNoneMatch(req.header('if-none-match'), tag)) {
    res.status(304).end();
    return;
  }
  res.status(200).type('application/json').send(json);
}
