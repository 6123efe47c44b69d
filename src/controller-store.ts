import { auditStoreRepairs, describeRepair } from './audit/store-repair-audit.js';
import type { Config } from './config/config.js';
import type { Logger } from './logger.js';
import type { Observability } from './observability/observability.js';
import { openStore, type RepairReport } from './store/index.js';

/**
 * Opens the controller's store, measured: Redis when REDIS_URL is set, else the embedded store,
 * repaired when asked (--repair / EMBEDDED_REPAIR), each repair logged and recorded in the audit
 * log. `storeOptions` opens the same store again under another prefix (a restore).
 */
export async function openControllerStore(config: Config, logger: Logger, observability: Observability, now: () => Date) {
  const embedded = !config.REDIS_URL;
  if (config.EMBEDDED_REPAIR && !embedded) logger.warn('--repair (EMBEDDED_REPAIR) applies to the embedded store only: ignored with REDIS_URL');
  const storeOptions = {
    redisUrl: config.REDIS_URL,
    dataDir: config.DATA_DIR,
    prefix: config.REDIS_PREFIX,
    waitReplicas: config.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
  };
  const repairs: RepairReport[] = [];
  const rawStore = observability.instrumentStore(
    await openStore({
      ...storeOptions,
      repair: config.EMBEDDED_REPAIR,
      onRepair: (reports) => repairs.push(...reports),
      warn: (details, message) => logger.warn(details, message),
    }),
  );
  for (const report of repairs) logger.warn({ repair: report }, `embedded store repaired: ${describeRepair(report)}`);
  await auditStoreRepairs(rawStore, repairs, now);
  if (config.EMBEDDED_REPAIR && embedded && repairs.length === 0) logger.info('--repair (EMBEDDED_REPAIR): the embedded store had nothing to repair');
  return { rawStore, storeOptions };
}
