import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/config.js';
import type { Logger } from './logger.js';
import { describeTopology, openStore, parseRedisUrl } from './store/index.js';
import { openControllerStore } from './controller-store.js';
import type { Store } from './store/port.js';
import { TokenIndex } from './auth/token-index.js';
import { TokenService } from './auth/token-service.js';
import { tokenRoutes } from './auth/token-routes.js';
import { auditRoutes } from './audit/audit-routes.js';
import { FlagService } from './flags/flag-service.js';
import { flagRoutes } from './flags/flag-routes.js';
import { segmentRoutes } from './flags/segment-routes.js';
import { SegmentService } from './flags/segment-service.js';
import { ServingState } from './serving/serving-state.js';
import { StreamHub } from './serving/stream-hub.js';
import { Registrations } from './serving/registrations.js';
import { FeedFollower } from './serving/feed-follower.js';
import { clientRoutes } from './serving/client-routes.js';
import { FEATURES_ROUTE, featuresFastLane } from './serving/fast-lane.js';
import { SdkFetchRecorder, stepRevision } from './serving/sdk-fetches.js';
import { DrillService } from './propagation/drill-service.js';
import { propagationRoutes } from './propagation/propagation-routes.js';
import { drillNotice } from './propagation/drill-notice.js';
import { Authenticator } from './http/auth.js';
import { createApp } from './http/app.js';
import { bodyLimitsOf } from './http/body-limits.js';
import { createHttpServer } from './http/http-server.js';
import { LimitLog } from './http/limit-log.js';
import { healthRoutes } from './http/health-routes.js';
import { StoreOutcomeSource } from './metrics/outcomes.js';
import { outcomeRoutes } from './metrics/outcome-routes.js';
import { PolicyService } from './policies/policy-service.js';
import { applyConfigFiles } from './controller-files.js';
import { createPipelines } from './pipelines/index.js';
import { policyRoutes } from './policies/policy-routes.js';
import { EnvironmentService } from './environments/environment-service.js';
import { environmentRoutes } from './environments/environment-routes.js';
import { environmentsFilePath } from './environments/environment-files.js';
import { RolloutService } from './rollouts/rollout-service.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT, RolloutLoop } from './rollouts/rollout-loop.js';
import { prometheusProviderFromConfig } from './metrics/prometheus/index.js';
import { rolloutRoutes } from './rollouts/rollout-routes.js';
import { ServerEvaluation } from './evaluation/server-evaluation.js';
import { FRONTEND_ROUTE, frontendFastLane } from './frontend/frontend-fast-lane.js';
import { frontendRoutes } from './frontend/frontend-routes.js';
import { ofrepRoutes } from './ofrep/ofrep-routes.js';
import { reportRoutes } from './reports/report-routes.js';
import { createNotifications, type Notifications } from './notifications/notifications.js';
import { pipelinePromotedEvent } from './notifications/published-events.js';
import { createAlerts } from './alerts/alerts.js';
import { alertActedNotice } from './alerts/alert-notice.js';
import { dashboardRoutes } from './ui/dashboard-routes.js';
import { createPeople } from './people/people.js';
import { uiAssetRoutes } from './ui/ui-assets.js';
import { Observability } from './observability/observability.js';
import { backupRoutes, RESTORE_PATH } from './backup/backup-routes.js';
import { StoreWatch } from './store-loss/store-watch.js';
import { refusingAdminWritesWhenLost, refusingWritesWhenLost } from './store-loss/guarded-store.js';
import { ACCEPT_LOSS_PATH, storeLossRoutes } from './store-loss/loss-routes.js';
import { logInvalidDocument, readiness } from './store-loss/replica-health.js';

export const VERSION = '0.1.0';
const STORE_CHECK_MS = 2_000;

export interface Controller {
  port: number;
  store: Store;
  state: ServingState;
  loop: RolloutLoop;
  /** Queues a published event (src/notifications/published-events.ts) for the webhooks that want it. */
  publish: Notifications['publish'];
  /** Graceful stop: stop accepting, end streams, let in-flight requests finish, close the store. */
  stop(): Promise<void>;
}

export interface ControllerOptions {
  now?: () => Date;
}

/** Builds the whole graph at start-up; nothing below constructs its own dependencies. */
export async function startController(config: Config, logger: Logger, options: ControllerOptions = {}): Promise<Controller> {
  const now = options.now ?? (() => new Date());
  const embedded = !config.REDIS_URL;
  logger.info(
    embedded
      ? { store: 'embedded', dataDir: path.resolve(config.DATA_DIR) }
      : { store: 'redis', prefix: config.REDIS_PREFIX, redis: describeTopology(parseRedisUrl(config.REDIS_URL!)), waitReplicas: config.REDIS_WAIT_REPLICAS },
    embedded ? `embedded store in ${path.resolve(config.DATA_DIR)} (single process; set REDIS_URL to run replicas on Redis)` : 'Redis is the system of record',
  );
  // One registry per controller (tests run several in one process); the store is measured from its first call.
  const observability = new Observability({ version: VERSION });
  // Unique per process even when REPLICA_ID is a fixed name (a pod name reused by its replacement):
  // fencing can only tell a stalled old leader from its successor if their holder ids differ.
  const replicaId = `${config.REPLICA_ID ?? os.hostname()}#${process.pid}-${randomBytes(3).toString('hex')}`;
  const { rawStore, storeOptions } = await openControllerStore(config, logger, observability, now);

  // Everything writes through `store`, which refuses while the store is known to have lost data.
  const watch = new StoreWatch(rawStore, logger, replicaId, now);
  const store = refusingWritesWhenLost(rawStore, watch);
  const state = new ServingState(logInvalidDocument(logger));
  const tokenIndex = new TokenIndex({ adminSecret: config.ADMIN_TOKEN, onInvalid: logInvalidDocument(logger) });
  const follower = new FeedFollower(rawStore, state, tokenIndex, logger, watch);
  await follower.start();
  const awaitApplied = (seq: number) => follower.waitFor(seq);

  // Declared environments and their guard rails: flags, imports, tokens and rollout starts check them.
  const environments = new EnvironmentService(store, now, awaitApplied);
  const flags = new FlagService(store, now, awaitApplied);
  const tokens = new TokenService(store, now, awaitApplied);
  const policies = new PolicyService(store, now, awaitApplied);
  const outcomes = new StoreOutcomeSource(store, config.OUTCOME_BUCKET_MS);
  // Outcomes too: a start's pre-flight checks the flag's baseline against the policy's gates.
  const rollouts = new RolloutService(store, now, environments, awaitApplied, { outcomes });
  observability.watchRollouts(rollouts);
  const pipelines = createPipelines({ store, rollouts, logger, replicaId, tickMs: Math.max(config.ROLLOUT_TICK_MS, 50), now, awaitApplied });
  // Listens to rollout changes and kill switches from the start, so no change made through the API or the loop goes untold.
  const notifications = createNotifications({ store, logger, rollouts, flags, now, config, version: VERSION });
  notifications.start();
  // Incoming alerts act through the same services as people, and are told like their acts.
  const releases = { findActiveRelease: (name: string, env: string) => rollouts.activeRelease(name, env) };
  const alerts = createAlerts({ store, rollouts, flags, now, awaitApplied, logger, releases, onInvalid: logInvalidDocument(logger) });
  alerts.service.onActed((alert, result) => {
    const event = alertActedNotice(alert, result, now());
    if (event) notifications.publish(event);
  });

  // Environments first: flag files naming an undeclared environment are refused.
  const environmentsFile = environmentsFilePath(config);
  if (watch.lost) {
    logger.error('files and the bootstrap token were not applied: the store lost data (see above); restart the replicas once a person dealt with it');
  } else {
    await applyConfigFiles(
      { environmentsFile, flagsDir: config.FLAGS_DIR, policiesDir: config.POLICIES_DIR, maxBytes: config.YAML_FILE_MAX_BYTES },
      { environments, flags, policies, store },
      logger,
      now,
      awaitApplied,
    );
    const { generatedSecret } = await tokens.bootstrap(config.ADMIN_TOKEN, embedded);
    // Printed to stdout once, outside the structured log, so it is never shipped to a log store.
    if (generatedSecret) process.stdout.write(`\nGenerated admin token (shown once; set ADMIN_TOKEN to choose your own):\n  ${generatedSecret}\n\n`);
  }
  await follower.waitFor(await store.feedHead());
  if (!tokenIndex.hasAdmin()) logger.warn('no admin token exists, so nobody can use the admin API: set ADMIN_TOKEN to bootstrap one');

  let storeUp = true;
  const storeCheck = setInterval(() => {
    store.ping().then(
      () => (storeUp = true),
      (err) => {
        if (storeUp) logger.error({ err: String(err) }, 'the store does not answer; serving the last state');
        storeUp = false;
      },
    );
  }, STORE_CHECK_MS);
  storeCheck.unref();

  // Which SDK instance holds which flag state: when a step's traffic starts to count (src/rollouts/traffic-window.ts).
  const fetches = new SdkFetchRecorder(store, () => now().getTime(), logger);
  const hub = new StreamHub(state, logger, config.STREAM_HEARTBEAT_MS, { perToken: config.STREAMS_PER_TOKEN, perReplica: config.STREAMS_PER_REPLICA }, fetches);
  tokenIndex.onRevoked((tokenId) => hub.closeToken(tokenId));
  const drills = new DrillService({ store, flags, state, now, logger });
  drills.onDrilled((record, actor) => notifications.publish(drillNotice(record, actor)));
  observability.watchReplica({ store, state, streams: () => hub.size, storeUp: () => storeUp, storeIntact: () => !watch.lost, now: () => Date.now() });
  const inFlight = { count: 0 };
  // People signing in with OpenID Connect (when configured): their sessions are taken by admin routes like admin tokens.
  const people = createPeople({ config, store, logger, now });
  const serverEvaluation = new ServerEvaluation(state, store, logger, () => now().getTime(), {
    ratePerSecond: config.EVALUATION_RATE_LIMIT,
    burst: config.EVALUATION_RATE_LIMIT * 2,
    exposureFlushMs: config.EXPOSURE_FLUSH_MS,
  });
  const routes = refusingAdminWritesWhenLost(
    [
      ...healthRoutes({ ready: () => readiness(state.loaded, storeUp, watch.lost) }),
      ...clientRoutes({ state, hub, store, fetches, registrations: new Registrations(store, config.CLIENT_APPS_PER_ENVIRONMENT), now: () => now().getTime() }),
      ...outcomeRoutes({
        outcomes,
        servesFlag: (env, flag) => state.servesFlag(env, flag),
        releaseActive: (env, name) => rollouts.releaseActive(env, name),
        now: () => now().getTime(),
      }),
      ...frontendRoutes(serverEvaluation),
      ...ofrepRoutes(serverEvaluation),
      ...flagRoutes(flags),
      ...segmentRoutes(new SegmentService(store, now, awaitApplied)),
      ...propagationRoutes({ drills, store }),
      ...policyRoutes(policies),
      ...environmentRoutes(environments),
      ...rolloutRoutes(rollouts),
      ...pipelines.routes,
      ...reportRoutes({ rollouts, store, now }),
      ...tokenRoutes(tokens),
      ...auditRoutes(store, () => watch.auditMemory()),
      ...storeLossRoutes({ store: rawStore, watch, now, storeName: embedded ? 'embedded' : config.REDIS_PREFIX, lookNow: () => follower.lookNow() }),
      ...dashboardRoutes({ rollouts, outcomes, store, now }),
      ...uiAssetRoutes(),
      ...people.routes,
      ...notifications.routes,
      ...alerts.routes,
      ...observability.routes(config.METRICS_TOKEN),
      ...backupRoutes({
        store,
        now,
        version: VERSION,
        prefix: embedded ? undefined : config.REDIS_PREFIX,
        loss: { store: rawStore, watch, lookNow: () => follower.lookNow() },
        // Same Redis, same write confirmations (WAIT), another prefix: a restore lands on the replicas too.
        openPrefix: embedded ? undefined : (prefix) => openStore({ ...storeOptions, prefix }),
      }),
    ],
    () => watch.lost,
    [ACCEPT_LOSS_PATH, RESTORE_PATH],
  );
  const limitLog = new LimitLog(logger);
  const app = createApp({
    logger,
    auth: new Authenticator(tokenIndex, people.sessions),
    routes,
    version: VERSION,
    inFlight,
    bodyLimits: bodyLimitsOf(config),
    limitLog,
  });
  const fastLane = featuresFastLane({ tokens: tokenIndex, state, fetches, logger });
  const frontendLane = frontendFastLane({
    tokens: tokenIndex,
    evaluation: serverEvaluation,
    parseQuery: app.get('query parser fn') as (query: string) => unknown,
  });
  const timeouts = { headersMs: config.HTTP_HEADERS_TIMEOUT_MS, requestMs: config.HTTP_REQUEST_TIMEOUT_MS };
  const server = createHttpServer(timeouts, limitLog, (req, res) => {
    observability.http.begin(req, res);
    if (fastLane(req, res)) observability.http.servedAs(res, FEATURES_ROUTE);
    else if (frontendLane(req, res)) observability.http.servedAs(res, FRONTEND_ROUTE);
    else app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, flags: state.allFlags().length }, 'controller listening');

  const loop = new RolloutLoop(store, rollouts, outcomes, logger, {
    replicaId,
    tickMs: config.ROLLOUT_TICK_MS,
    leaseTtlMs: config.LEADER_LEASE_MS,
    batchSize: DEFAULT_BATCH_SIZE,
    concurrency: DEFAULT_BATCHES_IN_FLIGHT,
    queries: config.PROMETHEUS_URL ? prometheusProviderFromConfig(config) : undefined,
    stepRevision: (r) => stepRevision(state, r),
    now,
    onTick: observability.ticked,
  });
  observability.watchLoop(loop);
  loop.start();
  // Promotions are told like any change people should hear of; the new rollout's own start is told too.
  pipelines.runner.onChange(({ kind, run, stage, rollout }) => {
    if (kind !== 'promoted' || !rollout) return;
    const from = run.stages[stage - 1]!.environment;
    notifications.publish(pipelinePromotedEvent({ pipeline: run.pipeline, fromEnvironment: from, toEnvironment: rollout.environment, rollout }, run.updatedAt));
  });
  pipelines.runner.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ streams: hub.size, inFlight: inFlight.count }, 'shutting down');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll();
      // A drill in progress stops waiting, restores its flag and records itself before the store closes.
      drills.interrupt();
      // The loop finishes its current tick (each rollout's step is one atomic commit) and hands over its lease.
      await loop.stop();
      await pipelines.runner.stop();
      server.closeIdleConnections();
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      while (inFlight.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await drills.close();
      server.closeAllConnections();
      await closed;
      // After the loop and the last request: their changes are queued before the store closes.
      await notifications.stop();
      await serverEvaluation.close();
      await fetches.close();
      clearInterval(storeCheck);
      follower.close();
      observability.close();
      await store.close();
      logger.info('stopped');
    })());

  return { port, store, state, loop, publish: notifications.publish, stop };
}
