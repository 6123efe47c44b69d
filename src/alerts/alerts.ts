import type { Store } from '../store/port.js';
import type { FlagService } from '../flags/flag-service.js';
import type { RouteSpec } from '../http/route.js';
import type { Logger } from '../logger.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import type { DocumentProblem } from '../validation/stored-documents.js';
import { AlertIntake } from './alert-intake.js';
import { AlertReceipts } from './alert-receipts.js';
import { AlertRecorder } from './alert-recorder.js';
import { alertRoutes } from './alert-routes.js';
import { AlertService } from './alert-service.js';
import { NO_RELEASES, type ReleaseLookup } from './release-lookup.js';
import { RoutingRuleService } from './routing-rule-service.js';

export type { AlertListener } from './alert-service.js';
export type { ReleaseLookup } from './release-lookup.js';

export interface Alerts {
  routes: RouteSpec[];
  /** Subscribe to alerts acted on (notifications). */
  service: AlertService;
}

/** Wires incoming alerts: their routes, the routing rules, receipts, and what they act through. */
export function createAlerts(deps: {
  store: Store;
  rollouts: RolloutService;
  flags: FlagService;
  now: () => Date;
  awaitApplied: (feedSeq: number) => Promise<void>;
  logger: Logger;
  /** How a release's active rollout is found (none known by default). */
  releases?: ReleaseLookup;
  onInvalid?: (problem: DocumentProblem) => void;
}): Alerts {
  const logger = deps.logger.child({ component: 'alerts' });
  const receipts = new AlertReceipts(deps.store, deps.now);
  const recorder = new AlertRecorder(deps.store, receipts, deps.now, deps.awaitApplied);
  const service = new AlertService(deps.store, deps.rollouts, deps.flags, deps.releases ?? NO_RELEASES, recorder, logger);
  const rules = new RoutingRuleService(deps.store, deps.now, deps.awaitApplied, deps.onInvalid);
  return { routes: alertRoutes(new AlertIntake(service, rules, receipts, logger), rules), service };
}
