import { z } from 'zod';
import type { Store } from '../store/port.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { acceptLoss } from './accept-loss.js';
import type { StoreWatch } from './store-watch.js';
import { lookAtStore } from './store-marks.js';

const TAG = 'Store';
export const ACCEPT_LOSS_PATH = '/api/admin/store/accept-loss';

export interface LossRouteDeps {
  /** The store itself (not the guarded one). */
  store: Store;
  watch: StoreWatch;
  now: () => Date;
  /** The deployment's name in audit events: the Redis prefix, or "embedded". */
  storeName: string;
  /** Looks at the store again at once, so the replica that answers already serves the outcome. */
  lookNow: () => Promise<void>;
}

export function storeLossRoutes(deps: LossRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/store/loss',
      summary: 'Whether the store lost data (this replica noticed it, or another left its marker), and what it held before.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'read' },
      responses: { 200: { description: '{lost, report?, storeId}' } },
      handler: async () => {
        const report = deps.watch.lost ?? (await lookAtStore(deps.store)).loss?.value;
        return { status: 200, body: { lost: report !== undefined, ...(report ? { report } : {}), storeId: deps.watch.storeId } };
      },
    }),
    defineRoute({
      method: 'post',
      path: ACCEPT_LOSS_PATH,
      summary:
        'Accept what the store holds now after it lost data (instead of restoring a backup): recorded in the audit log, ' +
        'then every replica reloads from the store and takes writes again.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'store:accept-loss' },
      body: z.object({ reason: z.string().trim().min(1, 'say why the loss is accepted').max(1000) }).strict(),
      responses: {
        200: { description: '{accepted: the loss report, storeId: the store’s new identity}' },
        409: { description: 'No loss of data is known (no_store_loss)' },
      },
      handler: async ({ body, actor }) => {
        const result = await acceptLoss(deps.store, deps.watch, { actor, reason: body.reason, storeName: deps.storeName }, deps.now);
        await deps.lookNow();
        return { status: 200, body: result };
      },
    }),
  ];
}
