import fc from 'fast-check';
import { HUGE_ARRAY_LENGTH, HUGE_STRING_BYTES, isPlainObject, MUTATIONS, mutate, type ProbeValue, slotsOf } from './hostile-values.js';

/**
 * Values for the API probe (test/hardening/api-probe.test.ts), generated from the JSON Schemas of
 * the served OpenAPI document: `valid` follows a schema (patterns, bounds, enums, required fields),
 * `invalid` takes a valid value and breaks one place of it the way hostile or careless callers do
 * (wrong types, missing and extra fields, huge strings and arrays, deep nesting, numbers out of
 * range, NUL and odd Unicode, prototype-pollution keys). The schemas are what zod emits
 * (z.toJSONSchema): refinements are not in them, so a "valid" value may still earn a 400.
 */

export type JsonSchema = { [keyword: string]: any };

/** Loopback addresses on a closed port: nothing the probe generates may aim a webhook elsewhere. */
const SAFE_URLS = ['http://127.0.0.1:1/probe', 'https://127.0.0.1:1/hook?x=1', 'http://[::1]:1/'];

export interface FuzzOptions {
  /** Known values for string properties of these names (flags, policies, environments the probe seeded). */
  hints?: Record<string, readonly string[]>;
  /** Known values for number properties of these names (e.g. errors: 0, as errors may not exceed requests). */
  numberHints?: Record<string, readonly number[]>;
  /** Properties that take their hinted values only (e.g. a restore's target prefix, kept under the probe's own). */
  only?: readonly string[];
  /** Every array as long as its schema allows (at most WIDE_ITEMS) and every dictionary with WIDE_ITEMS entries. */
  wide?: boolean;
}

export const WIDE_ITEMS = 1_000;

/** Arbitraries for the schemas of one OpenAPI document. */
export class SchemaFuzzer {
  constructor(
    private readonly components: Record<string, JsonSchema>,
    private readonly options: FuzzOptions = {},
  ) {}

  resolve(schema: JsonSchema): JsonSchema {
    let s = schema;
    for (let i = 0; s.$ref && i < 10; i++) s = this.components[String(s.$ref).split('/').pop()!] ?? {};
    return s;
  }

  /** Values the schema accepts (as far as JSON Schema tells). */
  valid(schema: JsonSchema, name?: string, depth = 0): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
    const branches = s.anyOf ?? s.oneOf;
    if (Array.isArray(branches)) return fc.oneof(...branches.map((b: JsonSchema) => this.valid(b, name, depth + 1)));
    if (Array.isArray(s.allOf) && s.allOf.length > 0) return this.valid(s.allOf[0], name, depth + 1);
    if (Array.isArray(s.type)) return fc.oneof(...s.type.map((type: string) => this.valid({ ...s, type }, name, depth + 1)));
    switch (s.type) {
      case 'string':
        return this.validString(s, name);
      case 'integer':
        return this.hinted(
          name,
          fc.integer({ min: Math.max(s.minimum ?? -(2 ** 31), Number.MIN_SAFE_INTEGER), max: Math.min(s.maximum ?? 2 ** 31, Number.MAX_SAFE_INTEGER) }),
        );
      case 'number':
        return this.hinted(
          name,
          fc.double({
            noNaN: true,
            noDefaultInfinity: true,
            min: s.exclusiveMinimum ?? s.minimum ?? -1e9,
            minExcluded: s.exclusiveMinimum !== undefined,
            max: s.exclusiveMaximum ?? s.maximum ?? 1e9,
            maxExcluded: s.exclusiveMaximum !== undefined,
          }),
        );
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = s.minItems ?? 0;
        const items = depth > 6 ? fc.constant(null) : this.valid(s.items ?? {}, undefined, depth + 1);
        const length = this.options.wide ? Math.min(s.maxItems ?? WIDE_ITEMS, WIDE_ITEMS) : undefined;
        if (length !== undefined && depth < 3) return fc.array(items, { minLength: length, maxLength: length });
        return fc.array(items, { minLength, maxLength: Math.min(s.maxItems ?? minLength + 3, minLength + 3) });
      }
      case 'object':
        return this.validObject(s, name, depth);
      default:
        // No type: anything (z.unknown()).
        return fc.jsonValue({ maxDepth: 2 });
    }
  }

  private hinted(name: string | undefined, base: fc.Arbitrary<number>): fc.Arbitrary<number> {
    const known = name ? this.options.numberHints?.[name] : undefined;
    return known?.length ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, { arbitrary: base, weight: 1 }) : base;
  }

  private validString(s: JsonSchema, name: string | undefined): fc.Arbitrary<string> {
    const min = s.minLength ?? 0;
    const fits = (v: string) => v.length >= min && (s.maxLength === undefined || v.length <= s.maxLength);
    let base: fc.Arbitrary<string>;
    if (s.format === 'uri') base = fc.constantFrom(...SAFE_URLS);
    else if (s.pattern) base = fc.stringMatching(new RegExp(s.pattern)).filter(fits);
    else {
      const size = { minLength: min, maxLength: Math.min(s.maxLength ?? Infinity, min + 40) };
      base = fc.oneof(fc.string({ ...size, unit: 'grapheme-ascii' }), fc.string({ ...size, unit: 'grapheme' }), fc.string({ ...size, unit: 'binary' }));
    }
    const known = name ? this.options.hints?.[name]?.filter(fits) : undefined;
    if (known?.length && this.options.only?.includes(name!)) return fc.constantFrom(...known);
    return known?.length ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, { arbitrary: base, weight: 1 }) : base;
  }

  /** Keys of a dictionary take their hints from `<property>{}` (e.g. "environments{}"). */
  private validObject(s: JsonSchema, name: string | undefined, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties: Record<string, JsonSchema> = s.properties ?? {};
    const required = new Set<string>(s.required ?? []);
    const keys = Object.keys(properties).filter((k) => depth < 6 || required.has(k));
    const model = Object.fromEntries(keys.map((k) => [k, this.valid(properties[k]!, k, depth + 1)]));
    const fixed = fc.record(model, { requiredKeys: keys.filter((k) => required.has(k)) });
    const extra = s.additionalProperties;
    if (!extra || typeof extra !== 'object' || depth > 6) return fixed as fc.Arbitrary<Record<string, unknown>>;
    const names: JsonSchema = { type: 'string', ...s.propertyNames };
    const keyArb = 'enum' in names || 'const' in names ? (this.valid(names) as fc.Arbitrary<string>) : this.validString(names, name && `${name}{}`);
    const size = this.options.wide && depth < 3 ? { minKeys: WIDE_ITEMS, maxKeys: WIDE_ITEMS } : { maxKeys: 4 };
    const dictionary = fc.dictionary(keyArb, this.valid(extra, undefined, depth + 1), size);
    return fc.tuple(fixed, dictionary).map(([a, b]) => ({ ...b, ...a }));
  }

  /**
   * The shape of defect 1 of issue 13, made the same way for every schema: a valid value whose
   * every array holds HUGE_ARRAY_LENGTH items of the wrong type, and whose every object carries 20
   * unknown keys of 5,000 characters (strict schemas name each one in their error).
   */
  amplifying(schema: JsonSchema, seed: number): ProbeValue[] {
    const [sample] = fc.sample(this.valid(schema), { seed, numRuns: 1 });
    const arrays = { value: structuredClone(sample) };
    for (const slot of slotsOf(arrays)) if (Array.isArray(slot.get())) slot.set(new Array(HUGE_ARRAY_LENGTH).fill({ wrong: true }));
    const keys = { value: structuredClone(sample) };
    for (const slot of slotsOf(keys)) {
      const holder = slot.get();
      if (isPlainObject(holder)) for (let i = 0; i < 20; i++) holder[`${i}${'k'.repeat(5_000)}`] = i;
    }
    return [
      { value: arrays.value, note: `every array of ${HUGE_ARRAY_LENGTH} items of the wrong type` },
      { value: keys.value, note: 'every object with 20 unknown keys of 5,000 characters' },
    ];
  }

  /**
   * Valid values that are as large as the schema lets them be, for routes anyone with an SDK token
   * may call: what they store must stay bounded all the same (defect 3 of issue 13).
   */
  growing(schema: JsonSchema, seed: number): ProbeValue[] {
    const [wide] = fc.sample(new SchemaFuzzer(this.components, { ...this.options, wide: true }).valid(schema), { seed, numRuns: 1 });
    const [sample] = fc.sample(this.valid(schema), { seed, numRuns: 1 });
    const long = { value: structuredClone(sample) };
    for (const slot of slotsOf(long)) if (typeof slot.get() === 'string') slot.set('x'.repeat(HUGE_STRING_BYTES));
    return [
      { value: wide, note: `every array as long as allowed and every dictionary of ${WIDE_ITEMS} entries` },
      { value: long.value, note: 'every string of 1 MiB' },
    ];
  }

  /** A valid value broken in one place; the note says how and where. */
  invalid(schema: JsonSchema): fc.Arbitrary<ProbeValue> {
    return fc
      .tuple(this.valid(schema), fc.constantFrom(...MUTATIONS), fc.nat(), fc.nat())
      .map(([value, mutation, at, pick]) => mutate(structuredClone(value), mutation, at, pick));
  }
}
