import { describe, expect, it } from 'vitest';
import { FeedFreshness } from '../../src/observability/freshness.js';
import { sampled } from '../../src/observability/sampled.js';

describe('feed freshness of a replica', () => {
  it('a replica that reached every sampled head is current: no lag, no staleness, however quiet the feed', () => {
    const f = new FeedFreshness(0);
    f.sampled(10, 1_000);
    expect(f.lag(10)).toBe(0);
    expect(f.staleSeconds(10, 1_000)).toBe(0);
    f.sampled(10, 600_000);
    expect(f.staleSeconds(10, 600_000)).toBe(0);
  });

  it('staleness counts from the latest sampled head the replica has reached', () => {
    const f = new FeedFreshness(0);
    f.sampled(5, 1_000); // reached
    f.sampled(8, 2_000); // not yet
    f.sampled(12, 3_000); // not yet
    expect(f.lag(5)).toBe(7);
    expect(f.staleSeconds(5, 10_000)).toBe(9);
    // It catches up to 8: current as of the sample at 2 s.
    expect(f.staleSeconds(9, 10_000)).toBe(8);
    expect(f.lag(9)).toBe(3);
    expect(f.staleSeconds(12, 10_000)).toBe(7);
  });

  it('without any sample (the store never answered), staleness runs from the start', () => {
    const f = new FeedFreshness(1_000);
    expect(f.staleSeconds(0, 31_000)).toBe(30);
  });

  it('a head that went back (entries lost in a failover) does not leave the lag stuck', () => {
    const f = new FeedFreshness(0);
    f.sampled(100, 1_000);
    expect(f.lag(90)).toBe(10);
    f.sampled(90, 2_000);
    expect(f.lag(90)).toBe(0);
    expect(f.staleSeconds(90, 2_000)).toBe(0);
  });
});

describe('sampled store reads for a scrape', () => {
  it('reuses a young sample, and reads again once it is old', async () => {
    let clock = 0;
    let reads = 0;
    const read = sampled(async () => ++reads, { maxAgeMs: 1_000, waitMs: 100, now: () => clock });
    expect(await read()).toBe(1);
    clock = 500;
    expect(await read()).toBe(1);
    clock = 1_000;
    expect(await read()).toBe(2);
  });

  it('a read that hangs holds a scrape for waitMs only, answers the last value, and is not started twice', async () => {
    let clock = 0;
    let calls = 0;
    let release: (v: number) => void = () => {};
    const read = sampled(
      () => {
        calls++;
        return calls === 1 ? Promise.resolve(7) : new Promise<number>((r) => (release = r));
      },
      { maxAgeMs: 10, waitMs: 20, now: () => clock },
    );
    expect(await read()).toBe(7);
    clock = 100;
    expect(await read()).toBe(7); // waited 20 ms for the hanging read, then answered the last value
    clock = 200;
    expect(await read()).toBe(7);
    expect(calls).toBe(2);
    release(8);
    await new Promise((r) => setTimeout(r, 0));
    expect(await read()).toBe(8);
  });

  it('a failing read keeps the last value; until one succeeds there is none', async () => {
    let clock = 0;
    let fail = true;
    const read = sampled(async () => (fail ? Promise.reject(new Error('down')) : 3), { maxAgeMs: 10, waitMs: 50, now: () => clock });
    expect(await read()).toBeUndefined();
    fail = false;
    clock = 20;
    expect(await read()).toBe(3);
    fail = true;
    clock = 40;
    expect(await read()).toBe(3);
  });
});
