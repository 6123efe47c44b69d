import type { Redis } from 'ioredis';
import type { Caller, Operation } from './api-probe.js';
import type { Example, Targets } from './api-probe-cases.js';
import type { TestController } from './controller.js';
import { DEEP_LEVELS, DEEP_VALUE } from './hostile-values.js';
import type { FuzzOptions } from './openapi-fuzz.js';

/**
 * What the API probe (test/hardening/api-probe.test.ts) works on: the objects it seeds and may
 * change, the control set it must leave alone, and how it measures the store.
 */

export const ENVIRONMENTS = ['production', 'staging'];
/** The probe's own flags: valid requests may change them. Two are named like Object.prototype members. */
export const OWN_FLAGS = ['fz-1', 'fz-2', 'fz-3', 'fz-rollout', 'constructor', 'toString'];
/** The control set: flags no request of the probe may change. */
export const CONTROL_FLAGS = ['ctl-plain', 'ctl-variants', 'ctl-killed'];

export interface ProbeWorld {
  /** The Authorization header of each caller (none for "none"). */
  secrets: Map<Caller, string | undefined>;
  rollouts: string[];
  /** Tokens valid requests may revoke (never one the probe calls with). */
  tokens: string[];
  proposals: string[];
}

export async function seedProbeWorld(t: TestController): Promise<ProbeWorld> {
  const ok = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await t.api(method, path, body, token);
    if (res.status >= 300) throw new Error(`seeding ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const world: ProbeWorld = {
    secrets: new Map([
      ['none', undefined],
      ['unknown', 'Bearer probe-not-a-token'],
    ]),
    rollouts: [],
    tokens: [],
    proposals: [],
  };
  const on = (strategies: unknown[]) => Object.fromEntries(ENVIRONMENTS.map((env) => [env, { enabled: true, strategies }]));
  for (const kind of ['client', 'frontend'] as const) world.secrets.set(kind, await t.token({ kind, environment: 'production' }));
  world.secrets.set('alert', (await ok('POST', '/api/admin/tokens', { kind: 'alert', environments: ENVIRONMENTS, name: 'fz-alerts' })).secret);
  for (const role of ['viewer', 'editor', 'release-manager', 'admin'] as const) world.secrets.set(role, await t.token({ kind: 'admin', role }));
  for (let i = 0; i < 2; i++) world.tokens.push((await ok('POST', '/api/admin/tokens', { kind: 'client', environment: 'staging', name: `fz-doomed-${i}` })).id);

  await ok('PUT', '/api/admin/policies/fz-policy', { name: 'fz-policy' });
  world.proposals.push((await ok('PUT', '/api/admin/policies/fz-proposed', { name: 'fz-proposed' }, world.secrets.get('editor'))).proposal.id);
  await ok('PUT', '/api/admin/environments/fz-env', { description: 'the probe may change its rules' });
  // With a variant each, named like the flag: names of Object.prototype members must be names like any other.
  for (const name of OWN_FLAGS.filter((f) => f !== 'fz-rollout'))
    await ok('PUT', `/api/admin/flags/${name}`, {
      environments: on([{ name: 'default' }]),
      variants: [{ name, weight: 1000, weightType: 'variable', stickiness: 'default' }],
    });
  const ramp = { name: 'flexibleRollout', parameters: { rollout: '0', groupId: 'fz-rollout', stickiness: 'userId' } };
  await ok('PUT', '/api/admin/flags/fz-rollout', { environments: { production: { enabled: false, strategies: [ramp] } } });
  world.rollouts.push((await ok('POST', '/api/admin/rollouts', { flag: 'fz-rollout', environment: 'production', policy: 'fz-policy' })).id);
  // Webhooks aim at 127.0.0.1:1 only (see openapi-fuzz.ts), a closed port: nothing leaves the machine.
  await ok('PUT', '/api/admin/webhooks/fz-hook', { url: 'http://127.0.0.1:1/probe' });
  await ok('PUT', '/api/admin/alert-routes/fz-route', { name: 'fz-route', matchers: ['alertname="fz"'], flags: ['fz-1'] });

  await ok('PUT', '/api/admin/flags/ctl-plain', { description: 'control', environments: on([{ name: 'default' }]) });
  const blue = { name: 'blue', weight: 1000, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: 'b' } };
  const country = { contextName: 'country', operator: 'IN', values: ['NO', 'SE'] };
  const parameters = { rollout: '40', groupId: 'ctl-variants', stickiness: 'userId' };
  await ok('PUT', '/api/admin/flags/ctl-variants', { environments: on([{ name: 'flexibleRollout', parameters, constraints: [country], variants: [blue] }]) });
  await ok('PUT', '/api/admin/flags/ctl-killed', { environments: on([{ name: 'default' }]) });
  await ok('POST', '/api/admin/flags/ctl-killed/environments/production/kill', { reason: 'control: stays killed' });
  return world;
}

const namesAFlag = (op: Operation, param: string) =>
  (param === 'name' && op.path.startsWith('/api/admin/flags/')) || param === 'key' || op.path.startsWith('/api/client/features/');

/** Path parameter values by parameter and route family. */
export function probeTargets(world: ProbeWorld): Targets {
  return {
    usable(op, param) {
      const read = op.method === 'GET';
      if (namesAFlag(op, param)) return read ? [...OWN_FLAGS, ...CONTROL_FLAGS] : OWN_FLAGS;
      if (param === 'env') return [...ENVIRONMENTS, 'fz-env', 'constructor'];
      if (op.path.startsWith('/api/admin/environments/')) return read ? [...ENVIRONMENTS, 'fz-env'] : ['fz-env', 'constructor', 'fz-new-env'];
      if (op.path.startsWith('/api/admin/policies/')) return ['fz-policy', 'fz-new-policy', 'constructor'];
      if (op.path.startsWith('/api/admin/policy-proposals/')) return world.proposals;
      if (op.path.startsWith('/api/admin/rollouts/')) return world.rollouts;
      if (op.path.startsWith('/api/admin/tokens/')) return world.tokens;
      if (op.path.startsWith('/api/admin/webhooks/')) return ['fz-hook', 'fz-new-hook', 'constructor'];
      if (op.path.startsWith('/api/admin/alert-routes/')) return ['fz-route', 'fz-new-route', 'constructor'];
      return [];
    },
    control: (op, param) => (namesAFlag(op, param) ? CONTROL_FLAGS : []),
  };
}

/** Known values for body and query fields, so that valid requests reach past "not found". */
export function probeHints(prefix: string): FuzzOptions {
  return {
    hints: {
      flag: OWN_FLAGS,
      name: OWN_FLAGS,
      key: OWN_FLAGS,
      feature: OWN_FLAGS,
      'toggles{}': OWN_FLAGS,
      policy: ['fz-policy'],
      environment: ENVIRONMENTS,
      'environments{}': ENVIRONMENTS,
      // Incoming alerts: the labels they are routed by, and times as Alertmanager writes them.
      'labels{}': ['flag', 'environment', 'action', 'alertname'],
      startsAt: ['2026-01-17T14:02:11.739266876+08:00', '2026-01-17T06:00:00Z'],
      endsAt: ['0001-01-01T00:00:00Z'],
      // A restore writes only under prefixes of the probe's own.
      prefix: [`${prefix}-restore-a`, `${prefix}-restore-b`],
      force: ['true', 'false', 'yes'],
      currentTime: ['2026-05-01T12:00:00Z', '1777636800000'],
      tz: ['UTC', 'Europe/Oslo'],
      // Outcome reports: hashed user buckets 0 to 63.
      'units{}': ['0', '1', '63'],
    },
    // Outcome reports: errors may not exceed requests. A drill that finds SDKs waits its timeout: a short one.
    numberHints: { errors: [0], requests: [5, 1000], timeoutSeconds: [1] },
    only: ['prefix'],
  };
}

type Backup = { collections: Record<string, Array<{ id: string; value: unknown }>> };

/** Requests made from real data rather than schemas, per operation. */
export function probeExamples(op: Operation, backup: Backup, prefix: string): Example[] {
  return [...restoreExamples(op, backup, prefix), ...growthExamples(op)];
}

/**
 * What an SDK token could make the store keep, in the shapes of defect 3 of issue 13: flags nobody
 * defined, and names as long as a body carries. Each is a valid request as far as the schema says.
 */
function growthExamples(op: Operation): Example[] {
  const madeUp = Array.from({ length: 1_000 }, (_, i) => `made-up-${i}`);
  switch (op.key) {
    case 'POST /api/client/metrics':
      return [
        { note: '1,000 flags nobody defined', body: { appName: 'probe', bucket: { toggles: Object.fromEntries(madeUp.map((f) => [f, { yes: 1, no: 0 }])) } } },
      ];
    case 'POST /api/metrics/outcomes':
      return [
        {
          note: '1,000 flags nobody defined',
          body: { appName: 'probe', records: madeUp.map((flag) => ({ flag, cohort: 'treatment', requests: 1, errors: 0 })) },
        },
      ];
    case 'POST /api/client/register':
      return [{ note: 'an appName of 1 MiB', body: { appName: 'a'.repeat(1 << 20), instanceId: 'i'.repeat(1 << 20) } }];
    default:
      return [];
  }
}

/**
 * A backup this controller exported, restored into fresh prefixes of the probe's own: as it is, and
 * with one flag document changed in ways its audit chain does not cover (it chains events, not
 * documents), so the restore gets past the chain check to the documents.
 */
function restoreExamples(op: Operation, backup: Backup, prefix: string): Example[] {
  if (op.key !== 'POST /api/admin/restore') return [];
  let n = 0;
  const [first, ...rest] = backup.collections.flags ?? [];
  const withFlag = (value: unknown) => ({ ...backup, collections: { ...backup.collections, flags: [{ ...first!, value }, ...rest] } });
  const example = (note: string, body: unknown, mustRefuse?: boolean): Example => ({
    note,
    body,
    mustRefuse,
    query: `?prefix=${encodeURIComponent(`${prefix}-restored-${++n}`)}`,
  });
  const stringStrategies = { ...(first?.value as object), environments: { production: { enabled: true, strategies: 'x' } } };
  return [
    example('a backup this controller exported', backup),
    example(`a backup whose first flag is ${DEEP_LEVELS} levels deep`, withFlag(DEEP_VALUE), true),
    example('a backup whose first flag is the number 42', withFlag(42), true),
    example('a backup whose first flag has strategies that are a string', withFlag(stringStrategies), true),
  ];
}

/** The control flags as the admin API and the client API answer them, byte for byte. */
export async function controlSnapshot(t: TestController, world: ProbeWorld): Promise<Map<string, string>> {
  const read = (path: string, token: string) => fetch(`${t.url}${path}`, { headers: { Authorization: token } }).then((r) => r.text());
  const views = CONTROL_FLAGS.flatMap((name) => [
    [`${name} (admin API)`, `/api/admin/flags/${name}`, t.adminToken],
    [`${name} (client API)`, `/api/client/features/${name}`, world.secrets.get('client')!],
  ]);
  return new Map(await Promise.all(views.map(async ([label, path, token]) => [label!, await read(path!, token!)] as const)));
}

/** Keys under the controller's prefix and the memory Redis reports for each. */
export async function storeSizes(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const pipeline = redis.pipeline();
  // SAMPLES 0: every field of a hash, not an estimate from five of them.
  for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
  const sizes = (await pipeline.exec()) ?? [];
  return new Map(keys.map((key, i) => [key, Number(sizes[i]?.[1]) || 0]));
}

export interface Growth {
  keys: number;
  bytes: number;
  /** By kind of key, e.g. "ctr:exposure". */
  byKind: Map<string, { keys: number; bytes: number }>;
}

export function growthBetween(before: Map<string, number>, after: Map<string, number>): Growth {
  const growth: Growth = { keys: 0, bytes: 0, byKind: new Map() };
  for (const [key, bytes] of after) {
    const isNew = !before.has(key);
    const added = bytes - (before.get(key) ?? 0);
    if (!isNew && added <= 0) continue;
    const kind = key.split(':').slice(1, 3).join(':');
    const sum = growth.byKind.get(kind) ?? { keys: 0, bytes: 0 };
    growth.byKind.set(kind, { keys: sum.keys + (isNew ? 1 : 0), bytes: sum.bytes + added });
    growth.keys += isNew ? 1 : 0;
    growth.bytes += added;
  }
  return growth;
}
