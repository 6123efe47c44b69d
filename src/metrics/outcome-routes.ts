import { tokenEnvironment } from '../http/auth.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { outcomeReportSchema, type StoreOutcomeSource } from './outcomes.js';

const TAG = 'Metrics';

/**
 * Where applications (through the SDK helper) report how the work behind a flag went, per cohort.
 * Records of flags the environment is not served are not kept: names are the caller's choice, and
 * each new one would add counters to the store.
 */
export function outcomeRoutes(deps: { outcomes: StoreOutcomeSource; servesFlag: (env: string, flag: string) => boolean; now: () => number }): RouteSpec[] {
  const { outcomes, servesFlag, now } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/api/metrics/outcomes',
      summary: 'Requests, errors and a latency histogram per flag and cohort (treatment = flag on, control = off), counted for the token’s environment.',
      tag: TAG,
      // A client token, like the SDK's own metrics: the app already holds one, and it fixes the environment.
      auth: { kind: 'client' },
      body: outcomeReportSchema,
      bodyFamily: 'outcomes',
      responses: { 202: { description: 'Accepted (records of flags the environment is not served are not counted)' } },
      handler: async ({ body, token }) => {
        const env = tokenEnvironment(token);
        await outcomes.record(env, { ...body, records: body.records.filter((r) => servesFlag(env, r.flag)) }, now());
        return { status: 202 };
      },
    }),
  ];
}
