import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { eventually, startNamedSdk, type NamedSdk } from './drill-sdks.js';

/**
 * Issue 16, item 6: a rollback drill against 50 polling and 50 streaming stock SDKs on real Redis
 * reports every instance with its times; an SDK stopped mid-drill is named as never confirming.
 */

const FLAG = 'drill-me';
const ENV = 'staging';
const POLLERS = 50;
const STREAMERS = 50;
const base = `/api/admin/flags/${FLAG}/environments/${ENV}`;

describe('a rollback drill against 100 stock SDKs (50 polling, 50 streaming)', () => {
  let t: TestController;
  let secret: string;
  let releaseManager: string;
  let viewer: string;
  const sdks: NamedSdk[] = [];
  /** Instance id → whether the SDK evaluated the flag off at some point (set on its `changed` events). */
  const sawOff = new Map<string, boolean>();

  const watch = (s: NamedSdk) => {
    sawOff.set(s.instanceId, false);
    s.sdk.on('changed', () => {
      if (!s.sdk.isEnabled(FLAG)) sawOff.set(s.instanceId, true);
    });
  };

  beforeAll(async () => {
    t = await startTestController({ env: { STREAM_HEARTBEAT_MS: '2000' } });
    secret = await t.token({ kind: 'client', environment: ENV });
    releaseManager = await t.token({ kind: 'admin', role: 'release-manager' });
    viewer = await t.token({ kind: 'admin', role: 'viewer' });
    expect((await t.api('PUT', `/api/admin/flags/${FLAG}`, { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } })).status).toBe(
      201,
    );
    const starts: Array<Promise<NamedSdk>> = [];
    for (let i = 0; i < POLLERS; i++)
      starts.push(startNamedSdk(t, secret, { appName: 'shop-poller', instanceId: `poll-${i}`, mode: 'polling', refreshInterval: 1_000 }));
    for (let i = 0; i < STREAMERS; i++)
      starts.push(startNamedSdk(t, secret, { appName: 'shop-streamer', instanceId: `stream-${i}`, mode: 'streaming', refreshInterval: 60_000 }));
    sdks.push(...(await Promise.all(starts)));
    for (const s of sdks) watch(s);
  }, 60_000);

  afterAll(async () => {
    for (const s of sdks) s.sdk.destroy();
    await t?.stop();
  });

  it('shows every instance holding the flag’s state before the drill', async () => {
    const propagation = await eventually(
      async () => (await t.api('GET', `${base}/propagation`, undefined, viewer)).body,
      (p) => p.instances === POLLERS + STREAMERS && p.confirmed === p.instances,
      'all 100 instances seen and confirmed',
    );
    expect(propagation).toMatchObject({ flag: FLAG, environment: ENV, killed: false, pending: [], pendingNotListed: 0 });
    expect(propagation.version).toBeGreaterThan(0);
    expect(Date.parse(propagation.lastConfirmedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('kills, waits for all 100, restores, and records the times in the audit log', async () => {
    const res = await t.api('POST', `${base}/drill`, { reason: 'quarterly rollback drill', timeoutSeconds: 30 }, releaseManager);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const record = res.body;
    expect(record).toMatchObject({
      flag: FLAG,
      environment: ENV,
      instances: 100,
      confirmed: 100,
      missing: [],
      ended: 'all-confirmed',
      restore: { restored: true },
    });
    const { p50, p99, max } = record.ms;
    expect(p50).toBeGreaterThanOrEqual(0);
    expect(p50).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
    // Streams have it at once, pollers within their 1 s interval: half are there within a second, all within a few.
    expect(p50).toBeLessThan(1_000);
    expect(max).toBeLessThan(5_000);
    // Every SDK really evaluated the flag off during the drill, and has it back on.
    expect([...sawOff].filter(([, off]) => !off).map(([id]) => id)).toEqual([]);
    await eventually(
      () => sdks.filter((s) => !s.sdk.isEnabled(FLAG)).length,
      (n) => n === 0,
      'every SDK to have the flag back on',
    );

    const audit = (await t.api('GET', '/api/admin/audit?limit=1000')).body;
    const events = (audit.events ?? audit) as Array<{ seq: number; action: string; reason?: string; after: any }>;
    const mine = events.filter((e) => e.reason?.startsWith('drill: quarterly rollback drill') || e.action === 'flag.drill');
    expect(mine.map((e) => e.action)).toEqual(['flag.kill', 'flag.restore', 'flag.drill']);
    const drillEvent = mine[2]!;
    expect(drillEvent.seq).toBe(record.auditSeq);
    expect(drillEvent.after).toMatchObject({ instances: 100, confirmed: 100, ms: record.ms, missing: [] });

    const report = await fetch(`${t.url}${record.report}`, { headers: { Authorization: viewer } });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toContain('text/markdown');
    const text = await report.text();
    expect(text).toContain(`# Rollback drill: ${FLAG} in ${ENV}`);
    expect(text).toContain('Verified: all 100 connected SDK instances had the kill within');
    expect(text).toContain(`| 100 % | ${max.toLocaleString('en')} ms |`);
  }, 60_000);

  it('names an SDK stopped mid-drill as never having the kill', async () => {
    // Polls once at start, then not for a minute: it cannot fetch the kill before it is stopped.
    const slow = await startNamedSdk(t, secret, { appName: 'shop-batch', instanceId: 'slow-1', mode: 'polling', refreshInterval: 60_000 });
    await eventually(
      async () => (await t.api('GET', `${base}/propagation`, undefined, viewer)).body.instances,
      (n) => n === 101,
      'the slow SDK to be seen',
    );
    const streamer = sdks.find((s) => s.instanceId === 'stream-0')!;
    const killSeen = new Promise<void>((resolve) => {
      const check = () => {
        if (streamer.sdk.isEnabled(FLAG)) return;
        streamer.sdk.off('changed', check);
        resolve();
      };
      streamer.sdk.on('changed', check);
    });
    const drill = t.api('POST', `${base}/drill`, { reason: 'drill with a dead instance', timeoutSeconds: 4 }, releaseManager);
    await killSeen; // the kill is written to the streams: the drill is under way
    slow.sdk.destroy();
    const res = await drill;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ instances: 101, confirmed: 100, ended: 'timed-out', restore: { restored: true }, missingNotListed: 0 });
    expect(res.body.missing).toEqual([
      { appName: 'shop-batch', instanceId: 'slow-1', connectionId: expect.any(String), instance: expect.any(String), lastSeenAt: expect.any(String) },
    ]);
    // 100 of 101 is past 99 % but not 100 %.
    expect(res.body.ms.p99).toEqual(expect.any(Number));
    expect(res.body.ms.max).toBeNull();
    const report = await (await fetch(`${t.url}${res.body.report}`, { headers: { Authorization: viewer } })).text();
    expect(report).toContain('Not verified: 1 of 101 connected SDK instances never had the kill within 4 s.');
    expect(report).toMatch(/\| shop-batch \| slow-1 \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \|/);
    expect(report).toContain('| 100 % | not reached |');
  }, 60_000);
});
