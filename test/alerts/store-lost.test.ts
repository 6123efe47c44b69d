import { describe, expect, it } from 'vitest';
import { defineRoute, type RouteContext } from '../../src/http/route.js';
import { refusingAdminWritesWhenLost } from '../../src/store-loss/guarded-store.js';
import type { LossReport } from '../../src/store-loss/store-marks.js';

const loss: LossReport = {
  reason: 'the store restarted empty',
  detectedAt: '2026-01-17T06:00:00.000Z',
  detectedBy: 'replica-a',
  lostFrom: { storeId: 's1', feedSeq: 10, auditSeq: 5 },
  found: { storeId: null, feedHead: 0, auditSeq: 0 },
};

/**
 * Issue 16: while the store is known to have lost data, an alert is refused (503 store_lost, which
 * Alertmanager retries) rather than read against the emptied store and answered "unknown target"
 * with a 200 that Alertmanager would not send again.
 */
describe('incoming alerts while the store lost data', () => {
  it('are refused before the route reads anything', async () => {
    let ran = false;
    const [route] = refusingAdminWritesWhenLost(
      [
        defineRoute({
          method: 'post',
          path: '/api/alerts/generic',
          summary: 's',
          tag: 'Alerts',
          auth: { kind: 'alert' },
          responses: {},
          handler: () => {
            ran = true;
            return { status: 200 };
          },
        }),
      ],
      () => loss,
      [],
    );
    await expect(async () => route!.handler({} as RouteContext<unknown, unknown, unknown>)).rejects.toMatchObject({ errorId: 'store_lost' });
    expect(ran).toBe(false);
  });
});
