import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { ifMatchVersion } from '../http/if-match.js';
import { AppError } from '../errors/app-error.js';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import type { Permission } from '../auth/permissions.js';
import { personOf } from '../auth/caller.js';
import type { Command, RolloutService } from './rollout-service.js';

const TAG = 'Rollouts';
const idParams = z.object({ id: z.string().min(1).max(100) });
const commentBody = z
  .object({ comment: z.string().max(1000).optional() })
  .default({})
  .meta({ id: 'RolloutComment' });
const instant = z.iso.datetime({ offset: true, error: 'a time in ISO 8601 with its offset, e.g. 2026-01-18T10:00:00+08:00' });
/** What starting a rollout and a release share: where, under which plan, when, and the overrides. */
const startFields = {
  environment: environmentNameSchema,
  policy: flagNameSchema,
  /** Start at this time (state `scheduled` until then); absent, or at most a minute ago: now. */
  startAt: instant.optional(),
  /** Per step percentage, the time before which that step is not entered: {"100": "2026-01-18T10:00:00+08:00"}. */
  notBefore: z
    .record(z.string().regex(/^\d{1,3}(\.\d+)?$/, 'a step percentage such as "100"'), instant)
    .refine((r) => Object.keys(r).length <= 20, 'at most 20 steps')
    .optional(),
  /** A killed flag is refused unless the kill switch is to be cleared as the rollout starts, for a reason. */
  restore: z.boolean().optional(),
  /** Start even when the baseline already fails one of the policy's absolute gates: recorded as a warning (with `reason`, if given). */
  force: z.boolean().optional(),
  reason: z.string().min(1).max(1000).optional(),
};
const restoreNeedsReason: [(b: { restore?: boolean; reason?: string }) => boolean, { message: string; path: string[] }] = [
  (b) => !b.restore || b.reason !== undefined,
  { message: 'restore needs a reason', path: ['reason'] },
];
const startBody = z
  .object({ flag: flagNameSchema, ...startFields })
  .strict()
  .refine(...restoreNeedsReason)
  .meta({ id: 'StartRollout' });
const startQuery = z.object({
  dryRun: z
    .stringbool()
    .optional()
    .describe('run every check and the pre-flight and answer 200 with the rollout that would start (its id is not kept); nothing is written'),
});
/** The most flags one release ramps (a module's switches). */
export const MAX_RELEASE_FLAGS = 50;
const releaseBody = z
  .object({
    name: flagNameSchema,
    flags: z
      .array(flagNameSchema)
      .min(1)
      .max(MAX_RELEASE_FLAGS)
      .refine((f) => new Set(f).size === f.length, 'each flag once'),
    ...startFields,
  })
  .strict()
  .refine(...restoreNeedsReason)
  .meta({ id: 'StartRelease' });
const approveBody = z
  .object({
    comment: z.string().max(1000).optional(),
    /** The percentage of the step being approved, as the approver saw it; without it, the step awaiting approval. */
    step: z.number().gt(0).max(100).optional(),
    /** Approve a later step than the one awaited, in advance. */
    ahead: z.boolean().optional(),
  })
  .strict()
  .refine((b) => !b.ahead || b.step !== undefined, { message: 'ahead needs the step it approves', path: ['step'] })
  .default({})
  .meta({ id: 'ApproveRollout' });

const COMMANDS: Record<Exclude<Command, 'approve'>, { permission: Permission; summary: string }> = {
  reject: { permission: 'rollouts:approve', summary: 'Reject the pending step: the rollout pauses for a person.' },
  pause: { permission: 'rollouts:start', summary: 'Hold everything; rollback rules keep being checked.' },
  resume: { permission: 'rollouts:start', summary: 'Resume a paused rollout; the step restarts its clock.' },
  abort: { permission: 'rollouts:start', summary: 'Stop the rollout for good and return its strategy to 0% (a scheduled one is cancelled).' },
};

/** The two families of routes: one flag's rollouts, and releases of several flags (a rollout with `release`). */
type Family = 'rollouts' | 'releases';
const NOUN: Record<Family, string> = { rollouts: 'rollout', releases: 'release' };

export function rolloutRoutes(rollouts: RolloutService): RouteSpec[] {
  /** The rollout, when it belongs to the family the route names (a release's id under /rollouts works too). */
  const kindOf = async (family: Family, id: string) => {
    if (family === 'releases' && !(await rollouts.get(id)).release) throw AppError.notFound(`release "${id}"`);
  };
  return [
    defineRoute({
      method: 'post',
      path: '/api/admin/rollouts',
      summary: 'Start a rollout of one flag in one environment, following a policy; with `startAt`, schedule it.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'rollouts:start' },
      query: startQuery,
      body: startBody,
      responses: startResponses('rollout'),
      handler: async ({ query, body, caller, actor }) => {
        const dryRun = query.dryRun === true;
        const [view] = await rollouts.views([await rollouts.start(body, personOf(caller), actor, { dryRun })]);
        return { status: dryRun ? 200 : 201, body: dryRun ? { ...view, dryRun } : view };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/releases',
      summary:
        'Start a release: several flags ramped as one, with one cohort (the same stickiness and group id, so the same users get every flag at each step), ' +
        'one set of approvals, gates on each flag and on all together, and one kill that turns every flag off in one commit.',
      tag: 'Releases',
      auth: { kind: 'admin', permission: 'rollouts:start' },
      query: startQuery,
      body: releaseBody,
      responses: startResponses('release'),
      handler: async ({ query, body, caller, actor }) => {
        const { name, flags, ...rest } = body;
        const dryRun = query.dryRun === true;
        const started = await rollouts.start({ ...rest, flag: flags[0]!, release: { name, flags } }, personOf(caller), actor, { dryRun });
        const [view] = await rollouts.views([started]);
        return { status: dryRun ? 200 : 201, body: dryRun ? { ...view, dryRun } : view };
      },
    }),
    ...(['rollouts', 'releases'] as const).flatMap((family) => familyRoutes(rollouts, family, kindOf)),
  ];
}

function startResponses(noun: string) {
  return {
    200: { description: `With \`?dryRun=true\`: the ${noun} that would start, with its pre-flight and \`dryRun: true\`; nothing was written` },
    201: {
      description:
        `The ${noun} (state \`scheduled\` when \`startAt\` is ahead), with \`preflight\`: the baseline (its traffic without the feature over the last hour at most), ` +
        'and per step how long it needs at that traffic to detect a doubling of the error rate; `preflight.warnings` when forced',
    },
    400: { description: '`startAt` in the past or over a year ahead, or `notBefore` naming a step the policy does not have' },
    404: { description: 'No such flag, policy or environment' },
    409: {
      description:
        'A flag already has an active rollout there (or the release name is in use), or is killed there and `restore` was not asked for, ' +
        'or (`baseline_above_gate`) its baseline already fails an absolute gate of the policy and `force` was not asked for: ' +
        '`details.violations` gives each gate with value, threshold and samples',
    },
    422: { description: 'The policy names a holiday calendar that does not exist' },
  };
}

/** Reading, approving and the other commands, the same for rollouts and releases. */
function familyRoutes(rollouts: RolloutService, family: Family, kindOf: (family: Family, id: string) => Promise<void>): RouteSpec[] {
  const noun = NOUN[family];
  const tag = family === 'rollouts' ? TAG : 'Releases';
  return [
    defineRoute({
      method: 'get',
      path: `/api/admin/${family}`,
      summary: `Every ${noun}, newest first.`,
      tag,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: `The ${family}` } },
      handler: async () => {
        const all = await rollouts.list();
        return { status: 200, body: { [family]: await rollouts.views(family === 'releases' ? all.filter((r) => r.release) : all) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `/api/admin/${family}/{id}`,
      summary: `One ${noun}: state, step, percentage, latest gate results with values and thresholds, approvals and history${family === 'releases' ? ', and its `flags`' : ''}.`,
      tag,
      auth: { kind: 'admin', permission: 'read' },
      params: idParams,
      responses: { 200: { description: `The ${noun}; its ETag is the version to send as If-Match with a command` }, 404: { description: `No such ${noun}` } },
      handler: async ({ params, res }) => {
        const doc = await rollouts.getVersioned(params.id);
        if (family === 'releases' && !doc.value.release) throw AppError.notFound(`release "${params.id}"`);
        res.setHeader('ETag', `"${doc.version}"`);
        const [view] = await rollouts.views([doc.value]);
        return { status: 200, body: view };
      },
    }),
    defineRoute({
      method: 'post',
      path: `/api/admin/${family}/{id}/approve`,
      summary:
        'Approve a step, named by its percentage (`step`; without it, the step awaiting approval). ' +
        'Any other step than the one awaited is refused with 409 and the awaited step, unless `ahead: true` approves a later step in advance. ' +
        'The same person approving the same step again gets the first approval back. ' +
        `Not by whoever started the ${noun}; roles as the policy names. Advances at once when the step is healthy. ` +
        `If-Match: the ${noun} version acted on.`,
      tag,
      auth: { kind: 'admin', permission: 'rollouts:approve' },
      params: idParams,
      body: approveBody,
      responses: {
        200: { description: `The ${noun} after the approval, with \`approval\`: the one recorded (or given before by the same person)` },
        403: { description: 'Not allowed for this person (started it, or a role the policy does not name)' },
        409: { description: 'Not the step awaiting approval, or nothing to approve; `details.awaitingStep` names the awaited step' },
        412: { description: 'If-Match named a version that is no longer current' },
      },
      handler: async ({ params, body, caller, actor, req }) => {
        await kindOf(family, params.id);
        const { rollout, approval } = await rollouts.approve(params.id, { by: personOf(caller), ...body }, actor, ifMatchVersion(req, 'rollout'));
        const [view] = await rollouts.views([rollout]);
        return { status: 200, body: { ...view, approval } };
      },
    }),
    ...(Object.entries(COMMANDS) as Array<[Exclude<Command, 'approve'>, (typeof COMMANDS)[keyof typeof COMMANDS]]>).map(([command, { permission, summary }]) =>
      defineRoute({
        method: 'post',
        path: `/api/admin/${family}/{id}/${command}`,
        summary,
        tag,
        auth: { kind: 'admin', permission },
        params: idParams,
        body: commentBody,
        responses: {
          200: { description: `The ${noun} after the command` },
          403: { description: 'Not allowed for this person' },
          409: { description: `Not possible in the ${noun}’s state` },
          412: { description: 'If-Match named a version that is no longer current' },
        },
        handler: async ({ params, body, caller, actor, req }) => {
          await kindOf(family, params.id);
          const rollout = await rollouts.command(params.id, command, personOf(caller), actor, body.comment, ifMatchVersion(req, 'rollout'));
          const [view] = await rollouts.views([rollout]);
          return { status: 200, body: view };
        },
      }),
    ),
  ];
}
