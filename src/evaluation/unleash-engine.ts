import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Context } from 'unleash-client';
import type * as SdkClient from 'unleash-client/lib/client.js';
import type * as SdkHelpers from 'unleash-client/lib/helpers.js';
import type * as SdkStrategies from 'unleash-client/lib/strategy/index.js';
import type { FeatureInterface } from 'unleash-client/lib/feature.js';
import type { RepositoryInterface } from 'unleash-client/lib/repository/index.js';
import type { Strategy } from 'unleash-client/lib/strategy/strategy.js';
import type { ClientFeature, ClientSegment } from '../flags/client-feature.js';
import type { Stickiness } from '../rollouts/stickiness.js';
import { reasonFor, type EvaluatedVariant, type Evaluation, type VariantList } from './evaluation.js';
import { type EvaluationEngine, FlagCatalog } from './flag-catalog.js';

// The SDK's internals are CommonJS modules outside its public entry point: required the CommonJS way,
// so that every loader (node, tsx, vitest) resolves the same objects.
const require = createRequire(import.meta.url);
// (Types: the module's `default` is the class; TypeScript's CommonJS interop nests it one level deeper.)
const UnleashClient = (require('unleash-client/lib/client.js') as { default: typeof SdkClient.default.default }).default;
const { resolveContextValue } = require('unleash-client/lib/helpers.js') as typeof SdkHelpers;
const { defaultStrategies } = require('unleash-client/lib/strategy/index.js') as typeof SdkStrategies;

/**
 * The stock SDK's own evaluation engine (unleash-client's UnleashClient: strategies, constraints,
 * segments, variants, dependencies), fed from one snapshot of one environment instead of from its
 * HTTP repository: every answer is the SDK's own. The frontend API and OFREP are served by the
 * compiled evaluator (compiled/compiled-engine.ts); this engine is the reference it is held equal to
 * (tests, and the bench's per-flag cost beside it).
 */
export class SnapshotEngine implements EvaluationEngine {
  private readonly catalog: FlagCatalog;
  private readonly client: SdkClient.default;
  /** The parameters object of the last strategy that said yes; evaluation is synchronous, so one slot is enough. */
  private lastMatch: object | undefined;
  readonly flagNames: readonly string[];

  constructor(features: ClientFeature[], segments: ClientSegment[]) {
    this.catalog = new FlagCatalog(features, segments);
    this.flagNames = this.catalog.flagNames;
    const featuresByName = new Map(this.catalog.features.map((f) => [f.name, f]));
    const segmentsById = new Map(this.catalog.segments.map((s) => [s.id, s]));
    this.client = new UnleashClient(
      snapshotRepository(featuresByName, segmentsById),
      defaultStrategies.map((s) => this.observed(s)),
    );
    // The SDK warns about unknown strategies and missing parents through 'warn' events; an emitter without
    // a listener for 'error' would throw, so both are absorbed here (the served payload shows the same flags).
    this.client.on('warn', () => {});
    this.client.on('error', () => {});
  }

  /** The same strategy, reporting which strategy definition (by its parameters object) said yes. */
  private observed(strategy: Strategy): Strategy {
    const wrapped = Object.create(strategy) as Strategy;
    wrapped.getResult = (parameters, context, constraints, variants) => {
      const result = strategy.getResult(parameters, context, constraints, variants);
      if (result.enabled) this.lastMatch = parameters;
      return result;
    };
    return wrapped;
  }

  has(name: string): boolean {
    return this.catalog.has(name);
  }

  rolloutStickiness(name: string): Stickiness | undefined {
    return this.catalog.rolloutStickiness(name);
  }

  splitsTraffic(name: string): boolean {
    return this.catalog.splitsTraffic(name);
  }

  needsTargetingKey(name: string, context: Context): boolean {
    return this.catalog.needsTargetingKey(name, context);
  }

  /**
   * One flag, as the stock SDK's getVariant answers it (one call gives both the on/off answer and the
   * variant, so a random rollout cannot say "on" and then hand out the disabled variant).
   */
  evaluate(name: string, context: Context): Evaluation | undefined {
    const feature = this.catalog.feature(name);
    if (!feature) return undefined;
    const traits = this.catalog.traitsOf(name)!;
    this.lastMatch = undefined;
    const result = this.client.forceGetVariant(name, context);
    const enabled = Boolean(result.feature_enabled);
    const matched = this.lastMatch ? traits.strategies.get(this.lastMatch) : undefined;
    const variant: EvaluatedVariant = { name: result.name, enabled: result.enabled, feature_enabled: enabled, featureEnabled: enabled };
    if (result.payload) variant.payload = result.payload;
    const variantBy = !result.enabled ? 'none' : variantSelection(matched?.variants.drawable ? matched.variants : traits.variants, result.name, context);
    return {
      flag: name,
      enabled,
      variant,
      impressionData: feature.impressionData,
      reason: reasonFor(feature.enabled, traits, { enabled, matched, variantBy }),
      cohort: enabled ? 'treatment' : 'control',
    };
  }

  /** Every flag of the snapshot, in name order. */
  evaluateAll(context: Context): Evaluation[] {
    return this.flagNames.map((name) => this.evaluate(name, context)!);
  }
}

/** How the SDK came to this variant: an override naming the context, a weighted draw, or the only candidate. */
function variantSelection(variants: VariantList, chosen: string, context: Context): 'override' | 'weight' | 'single' {
  if (variants.hasOverrides) {
    const variant = variants.definitions.find((v) => v.name === chosen);
    if (variant?.overrides?.some((o) => o.values.includes(resolveContextValue(context, o.contextName) ?? '\u0000'))) return 'override';
  }
  return variants.weighted ? 'weight' : 'single';
}

/** The repository the SDK's client reads from: the snapshot's maps, nothing fetched, nothing to start or stop. */
function snapshotRepository(features: Map<string, ClientFeature>, segments: Map<number, ClientSegment>): RepositoryInterface {
  const repository = Object.assign(new EventEmitter(), {
    getToggle: (name: string) => features.get(name) as FeatureInterface | undefined,
    getToggles: () => [...features.values()] as FeatureInterface[],
    getTogglesWithSegmentData: () => {
      throw new Error('not used by evaluation');
    },
    getSegment: (id: number) => segments.get(id) as ReturnType<RepositoryInterface['getSegment']>,
    stop: () => {},
    start: async () => {},
  });
  return repository;
}
