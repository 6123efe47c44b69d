import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Request latency from tens of microseconds (a pre-rendered poll) to seconds (a large import). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Answers that are open for as long as the client stays: their duration is not a latency. */
const LONG_LIVED_ROUTES = new Set(['/api/client/streaming']);

/** Requests no route claimed (404s, bodies refused before routing): one label, never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The status recorded when the client went away before any answer was written (nginx's convention). */
const CLIENT_CLOSED = 499;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface ObservedRequest {
  /** Names the route for a request answered outside express (the fast lane), which sets no route of its own. */
  servedAs(route: string): void;
}

export interface HttpMetrics {
  /** Call first for every request; the request is recorded once its response closes. */
  begin(req: IncomingMessage, res: ServerResponse): ObservedRequest;
}

/** `/api/admin/flags/:name` (express) → `/api/admin/flags/{name}`, as the OpenAPI document writes it. */
export function routeTemplate(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

interface ExpressRouted {
  route?: { path?: unknown };
}

/**
 * Requests and latency by method, route template and status. Labels are bounded: the route is the
 * template a request matched (never its path, which carries flag names and ids), the method one of
 * a fixed few. Prometheus children are cached per label set, since the fast lane answers most
 * requests in microseconds and a label lookup per request would be a noticeable share of that.
 */
export function httpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter({
    name: 'rollout_controller_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code (499: the client left before an answer).',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rollout_controller_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being written, by method and route template (streams excluded).',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const counters = new Map<string, Counter.Internal>();
  const histograms = new Map<string, Histogram.Internal<'method' | 'route'>>();

  const record = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route}`;
    const countKey = `${key} ${status}`;
    let counter = counters.get(countKey);
    if (!counter) counters.set(countKey, (counter = requests.labels({ method, route, status: String(status) })));
    counter.inc();
    if (LONG_LIVED_ROUTES.has(route)) return;
    let histogram = histograms.get(key);
    if (!histogram) histograms.set(key, (histogram = latency.labels({ method, route })));
    histogram.observe(seconds);
  };

  return {
    begin(req, res) {
      const started = process.hrtime.bigint();
      let servedAs: string | undefined;
      res.once('close', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const routed = (req as IncomingMessage & ExpressRouted).route?.path;
        const route = servedAs ?? (typeof routed === 'string' ? routeTemplate(routed) : UNMATCHED_ROUTE);
        const method = req.method && METHODS.has(req.method) ? req.method : 'OTHER';
        record(method, route, res.headersSent ? res.statusCode : CLIENT_CLOSED, seconds);
      });
      return { servedAs: (route) => (servedAs = route) };
    },
  };
}
