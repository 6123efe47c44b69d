import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'unleash-client';
import type { StoredToken } from '../auth/token-model.js';
import { LimitError } from '../errors/limit-error.js';
import { tokenEnvironment } from '../http/auth.js';
import type { Logger } from '../logger.js';
import { matchesIfNoneMatch } from '../serving/rendered-payload.js';
import type { ServingState } from '../serving/serving-state.js';
import type { Store } from '../store/port.js';
import { stickinessValue } from '../rollouts/stickiness.js';
import { hashValue } from '../metrics/bottom-k.js';
import { userSampleHash } from '../rollouts/unit-bucket.js';
import { EngineCache } from './engine-cache.js';
import type { JsonList } from './rendered.js';
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
  /** Per engine, the stickiness field of each flag a rollout owns a strategy of (by position in flagNames), undefined for the others; null when there is none. */
  private readonly stickinessByIndex = new WeakMap<EvaluationEngine, Array<string | undefined> | null>();

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
    const admitted = this.tryAdmit(token);
    if (typeof admitted === 'number') {
      throw new LimitError(
        'rate-limited',
        'rate_limited',
        `this token sent too many evaluation requests; retry after ${admitted} s`,
        'EVALUATION_RATE_LIMIT',
        admitted,
      );
    }
    return admitted;
  }

  /** The same, answering the seconds to wait instead of throwing (a refusal takes nothing from the token's bucket, so asking again gives the same answer). */
  tryAdmit(token: StoredToken | undefined): { env: string; engine: EvaluationEngine } | number {
    const env = tokenEnvironment(token);
    const waitSeconds = this.limiter.take(token!.id);
    return waitSeconds > 0 ? waitSeconds : { env, engine: this.engines.forEnvironment(env) };
  }

  /**
   * Every evaluation served counts as an exposure, as an SDK's isEnabled/getVariant would. Its user
   * goes into the flag's user sample when a rollout owns a strategy of the flag: those samples are
   * what a rollout's sample-ratio check reads (measure-traffic.ts), and no other flag's are read, so
   * the frontend API does not sample users for the many flags no rollout is moving. The user's hash
   * is taken once per stickiness field, however many flags the request evaluated.
   */
  count(env: string, evaluations: Iterable<Evaluation>, context: Context, engine: EvaluationEngine): void {
    const hashOf = userHashes(context);
    const watched = this.engines.flagsUnderRollout(engine);
    this.exposures.count(env, evaluations, (flag) => {
      const stickiness = watched.has(flag) ? engine.rolloutStickiness(flag) : undefined;
      return stickiness && hashOf(stickiness.field);
    });
  }

  /** The same for evaluateAll's answer (every flag, in the engine's order), counted by position. */
  countAll(env: string, evaluations: readonly Evaluation[], context: Context, engine: EvaluationEngine): void {
    let fields = this.stickinessByIndex.get(engine);
    if (fields === undefined) {
      const watched = this.engines.flagsUnderRollout(engine);
      const byIndex = engine.flagNames.map((flag) => (watched.has(flag) ? engine.rolloutStickiness(flag)?.field : undefined));
      fields = byIndex.some((field) => field !== undefined) ? byIndex : null;
      this.stickinessByIndex.set(engine, fields);
    }
    if (fields === null) return this.exposures.countAll(env, engine.flagNames, evaluations);
    const hashOf = userHashes(context);
    this.exposures.countAll(env, engine.flagNames, evaluations, (_flag, index) => {
      const field = fields[index];
      return field === undefined ? undefined : hashOf(field);
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

/** A request's user sample hash (hashValue of userSampleHash) per stickiness field, each worked out once (nearly every flag asks for the same field). */
function userHashes(context: Context): (field: string) => number | undefined {
  const hashes = new Map<string, number | undefined>();
  let lastField: string | undefined;
  let lastHash: number | undefined;
  return (field) => {
    if (field === lastField) return lastHash;
    let hash: number | undefined;
    if (hashes.has(field)) hash = hashes.get(field);
    else {
      const value = stickinessValue({ field, groupId: '' }, context);
      hash = value === undefined ? undefined : hashValue(userSampleHash(value));
      hashes.set(field, hash);
    }
    lastField = field;
    lastHash = hash;
    return hash;
  };
}

/**
 * Fills in the context fields every evaluation gets unless the caller set them: the token's
 * environment, and the request's address. In place: callers hand a context made for this request
 * (toUnleashContext, plainStringsContext), which nothing else holds.
 */
export function fillDefaults(context: Context, env: string, remoteAddress?: string): Context {
  if (context.environment === undefined) context.environment = env;
  if (context.remoteAddress === undefined && remoteAddress) context.remoteAddress = remoteAddress;
  return context;
}

/**
 * Sends a JSON body (assembled from pre-serialised pieces) with an ETag of its hash; a matching
 * If-None-Match gets 304 and no body. Written with Node's own response methods, so express routes
 * and the frontend API's fast lane answer alike.
 */
export function sendJsonWithEtag(req: IncomingMessage, res: ServerResponse, answer: JsonList): void {
  const etag = answer.etag();
  if (matchesIfNoneMatch(req.headers['if-none-match'], etag.slice(1, -1))) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-cache' });
    res.end();
    return;
  }
  // Written as text: the socket encodes it once, without a Buffer of it in between.
  const json = answer.json();
  res.writeHead(200, { ETag: etag, 'Cache-Control': 'no-cache', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}
