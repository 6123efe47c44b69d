import { describe, expect, it } from 'vitest';
import { FETCH_GRACE_MS, MAX_FETCH_WAIT_MS, type SdkFetch, trafficWindow } from '../../src/rollouts/traffic-window.js';

const START = 1_000_000;
const S = 1000;
const R = 50; // the step's revision

/** An instance polling every `every` ms of the old state before the step, then (maybe) fetching the step at `fetchedAt`. */
function poller(instance: string, every: number, fetchedAt?: number, firstAt = START - 60 * S): SdkFetch[] {
  const out: SdkFetch[] = [];
  for (let t = firstAt; t < START; t += every) out.push({ instance, revision: R - 1, at: t });
  if (fetchedAt !== undefined) out.push({ instance, revision: R, at: fetchedAt });
  return out;
}

describe('trafficWindow: when a step’s traffic starts to count', () => {
  it.each<[string, SdkFetch[], number, ReturnType<typeof trafficWindow>]>([
    ['nobody fetched flags before the step: from the step’s start', [], START + S, { kind: 'counting', since: START, instances: 0, gaveUp: 0 }],
    [
      'two SDKs, polling every 15 s, both fetched it: from the later of their fetches',
      [...poller('a', 15 * S, START + 4 * S), ...poller('b', 15 * S, START + 12 * S)],
      START + 20 * S,
      { kind: 'counting', since: START + 12 * S, instances: 2, gaveUp: 0 },
    ],
    [
      'one has fetched, one not yet, and it may still: waiting until its deadline (last poll + 2 intervals + grace)',
      [...poller('a', 15 * S, START + 4 * S), ...poller('b', 15 * S)],
      START + 10 * S,
      { kind: 'waiting', fetched: 1, instances: 2, until: START - 15 * S + 30 * S + FETCH_GRACE_MS },
    ],
    [
      'one never came back: given up at its deadline, counting from then',
      [...poller('a', 15 * S, START + 4 * S), ...poller('b', 15 * S)],
      START + 60 * S,
      { kind: 'counting', since: START + 20 * S, instances: 2, gaveUp: 1 },
    ],
    [
      'an SDK seen once (no interval to go by) is awaited the longest wait, not for ever',
      [{ instance: 'once', revision: R - 1, at: START - 100 * S }],
      START + MAX_FETCH_WAIT_MS,
      { kind: 'counting', since: START + MAX_FETCH_WAIT_MS, instances: 1, gaveUp: 1 },
    ],
    [
      'a resumed step: every SDK already holds its revision, nobody is awaited',
      [{ instance: 'a', revision: R, at: START - 30 * S }],
      START + S,
      { kind: 'counting', since: START, instances: 0, gaveUp: 0 },
    ],
    [
      'fetches older than the lookback are not awaited (the SDK went away long ago)',
      [{ instance: 'old', revision: R - 1, at: START - 10 * 60 * S }],
      START + S,
      { kind: 'counting', since: START, instances: 0, gaveUp: 0 },
    ],
    [
      'an old state served after the start (a replica behind) keeps the SDK awaited until it fetches the step',
      [
        ...poller('a', 5 * S, undefined, START - 20 * S),
        { instance: 'a', revision: R - 1, at: START + 5 * S },
        { instance: 'a', revision: R, at: START + 10 * S },
      ],
      START + 11 * S,
      { kind: 'counting', since: START + 10 * S, instances: 1, gaveUp: 0 },
    ],
    [
      'a fetch read before its bucket ended counts as made by now',
      [...poller('a', 15 * S), { instance: 'a', revision: R, at: START + 10 * S }],
      START + 7 * S,
      { kind: 'counting', since: START + 7 * S, instances: 1, gaveUp: 0 },
    ],
  ])('%s', (_name, fetches, now, expected) => {
    expect(trafficWindow(START, R, fetches, now)).toEqual(expected);
  });

  it('while this replica does not serve the step itself, nothing is known: it waits the longest wait, then counts', () => {
    expect(trafficWindow(START, undefined, poller('a', 15 * S, START + S), START + 5 * S)).toEqual({
      kind: 'waiting',
      fetched: 0,
      instances: 0,
      until: START + MAX_FETCH_WAIT_MS,
    });
    expect(trafficWindow(START, undefined, [], START + MAX_FETCH_WAIT_MS)).toEqual({
      kind: 'counting',
      since: START + MAX_FETCH_WAIT_MS,
      instances: 0,
      gaveUp: 0,
    });
  });
});
