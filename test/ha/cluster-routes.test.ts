import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { destroyAllSdks, startLiveSdk, until, type TrackedSdk } from '../sdk/sdk-helpers.js';
import { Topology } from './topology.js';

/**
 * Every route of the contract, once, against a controller whose REDIS_URL is a three-master Redis
 * Cluster: what the SDKs use, what operators and release managers use. A smoke test: the behaviour
 * of each route is tested in depth elsewhere; here it must simply work on a Cluster.
 */

const ENV = 'production';
const topology = new Topology();
let t: TestController;
let client = '';
let frontend = '';
let editor = '';
let releaseManager = '';
let streaming: TrackedSdk;

const rollout = (pct: string) => ({ name: 'flexibleRollout', parameters: { rollout: pct, stickiness: 'default', groupId: 'x' } });

beforeAll(async () => {
  const { url } = await topology.cluster(3);
  t = await startTestController({ prefix: uniquePrefix('cluster'), env: { REDIS_URL: url, POLICIES_DIR: emptyDir(), EXPOSURE_FLUSH_MS: '100' } });
  expect(t.controller.store.kind).toBe('redis');
}, 60_000);

afterAll(async () => {
  destroyAllSdks();
  await t?.stop();
  await topology.stop();
});

interface Step {
  route: string;
  run: () => Promise<void>;
}

async function expectStatus(status: number, method: string, route: string, body?: unknown, token?: string): Promise<any> {
  const res = await t.api(method, route, body, token);
  expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}

async function clientGet(route: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}${route}`, { headers: { Authorization: client, ...headers } });
}

const steps: Step[] = [
  {
    route: 'POST /api/admin/tokens, GET /api/admin/tokens, DELETE /api/admin/tokens/{id}',
    run: async () => {
      client = await t.token({ kind: 'client', environment: ENV });
      frontend = await t.token({ kind: 'frontend', environment: ENV });
      editor = (await expectStatus(201, 'POST', '/api/admin/tokens', { kind: 'admin', role: 'editor', name: 'eve' })).secret;
      releaseManager = (await expectStatus(201, 'POST', '/api/admin/tokens', { kind: 'admin', role: 'release-manager', name: 'rita' })).secret;
      const doomed = await expectStatus(201, 'POST', '/api/admin/tokens', { kind: 'admin', role: 'viewer', name: 'temp' });
      expect((await expectStatus(200, 'GET', '/api/admin/tokens')).tokens.map((x: { name: string }) => x.name)).toEqual(
        expect.arrayContaining(['eve', 'rita', 'temp']),
      );
      await expectStatus(204, 'DELETE', `/api/admin/tokens/${doomed.id}`);
      expect((await t.api('GET', '/api/admin/flags', undefined, doomed.secret)).status).toBe(401);
    },
  },
  {
    route: 'PUT|GET|DELETE /api/admin/flags/{name}, GET /api/admin/flags, POST …/import',
    run: async () => {
      await expectStatus(201, 'PUT', '/api/admin/flags/smoke-a', { environments: { [ENV]: { enabled: true, strategies: [rollout('100')] } } }, editor);
      await expectStatus(201, 'PUT', '/api/admin/flags/smoke-b', { environments: { [ENV]: { enabled: true, strategies: [] } } }, editor);
      expect((await expectStatus(200, 'GET', '/api/admin/flags/smoke-a')).name).toBe('smoke-a');
      await expectStatus(204, 'DELETE', '/api/admin/flags/smoke-b', undefined, editor);
      const imported = await expectStatus(200, 'POST', `/api/admin/environments/${ENV}/import`, {
        version: 2,
        features: [{ name: 'smoke-imported', enabled: true, strategies: [{ name: 'default' }] }],
      });
      expect(imported).toEqual({ imported: 1 });
      const names = JSON.stringify(await expectStatus(200, 'GET', '/api/admin/flags'));
      expect(names).toContain('smoke-a');
      expect(names).toContain('smoke-imported');
      expect(names).not.toContain('smoke-b');
    },
  },
  {
    route: 'GET /api/client/features (ETag, 304), GET /api/client/features/{name}',
    run: async () => {
      const first = await clientGet('/api/client/features');
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag).toBeTruthy();
      expect(((await first.json()) as { features: Array<{ name: string }> }).features.map((f) => f.name)).toEqual(['smoke-a', 'smoke-imported']);
      expect((await clientGet('/api/client/features', { 'If-None-Match': etag })).status).toBe(304);
      const one = await clientGet('/api/client/features/smoke-a');
      expect(((await one.json()) as { enabled: boolean }).enabled).toBe(true);
    },
  },
  {
    route: 'GET /api/client/delta',
    run: async () => {
      const res = await clientGet('/api/client/delta');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { events: Array<{ type: string }> };
      expect(body.events[0]!.type).toBe('hydration');
      expect((await clientGet('/api/client/delta', { 'If-None-Match': res.headers.get('etag')! })).status).toBe(304);
    },
  },
  {
    route: 'GET /api/client/streaming, POST …/kill reaching a streaming SDK, POST …/restore',
    run: async () => {
      streaming = await startLiveSdk(t, client, 'streaming');
      expect(streaming.sdk.isEnabled('smoke-a', { userId: 'u1' })).toBe(true);
      const killed = until(streaming.sdk, () => !streaming.sdk.isEnabled('smoke-a', { userId: 'u1' }), 'the kill reaching the stream');
      expect(await expectStatus(200, 'POST', `/api/admin/flags/smoke-a/environments/${ENV}/kill`, { reason: 'smoke' }, releaseManager)).toMatchObject({
        killed: true,
      });
      await killed;
      const restored = until(streaming.sdk, () => streaming.sdk.isEnabled('smoke-a', { userId: 'u1' }), 'the restore reaching the stream');
      await expectStatus(200, 'POST', `/api/admin/flags/smoke-a/environments/${ENV}/restore`, { reason: 'fixed' }, releaseManager);
      await restored;
      expect(streaming.errors).toEqual([]);
    },
  },
  {
    route: 'POST /api/client/register, POST /api/client/metrics',
    run: async () => {
      await expectStatus(202, 'POST', '/api/client/register', { appName: 'shop', instanceId: 'i-1', strategies: ['default'] }, client);
      const now = new Date().toISOString();
      await expectStatus(
        202,
        'POST',
        '/api/client/metrics',
        { appName: 'shop', bucket: { start: now, stop: now, toggles: { 'smoke-a': { yes: 3, no: 1 } } } },
        client,
      );
    },
  },
  {
    route: 'PUT|GET /api/admin/policies/{name}, GET /api/admin/policies',
    run: async () => {
      await expectStatus(201, 'PUT', '/api/admin/policies/smoke', {
        name: 'smoke',
        steps: [10, 100],
        stepDefaults: { minDuration: '1h', minSamples: 10, maxDuration: '2h', approval: { required: 1, roles: ['release-manager'] } },
        analysisInterval: '1s',
        gates: [{ metric: 'error_rate', max: 0.05 }],
      });
      expect((await expectStatus(200, 'GET', '/api/admin/policies/smoke')).name).toBe('smoke');
      expect(JSON.stringify(await expectStatus(200, 'GET', '/api/admin/policies'))).toContain('smoke');
    },
  },
  {
    route: 'POST /api/admin/rollouts, POST …/approve, GET /api/admin/rollouts[/{id}], POST /api/metrics/outcomes',
    run: async () => {
      const started = await expectStatus(201, 'POST', '/api/admin/rollouts', { flag: 'smoke-a', environment: ENV, policy: 'smoke' }, editor);
      // The 10 % step asks for approval: the Go/No-Go holds it at 0 % until given.
      expect(started).toMatchObject({ state: 'awaiting_approval', stepIndex: 0, percentage: 0 });
      await expectStatus(
        202,
        'POST',
        '/api/metrics/outcomes',
        { appName: 'shop', records: [{ flag: 'smoke-a', cohort: 'treatment', requests: 5, errors: 0 }] },
        client,
      );
      await expectStatus(200, 'POST', `/api/admin/rollouts/${started.id}/approve`, { comment: 'go' }, releaseManager);
      const read = await expectStatus(200, 'GET', `/api/admin/rollouts/${started.id}`);
      expect(read.approvals).toEqual([expect.objectContaining({ step: 0, comment: 'go' })]);
      expect(read).toMatchObject({ state: 'running', percentage: 10 });
      expect(JSON.stringify(await expectStatus(200, 'GET', '/api/admin/rollouts'))).toContain(started.id);
    },
  },
  {
    route: 'GET /api/frontend, POST /api/frontend',
    run: async () => {
      const got = await fetch(`${t.url}/api/frontend?userId=u1`, { headers: { Authorization: frontend } });
      expect(got.status).toBe(200);
      const names = ((await got.json()) as { toggles: Array<{ name: string }> }).toggles.map((x) => x.name);
      expect(names).toContain('smoke-imported');
      const posted = await t.api('POST', '/api/frontend', { context: { userId: 'u1' } }, frontend);
      expect(posted.status).toBe(200);
    },
  },
  {
    route: 'POST /ofrep/v1/evaluate/flags/{key}, POST /ofrep/v1/evaluate/flags',
    run: async () => {
      const one = await expectStatus(200, 'POST', '/ofrep/v1/evaluate/flags/smoke-imported', { context: { targetingKey: 'u1' } }, client);
      expect(one).toMatchObject({ key: 'smoke-imported', value: true });
      const bulk = await expectStatus(200, 'POST', '/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u1' } }, client);
      expect(bulk.flags.map((f: { key: string }) => f.key)).toContain('smoke-a');
    },
  },
  {
    route: 'GET /api/admin/audit, GET /api/admin/audit/verify',
    run: async () => {
      const audit = await expectStatus(200, 'GET', '/api/admin/audit?limit=1000');
      const actions = (audit.events as Array<{ action: string }>).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['flag.kill', 'flag.restore', 'rollout.start', 'rollout.approve']));
      expect(await expectStatus(200, 'GET', '/api/admin/audit/verify')).toMatchObject({ ok: true });
    },
  },
  {
    route: 'GET /healthz, GET /readyz, GET /api/openapi.json',
    run: async () => {
      for (const route of ['/healthz', '/readyz', '/api/openapi.json']) expect((await fetch(`${t.url}${route}`)).status, route).toBe(200);
    },
  },
];

describe('every contract route on a three-master Redis Cluster', () => {
  // In order: later steps use the tokens, flags and policies earlier ones made.
  it.each(steps.map((s) => [s.route, s] as const))('%s', async (_route, step) => {
    await step.run();
  });
});
