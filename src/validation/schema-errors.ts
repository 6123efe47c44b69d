import { z } from 'zod';

/**
 * How the flag, policy and environment schemas word their errors, in one place:
 *
 * - a value that is not one of a fixed set (z.enum, z.literal) names itself and what is allowed:
 *   `"eror_rate" is not one of error_rate, latency_p50_ms, …`. This is installed once, process-wide,
 *   with z.config({ customError }) when this module is first imported (every schema module imports
 *   it); a message a schema gives itself still wins.
 * - keyedUnion(): a union that picks its branch by the keys present and reports that branch's
 *   issues with their full paths, instead of zod's bare "Invalid input".
 *
 * Messages stay bounded however large the input: long values and long lists are cut short and say
 * how much was left out.
 */

/** At most this many allowed values are listed in a choice error; then "… (N more)". */
export const MAX_LISTED_VALUES = 20;
/** A value (or an allowed value) longer than this is cut short with "…". */
const MAX_VALUE_CHARS = 60;
/** At most this many keys of an object are named when saying what was found. */
const MAX_LISTED_KEYS = 5;

function truncate(text: string, max = MAX_VALUE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A value as a message quotes it: strings in quotes, lists and objects by their kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${truncate(value)}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    return `an object with key${keys.length === 1 ? '' : 's'} ${listOf(keys, MAX_LISTED_KEYS, 'and')}`;
  }
  return `a ${typeof value}`;
}

/** "a, b, c" (or "a, b and c" with a conjunction), at most `max` entries, then "… (N more)". */
function listOf(items: readonly string[], max: number, conjunction?: string): string {
  const shown = items.slice(0, max).map((item) => truncate(item));
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')}, … (${rest} more)`;
  if (conjunction && shown.length > 1) return `${shown.slice(0, -1).join(', ')} ${conjunction} ${shown.at(-1)}`;
  return shown.join(', ');
}

/** The message of a value not among the allowed ones (zod's `invalid_value`, from z.enum and z.literal). */
export function choiceMessage(input: unknown, values: readonly unknown[]): string {
  const allowed = listOf(
    values.map((v) => (typeof v === 'string' ? v : String(v))),
    MAX_LISTED_VALUES,
  );
  if (input === undefined) return values.length === 1 ? `required: ${allowed}` : `required: one of ${allowed}`;
  return values.length === 1 ? `${describeValue(input)} is not ${allowed}` : `${describeValue(input)} is not one of ${allowed}`;
}

z.config({
  customError: (issue) => {
    if (issue.code === 'invalid_value') return choiceMessage(issue.input, issue.values);
    return undefined;
  },
});

type Payload = z.core.ParsePayload;
type RawIssue = Payload['issues'][number];

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An issue saying only that the value is of another type altogether (raised by the schema, not by one of its checks). */
const isTypeMismatch = (issue: RawIssue): boolean =>
  issue.code === 'invalid_type' && (issue.path ?? []).length === 0 && !(issue as { inst?: z.core.$ZodType }).inst?._zod.traits.has('$ZodCheck');

const objectShape = (option: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined =>
  option instanceof z.ZodObject ? (option.shape as Record<string, z.core.$ZodType>) : undefined;

/**
 * Which branch a value that no branch accepts was meant for, or undefined when none fits.
 * An object goes to the object branch that shares the most keys with it, less the keys it has
 * that the branch does not (a tie goes to the branch listed first); one with none of any branch's
 * keys fits none, unless there is a single object branch. Anything else goes to the first other
 * branch whose only complaint is not that the value has another type altogether.
 */
function branchFor(options: readonly z.core.$ZodType[], input: unknown, results: Payload[]): number | undefined {
  if (isPlainObject(input)) {
    const keys = Object.keys(input);
    const objects = options.flatMap((option, i) => {
      const shape = objectShape(option);
      return shape ? [{ i, shape }] : [];
    });
    if (objects.length === 1) return objects[0]!.i;
    let best: { i: number; score: number } | undefined;
    for (const { i, shape } of objects) {
      const own = keys.filter((k) => Object.hasOwn(shape, k)).length;
      if (own === 0) continue;
      const score = own - (keys.length - own);
      if (!best || score > best.score) best = { i, score };
    }
    return best?.i;
  }
  const i = options.findIndex((option, i) => !objectShape(option) && !results[i]!.issues.every(isTypeMismatch));
  return i === -1 ? undefined : i;
}

/** "{metric, max, …}": an object branch by its required keys ("…" when it has optional ones too). */
function describeOption(option: z.core.$ZodType): string {
  const shape = objectShape(option);
  if (!shape) {
    const type = option._zod.def.type;
    return type === 'number' || type === 'string' || type === 'boolean' ? `a ${type}` : type;
  }
  const required = Object.keys(shape).filter((k) => shape[k]!._zod.optin === undefined);
  const optional = Object.keys(shape).length > required.length;
  return `{${[...required, ...(optional ? ['…'] : [])].join(', ')}}`;
}

interface KeyedUnionDef extends z.core.$ZodUnionDef {
  /** What the union is, for a value that fits no branch: "a gate". */
  what: string;
  /** The shapes allowed, in words (default: each branch's required keys, or its type). */
  alternatives?: string;
}

function settle(results: Payload[], final: Payload, inst: z.core.$ZodType, def: KeyedUnionDef): Payload {
  // As z.union: the first branch that accepts the value wins.
  const accepted = results.find((r) => r.issues.length === 0);
  if (accepted) {
    final.value = accepted.value;
    return final;
  }
  const i = branchFor(def.options, final.value, results);
  if (i === undefined) {
    const alternatives = def.alternatives ?? listOf(def.options.map(describeOption), MAX_LISTED_VALUES, 'or');
    final.issues.push({
      code: 'invalid_union',
      errors: [],
      input: final.value,
      inst,
      message: `expected ${def.what} (${alternatives}); found ${describeValue(final.value)}`,
    } as RawIssue);
    return final;
  }
  final.value = results[i]!.value;
  final.issues.push(...results[i]!.issues);
  return final;
}

/** z.union with the parse of keyedUnion; everything else (types, JSON Schema, OpenAPI) is z.union's own. */
const ZodKeyedUnion = z.core.$constructor('ZodKeyedUnion', (inst: z.ZodUnion, def: KeyedUnionDef) => {
  z.ZodUnion.init(inst, def);
  inst._zod.parse = (payload, ctx) => {
    let async = false;
    const results: Array<Payload | Promise<Payload>> = [];
    for (const option of def.options) {
      const result = option._zod.run({ value: payload.value, issues: [] }, ctx);
      if (result instanceof Promise) async = true;
      else if (result.issues.length === 0 && !async) return result;
      results.push(result);
    }
    if (!async) return settle(results as Payload[], payload, inst, def);
    return Promise.all(results).then((settled) => settle(settled, payload, inst, def));
  };
});

/**
 * A union whose errors are those of the branch the value was meant for, picked by the keys it
 * has (see branchFor): `gates[0].metric: "eror_rate" is not one of …` rather than
 * `gates[0]: Invalid input`. A value that fits no branch says which shapes are allowed. Accepts
 * and infers exactly what z.union(options) does.
 */
export function keyedUnion<const T extends readonly [z.core.SomeType, ...z.core.SomeType[]]>(options: T, what: string, alternatives?: string): z.ZodUnion<T> {
  const def: KeyedUnionDef = { type: 'union', options: options as unknown as z.core.$ZodType[], what, ...(alternatives ? { alternatives } : {}) };
  return new (ZodKeyedUnion as unknown as new (def: KeyedUnionDef) => z.ZodUnion<T>)(def);
}

/**
 * For a refinement of an object that reads only some of its fields: run it when those fields are
 * valid, even if others are not (zod skips refinements after any other problem by default), so
 * a file with several mistakes reports this one with the rest. `{ when: fieldsValid('a', 'b') }`.
 */
export function fieldsValid(...fields: string[]): (payload: Payload) => boolean {
  return (payload) =>
    isPlainObject(payload.value) && payload.issues.every((issue) => (issue.path ?? []).length > 0 && !fields.includes(String(issue.path![0])));
}

/**
 * A list whose entries' names must differ: each repeat is named (`flags[3].name: duplicate flag "x"`).
 * Checked even when entries have other problems, so a file's duplicates come with the rest.
 */
export function uniqueNames<S extends z.ZodArray>(list: S, label: string): S {
  return list.superRefine(
    (items, ctx) => {
      const seen = new Set<string>();
      (items as unknown[]).forEach((item, i) => {
        const name = (item as { name?: unknown } | null)?.name;
        if (typeof name !== 'string') return;
        if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${label} "${name}"` });
        seen.add(name);
      });
    },
    { when: (payload) => Array.isArray(payload.value) },
  );
}
