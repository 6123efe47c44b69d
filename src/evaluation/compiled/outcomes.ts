import type { ClientFeature } from '../../flags/client-feature.js';
import { type EvaluatedVariant, type Evaluation, type FlagTraits, reasonFor, type StrategyTraits, type VariantList } from '../evaluation.js';
import type { VariantDefinition } from './variants.js';

/**
 * Every answer a flag can give: off; on by a strategy (or by having none) without a variant; on
 * with one of the strategy's or the flag's variants, chosen by an override or by weight. Each is a
 * frozen object made the first time a request needs it and handed out from then on, so evaluating
 * a flag allocates nothing once warm, and each answer can be serialised once (see rendered.ts).
 * (Made on first use rather than at compile time: a flag set has far more possible answers than a
 * day of traffic gives, and making them all would make compiling a large set slow.)
 *
 * Their fields are the ones SnapshotEngine builds from the stock SDK's result, in the same order:
 * the variant as getVariant returns it (payload only when there is one), the reason from the same
 * reasonFor, the cohort from on/off.
 */

/** Which strategy turned the flag on: its index, or NO_STRATEGIES for a flag on with an empty strategy list. */
export const NO_STRATEGIES = -1;

type VariantBy = 'none' | 'override' | 'weight' | 'single';

/** The answers of one matching strategy, made as they are asked for. */
interface ByStrategy {
  matched: StrategyTraits | undefined;
  strategyVariants: readonly VariantDefinition[];
  noVariant: Evaluation | undefined;
  /** [index * 2 + (override ? 1 : 0)] as CompiledVariants.select answers. */
  strategyAnswers: Array<Evaluation | undefined>;
  flagAnswers: Array<Evaluation | undefined>;
}

export class FlagOutcomes {
  readonly off: Evaluation;
  private readonly byStrategy: Array<ByStrategy | undefined>;
  private withoutStrategies: ByStrategy | undefined;
  private readonly flagVariants: readonly VariantDefinition[];

  constructor(
    private readonly feature: ClientFeature,
    private readonly traits: FlagTraits,
  ) {
    const disabled: EvaluatedVariant = { name: 'disabled', enabled: false, feature_enabled: false, featureEnabled: false };
    this.off = outcome(feature, false, disabled, feature.enabled ? 'DEFAULT' : 'DISABLED');
    this.flagVariants = (feature.variants ?? []) as VariantDefinition[];
    this.byStrategy = new Array(feature.strategies.length).fill(undefined);
  }

  private of(strategy: number): ByStrategy {
    if (strategy === NO_STRATEGIES) return (this.withoutStrategies ??= answersOf(undefined, []));
    let answers = this.byStrategy[strategy];
    if (!answers) {
      const definition = this.feature.strategies[strategy]!;
      this.byStrategy[strategy] = answers = answersOf(this.traits.strategies.get(definition.parameters), (definition.variants ?? []) as VariantDefinition[]);
    }
    return answers;
  }

  private on(answers: ByStrategy, variant: EvaluatedVariant, variantBy: VariantBy): Evaluation {
    return outcome(this.feature, true, variant, reasonFor(this.feature.enabled, this.traits, { enabled: true, matched: answers.matched, variantBy }));
  }

  /** On, without a variant (none defined, or their weights add up to nothing). */
  noVariant(strategy: number): Evaluation {
    const answers = this.of(strategy);
    return (answers.noVariant ??= this.on(answers, { name: 'disabled', enabled: false, feature_enabled: true, featureEnabled: true }, 'none'));
  }

  /** On, with the strategy's own variant `choice` (CompiledVariants.select's answer). */
  strategyVariant(strategy: number, choice: number): Evaluation {
    const answers = this.of(strategy);
    return (answers.strategyAnswers[choice] ??= this.variantAnswer(answers, answers.strategyVariants, answers.matched?.variants, choice));
  }

  /** On, with the flag's variant `choice`. */
  flagVariant(strategy: number, choice: number): Evaluation {
    const answers = this.of(strategy);
    return (answers.flagAnswers[choice] ??= this.variantAnswer(answers, this.flagVariants, this.traits.variants, choice));
  }

  private variantAnswer(answers: ByStrategy, list: readonly VariantDefinition[], traits: VariantList | undefined, choice: number): Evaluation {
    const definition = list[choice >> 1]!;
    const variant: EvaluatedVariant = { name: definition.name, enabled: true, feature_enabled: true, featureEnabled: true };
    if (definition.payload) variant.payload = definition.payload;
    return this.on(answers, variant, choice & 1 ? 'override' : traits?.weighted ? 'weight' : 'single');
  }
}

function answersOf(matched: StrategyTraits | undefined, strategyVariants: readonly VariantDefinition[]): ByStrategy {
  return { matched, strategyVariants, noVariant: undefined, strategyAnswers: [], flagAnswers: [] };
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
