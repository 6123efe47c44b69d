import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { flagNameSchema } from '../flags/schema.js';
import { personOf } from '../auth/caller.js';
import { pipelineSchema, startRunSchema } from './pipeline-model.js';
import type { PipelineService } from './pipeline-service.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';

const TAG = 'Pipelines';
const nameParams = z.object({ name: flagNameSchema });
const idParams = z.object({ id: z.string().min(1).max(100) });
const stopBody = z
  .object({ reason: z.string().min(1).max(1000) })
  .strict()
  .meta({ id: 'StopPipelineRun' });

export function pipelineRoutes(pipelines: PipelineService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/pipelines',
      summary: 'Every environment pipeline (durations in milliseconds).',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: '{pipelines: [...]}' } },
      handler: async () => ({ status: 200, body: { pipelines: await pipelines.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/pipelines/{name}',
      summary: 'One environment pipeline.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: nameParams,
      responses: { 200: { description: 'The pipeline' }, 404: { description: 'No such pipeline' } },
      handler: async ({ params }) => ({ status: 200, body: await pipelines.get(params.name) }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/pipelines/{name}',
      summary:
        'Create or replace a pipeline (admins, as for policies): environments in order, each with its policy, and how long a stage must stay ' +
        'completed without a breach (`promoteAfter`, default 1h) before the next one starts by itself.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'policies:write' },
      params: nameParams,
      body: pipelineSchema,
      responses: { 200: { description: 'Replaced' }, 201: { description: 'Created' }, 400: { description: 'Invalid pipeline (the error names the field)' } },
      handler: async ({ params, body, actor }) => {
        assertNameMatchesPath(body.name, params.name);
        const { pipeline, created } = await pipelines.put(body, actor);
        return { status: created ? 201 : 200, body: pipeline };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/pipelines/{name}/runs',
      summary:
        'Put a flag (or a release of several) through the pipeline: its rollout in the first environment starts now, and each next one ' +
        'starts by itself once the one before completed and stayed without a breach for its wait. A rollback anywhere stops what follows.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'rollouts:start' },
      params: nameParams,
      body: startRunSchema,
      responses: {
        201: { description: 'The run, with its first stage active' },
        404: { description: 'No such pipeline, flag, policy or environment' },
        409: { description: 'The first rollout could not start (see the rollout start route)' },
      },
      handler: async ({ params, body, caller, actor }) => ({ status: 201, body: await pipelines.startRun(params.name, body, personOf(caller), actor) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/pipeline-runs',
      summary: 'Every pipeline run, newest first: one line each on the dashboard.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: '{runs: [...]}' } },
      handler: async () => ({ status: 200, body: { runs: await pipelines.runs() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/pipeline-runs/{id}',
      summary: 'One pipeline run: each stage with its rollout, status and what it waits for.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: idParams,
      responses: { 200: { description: 'The run' }, 404: { description: 'No such run' } },
      handler: async ({ params }) => ({ status: 200, body: await pipelines.run(params.id) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/admin/pipeline-runs/{id}/stop',
      summary: 'Stop a run: no later stage starts. Rollouts under way are left as they are.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'rollouts:start' },
      params: idParams,
      body: stopBody,
      responses: { 200: { description: 'The stopped run' }, 409: { description: 'The run is not running' } },
      handler: async ({ params, body, actor }) => ({ status: 200, body: await pipelines.stopRun(params.id, actor, body.reason) }),
    }),
  ];
}
