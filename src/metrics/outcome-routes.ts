import { tokenEnvironment } from '../http/auth.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { outcomeReportSchema, type StoreOutcomeSource } from './outcomes.js';

const TAG = 'Metrics';

/**
 * Where applications (through the SDK helper) report how the work behind a flag went, per cohort.
 * Records of flags the environment is not served are not kept: names are the caller's choice, and
 * each new one would add counters to the store.
 */
export function outcomeRoutes(deps: {
  outcomes: StoreOutcomeSource;
  servesFlag: (env: string, flag: string) => boolean;
  /** Whether a release of that name is active in the environment (its records are kept only then). */
  releaseActive: (env: string, release: string) => Promise<boolean>;
  now: () => number;
}): RouteSpec[] {
  const { outcomes, servesFlag, releaseActive, now } = deps;
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
      responses: { 202: { description: 'Accepted (records of flags the environment is not served, or of releases not active in it, are not counted)' } },
      handler: async ({ body, token }) => {
        const env = tokenEnvironment(token);
        const releases = [...new Set(body.records.flatMap((r) => (r.release ? [r.release] : [])))];
        const active = new Set((await Promise.all(releases.map(async (name) => ((await releaseActive(env, name)) ? [name] : [])))).flat());
        const records = body.records.filter((r) => (r.release ? active.has(r.release) : servesFlag(env, r.flag!)));
        await outcomes.record(env, { ...body, records }, now());
        return { status: 202 };
      },
    }),
  ];
}
