import { inconclusive, interpretQueryResponse, shortText, type QueryResult } from './query-result.js';
import { renderQuery, type QueryVars } from './query-template.js';

/** Reads one number for a gate or rollback rule from a metrics backend. Never throws: failures are inconclusive. */
export interface MetricQueryProvider {
  query(template: string, vars: QueryVars, at: Date, options?: { signal?: AbortSignal }): Promise<QueryResult>;
}

export const DEFAULT_PROMETHEUS_TIMEOUT_MS = 5_000;

export interface PrometheusProviderOptions {
  /** Prometheus' base URL, e.g. http://prometheus:9090 (a path prefix is kept; user:password@ becomes basic auth). */
  url: string;
  /** Time allowed per query, sent to Prometheus too so it stops evaluating when we stop waiting. */
  timeoutMs?: number;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** Instant queries over Prometheus' HTTP API (`/api/v1/query` with `time`). */
export class PrometheusProvider implements MetricQueryProvider {
  private readonly endpoint: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: PrometheusProviderOptions) {
    const url = new URL(options.url);
    // fetch refuses URLs with credentials, and they must never reach a log: move them to a header.
    this.authorization =
      url.username || url.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    url.username = '';
    url.password = '';
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
    this.endpoint = url.toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROMETHEUS_TIMEOUT_MS;
    this.fetch = options.fetch ?? fetch;
  }

  async query(template: string, vars: QueryVars, at: Date, options: { signal?: AbortSignal } = {}): Promise<QueryResult> {
    const rendered = renderQuery(template, vars);
    if (!rendered.ok) return inconclusive(rendered.reason);
    const time = at.getTime();
    if (!Number.isFinite(time)) return inconclusive('the evaluation time is not a valid date');

    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      // POST with a form body: same API as GET, without a URL length limit for long queries.
      const res = await this.fetch(this.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(this.authorization ? { Authorization: this.authorization } : {}) },
        body: new URLSearchParams({ query: rendered.query, time: (time / 1000).toFixed(3), timeout: `${this.timeoutMs}ms` }),
        signal,
      });
      return interpretQueryResponse(res.status, await res.text());
    } catch (err) {
      if (timeout.aborted) return inconclusive(`Prometheus did not answer within ${this.timeoutMs} ms`);
      if (options.signal?.aborted) return inconclusive('the query was cancelled');
      return inconclusive(`Prometheus could not be reached: ${shortText(describeError(err), 200)}`);
    }
  }
}

/** fetch wraps the interesting part ("ECONNREFUSED 127.0.0.1:9090") in `cause`. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** Stands in when PROMETHEUS_URL is not set, so a Prometheus gate holds the rollout with a reason instead of passing. */
export class UnconfiguredPrometheus implements MetricQueryProvider {
  async query(): Promise<QueryResult> {
    return inconclusive('PROMETHEUS_URL is not set, so Prometheus queries cannot be answered');
  }
}

/** The provider the controller wires in: a real one when PROMETHEUS_URL is set, otherwise one that is always inconclusive. */
export function prometheusProviderFromConfig(config: { PROMETHEUS_URL?: string; PROMETHEUS_TIMEOUT_MS?: number }): MetricQueryProvider {
  return config.PROMETHEUS_URL ? new PrometheusProvider({ url: config.PROMETHEUS_URL, timeoutMs: config.PROMETHEUS_TIMEOUT_MS }) : new UnconfiguredPrometheus();
}
