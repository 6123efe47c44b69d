import { describe, expect, it } from 'vitest';
import { matchDeliveries, rolloutChanges, servedKey, type FlagChange, type StreamLog } from '../../bench/soak-deliveries.js';

// The soak's judge of "no stream missed an update" (bench/soak-deliveries.ts): pure, so its edge cases are pinned here.

const log = (spans: Array<[number, number]>, events: Record<string, Array<[string, number]>>): StreamLog => ({
  spans,
  received: new Map(Object.entries(events).map(([flag, list]) => [flag, { keys: list.map(([k]) => k), at: list.map(([, t]) => t) }])),
});
const kill = (at: number, key: string, answeredAt?: number): FlagChange => ({ flag: 'k', key, at, source: 'kill', answeredAt });
const byMinute = (c: FlagChange) => `${c.source}:${Math.floor(c.at / 60_000)}`;

describe('matchDeliveries', () => {
  it('counts every change delivered in order, with its latency from the change and from the answer', () => {
    const changes = [kill(1000, 'off', 1004), kill(4000, 'on', 4003)];
    const tally = matchDeliveries(
      changes,
      [
        log([[0, Infinity]], {
          k: [
            ['off', 1010],
            ['on', 4020],
          ],
        }),
      ],
      10_000,
      byMinute,
    );
    expect(tally).toMatchObject({ expected: 2, delivered: 2, missed: 0 });
    expect(tally.latencies.get('kill:0')).toEqual([10, 20]);
    expect(tally.latencies.get('answered-kill:0')).toEqual([6, 17]);
  });

  it('does not let a later event with the same state stand in for a missed one', () => {
    // The first "off" never arrived; the "off" received belongs to the third change.
    const changes = [kill(1000, 'off'), kill(4000, 'on'), kill(7000, 'off')];
    const tally = matchDeliveries(
      changes,
      [
        log([[0, Infinity]], {
          k: [
            ['on', 4010],
            ['off', 7010],
          ],
        }),
      ],
      10_000,
      byMinute,
    );
    expect(tally).toMatchObject({ expected: 3, delivered: 2, missed: 1 });
    expect(tally.examples).toEqual([{ stream: 0, flag: 'k', key: 'off', at: 1000 }]);
  });

  it('ignores events for other states and extra repeats, and changes made before the stream first connected', () => {
    const changes = [kill(500, 'off'), kill(1000, 'on'), kill(2000, 'off')];
    const stream = log([[800, Infinity]], {
      k: [
        ['on', 1005],
        ['on', 1500],
        ['off', 2003],
      ],
    });
    expect(matchDeliveries(changes, [stream], 10_000, byMinute)).toMatchObject({ expected: 2, delivered: 2, missed: 0 });
  });

  it('tells apart misses made while the stream was reconnecting', () => {
    const changes = [kill(1000, 'off'), kill(2000, 'on'), kill(3000, 'off')];
    const stream = log(
      [
        [0, 1500],
        [2500, Infinity],
      ],
      {
        k: [
          ['off', 1001],
          ['off', 3002],
        ],
      },
    );
    expect(matchDeliveries(changes, [stream], 10_000, byMinute)).toMatchObject({ expected: 3, delivered: 2, missed: 1, missedWhileDisconnected: 1 });
  });

  it('counts a change never delivered (or seen only well before it) as missed on every stream', () => {
    const streams = [log([[0, Infinity]], {}), log([[0, Infinity]], { k: [['off', 900]] })];
    expect(matchDeliveries([kill(1000, 'off')], streams, 5_000, byMinute)).toMatchObject({ expected: 2, delivered: 0, missed: 2 });
  });
});

describe('rolloutChanges', () => {
  it('turns rollout histories into the percentages each flag took, across successive rollouts of one flag', () => {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const rollouts = [
      {
        flag: 'f',
        createdAt: iso(100),
        history: [
          { at: iso(100), to: 'running', percentage: 1 },
          { at: iso(160), to: 'running', percentage: 5 },
          { at: iso(220), to: 'completed', percentage: 5 },
        ],
      },
      {
        flag: 'f',
        createdAt: iso(230),
        history: [
          { at: iso(230), to: 'running', percentage: 1 },
          { at: iso(290), to: 'rolled_back', percentage: 1 },
        ],
      },
    ];
    const changes = rolloutChanges(rollouts, '0', (at) => Date.parse(at) / 1000);
    expect(changes.map((c) => [c.key, c.at])).toEqual([
      ['1', 100],
      ['5', 160],
      ['1', 230],
      ['off', 290],
    ]);
  });
});

describe('servedKey', () => {
  it('is off when disabled, else the flexibleRollout percentage, else on', () => {
    expect(servedKey({ enabled: false, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '5' } }] })).toBe('off');
    expect(servedKey({ enabled: true, strategies: [{ name: 'default' }, { name: 'flexibleRollout', parameters: { rollout: '25' } }] })).toBe('25');
    expect(servedKey({ enabled: true, strategies: [{ name: 'default' }] })).toBe('on');
  });
});
