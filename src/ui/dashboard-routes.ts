import { z } from 'zod';
import { PERMISSIONS, roleAllows, type Permission } from '../auth/permissions.js';
import { readAuditHead } from '../audit/audited-commit.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { OutcomeSource } from '../metrics/outcome-model.js';
import { isDone, type Rollout } from '../rollouts/rollout-model.js';
import { endedAt } from '../rollouts/rollout-status.js';
import type { RolloutView } from '../rollouts/rollout-views.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import type { Store } from '../store/port.js';
import { answeredNotModified, etagJson, strongEtag } from './etag-json.js';
import { auditFilterSchema, recentAuditEvents } from './recent-audit.js';
import { readRolloutSeries, SeriesCache } from './rollout-series.js';

const TAG = 'Dashboard';
const read = { kind: 'admin', permission: 'read' } as const;
/** Finished rollouts shown under the active ones, newest first. */
const RECENT_FINISHED = 20;

export interface DashboardDeps {
  rollouts: RolloutService;
  outcomes: OutcomeSource;
  store: Store;
  now: () => Date;
}

/** A rollout as the rollouts page lists it: without its plan, history and running sums, with where it stands. */
function boardEntry(r: RolloutView) {
  const { plan, history: _history, stepTotals: _sums, ...rest } = r;
  return { ...rest, gateCount: plan.gates.length };
}
export type BoardEntry = ReturnType<typeof boardEntry>;

/** Admin routes the dashboard reads besides the public ones; each answers with an ETag for cheap polling. */
export function dashboardRoutes(deps: DashboardDeps): RouteSpec[] {
  const seriesCache = new SeriesCache();
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/me',
      summary:
        'Who calls, by token or session, and what their role may do (the dashboard offers only those actions; the API enforces them anyway). ' +
        'A person signed in with a session also gets the CSRF token every write must send in X-CSRF-Token.',
      tag: TAG,
      auth: read,
      responses: { 200: { description: '{id, name, kind: "admin" | "person", via: "token" | "session", role, permissions, email?, csrfToken?, expiresAt?}' } },
      handler: ({ caller }) => {
        // The admin auth requirement has already refused anyone without a caller and a role.
        const { id, name, role, via, email, session } = caller!;
        const permissions = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => roleAllows(role, p));
        const kind = via === 'session' ? 'person' : 'admin';
        return { status: 200, body: { id, name, kind, via, role, permissions, ...(email ? { email } : {}), ...session } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/dashboard/rollouts',
      summary: `Every active rollout and the ${RECENT_FINISHED} latest finished ones, each with its steps and what it is waiting for.`,
      tag: TAG,
      auth: read,
      responses: { 200: { description: '{rollouts}' }, 304: { description: 'Unchanged since the ETag sent in If-None-Match' } },
      handler: async ({ req, res }) => {
        const now = deps.now();
        const all = await deps.rollouts.list();
        // A completed rollout still watching after 100 % is listed with the active ones.
        const active = all.filter((r) => !isDone(r));
        // Newest first means the most recently ended, not the most recently started; only those shown get a status.
        const ended = (r: Rollout) => endedAt(r) ?? r.updatedAt;
        const recent = all
          .filter((r) => isDone(r))
          .sort((a, b) => ended(b).localeCompare(ended(a)))
          .slice(0, RECENT_FINISHED);
        const views = await deps.rollouts.views([...active, ...recent]);
        return etagJson(req, res, { rollouts: views.map(boardEntry) }, now);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts/{id}/series',
      summary:
        'One rollout with where it stands and its outcomes over time per cohort (error rate, latency, requests), ' +
        'gate thresholds and served percentage: what its dashboard page draws.',
      tag: TAG,
      auth: read,
      params: z.object({ id: z.string().min(1).max(100) }),
      responses: { 200: { description: '{rollout, progress, series}' }, 304: { description: 'Unchanged' }, 404: { description: 'No such rollout' } },
      handler: async ({ req, res, params }) => {
        const now = deps.now();
        const [rollout] = await deps.rollouts.views([await deps.rollouts.get(params.id)]);
        const series = await readRolloutSeries(deps.outcomes, rollout!, now, seriesCache);
        return etagJson(req, res, { rollout, series }, now);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/dashboard/audit',
      summary: 'Audit events newest first, filtered by action, target and actor (substring, any case), without their before/after documents.',
      tag: TAG,
      auth: read,
      query: auditFilterSchema,
      responses: { 200: { description: '{headSeq, events, nextBefore}' }, 304: { description: 'No new events' } },
      handler: async ({ req, res, query }) => {
        const head = await readAuditHead(deps.store);
        // Known before the log is read: nothing new past the head means the same answer.
        const etag = strongEtag(`${head.hash}:${JSON.stringify(query)}`);
        if (answeredNotModified(req, res, etag)) return undefined;
        return etagJson(req, res, await recentAuditEvents(deps.store, head.seq, query), undefined, etag);
      },
    }),
  ];
}
