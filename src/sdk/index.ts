/**
 * The SDK helper: flags from the stock unleash-client, and outcomes of the work they guard reported
 * to the controller without HTTP code in the application. See docs/sdk-helper.md.
 */
export {
  createRolloutClient,
  RolloutClient,
  type FlagSource,
  type GuardedCall,
  type RolloutClientOptions,
  type RolloutClientStats,
} from './rollout-client.js';
export { BOOTSTRAP_ENV, type BootstrapSource, type FeatureDefinition } from './bootstrap.js';
export { DEFAULT_LATENCY_BUCKETS_MS, type Observation, type OutcomeRecord } from './outcome-batch.js';
export type { Cohort } from '../metrics/outcome-model.js';
export type { Context } from 'unleash-client';
