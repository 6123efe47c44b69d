import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Store } from '../store/port.js';
import { clientSpecSupportsSegments } from '../flags/client-feature.js';
import { storedFlagNameSchema } from '../flags/schema.js';
import { AppError } from '../errors/app-error.js';
import { tokenEnvironment } from '../http/auth.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { clientMetricsSchema, knownToggles, recordExposures } from '../metrics/exposures.js';
import { appNameSchema, reportedNameSchema, sdkTextSchema } from '../metrics/sdk-fields.js';
import type { Registrations } from './registrations.js';
import { matchesIfNoneMatch, type RenderedPayload } from './rendered-payload.js';
import type { SdkFetchRecorder } from './sdk-fetches.js';
import type { ServingState } from './serving-state.js';
import type { StreamHub } from './stream-hub.js';

const TAG = 'Client API (Unleash SDKs)';
/** Strategies an SDK may say it implements: the built-in ones are a dozen. */
const MAX_REGISTERED_STRATEGIES = 100;

const featuresQuery = z.object({
  project: z.union([z.string(), z.array(z.string())]).optional(),
  namePrefix: z.string().optional(),
});

const registerSchema = z
  .object({
    appName: appNameSchema,
    instanceId: sdkTextSchema.optional(),
    sdkVersion: sdkTextSchema.optional(),
    // zod checks a list's length before its entries, so a huge list costs one issue, not one per entry.
    strategies: z.array(reportedNameSchema).max(MAX_REGISTERED_STRATEGIES).optional(),
    started: z.union([sdkTextSchema, z.number()]).optional(),
    interval: z.number().optional(),
  })
  .meta({ id: 'ClientRegistration' });

/**
 * Writes a pre-rendered payload: 304 when the SDK already has it, gzip when the SDK accepts it.
 * Plain node types, so the express route and the fast lane share it.
 */
export function sendRendered(req: IncomingMessage, res: ServerResponse, payload: RenderedPayload): void {
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const common = { Vary: 'Accept-Encoding', 'Cache-Control': 'no-cache', ETag: gzip ? payload.gzipEtag : payload.etag };
  if (matchesIfNoneMatch(req.headers['if-none-match'], payload.tag)) {
    res.writeHead(304, common).end();
    return;
  }
  const body = gzip ? payload.gzip : payload.json;
  res.writeHead(200, {
    ...common,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(body);
}

/**
 * The unfiltered features payload for a client token's environment, as the stock SDK polls it.
 * Noted as a fetch: after it, the SDK holds the state at this replica's revision (see sdk-fetches.ts).
 */
export function serveFeatures(state: ServingState, fetches: SdkFetchRecorder, req: IncomingMessage, res: ServerResponse, env: string): void {
  const withSegments = clientSpecSupportsSegments(header(req, 'unleash-client-spec'));
  sendRendered(req, res, state.featuresPayload(env, withSegments));
  fetches.note(env, fetches.instanceOf(req.headers), state.seq);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseRevision(etag: string | undefined): number | undefined {
  const match = etag?.match(/^(?:W\/)?"?(\d+)"?$/);
  return match ? Number(match[1]) : undefined;
}

export function clientRoutes(deps: {
  state: ServingState;
  hub: StreamHub;
  store: Store;
  fetches: SdkFetchRecorder;
  registrations: Registrations;
  now: () => number;
}): RouteSpec[] {
  const { state, hub, store, fetches, registrations, now } = deps;
  const auth = { kind: 'client' } as const;
  return [
    defineRoute({
      method: 'get',
      path: '/api/client/features',
      summary: 'All flags of the token’s environment, in Unleash’s client features shape (strong ETag, 304).',
      tag: TAG,
      auth,
      query: featuresQuery,
      responses: { 200: { description: 'The client features payload' }, 304: { description: 'Not modified' } },
      handler: ({ req, res, query, token }) => {
        const env = tokenEnvironment(token);
        const project = query.project === undefined ? undefined : ([] as string[]).concat(query.project);
        if (project === undefined && query.namePrefix === undefined) {
          serveFeatures(state, fetches, req, res, env);
          return undefined;
        }
        // SDKs configured with projectName or namePrefix send the same filter every time: cached per change too.
        const withSegments = clientSpecSupportsSegments(req.header('unleash-client-spec'));
        sendRendered(req, res, state.featuresPayload(env, withSegments, { project, namePrefix: query.namePrefix }));
        fetches.note(env, fetches.instanceOf(req.headers), state.seq);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/client/features/{name}',
      summary: 'One flag of the token’s environment, in Unleash’s client feature shape.',
      tag: TAG,
      auth,
      params: z.object({ name: storedFlagNameSchema }),
      responses: { 200: { description: 'The client feature' }, 404: { description: 'No such flag' } },
      handler: ({ req, params, token }) => {
        const feature = state.clientFeature(tokenEnvironment(token), params.name, !clientSpecSupportsSegments(req.header('unleash-client-spec')));
        if (!feature) throw AppError.notFound(`flag "${params.name}"`);
        return { status: 200, body: feature };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/client/delta',
      summary: 'Changes since the revision in If-None-Match (a hydration when unknown), as the SDK’s delta polling mode expects.',
      tag: TAG,
      auth,
      responses: { 200: { description: '{events: [...]}' }, 304: { description: 'Nothing changed' } },
      handler: ({ req, res, token }) => {
        const env = tokenEnvironment(token);
        const since = parseRevision(req.header('if-none-match'));
        const changes = since === undefined ? null : state.changesSince(since);
        const events = changes ? state.deltaEvents(env, changes) : [state.hydration(env)];
        fetches.note(env, fetches.instanceOf(req.headers), state.seq);
        if (events.length === 0) {
          res.setHeader('ETag', `"${since}"`).status(304).end();
          return undefined;
        }
        res.setHeader('ETag', `"${state.seq}"`);
        return { status: 200, body: { events } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/client/streaming',
      summary: 'Server-sent events: unleash-connected with a hydration, then unleash-updated with each change.',
      tag: TAG,
      auth,
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        429: { description: 'Too many streams for this token or replica (STREAMS_PER_TOKEN, STREAMS_PER_REPLICA); Retry-After in seconds' },
      },
      handler: ({ req, res, token }) => {
        hub.open(tokenEnvironment(token), res, req.header('last-event-id'), token!.id, fetches.instanceOf(req.headers));
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/client/register',
      summary: 'An SDK announces itself.',
      tag: TAG,
      auth,
      body: registerSchema,
      responses: {
        202: { description: 'Accepted' },
        429: { description: 'Too many application names registered in the environment today (Retry-After: until 00:00 UTC)' },
      },
      handler: async ({ req, body, token }) => {
        const env = tokenEnvironment(token);
        await registrations.record(env, body.appName, now());
        // The same instance as its fetches: the stock SDK sends its names in the headers too.
        const instance = fetches.instanceNamed(
          req.header('unleash-appname') ?? body.appName,
          req.header('unleash-instanceid') ?? body.instanceId ?? '',
          req.header('unleash-connection-id') ?? '',
        );
        fetches.registered(env, instance);
        return { status: 202 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/client/metrics',
      summary: 'Exposure counts per flag (yes/no/variants), kept per environment and minute.',
      tag: TAG,
      auth,
      body: clientMetricsSchema,
      responses: { 202: { description: 'Accepted (flags the environment does not serve are not counted)' } },
      handler: async ({ body, token }) => {
        const env = tokenEnvironment(token);
        const toggles = knownToggles(body.bucket.toggles, (flag) => state.servesFlag(env, flag));
        await recordExposures(store, env, { ...body, bucket: { ...body.bucket, toggles } }, now());
        return { status: 202 };
      },
    }),
  ];
}
