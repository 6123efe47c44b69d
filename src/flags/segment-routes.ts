import { z } from 'zod';
import { ifMatchVersion } from '../http/if-match.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { assertNameMatchesPath } from '../validation/name-in-path.js';
import { authoredSegmentSchema, segmentSchema } from './schema.js';
import type { SegmentService } from './segment-service.js';

const TAG = 'Segments';
/** Unleash's segment ids are positive integers; the bound keeps the path short. */
const idParams = z.object({ id: z.coerce.number().int().nonnegative().max(2_147_483_647) });
const segmentBody = authoredSegmentSchema
  .partial({ id: true })
  .extend({ name: z.string().max(200).optional(), reason: z.string().max(1000).optional() })
  .meta({ id: 'SegmentDefinition' });
const storedSegment = segmentSchema.meta({ id: 'Segment' });

export function segmentRoutes(segments: SegmentService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/segments',
      summary: 'Every segment, by id.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: 'The segments', schema: z.object({ segments: z.array(storedSegment) }) } },
      handler: async () => ({ status: 200, body: { segments: await segments.list() } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/segments/{id}',
      summary: 'One segment, with its version for compare-and-set.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      params: idParams,
      responses: { 200: { description: 'The segment', schema: storedSegment }, 404: { description: 'No such segment' } },
      handler: async ({ params, res }) => {
        const doc = await segments.get(params.id);
        res.setHeader('ETag', `"${doc.version}"`);
        return { status: 200, body: doc.value };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/admin/segments/{id}',
      summary:
        'Create or replace a segment (its name and constraints, validated as a flag’s are). If-Match: "<version>" makes it a compare-and-set ("0": create only). ' +
        'Every strategy that names the segment is evaluated with the new constraints at once.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'flags:write' },
      params: idParams,
      body: segmentBody,
      responses: {
        200: { description: 'Replaced', schema: storedSegment },
        201: { description: 'Created', schema: storedSegment },
        400: { description: 'Invalid segment (details.issues names each field)' },
        412: { description: 'If-Match named a version that is no longer current' },
      },
      handler: async ({ params, body, actor, req, res }) => {
        const { reason, ...segment } = body;
        assertNameMatchesPath(segment.id, params.id, 'id');
        const result = await segments.put({ ...segment, id: params.id }, actor, reason, ifMatchVersion(req, 'segment'));
        res.setHeader('ETag', `"${result.version}"`);
        return { status: result.created ? 201 : 200, body: result.segment };
      },
    }),
  ];
}
