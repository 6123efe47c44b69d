import type { FieldTable, RequestScope } from './request-scope.js';
import { type GroupHash, type GroupHashes, VARIANT_SEED } from './stickiness-hash.js';

/**
 * A list of variants compiled with unleash-client's selectVariantDefinition (lib/variant.js): no
 * variant when the weights add up to nothing; else the first variant (in order) with an override
 * naming the context's value; else the variant whose running weight first reaches the position
 * hash(`${groupId}:${seed}`) % total + 1, skipping weights of 0, where the seed is the stickiness
 * value (default: userId, sessionId or remoteAddress, the first that is a non-empty string; a named
 * field otherwise) or, when there is none, a random number as the SDK draws it.
 */

export interface VariantDefinition {
  name: string;
  weight: number;
  stickiness?: string;
  payload?: { type: string; value: string };
  overrides?: Array<{ contextName: string; values: string[] }>;
}

/** What `select` answers: no variant, or the chosen index times two, plus one when an override chose it. */
export const NO_VARIANT = -1;

interface Override {
  index: number;
  matches: Array<{ field: number; values: Set<string> }>;
}

const DEFAULT_SEED_FIELDS = ['userId', 'sessionId', 'remoteAddress'] as const;

export class CompiledVariants {
  readonly definitions: readonly VariantDefinition[];
  private readonly totalWeight: number;
  private readonly overrides: Override[];
  /** Running weight after each variant of non-zero weight, and that variant's index. */
  private readonly reaches: number[] = [];
  private readonly indexes: number[] = [];
  private readonly group: GroupHash;
  private readonly seedField: number | undefined;

  /**
   * @param groupId the flag's name (flag variants) or the strategy's groupId parameter (strategy
   *   variants; the SDK writes it into the key even when it is undefined)
   * @param stickiness the first variant's stickiness (strategy variants: else the strategy's); undefined is "default"
   */
  constructor(
    definitions: readonly VariantDefinition[],
    groupId: unknown,
    stickiness: string | undefined,
    compiler: { fields: FieldTable; groups: GroupHashes },
  ) {
    this.definitions = definitions;
    this.totalWeight = definitions.reduce((sum, v) => sum + v.weight, 0);
    this.overrides = definitions.flatMap((v, index) =>
      v.overrides ? [{ index, matches: v.overrides.map((o) => ({ field: compiler.fields.index(o.contextName), values: new Set(o.values) })) }] : [],
    );
    let running = 0;
    for (const [index, v] of definitions.entries()) {
      if (v.weight === 0) continue;
      running += v.weight;
      this.reaches.push(running);
      this.indexes.push(index);
    }
    this.group = compiler.groups.of(`${groupId}`, VARIANT_SEED);
    const chosen = stickiness ?? 'default';
    this.seedField = chosen === 'default' ? undefined : compiler.fields.index(chosen);
  }

  select(s: RequestScope): number {
    if (this.totalWeight <= 0) return NO_VARIANT;
    for (const override of this.overrides) {
      for (const { field, values } of override.matches) {
        const value = s.value(field);
        if (value !== undefined && values.has(value)) return override.index * 2 + 1;
      }
    }
    const target = (s.hash(this.group, this.seed(s)) % this.totalWeight) + 1;
    for (let i = 0; i < this.reaches.length; i++) if (this.reaches[i]! >= target) return this.indexes[i]! * 2;
    return NO_VARIANT;
  }

  private seed(s: RequestScope): string {
    if (this.seedField === undefined) {
      for (const key of DEFAULT_SEED_FIELDS) {
        const value = s.context[key];
        if (typeof value === 'string' && value !== '') return value;
      }
    } else {
      const value = s.value(this.seedField);
      if (value) return value;
    }
    return String(Math.round(s.random() * 100000));
  }
}
