import type { Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { RouteSpec } from '../http/route.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { pipelineRoutes } from './pipeline-routes.js';
import { PipelineRunner } from './pipeline-runner.js';
import { PipelineService } from './pipeline-service.js';

/** Environment pipelines, wired: the service people use, the runner that promotes, and their routes. */
export function createPipelines(deps: {
  store: Store;
  rollouts: RolloutService;
  logger: Logger;
  replicaId: string;
  tickMs: number;
  now: () => Date;
  awaitApplied: (seq: number) => Promise<void>;
}): { service: PipelineService; runner: PipelineRunner; routes: RouteSpec[] } {
  const service = new PipelineService(deps.store, deps.rollouts, deps.now, deps.awaitApplied);
  const runner = new PipelineRunner(deps.store, service, deps.rollouts, deps.logger, { replicaId: deps.replicaId, tickMs: deps.tickMs, now: deps.now });
  return { service, runner, routes: pipelineRoutes(service) };
}
