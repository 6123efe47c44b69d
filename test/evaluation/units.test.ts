import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/evaluation/evaluation.js';
import type { ClientFeature } from '../../src/flags/client-feature.js';
import { SnapshotEngine } from '../../src/evaluation/unleash-engine.js';
import { ExposureBatcher } from '../../src/evaluation/exposure-batcher.js';
import { RateLimiter } from '../../src/evaluation/rate-limiter.js';
import { contextSchema, toUnleashContext, clientAddress } from '../../src/evaluation/context.js';
import { recordExposures, type ClientMetrics } from '../../src/metrics/exposures.js';
import { createLogger } from '../../src/logger.js';
import type { Store } from '../../src/store/port.js';
import { parseOfrepContext, toOfrepSuccess } from '../../src/ofrep/ofrep-response.js';

describe('RateLimiter', () => {
  it('lets a burst through, then one request per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 4, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([0, 0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now = 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now = 10_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([0, 0, 0, 0]);
  });

  it('waits are whole seconds, at least one, longer at slow rates', () => {
    const limiter = new RateLimiter(0.1, 1, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
  });

  it('a rate of 0 means no limit; sweep forgets full buckets only', () => {
    let now = 0;
    expect(new RateLimiter(0, 0, () => now).take('a')).toBe(0);
    const limiter = new RateLimiter(1, 1, () => now);
    limiter.take('a');
    limiter.sweep();
    expect(limiter.take('a')).toBe(1);
    now = 5_000;
    limiter.sweep();
    expect(limiter.take('a')).toBe(0);
  });
});

describe('ExposureBatcher', () => {
  const evaluation = (flag: string, enabled: boolean, variant?: string): Evaluation => ({
    flag,
    enabled,
    variant: { name: variant ?? 'disabled', enabled: Boolean(variant), feature_enabled: enabled, featureEnabled: enabled },
    impressionData: false,
    reason: enabled ? 'STATIC' : 'DEFAULT',
    cohort: enabled ? 'treatment' : 'control',
  });

  /** A store that only records counter increments, in order. */
  const recordingStore = (fail?: () => boolean) => {
    const writes: Array<{ key: string; fields: Record<string, number> }> = [];
    const store = {
      incrementCounters: async (key: string, fields: Record<string, number>) => {
        if (fail?.()) throw new Error('store down');
        writes.push({ key, fields });
      },
    } as unknown as Store;
    return { store, writes };
  };
  /** What the SDK metrics route would write for the same counts (whatever the counter layout is). */
  const asSdkMetrics = async (env: string, at: number, toggles: ClientMetrics['bucket']['toggles']) => {
    const { store, writes } = recordingStore();
    await recordExposures(store, env, { appName: 'x', bucket: { toggles } }, at);
    return writes;
  };

  it('sums in memory, then writes what the SDK metrics route writes for the same counts, per environment and minute counted', async () => {
    const { store, writes } = recordingStore();
    let now = 59_000;
    const batcher = new ExposureBatcher(store, () => now, createLogger('silent'), 60_000);
    batcher.count('prod', [evaluation('a', true, 'blue'), evaluation('b', false)]);
    batcher.count('prod', [evaluation('a', true, 'blue'), evaluation('b', true)]);
    now = 61_000;
    batcher.count('prod', [evaluation('a', false)]);
    batcher.count('dev', [evaluation('a', true)]);
    expect(writes).toEqual([]);
    await batcher.close();
    expect(writes).toEqual([
      ...(await asSdkMetrics('prod', 0, { a: { yes: 2, no: 0, variants: { blue: 2 } }, b: { yes: 1, no: 1, variants: {} } })),
      ...(await asSdkMetrics('prod', 60_000, { a: { yes: 0, no: 1, variants: {} } })),
      ...(await asSdkMetrics('dev', 60_000, { a: { yes: 1, no: 0, variants: {} } })),
    ]);
    const written = writes.length;
    await batcher.flush();
    expect(writes).toHaveLength(written);
  });

  it('a failed write is dropped, and later counts still go through', async () => {
    let down = true;
    const { store, writes } = recordingStore(() => down);
    const batcher = new ExposureBatcher(store, () => 0, createLogger('silent'), 60_000);
    batcher.count('prod', [evaluation('a', true)]);
    await batcher.flush();
    down = false;
    batcher.count('prod', [evaluation('a', true)]);
    await batcher.close();
    expect(writes).toEqual(await asSdkMetrics('prod', 0, { a: { yes: 1, no: 0, variants: {} } }));
  });

  // Found by the API probe (test/hardening/api-probe.test.ts): counting a flag named "constructor"
  // set Object.yes, "toString" set Object.prototype.toString.yes, and their counts were lost.
  it('counts flags and variants named like Object.prototype members as any other, and touches no prototype', async () => {
    const { store, writes } = recordingStore();
    const batcher = new ExposureBatcher(store, () => 0, createLogger('silent'), 60_000);
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];
    for (let i = 0; i < 2; i++)
      batcher.count(
        'prod',
        names.map((name) => evaluation(name, true, name)),
      );
    await batcher.close();
    const counts = (name: string) => [name, { yes: 2, no: 0, variants: Object.fromEntries([[name, 2]]) }];
    expect(writes).toEqual(await asSdkMetrics('prod', 0, Object.fromEntries(names.map(counts))));
    expect(writes.map((w) => w.key)).toEqual(names.map((name) => `exposure:prod:${name}:0`));
    for (const member of [Object, Object.prototype.toString, Object.prototype.hasOwnProperty, Object.prototype.valueOf, Object.prototype])
      expect(Object.keys(member)).toEqual([]);
  });
});

describe('contexts', () => {
  it('standard fields stay on top, the rest become properties (properties win), empty standard fields are absent', () => {
    const parsed = contextSchema.parse({
      userId: 42,
      sessionId: '',
      plan: 'pro',
      beta: true,
      properties: { plan: 'team', n: 3, gone: null },
      currentTime: '2026-01-01T00:00:00Z',
    });
    expect(toUnleashContext(parsed)).toEqual({
      userId: '42',
      currentTime: new Date('2026-01-01T00:00:00Z'),
      properties: { plan: 'team', beta: 'true', n: '3' },
    });
  });

  it('IPv4 addresses seen through a dual-stack socket are plain IPv4', () => {
    expect(clientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('::1')).toBe('::1');
    expect(clientAddress(undefined)).toBeUndefined();
  });

  it('OFREP: targetingKey is userId unless userId is given; identity is a userId or a sessionId', () => {
    expect(parseOfrepContext({ targetingKey: 'u1', plan: 'pro' })).toEqual({
      ok: true,
      context: { userId: 'u1', properties: { plan: 'pro' } },
      hasIdentity: true,
    });
    expect(parseOfrepContext({ targetingKey: 'u1', userId: 'u2' })).toMatchObject({ context: { userId: 'u2' } });
    expect(parseOfrepContext({ sessionId: 's' })).toMatchObject({ hasIdentity: true });
    expect(parseOfrepContext(undefined)).toEqual({ ok: true, context: {}, hasIdentity: false });
    expect(parseOfrepContext([1])).toMatchObject({ ok: false, errorCode: 'INVALID_CONTEXT', errorDetails: 'context: expected an object' });
    expect(parseOfrepContext({ tags: ['a'] })).toMatchObject({ ok: false, errorCode: 'INVALID_CONTEXT' });
    expect((parseOfrepContext({ tags: ['a'] }) as { errorDetails: string }).errorDetails).toMatch(/^context\.tags: /);
  });
});

describe('OFREP values', () => {
  const on = (payload?: { type: string; value: string }): Evaluation => ({
    flag: 'f',
    enabled: true,
    variant: { name: payload ? 'v' : 'disabled', enabled: Boolean(payload), ...(payload ? { payload } : {}), feature_enabled: true, featureEnabled: true },
    impressionData: false,
    reason: 'SPLIT',
    cohort: 'treatment',
  });
  it.each([
    [{ type: 'string', value: 'x' }, 'x'],
    [{ type: 'csv', value: 'a,b' }, 'a,b'],
    [{ type: 'number', value: '2.5' }, 2.5],
    [{ type: 'number', value: 'many' }, 'many'],
    [{ type: 'json', value: '{"a":[1]}' }, { a: [1] }],
    [{ type: 'json', value: 'null' }, 'null'],
    [{ type: 'json', value: '{broken' }, '{broken'],
  ])('payload %j → %j', (payload, value) => {
    expect(toOfrepSuccess(on(payload))).toEqual({ key: 'f', value, reason: 'SPLIT', variant: 'v', metadata: { cohort: 'treatment' } });
  });
  it('no variant: true/"on"; off: false/"off"', () => {
    expect(toOfrepSuccess(on())).toMatchObject({ value: true, variant: 'on' });
    const off = {
      ...on(),
      enabled: false,
      cohort: 'control' as const,
      reason: 'DEFAULT' as const,
      variant: { name: 'disabled', enabled: false, feature_enabled: false, featureEnabled: false },
    };
    expect(toOfrepSuccess(off)).toEqual({ key: 'f', value: false, reason: 'DEFAULT', variant: 'off', metadata: { cohort: 'control' } });
  });
});

describe('reasons from the variant list the SDK actually drew from', () => {
  const feature = (strategyVariants: Array<{ name: string; weight: number }>) =>
    ({
      name: 'f',
      type: 'release',
      description: null,
      project: 'default',
      enabled: true,
      stale: false,
      impressionData: false,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'default', groupId: 'f' },
          constraints: [],
          variants: strategyVariants.map((v) => ({ ...v, stickiness: 'default' })),
        },
      ],
      variants: [
        { name: 'a', weight: 500, stickiness: 'default' },
        { name: 'b', weight: 500, stickiness: 'default' },
      ],
    }) as unknown as ClientFeature;

  it('strategy variants with weight win, and one of them is no split; all at weight 0, the flag’s split variants decide', () => {
    const single = new SnapshotEngine([feature([{ name: 'only', weight: 1000 }])], []).evaluate('f', { userId: 'u1' })!;
    expect(single).toMatchObject({ variant: { name: 'only' }, reason: 'STATIC' });
    const fallback = new SnapshotEngine([feature([{ name: 'never', weight: 0 }])], []).evaluate('f', { userId: 'u1' })!;
    expect(['a', 'b']).toContain(fallback.variant.name);
    expect(fallback.reason).toBe('SPLIT');
  });
});
