import type { Context } from 'unleash-client';
import type { ClientFeature, ClientSegment } from '../flags/client-feature.js';
import { type Stickiness, stickinessOf } from '../rollouts/stickiness.js';
import { createRequire } from 'node:module';
import type * as SdkHelpers from 'unleash-client/lib/helpers.js';
import { IDENTITY, type Evaluation, type FlagTraits, flagTraits } from './evaluation.js';

// The SDK's own reading of a context field (top level, else properties), required the CommonJS way as in unleash-engine.ts.
const { resolveContextValue } = createRequire(import.meta.url)('unleash-client/lib/helpers.js') as typeof SdkHelpers;

/**
 * What the frontend API and OFREP ask of an engine. Two implement it: the compiled evaluator that
 * serves them (src/evaluation/compiled/) and the stock SDK's engine (unleash-engine.ts), which stays
 * as the reference the compiled one is held equal to.
 */
export interface EvaluationEngine {
  /** Every flag of the snapshot, in the snapshot's order. */
  readonly flagNames: readonly string[];
  has(name: string): boolean;
  /** The flag hands users out by percentage or weight, so its answer needs an identity to stick to. */
  splitsTraffic(name: string): boolean;
  /** Whether the flag's answer for this context would be a coin toss (see FlagCatalog.needsTargetingKey). */
  needsTargetingKey(name: string, context: Context): boolean;
  /** Whom the flag sticks to, when it hands users out by a flexibleRollout strategy (its users are then counted). */
  rolloutStickiness(name: string): Stickiness | undefined;
  evaluate(name: string, context: Context): Evaluation | undefined;
  /** Every flag of the snapshot, in `flagNames` order. */
  evaluateAll(context: Context): Evaluation[];
}

/**
 * The flags of one snapshot as both engines feed them to evaluation, and what the routes ask about
 * them besides their answers (which exist, which split traffic, whom a rollout sticks to), worked
 * out once per snapshot.
 *
 * A strategy without parameters or constraints, or a constraint without a values list, is given the
 * empty object or list, as the flag schema stores every flag: the SDK answers the same for a missing
 * constraint list, and where it would throw instead (a strategy whose code reads a missing parameters
 * object, a list operator without values), both engines answer as for the empty one.
 */
export class FlagCatalog {
  readonly features: ClientFeature[];
  readonly segments: ClientSegment[];
  readonly flagNames: readonly string[];
  private readonly byName = new Map<string, ClientFeature>();
  private readonly traits = new Map<string, FlagTraits>();
  /** Flags with a flexibleRollout strategy (the kind a rollout moves): whom they stick to. */
  private readonly stickiness = new Map<string, Stickiness>();

  constructor(features: ClientFeature[], segments: ClientSegment[]) {
    this.features = features.map(evaluable);
    this.segments = segments.map((s) => ({ ...s, constraints: (s.constraints ?? []).map(withValues) }));
    for (const feature of this.features) {
      this.byName.set(feature.name, feature);
      this.traits.set(feature.name, flagTraits(feature));
      if (feature.strategies.some((st) => st.name === 'flexibleRollout')) this.stickiness.set(feature.name, stickinessOf(feature, feature.name));
    }
    this.flagNames = this.features.map((f) => f.name);
  }

  feature(name: string): ClientFeature | undefined {
    return this.byName.get(name);
  }

  traitsOf(name: string): FlagTraits | undefined {
    return this.traits.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  rolloutStickiness(name: string): Stickiness | undefined {
    return this.stickiness.get(name);
  }

  splitsTraffic(name: string): boolean {
    return this.traits.get(name)?.splitsTraffic ?? false;
  }

  /**
   * Whether the flag's answer for this context would be a coin toss: the context has no identity
   * (userId or sessionId) and some split of the flag sticks to the identity or to a field the
   * context does not hold. A flag that sticks to fields the context holds (custom stickiness) is
   * answered as the SDK answers it.
   */
  needsTargetingKey(name: string, context: Context): boolean {
    const traits = this.traits.get(name);
    if (!traits || context.userId || context.sessionId) return false;
    return traits.sticksTo.some((field) => field === IDENTITY || !resolveContextValue(context, field));
  }
}

type Constraint = ClientFeature['strategies'][number]['constraints'][number];

function withValues(constraint: Constraint): Constraint {
  return Array.isArray(constraint.values) ? constraint : { ...constraint, values: [] };
}

function evaluable(feature: ClientFeature): ClientFeature {
  const strategies = feature.strategies.map((s) => ({ ...s, parameters: s.parameters ?? {}, constraints: (s.constraints ?? []).map(withValues) }));
  return { ...feature, strategies };
}
