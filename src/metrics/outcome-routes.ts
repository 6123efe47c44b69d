import { tokenEnvironment } from '../http/auth.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { outcomeReportSchema, type StoreOutcomeSource } from './outcomes.js';

const TAG = 'Metrics';

/** Where applications (through the SDK helper) report how the work behind a flag went, per cohort. */
export function outcomeRoutes(deps: { outcomes: StoreOutcomeSource; now: () => number }): RouteSpec[] {
  const { outcomes, now } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/metrics/outcomes',
      summary: 'Requests, errors and a latency histogram per flag and cohort (treatment = flag on, control = off), counted for the token’s environment.',
      tag: TAG,
      // A client token, like the SDK's own metrics: the app already holds one, and it fixes the environment.
      auth: { kind: 'client' },
      body: outcomeReportSchema,
      responses: { 202: { description: 'Accepted' } },
      handler: async ({ body, token }) => {
        await outcomes.record(tokenEnvironment(token), body, now());
        return { status: 202 };
      },
    }),
  ];
}
