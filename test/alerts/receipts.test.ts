import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IncomingAlert } from '../../src/alerts/alert-model.js';
import { ALERT_RECEIPTS, AlertReceipts, RECEIPT_TTL_MS, receiptId, type Receipt } from '../../src/alerts/alert-receipts.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/port.js';
import { uniquePrefix } from '../support/controller.js';

const DAY = 24 * 3_600_000;
const T0 = Date.parse('2026-01-17T06:00:00.000Z');
const alert: IncomingAlert = {
  source: 'alertmanager',
  fingerprint: 'fp',
  identified: true,
  status: 'firing',
  startsAt: '2026-01-17T06:00:00.000Z',
  labels: {},
  annotations: {},
};
const target = { kind: 'flag' as const, name: 'checkout' };

/** Issue 16: how long a receipt makes a resend a duplicate, on a real Redis with a clock of the test's own. */
describe('alert receipts', () => {
  let store: Store;
  let now = T0;
  let receipts: AlertReceipts;
  beforeAll(async () => {
    store = await openStore({ redisUrl: inject('redisUrl'), prefix: uniquePrefix('receipts'), dataDir: '' });
    receipts = new AlertReceipts(store, () => new Date(now));
  });
  afterAll(() => store?.close());

  const write = async (id: string) => {
    const result = {
      fingerprint: 'fp',
      status: 'firing' as const,
      target,
      environment: 'production',
      action: 'pause' as const,
      outcome: 'acted' as const,
      detail: 'd',
    };
    await store.commit({ puts: [receipts.put(id, alert, result, (await receipts.lookup(id)).version)] });
  };

  it('tells one episode, status and target apart from another', () => {
    const id = receiptId(alert, 'firing', 'production', target);
    expect(receiptId(alert, 'resolved', 'production', target)).not.toBe(id);
    expect(receiptId(alert, 'firing', 'staging', target)).not.toBe(id);
    expect(receiptId({ ...alert, startsAt: '2026-01-18T06:00:00.000Z' }, 'firing', 'production', target)).not.toBe(id);
    expect(receiptId(alert, 'firing', 'production', { kind: 'release', name: 'checkout' })).not.toBe(id);
    expect(receiptId({ ...alert }, 'firing', 'production', { ...target })).toBe(id);
  });

  it('lives for its TTL, is renewed by a resend in its second half, and is swept once expired', async () => {
    now = T0;
    await write('a');
    await write('b');
    now = T0 + DAY;
    const early = (await receipts.lookup('a')).live!;
    await receipts.seenAgain(early);
    expect((await receipts.lookup('a')).live!.value.expiresAt).toBe(new Date(T0 + RECEIPT_TTL_MS).toISOString());
    now = T0 + 5 * DAY;
    await receipts.seenAgain((await receipts.lookup('a')).live!);
    expect((await receipts.lookup('a')).live!.value.expiresAt).toBe(new Date(T0 + 5 * DAY + RECEIPT_TTL_MS).toISOString());
    now = T0 + 8 * DAY;
    expect((await receipts.lookup('b')).live).toBeNull();
    expect((await receipts.lookup('b')).version).toBeGreaterThan(0);
    expect((await receipts.lookup('a')).live).not.toBeNull();
    expect(await receipts.pruneIfDue()).toBe(1);
    expect(await store.get<Receipt>(ALERT_RECEIPTS, 'b')).toBeNull();
    now = T0 + 20 * DAY;
    expect(await receipts.pruneIfDue()).toBe(1);
    // A sweep at most once an hour: an expired receipt waits for the next one.
    // (Only its expiry matters to a sweep.)
    await store.commit({ puts: [{ collection: ALERT_RECEIPTS, id: 'old', value: { expiresAt: new Date(T0).toISOString() }, quiet: true }] });
    now += 30 * 60_000;
    expect(await receipts.pruneIfDue()).toBe(0);
    now += 31 * 60_000;
    expect(await receipts.pruneIfDue()).toBe(1);
  });

  it('replaces an expired receipt with a new one (compare-and-set on its version)', async () => {
    now = T0;
    await write('c');
    now = T0 + 8 * DAY;
    await write('c');
    expect((await receipts.lookup('c')).live!.value.at).toBe(new Date(T0 + 8 * DAY).toISOString());
  });
});
