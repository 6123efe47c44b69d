import http from 'node:http';
import { PERMISSIONS, type Permission } from '../../src/auth/permissions.js';
import type { JsonSchema } from './openapi-fuzz.js';

/**
 * The API probe's view of the served OpenAPI document (every operation, who may call it, what it
 * takes) and its HTTP client: raw paths (no URL normalisation, so `..` and `%2F` reach the server
 * as sent), answers measured but not kept beyond an excerpt, streams cut after their first bytes.
 */

export interface Parameter {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export type AuthKind = 'none' | 'client' | 'frontend' | 'client-or-frontend' | 'alert' | 'admin';

export interface Operation {
  /** "PUT /api/admin/flags/{name}" */
  key: string;
  method: string;
  path: string;
  auth: AuthKind;
  permission?: Permission;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: JsonSchema;
}

interface OpenApiOperation {
  security?: Array<Record<string, unknown>>;
  'x-required-permission'?: Permission;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

function authOf(op: OpenApiOperation): AuthKind {
  const schemes = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
  if (schemes.size === 0) return 'none';
  if (schemes.has('adminToken')) return 'admin';
  if (schemes.has('alertToken')) return 'alert';
  if (schemes.has('clientToken') && schemes.has('frontendToken')) return 'client-or-frontend';
  return schemes.has('clientToken') ? 'client' : 'frontend';
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = (where: string) =>
        (op.parameters ?? []).filter((p) => p.in === where).map((p) => ({ name: p.name, required: p.required ?? false, schema: p.schema }));
      return {
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        auth: authOf(op),
        permission: op['x-required-permission'],
        pathParams: params('path'),
        queryParams: params('query'),
        body: op.requestBody?.content['application/json']?.schema,
      };
    }),
  );
}

/** Every kind of caller the probe plays: no token, a token nobody issued, and each kind and role. */
export const CALLERS = ['none', 'unknown', 'client', 'frontend', 'alert', 'viewer', 'editor', 'release-manager', 'admin'] as const;
export type Caller = (typeof CALLERS)[number];

export function callerAllowed(op: Operation, caller: Caller): boolean {
  switch (op.auth) {
    case 'none':
      return true;
    case 'client':
    case 'frontend':
    case 'alert':
      return caller === op.auth;
    case 'client-or-frontend':
      return caller === 'client' || caller === 'frontend';
    case 'admin':
      return op.permission !== undefined && (PERMISSIONS[op.permission] as readonly string[]).includes(caller);
  }
}

/** What a caller who may not call the operation must get: 401 without a token we know, 403 with the wrong kind or role. */
export const refusalFor = (caller: Caller): number => (caller === 'none' || caller === 'unknown' ? 401 : 403);

export interface ProbeRequest {
  method: string;
  /** Already encoded, sent as is. */
  path: string;
  contentType?: string;
  body?: Buffer;
  /** Sent in chunks without a Content-Length, as a stream of unknown length. */
  chunked?: boolean;
  headers?: Record<string, string>;
}

export interface ProbeAnswer {
  /** 0 when no answer came (the message says why). */
  status: number;
  /** Bytes of the answer's body read (all of it unless cut). */
  bytes: number;
  /** Why reading stopped early: past the read cap, or an event stream that stays open. */
  cut?: 'cap' | 'stream';
  excerpt: string;
  ms: number;
  problem?: string;
  /** The controller's X-Request-Id, which its log lines carry. */
  requestId?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Sends one request and measures the answer; never throws. */
export function send(
  port: number,
  request: ProbeRequest,
  authorization: string | undefined,
  limits: { timeoutMs: number; readCap: number },
): Promise<ProbeAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<ProbeAnswer, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: Math.round(performance.now() - started) });
    };
    const headers: Record<string, string | number> = {};
    if (authorization !== undefined) headers.Authorization = authorization;
    Object.assign(headers, request.headers);
    if (request.contentType) headers['Content-Type'] = request.contentType;
    if (request.body && !request.chunked) headers['Content-Length'] = request.body.length;
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers, agent });
    } catch (err) {
      throw new Error(`the probe built a request node refuses to send (${request.method} ${request.path.slice(0, 200)}): ${(err as Error).message}`);
    }
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, bytes: 0, excerpt: '', problem: `no answer within ${limits.timeoutMs} ms` });
    }, limits.timeoutMs);
    req.on('response', (res) => {
      const requestId = res.headers['x-request-id'] as string | undefined;
      let bytes = 0;
      let excerpt = '';
      const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (excerpt.length < 400) excerpt += chunk.toString('utf8', 0, Math.min(chunk.length, 400));
        if (stream || bytes > limits.readCap) {
          res.destroy();
          finish({ status: res.statusCode ?? 0, bytes, cut: stream ? 'stream' : 'cap', excerpt, requestId });
        }
      });
      res.on('end', () => finish({ status: res.statusCode ?? 0, bytes, excerpt, requestId }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, bytes, excerpt, requestId, problem: 'the answer was cut off' }));
    });
    // A server may answer (401, 413) and close before the whole body is sent: the answer counts.
    req.on('error', (err) => setTimeout(() => finish({ status: 0, bytes: 0, excerpt: '', problem: `connection failed: ${err.message}` }), 200));
    if (!request.body) req.end();
    else if (!request.chunked) req.end(request.body);
    else {
      const chunk = 1 << 20;
      for (let i = 0; i < request.body.length; i += chunk) req.write(request.body.subarray(i, i + chunk));
      req.end();
    }
  });
}

export function closeProbeConnections(): void {
  agent.destroy();
}
