import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { AppError } from '../errors/app-error.js';
import { defineRoute, type RouteSpec } from '../http/route.js';

const digest = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * `GET /metrics` in Prometheus' text format. Open by default, as Prometheus scrapes without
 * credentials on most networks and nothing here is secret (no token, flag payload or per-token
 * label is ever exported). With METRICS_TOKEN set, a scrape must send it, as a bearer token or
 * bare, like the API's own tokens; it is compared in constant time.
 */
export function metricsRoutes(registry: Registry, metricsToken: string | undefined): RouteSpec[] {
  const expected = metricsToken === undefined ? undefined : digest(metricsToken);
  return [
    defineRoute({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics of this replica (requires METRICS_TOKEN when it is set).',
      tag: 'Operations',
      auth: { kind: 'none' },
      responses: {
        200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain' },
        401: { description: 'METRICS_TOKEN is set and the request did not send it' },
      },
      handler: async ({ req, res }) => {
        if (expected) {
          const sent = req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
          if (!timingSafeEqual(digest(sent), expected)) throw new AppError('unauthenticated', 'unauthorized', 'send METRICS_TOKEN in the Authorization header');
        }
        const body = await registry.metrics();
        res.status(200).type(registry.contentType).send(body);
        return undefined;
      },
    }),
  ];
}
