import { readFileSync } from 'node:fs';
import type { ClientFeaturesResponse, UnleashConfig } from 'unleash-client';

/**
 * Flags to start from when the controller cannot be reached. Order of preference, newest first:
 * the flags last fetched from the controller (the stock client's backup file), then the bootstrap
 * (the option, else ROLLOUT_BOOTSTRAP), then nothing: every flag evaluates OFF, the safe default.
 */

export type FeatureDefinition = ClientFeaturesResponse['features'][number];
/** A client features payload (what GET /api/client/features returns), a list of features, or JSON / a path to a JSON file holding one. */
export type BootstrapSource = string | { features: FeatureDefinition[]; segments?: unknown[] } | FeatureDefinition[];

type BootstrapProvider = NonNullable<NonNullable<UnleashConfig['bootstrap']>['bootstrapProvider']>;
export type StorageProvider = NonNullable<UnleashConfig['storageProvider']>;
export const BOOTSTRAP_ENV = 'ROLLOUT_BOOTSTRAP';

function isFeature(value: unknown): value is FeatureDefinition {
  const f = value as Partial<FeatureDefinition> | null;
  return typeof f === 'object' && f !== null && typeof f.name === 'string' && typeof f.enabled === 'boolean' && Array.isArray(f.strategies);
}

/** Parses inline JSON or reads a file; a string starting with { or [ is JSON, anything else a path. */
function load(source: BootstrapSource): unknown {
  if (typeof source !== 'string') return source;
  const text = source.trim();
  return JSON.parse(text.startsWith('{') || text.startsWith('[') ? text : readFileSync(text, 'utf8'));
}

/**
 * The bootstrap payload, or undefined when there is none. A bootstrap that cannot be read or is not
 * a features payload is reported and ignored whole: starting with every flag OFF is safe, starting
 * with half a bootstrap might not be.
 */
export function resolveBootstrap(
  option: BootstrapSource | undefined,
  env: Record<string, string | undefined>,
  onError: (error: Error) => void,
): ClientFeaturesResponse | undefined {
  const source = option ?? (env[BOOTSTRAP_ENV]?.trim() ? env[BOOTSTRAP_ENV] : undefined);
  if (source === undefined) return undefined;
  const from = option === undefined ? BOOTSTRAP_ENV : 'the bootstrap option';
  let value: unknown;
  try {
    value = load(source);
  } catch (err) {
    onError(new Error(`${from} could not be read, so flags start OFF: ${err instanceof Error ? err.message : String(err)}`));
    return undefined;
  }
  const payload = Array.isArray(value) ? { features: value } : (value as { features?: unknown; segments?: unknown });
  const features = payload?.features;
  if (!Array.isArray(features) || !features.every(isFeature)) {
    onError(new Error(`${from} is not a client features payload ({features: [{name, enabled, strategies}]}), so flags start OFF`));
    return undefined;
  }
  const segments = Array.isArray(payload.segments) ? (payload.segments as ClientFeaturesResponse['segments']) : undefined;
  return { version: 2, features, ...(segments ? { segments } : {}) };
}

/**
 * The stock client loads its backup and its bootstrap at the same time, and with
 * `bootstrapOverride: false` the faster one wins. This provider makes the order certain: it hands
 * over the bootstrap only when there are no flags saved from the controller.
 */
export function backupFirstBootstrap(storage: StorageProvider, appName: string, payload: ClientFeaturesResponse, onHandOver: () => void): BootstrapProvider {
  return {
    async readBootstrap() {
      const backup = await storage.get(appName).catch(() => undefined);
      if (backup && backup.features.length > 0) return undefined;
      onHandOver();
      return payload;
    },
  };
}
