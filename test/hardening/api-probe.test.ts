import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeProbeConnections, operationsOf, send, type Caller, type OpenApiDocument, type Operation, type ProbeAnswer } from '../support/api-probe.js';
import { casesFor, refusedCallerCases, type CaseOptions, type Example, type ProbeCase } from '../support/api-probe-cases.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { DEEP_LEVELS, DEEP_VALUE, POLLUTION_MARKER, SchemaFuzzer } from '../support/openapi-fuzz.js';

/**
 * Issue 13: a probe of our own. Every operation of the served OpenAPI document, called by every
 * kind of caller, with requests generated from its schemas (valid, invalid, oversized, odd paths
 * and queries, prototype-pollution keys), against a live controller on Redis. Each request is
 * checked as it is answered; the `it`s below report one kind of finding each, all cases at once.
 *
 * Deterministic: PROBE_SEED (default 13) and PROBE_CASES generated requests per operation (default
 * 16) decide every request. Longer local runs: PROBE_CASES=200 npx vitest run test/hardening/api-probe.test.ts
 * (docs/operations.md, "Probe").
 */

const SEED = Number(process.env.PROBE_SEED ?? 13);
const CASES = Number(process.env.PROBE_CASES ?? 16);
/** PROBE_VERBOSE=1: one line per operation (cases, time, statuses) on stderr. */
const VERBOSE = Boolean(process.env.PROBE_VERBOSE);
/** An error answer says what was wrong; it never echoes the request back at length. */
const ERROR_ANSWER_MAX = 64 * 1024;
/** Any other answer (the largest is a backup of the probe's own data, well under this). */
const ANSWER_MAX = 8 * 1024 * 1024;
const ANSWER_TIMEOUT_MS = 15_000;
/** More than any route reads (10 MB is the largest limit on an API route; a restore is not sent one this size). */
const OVERSIZED_BYTES = 11 * 1024 * 1024;
/** What SDK-facing routes (client and frontend tokens) may add to the store over the whole probe. */
const CLIENT_GROWTH_MAX_KEYS = 100;
const CLIENT_GROWTH_MAX_BYTES = 256 * 1024;

const ENVIRONMENTS = ['production', 'staging'];
/** The probe's own objects: valid requests may change them. */
const OWN_FLAGS = ['fz-1', 'fz-2', 'fz-3', 'fz-rollout', 'constructor', 'toString'];
/** The control set: flags no request of the probe may change. */
const CONTROL_FLAGS = ['ctl-plain', 'ctl-variants', 'ctl-killed'];

/**
 * The globals whose change is pollution: the built-in constructors and their prototypes (and all
 * they reach). The rest of globalThis (console, process, undici's dispatcher, Node's lazily
 * loaded globals) changes as the process runs.
 */
const TRACKED_GLOBALS = [
  'Object',
  'Array',
  'Function',
  'String',
  'Number',
  'Boolean',
  'Symbol',
  'BigInt',
  'Promise',
  'RegExp',
  'Date',
  'Map',
  'Set',
  'WeakMap',
  'JSON',
  'Math',
  'Reflect',
  'Buffer',
  'URL',
  'URLSearchParams',
];
const UNTRACKED_GLOBALS = new RegExp(`^(?!(${TRACKED_GLOBALS.join('|')})$)`);

interface Outcome {
  probe: ProbeCase;
  answer: ProbeAnswer;
}

const excerpt = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}…(${text.length} chars)` : text);
const describeOutcome = ({ probe, answer }: Outcome) =>
  `${probe.request.method} ${excerpt(probe.request.path, 120)} as ${probe.caller} [${probe.kind}: ${probe.note}]` +
  `${probe.request.body ? ` body ${JSON.stringify(excerpt(probe.request.body.toString('utf8', 0, 200), 80))}` : ''}` +
  ` → ${answer.status || answer.problem} (${answer.bytes} bytes${answer.cut === 'cap' ? '+, cut' : ''}, ${answer.ms} ms) ${excerpt(answer.excerpt, 160)}`;

/** Every finding at once: a failing check lists each case, not just the first. */
function report(title: string, findings: string[]): string {
  const shown = findings.slice(0, 150);
  return `${title}: ${findings.length}\n${shown.join('\n')}${findings.length > shown.length ? `\n… and ${findings.length - shown.length} more` : ''}`;
}

/**
 * A backup this controller exported, restored into fresh prefixes of the probe's own: as it is, and
 * with one flag document changed in ways its audit chain does not cover (it chains events, not
 * documents), so the restore gets past the chain check to the documents.
 */
function restoreExamples(op: Operation, backup: { collections: Record<string, Array<{ id: string; value: unknown }>> }, prefix: string): Example[] {
  if (op.key !== 'POST /api/admin/restore') return [];
  let n = 0;
  const withFlag = (value: unknown) => {
    const [first, ...rest] = backup.collections.flags ?? [];
    return { ...backup, collections: { ...backup.collections, flags: [{ ...first!, value }, ...rest] } };
  };
  const example = (note: string, body: unknown, mustRefuse?: boolean): Example => ({
    note,
    body,
    mustRefuse,
    query: `?prefix=${encodeURIComponent(`${prefix}-restored-${++n}`)}`,
  });
  return [
    example('a backup this controller exported', backup),
    example(`a backup whose first flag is ${DEEP_LEVELS} levels deep`, withFlag(DEEP_VALUE), true),
    example('a backup whose first flag is the number 42', withFlag(42), true),
    example(
      'a backup whose first flag has strategies that are a string',
      withFlag({ ...(backup.collections.flags?.[0]?.value as object), environments: { production: { enabled: true, strategies: 'x' } } }),
      true,
    ),
  ];
}

describe('API probe: the OpenAPI document fuzzed against a live controller on Redis (issue 13)', () => {
  let t: TestController;
  let redis: Redis;
  let operations: Operation[];
  const outcomes: Outcome[] = [];
  const pollution: string[] = [];
  const secrets = new Map<Caller, string | undefined>([
    ['none', undefined],
    ['unknown', 'Bearer probe-not-a-token'],
  ]);
  let controlBefore: string[];
  let poisoning: typeof import('@fast-check/poisoning') | undefined;
  /** What SDK-facing routes added to the store, by kind of key (e.g. "ctr:exposure"). */
  let clientGrowth: { keys: number; bytes: number; byKind: Map<string, { keys: number; bytes: number }> };

  const ids: Record<string, string[]> = { rollouts: [], tokens: [], proposals: [] };

  /** Keys under the controller's prefix and the memory Redis reports for each. */
  async function storeSize(): Promise<Map<string, number>> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `{${t.prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const pipeline = redis.pipeline();
    // SAMPLES 0: every field of a hash, not an estimate from five of them.
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const sizes = (await pipeline.exec()) ?? [];
    return new Map(keys.map((key, i) => [key, Number(sizes[i]?.[1]) || 0]));
  }

  async function controlSnapshot(): Promise<string[]> {
    const client = secrets.get('client');
    return Promise.all(
      CONTROL_FLAGS.flatMap((name) => [
        fetch(`${t.url}/api/admin/flags/${name}`, { headers: { Authorization: t.adminToken } }).then((r) => r.text()),
        fetch(`${t.url}/api/client/features/${name}`, { headers: { Authorization: client! } }).then((r) => r.text()),
      ]),
    );
  }

  async function seed(): Promise<void> {
    const ok = async (method: string, path: string, body?: unknown, token?: string) => {
      const res = await t.api(method, path, body, token);
      if (res.status >= 300) throw new Error(`seeding ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const on = (strategies: unknown[], enabled = true) => Object.fromEntries(ENVIRONMENTS.map((env) => [env, { enabled, strategies }]));
    for (const [kind, environment] of [
      ['client', 'production'],
      ['frontend', 'production'],
    ] as const)
      secrets.set(kind, await t.token({ kind, environment }));
    for (const role of ['viewer', 'editor', 'release-manager', 'admin'] as const) secrets.set(role, await t.token({ kind: 'admin', role }));
    for (let i = 0; i < 2; i++)
      ids.tokens!.push((await ok('POST', '/api/admin/tokens', { kind: 'client', environment: 'staging', name: `fz-doomed-${i}` })).id);

    await ok('PUT', '/api/admin/policies/fz-policy', { name: 'fz-policy' });
    ids.proposals!.push((await ok('PUT', '/api/admin/policies/fz-proposed', { name: 'fz-proposed' }, secrets.get('editor'))).proposal.id);
    await ok('PUT', '/api/admin/environments/fz-env', { description: 'the probe may change its rules' });
    // With a variant each, named like the flag: names of Object.prototype members must be names like any other.
    for (const name of OWN_FLAGS.filter((f) => f !== 'fz-rollout'))
      await ok('PUT', `/api/admin/flags/${name}`, {
        environments: on([{ name: 'default' }]),
        variants: [{ name, weight: 1000, weightType: 'variable', stickiness: 'default' }],
      });
    const ramp = { name: 'flexibleRollout', parameters: { rollout: '0', groupId: 'fz-rollout', stickiness: 'userId' } };
    await ok('PUT', '/api/admin/flags/fz-rollout', { environments: { production: { enabled: false, strategies: [ramp] } } });
    ids.rollouts!.push((await ok('POST', '/api/admin/rollouts', { flag: 'fz-rollout', environment: 'production', policy: 'fz-policy' })).id);

    await ok('PUT', '/api/admin/flags/ctl-plain', { description: 'control', environments: on([{ name: 'default' }]) });
    await ok('PUT', '/api/admin/flags/ctl-variants', {
      environments: on([
        {
          name: 'flexibleRollout',
          parameters: { rollout: '40', groupId: 'ctl-variants', stickiness: 'userId' },
          constraints: [{ contextName: 'country', operator: 'IN', values: ['NO', 'SE'] }],
          variants: [{ name: 'blue', weight: 1000, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: 'b' } }],
        },
      ]),
    });
    await ok('PUT', '/api/admin/flags/ctl-killed', { environments: on([{ name: 'default' }]) });
    await ok('POST', '/api/admin/flags/ctl-killed/environments/production/kill', { reason: 'control: stays killed' });
    await ok('PUT', '/api/admin/webhooks/fz-hook', { url: 'http://127.0.0.1:1/probe' });
  }

  /** Path parameter values by parameter and route family. */
  const targets: CaseOptions['targets'] = {
    usable(op, param) {
      const read = op.method === 'GET';
      if ((param === 'name' && op.path.startsWith('/api/admin/flags/')) || param === 'key' || op.path.startsWith('/api/client/features/'))
        return read ? [...OWN_FLAGS, ...CONTROL_FLAGS] : OWN_FLAGS;
      if (param === 'env') return [...ENVIRONMENTS, 'fz-env', 'constructor'];
      if (op.path.startsWith('/api/admin/environments/')) return read ? [...ENVIRONMENTS, 'fz-env'] : ['fz-env', 'constructor', 'fz-new-env'];
      if (op.path.startsWith('/api/admin/policies/')) return ['fz-policy', 'fz-new-policy', 'constructor'];
      if (op.path.startsWith('/api/admin/policy-proposals/')) return ids.proposals!;
      if (op.path.startsWith('/api/admin/rollouts/')) return ids.rollouts!;
      if (op.path.startsWith('/api/admin/tokens/')) return ids.tokens!;
      if (op.path.startsWith('/api/admin/webhooks/')) return ['fz-hook', 'fz-new-hook', 'constructor'];
      return [];
    },
    control(op, param) {
      if ((param === 'name' && op.path.startsWith('/api/admin/flags/')) || param === 'key' || op.path.startsWith('/api/client/features/')) return CONTROL_FLAGS;
      return [];
    },
  };

  async function run(make: () => ProbeCase[]): Promise<void> {
    const started = performance.now();
    const cases = make();
    const generated = performance.now();
    for (const probe of cases) {
      const answer = await send(t.controller.port, probe.request, secrets.get(probe.caller), {
        timeoutMs: ANSWER_TIMEOUT_MS,
        readCap: ANSWER_MAX,
      });
      outcomes.push({ probe, answer });
      if ((Object.prototype as Record<string, unknown>)[POLLUTION_MARKER] !== undefined) {
        pollution.push(`Object.prototype.${POLLUTION_MARKER} set by ${describeOutcome({ probe, answer })}`);
        delete (Object.prototype as Record<string, unknown>)[POLLUTION_MARKER];
      }
    }
    if (cases.length === 0) return;
    try {
      poisoning!.assertNoPoisoning({ ignoredRootRegex: UNTRACKED_GLOBALS });
    } catch (err) {
      pollution.push(`globals changed while probing ${cases[0]?.op.key}: ${(err as Error).message.slice(0, 2000)}`);
      // Put back, so that the next operation is judged on its own.
      poisoning!.restoreGlobals({ ignoredRootRegex: UNTRACKED_GLOBALS });
    }
    if (VERBOSE && cases[0]) {
      const statuses = outcomes.slice(-cases.length).map((o) => o.answer.status || 'none');
      const tally = new Map<string, number>();
      for (const status of statuses) tally.set(String(status), (tally.get(String(status)) ?? 0) + 1);
      const counts = [...tally].map(([status, n]) => `${status}×${n}`);
      const ms = (n: number) => Math.round(n);
      console.error(
        `${cases[0].op.key}: ${cases.length} cases, generated in ${ms(generated - started)} ms, answered in ${ms(performance.now() - generated)} ms: ${counts.join(' ')}`,
      );
      for (const o of outcomes.slice(-cases.length).filter((o) => o.probe.kind === 'valid' && o.answer.status >= 400))
        console.error(`  valid → ${describeOutcome(o)}`);
    }
  }

  beforeAll(
    async () => {
      // Webhooks the probe creates all aim at 127.0.0.1:1 (openapi-fuzz.ts): allowed, so their routes
      // are probed past the address check, and refused there by the closed port; never anywhere else.
      t = await startTestController({ prefix: uniquePrefix('probe'), env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_MAX_ATTEMPTS: '1' } });
      redis = new Redis(inject('redisUrl'), { lazyConnect: false });
      await seed();
      const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as OpenApiDocument;
      // Imported now, so that it takes the globals as they are once the controller runs as the baseline.
      poisoning = await import('@fast-check/poisoning');
      operations = operationsOf(doc);
      const fuzzer = new SchemaFuzzer(doc.components.schemas, {
        hints: {
          flag: OWN_FLAGS,
          name: OWN_FLAGS,
          key: OWN_FLAGS,
          feature: OWN_FLAGS,
          'toggles{}': OWN_FLAGS,
          policy: ['fz-policy'],
          environment: ENVIRONMENTS,
          'environments{}': ENVIRONMENTS,
          prefix: [`${t.prefix}-restore-a`, `${t.prefix}-restore-b`],
          force: ['true', 'false', 'yes'],
          currentTime: ['2026-05-01T12:00:00Z', '1777636800000'],
          tz: ['UTC', 'Europe/Oslo'],
        },
        only: ['prefix'],
      });
      const backup = await (await fetch(`${t.url}/api/admin/backup`, { headers: { Authorization: t.adminToken } })).json();
      const options: CaseOptions = {
        fuzzer,
        seed: SEED,
        count: CASES,
        targets,
        oversizedBytes: OVERSIZED_BYTES,
        examples: (op) => restoreExamples(op, backup, t.prefix),
      };
      controlBefore = await controlSnapshot();

      for (const op of operations) await run(() => refusedCallerCases(op, options));
      const sdkFacing = operations.filter((op) => op.auth === 'client' || op.auth === 'frontend' || op.auth === 'client-or-frontend');
      const before = await storeSize();
      for (const op of sdkFacing) await run(() => casesFor(op, options));
      const after = await storeSize();
      clientGrowth = { keys: 0, bytes: 0, byKind: new Map() };
      for (const [key, bytes] of after) {
        const added = bytes - (before.get(key) ?? 0);
        if (added <= 0 && before.has(key)) continue;
        const kind = key.split(':').slice(1, 3).join(':');
        const sum = clientGrowth.byKind.get(kind) ?? { keys: 0, bytes: 0 };
        clientGrowth.byKind.set(kind, { keys: sum.keys + (before.has(key) ? 0 : 1), bytes: sum.bytes + added });
        clientGrowth.keys += before.has(key) ? 0 : 1;
        clientGrowth.bytes += added;
      }
      for (const op of operations.filter((o) => !sdkFacing.includes(o))) await run(() => casesFor(op, options));
    },
    Math.max(300_000, CASES * 3_000),
  );

  afterAll(async () => {
    closeProbeConnections();
    redis?.disconnect();
    await t?.stop();
  });

  it('probes every operation of the document, each with generated requests from its allowed callers', () => {
    expect(operations.length).toBeGreaterThan(50);
    const probed = new Map<string, number>();
    for (const { probe, answer } of outcomes)
      if (probe.kind !== 'refused-caller' && answer.status > 0) probed.set(probe.op.key, (probed.get(probe.op.key) ?? 0) + 1);
    const missed = operations.filter((op) => (probed.get(op.key) ?? 0) < Math.min(CASES, 4)).map((op) => op.key);
    expect(missed, report('operations probed with too few answered requests', missed)).toEqual([]);
  });

  it('refuses every caller without the right token kind or role: 401 or 403 on every route', () => {
    const wrong = outcomes.filter(
      (o) => o.probe.kind === 'refused-caller' && !o.probe.note.includes('before the token') && o.answer.status !== o.probe.expectStatus,
    );
    expect(wrong.map(describeOutcome), report('callers not refused as they should be', wrong.map(describeOutcome))).toEqual([]);
  });

  it('checks the token before reading a body: an oversized body from a caller who may not call the route gets 401/403 (defect 2)', () => {
    const wrong = outcomes.filter(
      (o) => o.probe.kind === 'refused-caller' && o.probe.note.includes('before the token') && o.answer.status !== o.probe.expectStatus,
    );
    expect(wrong.map(describeOutcome), report('bodies read before the token was checked', wrong.map(describeOutcome))).toEqual([]);
  });

  it('never answers 5xx, and always answers', () => {
    const failed = outcomes.filter((o) => o.answer.status >= 500 || o.answer.status === 0);
    expect(failed.map(describeOutcome), report('requests answered 5xx or not at all', failed.map(describeOutcome))).toEqual([]);
  });

  it(`keeps every answer bounded: error answers at most ${ERROR_ANSWER_MAX / 1024} KiB, others at most ${ANSWER_MAX / 1024 / 1024} MiB`, () => {
    const large = outcomes.filter((o) => (o.answer.status >= 400 ? o.answer.bytes > ERROR_ANSWER_MAX : o.answer.bytes > ANSWER_MAX));
    expect(large.map(describeOutcome), report('answers over their bound', large.map(describeOutcome))).toEqual([]);
  });

  it('leaves Object.prototype and every other global of the controller process unpolluted', () => {
    expect(({} as Record<string, unknown>)[POLLUTION_MARKER]).toBeUndefined();
    expect(pollution, report('pollution', pollution)).toEqual([]);
  });

  it(`lets SDK-facing routes grow the store by at most ${CLIENT_GROWTH_MAX_KEYS} keys and ${CLIENT_GROWTH_MAX_BYTES / 1024} KiB (defect 3)`, () => {
    const kinds = [...clientGrowth.byKind].map(([kind, { keys, bytes }]) => `${kind}: ${keys} new keys, ${bytes} bytes more`);
    expect(
      clientGrowth.keys <= CLIENT_GROWTH_MAX_KEYS && clientGrowth.bytes <= CLIENT_GROWTH_MAX_BYTES,
      `SDK-facing routes added ${clientGrowth.keys} keys and ${clientGrowth.bytes} bytes:\n${kinds.join('\n')}`,
    ).toBe(true);
  });

  it('restores no backup holding documents the controller could not read (defect 10)', () => {
    const accepted = outcomes.filter((o) => o.probe.mustRefuse && !(o.answer.status >= 400 && o.answer.status < 500));
    expect(accepted.map(describeOutcome), report('invalid documents not refused', accepted.map(describeOutcome))).toEqual([]);
  });

  it('leaves the audit chain intact and the control flags byte-identical', async () => {
    const verify = await t.api('GET', '/api/admin/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });
    expect(verify.body.count).toBeGreaterThan(10);
    const after = await controlSnapshot();
    const changed = CONTROL_FLAGS.flatMap((name, i) =>
      [0, 1].flatMap((j) =>
        after[i * 2 + j] === controlBefore[i * 2 + j]
          ? []
          : [`${name} (${j === 0 ? 'admin' : 'client'} view): ${controlBefore[i * 2 + j]} → ${after[i * 2 + j]}`],
      ),
    );
    expect(changed, report('control flags changed', changed)).toEqual([]);
  });
});
