import { describe, expect, it } from 'vitest';
import { isDrillKill, killReplaces } from '../../src/flags/drill-kill.js';
import type { StoredFlag } from '../../src/flags/schema.js';
import { confirmationTimes, drillFigures, timeToShare } from '../../src/propagation/drill-record.js';
import { isProductionEnvironment } from '../../src/propagation/production-guard.js';
import { MAX_LISTED_INSTANCES, propagationOf } from '../../src/propagation/propagation.js';
import { instancesSeen, SEEN_WINDOW_MS } from '../../src/propagation/sightings.js';
import { applyActions } from '../../src/rollouts/flag-actions.js';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import { HOLDINGS_BUCKET_MS, HoldingsRecorder, type HoldingRecord, holdingField, namesText, parseHoldingField } from '../../src/serving/sdk-holdings.js';

const NOW = 1_800_000_000_000;
const S = 1000;
const names = (id: string) => ({ appName: 'shop', instanceId: id, connectionId: `c-${id}` });
const minute = (t: number) => Math.floor(t / HOLDINGS_BUCKET_MS) * HOLDINGS_BUCKET_MS;
const seen = (instance: string, revision: number | undefined, at: number): HoldingRecord => ({ kind: 'seen', instance, revision, at, names: names(instance) });
const held = (instance: string, revision: number, at: number): HoldingRecord => ({ kind: 'held', instance, revision, at });
const gone = (instance: string, at: number): HoldingRecord => ({ kind: 'gone', instance, at });

describe('instancesSeen: which SDK instances are connected, and what they hold', () => {
  it('counts instances seen within the window (polls, stream heartbeats, registrations), with their highest revision and names', () => {
    const records = [
      seen('poller', 40, NOW - 80 * S),
      held('poller', 41, NOW - 3 * S),
      seen('old', 41, NOW - SEEN_WINDOW_MS - 10 * S),
      held('stream', 41, NOW - 90 * S),
      seen('registered', undefined, NOW - 30 * S),
    ];
    const found = instancesSeen(records, NOW);
    // Named instances by app and instance id; an unnamed one (no `seen` record read) by its hash ("#…"), first.
    expect(found.map((i) => [i.instance, i.revision, i.names?.instanceId, i.lastSeenAt])).toEqual([
      ['stream', 41, undefined, NOW - 90 * S],
      ['poller', 41, 'poller', NOW - 3 * S],
      ['registered', undefined, 'registered', NOW - 30 * S],
    ]);
  });

  it('drops a stream that closed after it was last seen, and keeps one seen again after closing', () => {
    const records = [
      seen('closed', 41, NOW - 62 * S),
      gone('closed', NOW - 40 * S),
      seen('reopened', 41, NOW - 62 * S),
      gone('reopened', NOW - 40 * S),
      held('reopened', 41, NOW - 39 * S),
    ];
    expect(instancesSeen(records, NOW).map((i) => i.instance)).toEqual(['reopened']);
  });
});

describe('propagationOf: how many connected instances hold the flag’s state', () => {
  it('confirms instances at or past the flag’s revision, lists the others, and says when the last got it', () => {
    const found = instancesSeen(
      [
        seen('a', 49, NOW - 50 * S),
        held('a', 50, NOW - 10 * S),
        seen('b', 49, NOW - 4 * S),
        held('c', 51, NOW - 8 * S),
        held('c', 52, NOW - 2 * S),
        seen('c', 52, NOW - 1 * S),
      ],
      NOW,
    );
    const p = propagationOf(50, found);
    expect(p).toMatchObject({ version: 50, instances: 3, confirmed: 2, pendingNotListed: 0 });
    // c got revision 51 first, 8 s ago (that holds the state at 50); a got it 10 s ago. The last is c.
    expect(p.lastConfirmedAt).toBe(new Date(NOW - 8 * S).toISOString());
    expect(p.pending).toEqual([{ appName: 'shop', instanceId: 'b', connectionId: 'c-b', instance: 'b', lastSeenAt: new Date(NOW - 4 * S).toISOString() }]);
  });

  it('says null when nobody holds it, or when the records read do not reach back to when they got it', () => {
    expect(propagationOf(60, instancesSeen([seen('a', 50, NOW - S)], NOW)).lastConfirmedAt).toBeNull();
    expect(propagationOf(10, instancesSeen([seen('a', 50, NOW - S)], NOW))).toMatchObject({ confirmed: 1, lastConfirmedAt: null });
  });

  it('lists at most MAX_LISTED_INSTANCES pending instances and counts the rest', () => {
    const many = Array.from({ length: MAX_LISTED_INSTANCES + 7 }, (_, i) => seen(`i${String(i).padStart(4, '0')}`, 1, NOW - S));
    const p = propagationOf(2, instancesSeen(many, NOW));
    expect(p.pending).toHaveLength(MAX_LISTED_INSTANCES);
    expect(p.pendingNotListed).toBe(7);
  });
});

describe('drill figures: time to 50 %, 99 % and 100 % of instances', () => {
  it('is the ⌈share × instances⌉-th fastest, or null when that many never had it', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i * 10);
    expect([timeToShare(hundred, 100, 0.5), timeToShare(hundred, 100, 0.99), timeToShare(hundred, 100, 1)]).toEqual([490, 980, 990]);
    const ninetyNine = hundred.slice(0, 99);
    expect([timeToShare(ninetyNine, 100, 0.99), timeToShare(ninetyNine, 100, 1)]).toEqual([980, null]);
    expect(timeToShare([5], 1, 0.5)).toBe(5);
    expect(timeToShare([], 0, 0.5)).toBeNull();
  });

  it('takes each instance’s first state at or past the kill’s revision, counted from the start, and names the missing', () => {
    const start = NOW;
    const records: HoldingRecord[] = [
      { kind: 'held', instance: 'a', revision: 69, at: start - 5 * S }, // before the kill: not it
      { kind: 'held', instance: 'a', revision: 70, at: start + 1200 },
      { kind: 'held', instance: 'a', revision: 71, at: start + 900 }, // another replica, earlier, later revision: it counts
      { kind: 'held', instance: 'b', revision: 70, at: start - 3 }, // a stream written before the request returned
      { kind: 'held', instance: 'stranger', revision: 70, at: start + 10 },
      seen('c', 69, start + 10),
    ];
    const times = confirmationTimes(records, new Set(['a', 'b', 'c']), 70, start);
    expect([...times].sort()).toEqual([
      ['a', 900],
      ['b', 0],
    ]);
    const targets = ['a', 'b', 'c'].map((instance) => ({ instance, names: names(instance), lastSeenAt: start - S, firstHeld: new Map() }));
    const figures = drillFigures(targets, times);
    expect(figures).toMatchObject({ instances: 3, confirmed: 2, ms: { p50: 900, p99: null, max: null }, missingNotListed: 0 });
    expect(figures.missing.map((m) => m.instanceId)).toEqual(['c']);
  });
});

describe('holdings records', () => {
  it('round-trip, with SDK names cut and cleaned so they cannot break the field', () => {
    const records: HoldingRecord[] = [
      { kind: 'held', instance: 'abc', revision: 12, at: NOW },
      { kind: 'gone', instance: 'abc', at: NOW + 1 },
      { kind: 'seen', instance: 'abc', revision: 12, at: NOW + 2, names: { appName: 'shop', instanceId: 'pod-1', connectionId: '' } },
      { kind: 'seen', instance: 'abc', revision: undefined, at: NOW + 3, names: { appName: 'shop', instanceId: 'pod-1', connectionId: 'c' } },
    ];
    for (const r of records) expect(parseHoldingField(holdingField(r))).toEqual(r);
    const hostile = holdingField({ kind: 'seen', instance: 'x', at: NOW, names: { appName: 'a\tb\nc', instanceId: 'i'.repeat(500), connectionId: 'c' } });
    expect(parseHoldingField(hostile)).toEqual({
      kind: 'seen',
      instance: 'x',
      revision: undefined,
      at: NOW,
      names: { appName: 'a b c', instanceId: 'i'.repeat(100), connectionId: 'c' },
    });
    expect(parseHoldingField('x\ty')).toBeUndefined();
    expect(parseHoldingField('h\tabc\tnot-a-number\t1')).toBeUndefined();
    expect(parseHoldingField('h\tabc\t1\tnot-a-time')).toBeUndefined();
  });

  it('are written when the revision served to an instance changes, and an instance is recorded seen once a minute, not on every poll', () => {
    const recorder = new HoldingsRecorder((instance) => namesText(names(instance)));
    const t = minute(NOW);
    for (let i = 0; i < 5; i++) recorder.saw('prod', 'a', 7, t + i * 100);
    recorder.saw('prod', 'a', 8, t + 700);
    recorder.saw('prod', 'a', 8, t + 800, true); // a stream opened again: recorded even at the same revision
    recorder.saw('prod', 'a', 8, t + HOLDINGS_BUCKET_MS + 1); // the next minute: seen again
    recorder.closed('prod', 'a', t + HOLDINGS_BUCKET_MS + 2);
    const batches = recorder.take();
    const fields = batches.flatMap((b) => Object.keys(b.fields).map((f) => `${b.key} ${f}`));
    expect(fields.sort()).toEqual(
      [
        `sdk-holdings:prod:${t} h\ta\t7\t${t}`,
        `sdk-holdings:prod:${t} h\ta\t8\t${t + 700}`,
        `sdk-holdings:prod:${t} h\ta\t8\t${t + 800}`,
        `sdk-holdings:prod:${t} s\ta\t7\t${t}\tshop\ta\tc-a`,
        `sdk-holdings:prod:${t + HOLDINGS_BUCKET_MS} s\ta\t8\t${t + HOLDINGS_BUCKET_MS + 1}\tshop\ta\tc-a`,
        `sdk-holdings:prod:${t + HOLDINGS_BUCKET_MS} g\ta\t${t + HOLDINGS_BUCKET_MS + 2}`,
      ].sort(),
    );
    expect(recorder.take()).toEqual([]);
  });
});

describe('drill guards', () => {
  it('knows production environments by name', () => {
    for (const name of ['production', 'Production', 'prod', 'PROD', 'production-eu', 'prod_us', 'prod.cn'])
      expect(isProductionEnvironment(name), name).toBe(true);
    for (const name of ['staging', 'preprod', 'products', 'test-production', 'dev']) expect(isProductionEnvironment(name), name).toBe(false);
  });

  it('lets a real kill replace a drill’s kill switch, and nothing replace a real one', () => {
    const drill = { reason: 'drill: quarterly', actor: 'rm', at: '2026-01-01T00:00:00.000Z' };
    const real = { reason: 'incident 42', actor: 'oncall', at: '2026-01-01T00:00:01.000Z' };
    expect(isDrillKill(drill)).toBe(true);
    expect(isDrillKill(real)).toBe(false);
    expect(killReplaces(undefined, 'anything')).toBe(true);
    expect(killReplaces(drill, 'incident 42')).toBe(true);
    expect(killReplaces(drill, 'drill: another')).toBe(false);
    expect(killReplaces(real, 'incident 43')).toBe(false);
  });

  it('a rollout’s rollback kill replaces a drill’s kill switch (so the drill’s restore cannot undo it)', () => {
    const flag = {
      name: 'f',
      environments: {},
      killSwitches: { prod: { reason: 'drill: q1', actor: 'rm', at: '2026-01-01T00:00:00.000Z' } },
    } as unknown as StoredFlag;
    const rollout = { id: 'r1', flag: 'f', environment: 'prod' } as Rollout;
    const after = applyActions(rollout, [{ kind: 'kill', flags: ['f'], reason: 'rollback rule breached' }], new Map([['f', flag]]), '2026-01-01T00:00:05.000Z');
    expect(after.get('f')?.killSwitches.prod).toEqual({ reason: 'rollback rule breached', actor: 'rollout r1', at: '2026-01-01T00:00:05.000Z' });
  });
});
