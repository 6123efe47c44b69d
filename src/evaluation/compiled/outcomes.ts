import type { ClientFeature } from '../../flags/client-feature.js';
import { type EvaluatedVariant, type Evaluation, type FlagTraits, reasonFor, type StrategyTraits, type VariantList } from '../evaluation.js';
import type { VariantDefinition } from './variants.js';

/**
 * Every answer a flag can give, built once when the flag set is compiled: off; on by a strategy (or
 * by having none) without a variant; on with one of the strategy's or the flag's variants, chosen
 * by an override or by weight. A request picks one of these frozen objects, so evaluating a flag
 * allocates nothing and each answer can be serialised once (see rendered.ts).
 *
 * Their fields are the ones SnapshotEngine builds from the stock SDK's result, in the same order:
 * the variant as getVariant returns it (payload only when there is one), the reason from the same
 * reasonFor, the cohort from on/off.
 */

/** Which strategy turned the flag on: its index, or NO_STRATEGIES for a flag on with an empty strategy list. */
export const NO_STRATEGIES = -1;

interface ByStrategy {
  noVariant: Evaluation;
  /** [index * 2 + (override ? 1 : 0)] as CompiledVariants.select answers. */
  strategyVariants: Evaluation[];
  flagVariants: Evaluation[];
}

export class FlagOutcomes {
  readonly off: Evaluation;
  private readonly byStrategy: ByStrategy[];
  private readonly withoutStrategies: ByStrategy;

  constructor(feature: ClientFeature, traits: FlagTraits) {
    const disabled: EvaluatedVariant = { name: 'disabled', enabled: false, feature_enabled: false, featureEnabled: false };
    this.off = outcome(feature, false, disabled, feature.enabled ? 'DEFAULT' : 'DISABLED');
    const flagVariants = (feature.variants ?? []) as VariantDefinition[];
    const forStrategy = (matched: StrategyTraits | undefined, strategyVariants: VariantDefinition[]): ByStrategy => {
      const on = (variant: EvaluatedVariant, variantBy: 'none' | 'override' | 'weight' | 'single') =>
        outcome(feature, true, variant, reasonFor(feature.enabled, traits, { enabled: true, matched, variantBy }));
      const variantsOf = (list: VariantDefinition[], traitsOfList: VariantList | undefined) =>
        list.flatMap((v) => {
          const variant: EvaluatedVariant = { name: v.name, enabled: true, feature_enabled: true, featureEnabled: true };
          if (v.payload) variant.payload = v.payload;
          return [on(variant, traitsOfList?.weighted ? 'weight' : 'single'), on(variant, 'override')];
        });
      return {
        noVariant: on({ name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true }, 'none'),
        strategyVariants: variantsOf(strategyVariants, matched?.variants),
        flagVariants: variantsOf(flagVariants, traits.variants),
      };
    };
    this.byStrategy = feature.strategies.map((s) => forStrategy(traits.strategies.get(s.parameters), (s.variants ?? []) as VariantDefinition[]));
    this.withoutStrategies = forStrategy(undefined, []);
  }

  private of(strategy: number): ByStrategy {
    return strategy === NO_STRATEGIES ? this.withoutStrategies : this.byStrategy[strategy]!;
  }

  /** On, without a variant (none defined, or their weights add up to nothing). */
  noVariant(strategy: number): Evaluation {
    return this.of(strategy).noVariant;
  }

  /** On, with the strategy's own variant `choice` (CompiledVariants.select's answer). */
  strategyVariant(strategy: number, choice: number): Evaluation {
    return this.of(strategy).strategyVariants[choice]!;
  }

  /** On, with the flag's variant `choice`. */
  flagVariant(strategy: number, choice: number): Evaluation {
    return this.of(strategy).flagVariants[choice]!;
  }
}

function outcome(feature: ClientFeature, enabled: boolean, variant: EvaluatedVariant, reason: Evaluation['reason']): Evaluation {
  return Object.freeze({
    flag: feature.name,
    enabled,
    variant: Object.freeze(variant),
    impressionData: feature.impressionData,
    reason,
    cohort: enabled ? 'treatment' : 'control',
  });
}
