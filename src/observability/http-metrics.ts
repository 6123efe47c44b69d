import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Histogram, Registry } from 'prom-client';
import { metricsOn } from './metric-factory.js';

/** Request latency from tens of microseconds (a pre-rendered poll) to seconds (a large import). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Answers that are open for as long as the client stays: their duration is not a latency. */
const LONG_LIVED_ROUTES = new Set(['/api/client/streaming']);

/** Requests no route claimed (404s, bodies refused before routing): one label, never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The status recorded when the client went away before any answer was written (nginx's convention). */
const CLIENT_CLOSED = 499;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface HttpMetrics {
  /** Call first for every request; the request is recorded once its response closes. */
  begin(req: IncomingMessage, res: ServerResponse): void;
  /** Names the route of a request answered outside express (the fast lane), which sets no route of its own. */
  servedAs(res: ServerResponse, route: string): void;
}

/** `/api/admin/flags/:name` (express) → `/api/admin/flags/{name}`, as the OpenAPI document writes it. */
export function routeTemplate(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

interface ExpressRouted {
  route?: { path?: unknown };
}

const STARTED = Symbol('request started');
const SERVED_AS = Symbol('served as route');
type ObservedResponse = ServerResponse & { [STARTED]?: number; [SERVED_AS]?: string };

/**
 * Requests and latency by method, route template and status. Labels are bounded: the route is the
 * template a request matched (never its path, which carries flag names and ids), the method one of
 * a fixed few. Prometheus children are cached per label set, since the fast lane answers most
 * requests in microseconds and a label lookup per request would be a noticeable share of that.
 */
export function httpMetrics(registry: Registry): HttpMetrics {
  const { counter, histogram } = metricsOn(registry);
  const requests = counter(
    'rollout_controller_http_requests_total',
    'HTTP requests answered, by method, route template and status code (499: the client left before an answer).',
    ['method', 'route', 'status'],
  );
  const latency = histogram(
    'rollout_controller_http_request_duration_seconds',
    'Time from a request arriving to its answer being written, by method and route template (streams excluded).',
    LATENCY_BUCKETS,
    ['method', 'route'],
  );
  // Per method and route: the latency child and the counter child of each status seen, found without building key strings.
  const byMethod = new Map<string, Map<string, { latency: Histogram.Internal<'method' | 'route'>; byStatus: Map<number, Counter.Internal> }>>();

  const record = (method: string, route: string, status: number, seconds: number) => {
    let byRoute = byMethod.get(method);
    if (!byRoute) byMethod.set(method, (byRoute = new Map()));
    let children = byRoute.get(route);
    if (!children) byRoute.set(route, (children = { latency: latency.labels({ method, route }), byStatus: new Map() }));
    let counter = children.byStatus.get(status);
    if (!counter) children.byStatus.set(status, (counter = requests.labels({ method, route, status: String(status) })));
    counter.inc();
    if (!LONG_LIVED_ROUTES.has(route)) children.latency.observe(seconds);
  };

  // One shared listener and two fields on the response rather than closures per request: the fast
  // lane answers in microseconds, and allocations there show in its throughput.
  function recordOnClose(this: ObservedResponse): void {
    const seconds = (performance.now() - this[STARTED]!) / 1000;
    const req = this.req as IncomingMessage & ExpressRouted;
    const routed = req.route?.path;
    const route = this[SERVED_AS] ?? (typeof routed === 'string' ? routeTemplate(routed) : UNMATCHED_ROUTE);
    const method = req.method && METHODS.has(req.method) ? req.method : 'OTHER';
    record(method, route, this.headersSent ? this.statusCode : CLIENT_CLOSED, seconds);
  }

  return {
    begin(_req, res) {
      (res as ObservedResponse)[STARTED] = performance.now();
      res.once('close', recordOnClose);
    },
    servedAs(res, route) {
      (res as ObservedResponse)[SERVED_AS] = route;
    },
  };
}
