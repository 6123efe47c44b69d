import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import { readDrill } from './drill-audit.js';
import { renderDrillReport } from './drill-report.js';
import { MAX_DRILL_TIMEOUT_SECONDS, DEFAULT_DRILL_TIMEOUT_SECONDS, type DrillService } from './drill-service.js';
import type { Store } from '../store/port.js';

const TAG = 'Flags';
const flagEnvParams = z.object({ name: flagNameSchema, env: environmentNameSchema });
const base = '/api/admin/flags/{name}/environments/{env}';

const instanceRef = z.object({
  appName: z.string().nullable(),
  instanceId: z.string().nullable(),
  connectionId: z.string().nullable(),
  instance: z.string(),
  lastSeenAt: z.string(),
});

const propagationSchema = z
  .object({
    flag: z.string(),
    environment: z.string(),
    killed: z.boolean(),
    version: z.number().describe('the flag’s revision: the change-feed position from which a served state holds it as it is now'),
    instances: z.number().describe('SDK instances seen in the last 5 minutes (polls, stream heartbeats, registrations), not counting closed streams'),
    confirmed: z.number().describe('of them, how many were served a state at `version` or later'),
    lastConfirmedAt: z.string().nullable().describe('when the last of those got it, if within the last 20 minutes'),
    pending: z.array(instanceRef).describe('the instances that do not hold it yet (at most 500 listed)'),
    pendingNotListed: z.number(),
  })
  .meta({ id: 'Propagation' });

const drillBody = z
  .object({
    reason: z.string().trim().min(1, 'a reason is required').max(1000),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_DRILL_TIMEOUT_SECONDS)
      .optional()
      .describe(`how long to wait for every instance (default ${DEFAULT_DRILL_TIMEOUT_SECONDS})`),
    confirm: z.boolean().optional().describe('required on a production environment (production, prod, production-…, prod-…)'),
  })
  .meta({ id: 'DrillRequest' });

const drillRecord = z
  .object({
    flag: z.string(),
    environment: z.string(),
    reason: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    timeoutSeconds: z.number(),
    revision: z.number().nullable(),
    instances: z.number(),
    confirmed: z.number(),
    ms: z.object({ p50: z.number().nullable(), p99: z.number().nullable(), max: z.number().nullable() }),
    missing: z.array(instanceRef),
    missingNotListed: z.number(),
    ended: z.enum(['all-confirmed', 'timed-out', 'interrupted', 'failed']),
    waitError: z.string().optional(),
    restore: z.union([
      z.object({ restored: z.literal(true), at: z.string() }),
      z.object({
        restored: z.literal(false),
        why: z.string(),
        whyWording: z
          .object({ template: z.string(), values: z.record(z.string(), z.unknown()) })
          .optional()
          .describe('`why` as a template and its values (src/propagation/drill-verdict.ts)'),
      }),
    ]),
    auditSeq: z.number().optional().describe('the drill’s audit event, and its id in the report’s path'),
    report: z.string().optional(),
  })
  .meta({ id: 'DrillRecord' });

function reportPath(flag: string, env: string, seq: number): string {
  return `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(env)}/drills/${seq}/report`;
}

export function propagationRoutes(deps: { drills: DrillService; store: Store }): RouteSpec[] {
  const { drills, store } = deps;
  return [
    defineRoute({
      method: 'get',
      path: `${base}/propagation`,
      summary: 'How many of the SDK instances connected to the environment hold the flag’s current state, when the last got it, and which are pending.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: flagEnvParams,
      responses: {
        200: { description: 'The propagation', schema: propagationSchema },
        404: { description: 'No such flag (not_found), or the environment is not declared (unknown_environment)' },
      },
      handler: async ({ params }) => ({ status: 200, body: await drills.propagation(params.name, params.env) }),
    }),
    defineRoute({
      method: 'post',
      path: `${base}/drill`,
      summary:
        'Rollback drill: kill the flag (reason "drill: …"), wait until every connected SDK instance has the kill or the timeout passes, ' +
        'restore it, and record the times to 50 %, 99 % and 100 % of instances and the ones that never had it (audit action flag.drill).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'flags:drill' },
      params: flagEnvParams,
      body: drillBody,
      responses: {
        200: { description: 'The drill record (also kept in the audit log)', schema: drillRecord },
        404: { description: 'No such flag (not_found), or the environment is not declared (unknown_environment)' },
        409: {
          description:
            'flag_killed: the flag is killed here (a drill would restore it); drill_running: a drill of it runs on this replica; no_instances: no SDK instance is connected',
        },
        422: { description: 'confirmation_required: a production environment needs `"confirm": true`' },
        503: { description: 'shutting_down: this replica is stopping (Retry-After)' },
      },
      handler: async ({ params, body, actor }) => {
        const record = await drills.drill(params.name, params.env, body, actor);
        const report = record.auditSeq === undefined ? {} : { report: reportPath(params.name, params.env, record.auditSeq) };
        return { status: 200, body: { ...record, ...report } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/drills/{seq}/report`,
      summary: 'A drill’s report for a change board (Markdown): verified or not, the times, the instances that never had the kill, the restore.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: flagEnvParams.extend({
        seq: z
          .string()
          .regex(/^[1-9]\d{0,14}$/, 'a positive integer')
          .describe('the drill’s audit event (auditSeq)'),
      }),
      responses: {
        200: { description: 'The report', schema: z.string(), contentType: 'text/markdown' },
        404: { description: 'No drill of this flag and environment at that position of the audit log' },
      },
      handler: async ({ params, res }) => {
        const { event, record } = await readDrill(store, params.name, params.env, Number(params.seq));
        const file = `drill-${params.name}-${params.env}-${params.seq}.md`.replace(/[^A-Za-z0-9_.~-]/g, '_');
        res
          .status(200)
          .set({
            'Content-Type': 'text/markdown; charset=utf-8',
            'Content-Disposition': `attachment; filename="${file}"`,
            'X-Content-Type-Options': 'nosniff',
            'Cache-Control': 'no-store',
          })
          .send(renderDrillReport(record, event));
        return undefined;
      },
    }),
  ];
}
