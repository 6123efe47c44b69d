import type { ClientFeature } from '../flags/client-feature.js';

/**
 * What one server-side evaluation of one flag produced, in terms both the frontend API and OFREP
 * can render. `enabled` and `variant` are exactly what the stock SDK's getVariant returns for the
 * same flags and context; `reason` and `cohort` are derived from them and from the flag's definition.
 */
export interface Evaluation {
  flag: string;
  enabled: boolean;
  variant: EvaluatedVariant;
  impressionData: boolean;
  reason: EvaluationReason;
  /** treatment = flag on, control = flag off: the cohort outcomes of this evaluation are reported under. */
  cohort: Cohort;
}

export interface EvaluatedVariant {
  name: string;
  enabled: boolean;
  payload?: { type: string; value: string };
  feature_enabled: boolean;
  featureEnabled: boolean;
}

export type Cohort = 'treatment' | 'control';

/** OpenFeature's resolution reasons, as far as an Unleash flag can give them. */
export type EvaluationReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT';

/** The part of a flag's definition that explains how an evaluation came out (computed once per snapshot). */
export interface FlagTraits {
  /** Strategy parameter objects of this flag → the strategy they belong to (the engine reports matches by them). */
  strategies: Map<object, ClientFeature['strategies'][number]>;
  hasDependencies: boolean;
  /** The flag hands users out by percentage or weight, so its answer needs an identity to stick to. */
  splitsTraffic: boolean;
}

const PERCENTAGE_PARAMETER: Record<string, string> = {
  flexibleRollout: 'rollout',
  gradualRolloutUserId: 'percentage',
  gradualRolloutSessionId: 'percentage',
  gradualRolloutRandom: 'percentage',
};
/** Strategies that pick users by who they are rather than by chance. */
const TARGETING_STRATEGIES = new Set(['userWithId', 'remoteAddress', 'applicationHostname']);

type ClientStrategy = ClientFeature['strategies'][number];

function percentageOf(strategy: ClientStrategy): number | undefined {
  const parameter = PERCENTAGE_PARAMETER[strategy.name];
  if (!parameter) return undefined;
  const value = Number(strategy.parameters?.[parameter] ?? 100);
  return Number.isFinite(value) ? value : undefined;
}

/** A strategy whose answer is a coin toss by a stable hash, not a random one per call. */
function isStickySplit(strategy: ClientStrategy): boolean {
  const percentage = percentageOf(strategy);
  if (percentage === undefined || percentage <= 0 || percentage >= 100) return false;
  return strategy.name !== 'gradualRolloutRandom' && strategy.parameters?.stickiness !== 'random';
}

function weightedCount(variants: ReadonlyArray<{ weight: number }> | undefined): number {
  return (variants ?? []).filter((v) => v.weight > 0).length;
}

export function flagTraits(feature: ClientFeature): FlagTraits {
  const strategies = new Map<object, ClientStrategy>();
  for (const strategy of feature.strategies) if (strategy.parameters) strategies.set(strategy.parameters, strategy);
  const splitsTraffic =
    weightedCount(feature.variants) > 1 || feature.strategies.some((s) => isStickySplit(s) || weightedCount(s.variants) > 1);
  return { strategies, hasDependencies: (feature.dependencies?.length ?? 0) > 0, splitsTraffic };
}

/**
 * Why the flag came out as it did. Off: DISABLED when the flag is off in the environment (or
 * killed), otherwise DEFAULT (no strategy matched, or a dependency did not hold). On: SPLIT when a
 * percentage or a variant weight decided it, TARGETING_MATCH when constraints, segments, user
 * lists, addresses or dependencies did, STATIC when nothing about the context mattered.
 */
export function reasonFor(
  feature: ClientFeature,
  traits: FlagTraits,
  result: { enabled: boolean; matched: ClientStrategy | undefined; variantBy: 'none' | 'override' | 'weight' | 'single' },
): EvaluationReason {
  if (!feature.enabled) return 'DISABLED';
  if (!result.enabled) return 'DEFAULT';
  const matched = result.matched;
  if (result.variantBy === 'weight') return 'SPLIT';
  if (matched) {
    const percentage = percentageOf(matched);
    if (percentage !== undefined && percentage < 100) return 'SPLIT';
  }
  if (result.variantBy === 'override' || traits.hasDependencies) return 'TARGETING_MATCH';
  if (matched && (matched.constraints.length > 0 || (matched.segments?.length ?? 0) > 0 || TARGETING_STRATEGIES.has(matched.name))) {
    return 'TARGETING_MATCH';
  }
  return 'STATIC';
}
