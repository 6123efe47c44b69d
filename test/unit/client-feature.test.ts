import { describe, expect, it } from 'vitest';
import { clientSpecSupportsSegments, toClientFeature } from '../../src/flags/client-feature.js';
import { storedFlagSchema, type Segment } from '../../src/flags/schema.js';

const segments = new Map<number, Segment>([[3, { id: 3, name: 'beta', constraints: [{ contextName: 'userId', operator: 'IN', values: ['7'] }] }]]);
const flag = storedFlagSchema.parse({
  name: 'f',
  environments: {
    production: {
      enabled: true,
      strategies: [
        { name: 'flexibleRollout', parameters: { rollout: '10' }, segments: [3], constraints: [{ contextName: 'appName', operator: 'IN', values: ['web'] }] },
        { name: 'default', disabled: true },
      ],
    },
  },
});

describe('toClientFeature', () => {
  it('keeps segment references for new SDKs and drops disabled strategies', () => {
    const feature = toClientFeature(flag, 'production', segments, false);
    expect(feature.enabled).toBe(true);
    expect(feature.strategies).toHaveLength(1);
    expect(feature.strategies[0]).toMatchObject({ segments: [3], constraints: [{ contextName: 'appName' }] });
  });

  it('inlines segment constraints ahead of the strategy’s own for old SDKs', () => {
    const feature = toClientFeature(flag, 'production', segments, true);
    expect(feature.strategies[0]!.segments).toBeUndefined();
    expect(feature.strategies[0]!.constraints.map((c) => c.contextName)).toEqual(['userId', 'appName']);
  });

  it('serves a flag disabled where it is killed, and disabled where it is not configured', () => {
    const killed = { ...flag, killSwitches: { production: { reason: 'r', actor: 'a', at: 'now' } } };
    expect(toClientFeature(killed, 'production', segments, false).enabled).toBe(false);
    expect(toClientFeature(flag, 'staging', segments, false)).toMatchObject({ enabled: false, strategies: [] });
  });

  it('serves strategies in sortOrder without the fields SDKs do not need', () => {
    const ordered = storedFlagSchema.parse({
      name: 'o',
      environments: {
        production: {
          enabled: true,
          strategies: [
            { name: 'default', id: 'b', title: 'second', sortOrder: 2 },
            { name: 'userWithId', id: 'a', sortOrder: 1, parameters: { userIds: 42 } },
            { name: 'default', constraints: [{ contextName: 'plan', operator: 'IN' }] },
          ],
        },
      },
    });
    const feature = toClientFeature(ordered, 'production', segments, false);
    expect(feature.strategies.map((s) => s.name)).toEqual(['userWithId', 'default', 'default']);
    expect(feature.strategies[0]).toEqual({ name: 'userWithId', parameters: { userIds: '42' }, constraints: [] });
    // A list operator always has a list, so SDKs can filter it.
    expect(feature.strategies[2]!.constraints[0]!.values).toEqual([]);
  });

  it('refuses a boolean where a rollout percentage belongs', () => {
    const parsed = storedFlagSchema.safeParse({
      name: 'b',
      environments: { p: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: true } }] } },
    });
    expect(parsed.success).toBe(false);
  });

  it('reads the client spec header as Unleash does (segments from 4.2.0)', () => {
    expect(clientSpecSupportsSegments(undefined)).toBe(false);
    expect(clientSpecSupportsSegments('4.1.9')).toBe(false);
    expect(clientSpecSupportsSegments('4.2.0')).toBe(true);
    expect(clientSpecSupportsSegments('5.2.0')).toBe(true);
  });
});
