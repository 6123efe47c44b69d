import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import { decide } from '../../src/rollouts/decide.js';
import { newRollout } from '../../src/rollouts/new-rollout.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { expiredStretch } from '../../src/simulation/replay/recorded-counters.js';
import { REPLAY_GUIDE } from '../../src/simulation/replay/replay-docs.js';
import { AppError } from '../../src/errors/app-error.js';
import { parseLimit, parseSince } from '../../src/simulation/replay/replay-main.js';
import { realTimeline, servedAt } from '../../src/simulation/replay/real-timeline.js';
import { alice, bob, dave, FLAG, MINUTE, policy, T0 } from './decide-fixtures.js';

/** What the replay reads of a stored rollout's history, and the bounds it checks before reading buckets. */

const t0 = T0.getTime();
const HOUR_MS = 60 * MINUTE;
const EMPTY: DecisionInput = { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } };

/** A rollout taken through `inputs` (each at T0 + its minute) by the decision core. */
function history(inputs: Array<[minute: number, input: DecisionInput]>): Rollout {
  let r = newRollout({ id: 'r1', flag: FLAG, environment: 'production', policy: 'test-plan', plan: policy(), startedBy: dave, at: T0 });
  for (const [minute, input] of [[0, EMPTY] as const, ...inputs]) {
    const d = decide(r, input, new Date(t0 + minute * MINUTE));
    if (d.kind === 'refused') throw new Error(`${input.kind} at ${minute}: ${d.message}`);
    r = d.next;
  }
  return r;
}

describe('the real timeline of a stored rollout', () => {
  it('reads what the flag served over time and what people did, in order, with their comments', () => {
    const r = history([
      [2, { kind: 'approve', by: alice }], // Go/No-Go: 1 %
      [5, { kind: 'pause', by: bob, comment: 'looking at a dashboard' }],
      [9, { kind: 'resume', by: bob }],
      [12, { kind: 'approve', by: alice, step: 10, ahead: true }],
      [20, { kind: 'abort', by: bob, comment: 'wrong build' }],
    ]);
    const timeline = realTimeline(r, t0 + 60 * MINUTE);
    expect(timeline.served).toEqual([
      { at: t0, percentage: 0 },
      { at: t0 + 2 * MINUTE, percentage: 1 },
      { at: t0 + 20 * MINUTE, percentage: 0 },
    ]);
    expect(servedAt(timeline, t0 + 7 * MINUTE)).toEqual({ percentage: 1, since: t0 + 2 * MINUTE });
    expect(timeline.actions.map((a) => [(a.at - t0) / MINUTE, a.kind, a.by.name, 'percentage' in a ? a.percentage : undefined, a.comment])).toEqual([
      [2, 'approve', 'Alice', 1, undefined],
      [5, 'pause', 'Bob', undefined, 'looking at a dashboard'],
      [9, 'resume', 'Bob', undefined, undefined],
      [12, 'approve', 'Alice', 10, undefined],
      [20, 'abort', 'Bob', undefined, 'wrong build'],
    ]);
    // Aborted: done, so the timeline ends at its last transition.
    expect(timeline.end).toBe(t0 + 20 * MINUTE);
  });

  it('keeps approvals a pause made void, and reads a rejection of a step awaiting approval', () => {
    const r = history([[3, { kind: 'reject', by: bob, comment: 'not today' }]]);
    expect(realTimeline(r, t0 + HOUR_MS).actions).toEqual([{ kind: 'reject', at: t0 + 3 * MINUTE, by: { id: 'name:Bob', name: 'Bob' }, comment: 'not today' }]);
    const voided = history([
      [1, { kind: 'approve', by: alice }],
      [2, { kind: 'approve', by: alice, step: 10, ahead: true }],
      [4, { kind: 'pause', by: bob }],
    ]);
    expect(voided.approvals.map((a) => a.step)).toEqual([0]);
    expect(
      realTimeline(voided, t0 + HOUR_MS)
        .actions.filter((a) => a.kind === 'approve')
        .map((a) => (a.kind === 'approve' ? a.percentage : 0)),
    ).toEqual([1, 10]);
  });

  it('an active rollout’s timeline runs to now', () => {
    const r = history([[2, { kind: 'approve', by: alice }]]);
    expect(realTimeline(r, t0 + 30 * MINUTE).end).toBe(t0 + 30 * MINUTE);
  });
});

describe('expired buckets', () => {
  const TTL = 2 * 24 * 3600;
  const now = Date.UTC(2030, 0, 10, 12);
  const bucket = 10_000;
  it.each([
    ['started within the two days', now - 47 * HOUR_MS, now - 46 * HOUR_MS, undefined],
    [
      'started before: the stretch up to the last bucket that may be gone',
      now - 49 * HOUR_MS,
      now - 46 * HOUR_MS,
      { from: now - 49 * HOUR_MS, to: now - 48 * HOUR_MS + bucket },
    ],
    ['ended before: all of it', now - 60 * HOUR_MS, now - 59 * HOUR_MS, { from: now - 60 * HOUR_MS, to: now - 59 * HOUR_MS }],
    [
      'a bucket starting exactly two days ago may be gone',
      now - 48 * HOUR_MS,
      now - 47 * HOUR_MS,
      { from: now - 48 * HOUR_MS, to: now - 48 * HOUR_MS + bucket },
    ],
  ])('%s', (_, from, to, expected) => {
    expect(expiredStretch(from, to, bucket, TTL, now)).toEqual(expected);
  });
});

describe('replay options', () => {
  const now = Date.UTC(2030, 0, 10, 12);
  it('--since takes a date, a time or a duration back from now', () => {
    expect(parseSince('2030-01-07', now)).toBe(Date.UTC(2030, 0, 7));
    expect(parseSince('2030-01-07T09:30:00Z', now)).toBe(Date.UTC(2030, 0, 7, 9, 30));
    expect(parseSince('7d', now)).toBe(now - 7 * 24 * HOUR_MS);
    expect(parseSince('90m', now)).toBe(now - 90 * MINUTE);
    for (const bad of ['yesterday', '7', '-1d', '2030-13-45']) expect(() => parseSince(bad, now)).toThrow(AppError);
  });
  it('--limit is 1 to 200, 20 by default', () => {
    expect(parseLimit(undefined)).toBe(20);
    expect(parseLimit('200')).toBe(200);
    for (const bad of ['0', '201', '2.5', 'many']) expect(() => parseLimit(bad)).toThrow('--limit');
  });
});

it('docs/simulation.md says how to replay as the code writes it (the coin-flip report writes the section)', () => {
  expect(readFileSync('docs/simulation.md', 'utf8')).toContain(REPLAY_GUIDE.join('\n'));
});
