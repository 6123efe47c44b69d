import type { Commit, Store } from '../store/port.js';
import { AppError } from '../errors/app-error.js';
import { HEAD_ID, META } from '../audit/audited-commit.js';
import type { AuditHead } from '../audit/chain.js';
import type { RouteSpec } from '../http/route.js';
import type { StoreWatch } from './store-watch.js';
import type { LossReport } from './store-marks.js';

/** What a refused write tells the caller to wait: a person has to act first, so not the few seconds of an outage. */
export const STORE_LOST_RETRY_AFTER_SECONDS = 30;

/** The store writes go through: refused while the replica knows the store lost data (see StoreWatch). */
const REFUSED = new Set<PropertyKey>(['commit', 'acquireLease']);

/**
 * The store every service writes through. While the watch reports a loss, commits are refused with
 * 503 `store_lost`, so nothing is written on top of an emptied or older store before a person has
 * chosen, and leases too, so no replica leads the rollout loop meanwhile. Reads, counters and the
 * feed pass through. Restoring a backup and accepting the loss use the store itself.
 * It also tells the watch of every audit head this replica writes, so what it remembers of the log
 * is never behind its own writes (a look at the store comes only once a second).
 */
export function refusingWritesWhenLost(store: Store, watch: Pick<StoreWatch, 'lost' | 'sawAuditHead'>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (!REFUSED.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        const loss = watch.lost;
        if (loss) throw storeLostError(loss);
        const result = await value.apply(target, args);
        if (prop === 'commit') {
          const head = (args[0] as Commit).puts?.find((put) => put.collection === META && put.id === HEAD_ID);
          if (head) watch.sawAuditHead((head.value as AuditHead).seq);
        }
        return result;
      };
    },
  });
}

export function storeLostError(loss: LossReport): AppError {
  return new AppError(
    'unavailable',
    'store_lost',
    `writes are refused: the store lost data (${loss.reason}). A person restores a backup or accepts the loss (POST /api/admin/store/accept-loss)`,
    { loss },
    STORE_LOST_RETRY_AFTER_SECONDS,
  );
}

/**
 * The same refusal at the HTTP edge, for every admin write but the two that end a loss and for
 * every incoming alert: answered before the route reads anything, so a person sees `store_lost`
 * rather than what a read of the emptied store makes of the request (an undeclared environment,
 * an unknown flag).
 */
export function refusingAdminWritesWhenLost(routes: RouteSpec[], lost: () => LossReport | undefined, allowed: readonly string[]): RouteSpec[] {
  return routes.map((route) => {
    // Alerts too: an emptied store would answer them "unknown target" (200), and Alertmanager would not send them again.
    if (route.method === 'get' || (route.auth.kind !== 'admin' && route.auth.kind !== 'alert') || allowed.includes(route.path)) return route;
    const handler = route.handler;
    return {
      ...route,
      handler: (ctx) => {
        const loss = lost();
        if (loss) throw storeLostError(loss);
        return handler(ctx);
      },
    };
  });
}
