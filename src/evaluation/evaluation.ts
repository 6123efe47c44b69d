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

/** A list of variant definitions, with what evaluation asks of it worked out once. */
export interface VariantList {
  definitions: ReadonlyArray<{ name: string; weight: number; overrides?: Array<{ contextName: string; values: string[] }> }>;
  /** Some variant has weight: the SDK picks from this list (a strategy's list of zero weights gives way to the flag's). */
  drawable: boolean;
  /** More than one variant has weight: the SDK draws among them by a stable hash. */
  weighted: boolean;
  hasOverrides: boolean;
}

/** What a strategy's "yes" says about why the flag is on. */
export interface StrategyTraits {
  variants: VariantList;
  decides: 'SPLIT' | 'TARGETING_MATCH' | 'STATIC';
}

/** The part of a flag's definition that explains how an evaluation came out (computed once per snapshot). */
export interface FlagTraits {
  /** Strategy parameter objects of this flag → their traits (the engine reports matches by parameters object). */
  strategies: Map<object, StrategyTraits>;
  variants: VariantList;
  hasDependencies: boolean;
  /** The flag hands users out by percentage or weight, so its answer needs an identity to stick to. */
  splitsTraffic: boolean;
  /**
   * What its splits need so that the answer is not a coin toss: IDENTITY (userId, else sessionId;
   * also for "random", which nothing can make stable) or a context field its variants stick to.
   */
  sticksTo: string[];
}

/** The stickiness an identity (userId or sessionId) satisfies. */
export const IDENTITY = 'default';

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

function variantList(definitions: VariantList['definitions'] | undefined): VariantList {
  const list = definitions ?? [];
  const withWeight = list.filter((v) => v.weight > 0).length;
  return { definitions: list, drawable: withWeight > 0, weighted: withWeight > 1, hasOverrides: list.some((v) => (v.overrides?.length ?? 0) > 0) };
}

/** Why a strategy's "yes" turns the flag on: a percentage (SPLIT), who the user is (TARGETING_MATCH), or nothing (STATIC). */
function strategyDecides(strategy: ClientStrategy, hasDependencies: boolean): StrategyTraits['decides'] {
  const percentage = percentageOf(strategy);
  if (percentage !== undefined && percentage < 100) return 'SPLIT';
  const targets = strategy.constraints.length > 0 || (strategy.segments?.length ?? 0) > 0 || TARGETING_STRATEGIES.has(strategy.name);
  return targets || hasDependencies ? 'TARGETING_MATCH' : 'STATIC';
}

export function flagTraits(feature: ClientFeature): FlagTraits {
  const hasDependencies = (feature.dependencies?.length ?? 0) > 0;
  const strategies = new Map<object, StrategyTraits>();
  for (const strategy of feature.strategies) {
    if (strategy.parameters)
      strategies.set(strategy.parameters, { variants: variantList(strategy.variants), decides: strategyDecides(strategy, hasDependencies) });
  }
  const variants = variantList(feature.variants);
  const splitsTraffic = variants.weighted || feature.strategies.some((s) => isStickySplit(s) || variantList(s.variants).weighted);
  // What keeps each split from being a coin toss, as the SDK picks: a flag's variants stick to their
  // first one's stickiness, a strategy's variants to theirs or else the strategy's, a percentage to
  // the identity. (A flexibleRollout that sticks to a custom field the context lacks is off, not tossed.)
  const sticksTo = new Set<string>();
  if (variants.weighted) sticksTo.add(stickinessField(feature.variants[0]?.stickiness));
  for (const s of feature.strategies) {
    if (isStickySplit(s) && stickinessField(s.name === 'flexibleRollout' ? s.parameters?.stickiness : undefined) === IDENTITY) sticksTo.add(IDENTITY);
    if (variantList(s.variants).weighted) sticksTo.add(stickinessField(s.variants?.[0]?.stickiness || s.parameters?.stickiness));
  }
  return { strategies, variants, hasDependencies, splitsTraffic, sticksTo: [...sticksTo] };
}

function stickinessField(stickiness: string | undefined): string {
  return !stickiness || stickiness === 'default' || stickiness === 'random' ? IDENTITY : stickiness;
}

/**
 * Why the flag came out as it did. Off: DISABLED when the flag is off in the environment (or
 * killed), otherwise DEFAULT (no strategy matched, or a dependency did not hold). On: SPLIT when a
 * percentage or a variant weight decided it, TARGETING_MATCH when constraints, segments, user
 * lists, addresses, variant overrides or dependencies did, STATIC when nothing about the context mattered.
 */
export function reasonFor(
  featureEnabled: boolean,
  traits: FlagTraits,
  result: { enabled: boolean; matched: StrategyTraits | undefined; variantBy: 'none' | 'override' | 'weight' | 'single' },
): EvaluationReason {
  if (!featureEnabled) return 'DISABLED';
  if (!result.enabled) return 'DEFAULT';
  if (result.variantBy === 'weight' || result.matched?.decides === 'SPLIT') return 'SPLIT';
  if (result.variantBy === 'override' || traits.hasDependencies) return 'TARGETING_MATCH';
  return result.matched?.decides ?? 'STATIC';
}
