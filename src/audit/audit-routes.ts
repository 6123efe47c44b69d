import { z } from 'zod';
import type { Store } from '../store/port.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { listAuditEvents, verifyAuditLog, type AuditMemory } from './audit-service.js';

const TAG = 'Audit';
const auth = { kind: 'admin', permission: 'read' } as const;

/** @param memory what this replica knows of the log from outside the store (see AuditMemory). */
export function auditRoutes(store: Store, memory?: AuditMemory): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/audit',
      summary: 'Audit events in order: who, what, when, why, and the state before and after.',
      tag: TAG,
      auth,
      query: z.object({
        from: z.coerce.number().int().min(1).default(1),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: { 200: { description: 'A page of events' } },
      handler: async ({ query }) => ({ status: 200, body: { events: await listAuditEvents(store, query.from, query.limit) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admin/audit/verify',
      summary: 'Recompute the hash chain: whether any event was edited or removed, or the log is shorter than it was (the store lost data).',
      tag: TAG,
      auth,
      responses: {
        200: { description: '{ok, count, headSeq, brokenAtSeq?, problem?, problemWording?}: `problemWording` is `problem` as a template and its values' },
      },
      handler: async () => ({ status: 200, body: await verifyAuditLog(store, memory) }),
    }),
  ];
}
