import { defineRoute, type RouteSpec } from './route.js';

export interface Readiness {
  /** `reason`: why not ready, in words (for the person looking at a failing probe). */
  ready(): { ready: boolean; checks: Record<string, boolean>; reason?: string };
}

export function healthRoutes(readiness: Readiness): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: 200 while the process lives.',
      tag: 'Operations',
      auth: { kind: 'none' },
      responses: { 200: { description: 'Alive' } },
      handler: () => ({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      summary:
        'Readiness: 200 once flag state is loaded and the store answers, 503 otherwise (also while the store is known to have lost data), with the reason.',
      tag: 'Operations',
      auth: { kind: 'none' },
      responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } },
      handler: () => {
        const { ready, checks, reason } = readiness.ready();
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks, ...(reason ? { reason } : {}) } };
      },
    }),
  ];
}
