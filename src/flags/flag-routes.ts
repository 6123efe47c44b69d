import { z } from 'zod';
import { ifMatchVersion } from '../http/if-match.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { FlagService } from './flag-service.js';
import { importPayloadSchema } from './import-schema.js';
import { MAX_LISTED_KEPT } from './import-report.js';
import { environmentNameSchema, flagDefinitionSchema, flagNameSchema, storedFlagNameSchema, storedFlagSchema } from './schema.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';

const TAG = 'Flags';
/** A flag as written (PUT): the authored name rule. */
const authoredNameParams = z.object({ name: flagNameSchema });
/** A flag as held (read, delete, kill, restore): any name an import may have brought, percent-encoded in the path. */
const nameParams = z.object({ name: storedFlagNameSchema });
const killParams = z.object({ name: storedFlagNameSchema, env: environmentNameSchema });
const reasonBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(1000) }).meta({ id: 'Reason' });
const optionalReason = z.object({ reason: z.string().max(1000).optional() });
const flagBody = flagDefinitionSchema
  .partial({ name: true })
  .extend({ reason: z.string().max(1000).optional() })
  .meta({ id: 'FlagDefinition' });
const storedFlag = storedFlagSchema.meta({ id: 'Flag' });
const importAnswerSchema = z
  .object({
    imported: z.number(),
    kept: z.array(z.object({ flag: z.string().optional(), segment: z.number().optional(), path: z.string(), problem: z.string() })).optional(),
    unlisted: z.number().optional(),
  })
  .meta({ id: 'ImportAnswer' });
const putQuery = z.object({
  force: z.stringbool().optional().describe('apply even when it changes the percentage a running or completed rollout set (recorded in the audit reason)'),
});

export function flagRoutes(flags: FlagService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/flags',
      summary: 'Every flag with its per-environment state and kill switches.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The flags', schema: z.object({ flags: z.array(storedFlag) }) } },
      handler: async () => ({ status: 200, body: { flags: await flags.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/flags/{name}',
      summary: 'One flag, with its version for compare-and-set.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: nameParams,
      responses: { 200: { description: 'The flag', schema: storedFlag }, 404: { description: 'No such flag' } },
      handler: async ({ params, res }) => {
        const doc = await flags.get(params.name);
        res.setHeader('ETag', `"${doc.version}"`);
        return { status: 200, body: doc.value };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/flags/{name}',
      summary:
        'Create or replace a flag’s definition. Kill switches are kept. If-Match: "<version>" (the ETag of a GET) makes it a compare-and-set. ' +
        'A definition that would change the percentage a running or completed rollout set in an environment ' +
        '(another `rollout`, the environment disabled, the strategy gone) is refused with 409 `rollout_owns_percentage` unless `?force=true`.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'flags:write' },
      params: authoredNameParams,
      query: putQuery,
      body: flagBody,
      responses: {
        200: { description: 'Replaced', schema: storedFlag },
        201: { description: 'Created', schema: storedFlag },
        400: { description: 'Invalid definition (the error names the field)' },
        404: { description: 'An environment it names is not declared (unknown_environment; details.declared lists the declared ones)' },
        409: {
          description: 'rollout_owns_percentage: it would undo what a rollout set; `details.conflicts` names each environment, rollout and both percentages',
        },
        412: { description: 'If-Match named a version that is no longer current' },
      },
      handler: async ({ params, query, body, actor, req, res }) => {
        const { reason, ...definition } = body;
        assertNameMatchesPath(definition.name, params.name);
        const ifVersion = ifMatchVersion(req, 'flag');
        const result = await flags.put({ ...definition, name: params.name }, actor, reason, ifVersion, query.force === true);
        res.setHeader('ETag', `"${result.version}"`);
        return { status: result.created ? 201 : 200, body: result.flag };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/admin/flags/{name}',
      summary: 'Delete a flag in every environment.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'flags:write' },
      params: nameParams,
      query: optionalReason,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such flag' } },
      handler: async ({ params, query, actor }) => {
        await flags.delete(params.name, actor, query.reason);
        return { status: 204 };
      },
    }),
    ...(['kill', 'restore'] as const).map((action) =>
      defineRoute({
        method: 'post',
        path: `/api/admin/flags/{name}/environments/{env}/${action}`,
        summary:
          action === 'kill'
            ? 'Kill switch: serve the flag disabled in this environment at once, whatever its rollout.'
            : 'Undo the kill switch in this environment.',
        tag: TAG,
        auth: { kind: 'admin', permission: 'flags:kill' },
        params: killParams,
        body: reasonBody,
        responses: {
          200: { description: 'The kill switch state' },
          404: { description: 'No such flag (not_found), or the environment is not declared (unknown_environment)' },
        },
        handler: async ({ params, body, actor }) => ({
          status: 200,
          body: await flags.setKillSwitch(params.name, params.env, action === 'kill', actor, body.reason),
        }),
      }),
    ),
    defineRoute({
      method: 'post',
      path: '/api/admin/environments/{env}/import',
      summary: 'Import what Unleash’s GET /api/client/features returns into an environment (all or nothing).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'flags:write' },
      params: z.object({ env: environmentNameSchema }),
      body: importPayloadSchema,
      bodyFamily: 'import',
      responses: {
        200: {
          description:
            'Imported. `kept` (only when there is any) lists, per flag or segment, what was kept as it came that a PUT or a flag file would refuse ' +
            `(an unknown operator, a regular expression that does not compile, a json payload that does not parse, a missing segment, a name outside the authored rule), at most ${MAX_LISTED_KEPT}; ` +
            '`unlisted` counts the rest.',
          schema: importAnswerSchema,
        },
        400: { description: 'Malformed payload (the error names the field); nothing was imported' },
        404: { description: 'The environment is not declared (unknown_environment; details.declared lists the declared ones)' },
      },
      handler: async ({ params, body, actor }) => {
        return { status: 200, body: await flags.importEnvironment(params.env, body, actor) };
      },
    }),
  ];
}
