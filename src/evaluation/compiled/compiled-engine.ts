import type { Context } from 'unleash-client';
import type { ClientFeature, ClientSegment } from '../../flags/client-feature.js';
import type { Stickiness } from '../../rollouts/stickiness.js';
import type { Evaluation } from '../evaluation.js';
import { type EvaluationEngine, FlagCatalog } from '../flag-catalog.js';
import { type Check, compileConstraint } from './constraints.js';
import { FlagOutcomes, NO_STRATEGIES } from './outcomes.js';
import { FieldTable, RequestScope } from './request-scope.js';
import { GroupHashes } from './stickiness-hash.js';
import { type CompiledStrategy, compileStrategy, type StrategyDefinition } from './strategies.js';
import { CompiledVariants, NO_VARIANT, type VariantDefinition } from './variants.js';

/** What evaluating a flag's on/off part found: off, or on by this strategy index (or NO_STRATEGIES). */
const OFF = -2;

interface Dependency {
  /** undefined: the parent is not in the flag set (the SDK then says no). */
  parent: CompiledFlag | undefined;
  /** The SDK's `enabled !== false`: the parent must be on (else: must be off). */
  wantsOn: boolean;
  /** Variant names the parent must have given, when the dependency lists any. */
  variants: readonly string[] | undefined;
}

interface CompiledFlag {
  enabled: boolean;
  dependencies: Dependency[];
  /** undefined where the SDK does not know the strategy (skipped); the flag's own list's length when it has none (on). */
  strategies: Array<CompiledStrategy | undefined>;
  variants: CompiledVariants | undefined;
  outcomes: FlagOutcomes;
}

export interface CompiledEngineOptions {
  /** Random numbers in [0, 1), for random stickiness as the SDK draws it (default Math.random, read on every call). */
  random?: () => number;
  /** Milliseconds since the epoch, for date constraints when the context has no currentTime (default Date.now). */
  clock?: () => number;
}

/**
 * The flags of one snapshot compiled into evaluators specialised to them (see
 * docs/architecture.md, "Compiled evaluation"): built once per change of the flag set, then each
 * request resolves its context once into a RequestScope and walks the flags, picking for each one
 * of its pre-built answers (outcomes.ts). It answers as the stock SDK's engine (unleash-engine.ts)
 * does, which test/evaluation/compiled/agreement.property.test.ts checks over the client
 * specification and the bench's flag set.
 */
export class CompiledEngine implements EvaluationEngine {
  readonly flagNames: readonly string[];
  private readonly catalog: FlagCatalog;
  private readonly flags: CompiledFlag[];
  private readonly indexByName = new Map<string, number>();
  private readonly scope: RequestScope;

  constructor(features: ClientFeature[], segments: ClientSegment[], options: CompiledEngineOptions = {}) {
    this.catalog = new FlagCatalog(features, segments);
    this.flagNames = this.catalog.flagNames;
    const fields = new FieldTable();
    const groups = new GroupHashes();
    const segmentChecks = new Map<number, Check>();
    for (const [index, segment] of this.catalog.segments.entries()) {
      const checks = segment.constraints.map((c) => compileConstraint(c, fields));
      const all = (s: RequestScope) => checks.every((check) => check(s));
      segmentChecks.set(segment.id, (s) => s.segment(index, all));
    }
    const compiler = { fields, groups, segment: (id: number) => segmentChecks.get(id) };
    this.flags = this.catalog.features.map((feature, index) => {
      this.indexByName.set(feature.name, index);
      const variants = (feature.variants ?? []) as VariantDefinition[];
      return {
        enabled: Boolean(feature.enabled),
        dependencies: [],
        strategies: feature.strategies.map((s) => compileStrategy(s as StrategyDefinition, compiler)),
        variants: variants.length > 0 ? new CompiledVariants(variants, feature.name, variants[0]!.stickiness, compiler) : undefined,
        outcomes: new FlagOutcomes(feature, this.catalog.traitsOf(feature.name)!),
      };
    });
    // Dependencies once every flag exists, so a parent listed after its child is found.
    for (const [index, feature] of this.catalog.features.entries()) {
      this.flags[index]!.dependencies = (feature.dependencies ?? []).map((d) => {
        const parent = this.indexByName.get(d.feature);
        return {
          parent: parent === undefined ? undefined : this.flags[parent],
          wantsOn: d.enabled !== false,
          variants: d.variants?.length ? d.variants : undefined,
        };
      });
    }
    const random = options.random ?? (() => Math.random());
    this.scope = new RequestScope(fields, this.catalog.segments.length, groups.size, random, options.clock ?? Date.now);
  }

  has(name: string): boolean {
    return this.catalog.has(name);
  }

  splitsTraffic(name: string): boolean {
    return this.catalog.splitsTraffic(name);
  }

  needsTargetingKey(name: string, context: Context): boolean {
    return this.catalog.needsTargetingKey(name, context);
  }

  rolloutStickiness(name: string): Stickiness | undefined {
    return this.catalog.rolloutStickiness(name);
  }

  evaluate(name: string, context: Context): Evaluation | undefined {
    const index = this.indexByName.get(name);
    if (index === undefined) return undefined;
    this.scope.begin(context);
    return this.answer(this.flags[index]!);
  }

  evaluateAll(context: Context): Evaluation[] {
    const scope = this.scope;
    scope.begin(context);
    const flags = this.flags;
    const out = new Array<Evaluation>(flags.length);
    for (let i = 0; i < flags.length; i++) out[i] = this.answer(flags[i]!);
    return out;
  }

  /** The SDK's resolveVariant: on/off first, a variant only for a flag that is on (the strategy's, else the flag's). */
  private answer(flag: CompiledFlag): Evaluation {
    const by = this.onBy(flag);
    if (by === OFF) return flag.outcomes.off;
    const scope = this.scope;
    const strategyVariants = by === NO_STRATEGIES ? undefined : flag.strategies[by]!.variants;
    if (strategyVariants) {
      const choice = strategyVariants.select(scope);
      if (choice !== NO_VARIANT) return flag.outcomes.strategyVariant(by, choice);
    }
    if (!flag.variants) return flag.outcomes.noVariant(by);
    const choice = flag.variants.select(scope);
    return choice === NO_VARIANT ? flag.outcomes.noVariant(by) : flag.outcomes.flagVariant(by, choice);
  }

  /** The SDK's isFeatureEnabled: dependencies hold, the flag is on, and a strategy says yes (or there are none). */
  private onBy(flag: CompiledFlag): number {
    if (!flag.enabled) return OFF;
    for (const dependency of flag.dependencies) if (!this.holds(dependency)) return OFF;
    const strategies = flag.strategies;
    if (strategies.length === 0) return NO_STRATEGIES;
    for (let i = 0; i < strategies.length; i++) {
      const strategy = strategies[i];
      if (strategy?.matches(this.scope)) return i;
    }
    return OFF;
  }

  /** The SDK's isParentDependencySatisfied for one parent: it exists, has no parents of its own, and is on (or off) as required. */
  private holds(dependency: Dependency): boolean {
    const parent = dependency.parent;
    if (!parent || parent.dependencies.length > 0) return false;
    if (!dependency.wantsOn) return this.onBy(parent) === OFF;
    if (!dependency.variants) return this.onBy(parent) !== OFF;
    const answer = this.answer(parent);
    return answer.enabled && dependency.variants.includes(answer.variant.name);
  }
}
