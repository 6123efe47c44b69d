import { describe, expect, it } from 'vitest';
import { storedFlagSchema, type StoredFlag } from '../../src/flags/schema.js';
import { applyActions, claimStrategy, ownedStrategyId } from '../../src/rollouts/flag-actions.js';
import type { Action } from '../../src/rollouts/rollout-model.js';
import { EXTRA_KILL, FLAG, rollout, T0 } from './decide-fixtures.js';

const OWNED = 'rollout:r-1';
const AT = T0.toISOString();

/** A stored flag through the real schema (defaults filled, parameters as strings). */
const flag = (input: Record<string, unknown>): StoredFlag => storedFlagSchema.parse({ name: FLAG, ...input });

const appNameWeb = { contextName: 'appName', operator: 'IN', values: ['web'] };
const internalUsers = { name: 'userWithId', id: 'internal', parameters: { userIds: '1,2,3' } };

/** checkout-v2: a targeted 30 % rollout and an internal-users strategy in production; staging fully on; a kill switch in staging. */
function checkoutFlag(): StoredFlag {
  return flag({
    environments: {
      production: {
        enabled: true,
        strategies: [
          internalUsers,
          {
            name: 'flexibleRollout',
            id: 'legacy',
            title: 'EU web',
            parameters: { rollout: 30, stickiness: 'userId', groupId: 'checkout-exp' },
            constraints: [appNameWeb],
            segments: [4],
          },
        ],
        variants: [{ name: 'blue', weight: 1000 }],
      },
      staging: { enabled: true, strategies: [{ name: 'default' }] },
    },
    killSwitches: { staging: { reason: 'old', actor: 'ops', at: '2026-01-01T00:00:00.000Z' } },
  });
}

describe('ownedStrategyId', () => {
  it('names the strategy after the rollout', () => expect(ownedStrategyId('r-1')).toBe(OWNED));
});

describe('claimStrategy', () => {
  it('takes over an existing flexibleRollout in place, keeping groupId, stickiness, constraints and segments, at 0 %', () => {
    const before = checkoutFlag();
    const frozen = structuredClone(before);
    const claimed = claimStrategy(before, 'production', OWNED);
    expect(before).toEqual(frozen);
    const expected = structuredClone(before);
    expected.environments.production!.strategies[1] = {
      ...before.environments.production!.strategies[1]!,
      id: OWNED,
      parameters: { rollout: '0', stickiness: 'userId', groupId: 'checkout-exp' },
    };
    expect(claimed).toEqual(expected);
    expect(claimed.environments.production!.strategies[1]).toMatchObject({ title: 'EU web', constraints: [appNameWeb], segments: [4] });
  });

  it.each([
    {
      what: 'no strategies at all',
      strategies: [] as unknown[],
      expected: (owned: unknown) => [owned],
    },
    {
      what: 'only other kinds of strategy',
      strategies: [internalUsers],
      expected: (owned: unknown) => [expect.objectContaining({ id: 'internal' }), owned],
    },
    {
      what: 'only a disabled flexibleRollout',
      strategies: [{ name: 'flexibleRollout', id: 'off', disabled: true, parameters: { rollout: 50 } }],
      expected: (owned: unknown) => [expect.objectContaining({ id: 'off', disabled: true, parameters: { rollout: '50' } }), owned],
    },
  ])('adds a flexibleRollout at 0 % (default stickiness, groupId = flag name) when there is $what', ({ strategies, expected }) => {
    const claimed = claimStrategy(flag({ environments: { production: { enabled: true, strategies } } }), 'production', OWNED);
    const owned = { name: 'flexibleRollout', id: OWNED, constraints: [], parameters: { rollout: '0', stickiness: 'default', groupId: FLAG } };
    expect(claimed.environments.production!.strategies).toEqual(expected(owned));
  });

  it('claims the first enabled flexibleRollout when there are several', () => {
    const claimed = claimStrategy(
      flag({
        environments: {
          production: {
            enabled: true,
            strategies: [
              { name: 'flexibleRollout', id: 'a', parameters: { rollout: 5, groupId: 'g-a' } },
              { name: 'flexibleRollout', id: 'b', parameters: { rollout: 7, groupId: 'g-b' } },
            ],
          },
        },
      }),
      'production',
      OWNED,
    );
    expect(claimed.environments.production!.strategies.map((s) => [s.id, s.parameters.rollout, s.parameters.groupId])).toEqual([
      [OWNED, '0', 'g-a'],
      ['b', '7', 'g-b'],
    ]);
  });

  it('creates the environment when the flag has none there, leaving the others alone', () => {
    const before = checkoutFlag();
    const claimed = claimStrategy(before, 'eu-west', OWNED);
    expect(claimed.environments['eu-west']).toEqual({
      enabled: true,
      strategies: [{ name: 'flexibleRollout', id: OWNED, constraints: [], parameters: { rollout: '0', stickiness: 'default', groupId: FLAG } }],
      variants: [],
    });
    expect(claimed.environments.production).toEqual(before.environments.production);
    expect(claimed.environments.staging).toEqual(before.environments.staging);
  });

  it('what it produces is still a valid stored flag', () => {
    const claimed = claimStrategy(checkoutFlag(), 'production', OWNED);
    expect(storedFlagSchema.parse(claimed)).toEqual(claimed);
  });
});

describe('applyActions: set-percentage', () => {
  const r = rollout({ strategyId: OWNED });

  it.each([1, 10, 50, 100, 0, 0.5])('to %d % changes only the rollout parameter of the owned strategy', (percentage) => {
    const claimed = claimStrategy(checkoutFlag(), 'production', OWNED);
    const flags = new Map([[FLAG, claimed]]);
    const frozen = structuredClone(claimed);
    const changed = applyActions(r, [{ kind: 'set-percentage', percentage }], flags, AT);
    expect(claimed).toEqual(frozen);
    expect([...changed.keys()]).toEqual([FLAG]);
    const expected = structuredClone(claimed);
    expected.environments.production!.strategies[1]!.parameters.rollout = String(percentage);
    expect(changed.get(FLAG)).toEqual(expected);
  });

  it('claims the strategy first when the flag no longer has the owned one', () => {
    const changed = applyActions(r, [{ kind: 'set-percentage', percentage: 10 }], new Map([[FLAG, checkoutFlag()]]), AT);
    expect(changed.get(FLAG)!.environments.production!.strategies[1]).toMatchObject({
      id: OWNED,
      parameters: { rollout: '10', stickiness: 'userId', groupId: 'checkout-exp' },
      constraints: [appNameWeb],
    });
  });

  it('changes nothing when the rollout’s flag is missing', () => {
    expect(applyActions(r, [{ kind: 'set-percentage', percentage: 10 }], new Map([[EXTRA_KILL, flag({ name: EXTRA_KILL })]]), AT).size).toBe(0);
  });

  it('later actions see earlier ones: two set-percentages end at the last', () => {
    const claimed = claimStrategy(checkoutFlag(), 'production', OWNED);
    const changed = applyActions(
      r,
      [
        { kind: 'set-percentage', percentage: 10 },
        { kind: 'set-percentage', percentage: 50 },
      ],
      new Map([[FLAG, claimed]]),
      AT,
    );
    expect(changed.get(FLAG)!.environments.production!.strategies[1]!.parameters.rollout).toBe('50');
  });
});

describe('applyActions: kill', () => {
  const r = rollout({ strategyId: OWNED });
  const KILL: Action = { kind: 'kill', flags: [FLAG, EXTRA_KILL, 'not-there'], reason: 'rollback rule breached' };
  const switchOf = { reason: 'rollback rule breached', actor: 'rollout r-1', at: AT };

  it('sets the kill switch for the rollout’s environment on every named flag, ignoring missing flags and touching nothing else', () => {
    const checkout = claimStrategy(checkoutFlag(), 'production', OWNED);
    const banner = flag({ name: EXTRA_KILL, environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } });
    const bystander = flag({ name: 'unrelated' });
    const flags = new Map([
      [FLAG, checkout],
      [EXTRA_KILL, banner],
      ['unrelated', bystander],
    ]);
    const frozen = structuredClone([...flags]);
    const changed = applyActions(r, [KILL], flags, AT);
    expect([...flags]).toEqual(frozen);
    expect([...changed.keys()].sort()).toEqual([FLAG, EXTRA_KILL].sort());
    expect(changed.get(FLAG)).toEqual({ ...checkout, killSwitches: { ...checkout.killSwitches, production: switchOf } });
    expect(changed.get(EXTRA_KILL)).toEqual({ ...banner, killSwitches: { production: switchOf } });
  });

  it('keeps a kill switch already set in that environment', () => {
    const killed = flag({ killSwitches: { production: { reason: 'manual', actor: 'ops', at: '2026-01-01T00:00:00.000Z' } } });
    const changed = applyActions(r, [KILL], new Map([[FLAG, killed]]), AT);
    expect(changed.get(FLAG)?.killSwitches).toEqual({ production: { reason: 'manual', actor: 'ops', at: '2026-01-01T00:00:00.000Z' } });
  });

  it('kills in the rollout’s own environment only', () => {
    const euWest = rollout({ strategyId: OWNED, environment: 'eu-west' });
    const changed = applyActions(euWest, [KILL], new Map([[FLAG, checkoutFlag()]]), AT);
    expect(changed.get(FLAG)!.killSwitches).toEqual({ staging: checkoutFlag().killSwitches.staging, 'eu-west': switchOf });
  });

  it('with nothing to act on, changes no flag', () => {
    expect(applyActions(r, [], new Map([[FLAG, checkoutFlag()]]), AT).size).toBe(0);
    expect(applyActions(r, [{ kind: 'kill', flags: ['not-there'], reason: 'x' }], new Map(), AT).size).toBe(0);
  });
});
