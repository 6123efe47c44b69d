/**
 * Values that have broken parsers, validators and stores: odd strings, keys that reach a prototype,
 * JSON that JSON.stringify cannot write (numbers past a double, nesting deeper than it recurses),
 * and the one-place mutations SchemaFuzzer.invalid applies to a valid value.
 */

/** A value made for the probe, and what was done to it, for failure reports (write it with toJsonText: it may hold raw fragments). */
export interface ProbeValue {
  value: unknown;
  note: string;
}

/** Strings that have broken parsers, logs and stores before. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'nul\u0000inside',
  '💥🚀👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  '\u202Eevil\u202C',
  '\ud800',
  'lone \udfff surrogate',
  '\u2028\u2029',
  '\r\nX-Injected: 1',
  '%00%2e%2e%2f',
  '../../../../etc/passwd',
  '"\'\\`${}',
  '<script>alert(1)</script>',
  '{{constructor.constructor("return 1")()}}',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
];

/** Keys that reach a prototype when an object is merged or assigned without care. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
/** The property every pollution payload tries to plant on Object.prototype. */
export const POLLUTION_MARKER = 'probePolluted';

/** An object whose keys are own properties even where a literal would set the prototype. */
export function ownKeysObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const pollutionPayload = (key: string): unknown =>
  key === 'constructor' ? ownKeysObject([['prototype', ownKeysObject([[POLLUTION_MARKER, 'yes']])]]) : ownKeysObject([[POLLUTION_MARKER, 'yes']]);

/**
 * Raw JSON text spliced into a body where a placeholder string stands: numbers JSON.stringify
 * cannot write (1e400) and nesting too deep for it to recurse through.
 */
const RAW = new Map<string, string>();
function rawFragment(name: string, text: string): string {
  const placeholder = `\u0001probe-raw:${name}`;
  RAW.set(placeholder, text);
  return placeholder;
}
export const DEEP_LEVELS = 10_000;
const DEEP_ARRAY = rawFragment('deep-array', `${'['.repeat(DEEP_LEVELS)}${']'.repeat(DEEP_LEVELS)}`);
const DEEP_OBJECT = rawFragment('deep-object', `${'{"a":'.repeat(DEEP_LEVELS)}1${'}'.repeat(DEEP_LEVELS)}`);
/** A value that toJsonText writes as DEEP_LEVELS nested objects. */
export const DEEP_VALUE: unknown = DEEP_OBJECT;
const HUGE_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '1.00000000000000000000001'].map((n) => rawFragment(n, n));

/** JSON text of a probe value, raw fragments spliced in. */
export function toJsonText(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  for (const [placeholder, raw] of RAW) {
    const quoted = JSON.stringify(placeholder);
    if (text.includes(quoted)) text = text.replaceAll(quoted, raw);
  }
  return text;
}

export const HUGE_STRING_BYTES = 1 << 20;
export const HUGE_ARRAY_LENGTH = 100_000;

export type Mutation =
  | 'wrong-type'
  | 'drop-field'
  | 'extra-field'
  | 'pollution'
  | 'huge-string'
  | 'deep-nesting'
  | 'huge-array'
  | 'bad-number'
  | 'nasty-string';
export const MUTATIONS: readonly Mutation[] = [
  'wrong-type',
  'drop-field',
  'extra-field',
  'pollution',
  'huge-string',
  'deep-nesting',
  'huge-array',
  'bad-number',
  'nasty-string',
];

/** A place in a value: the root, or a key of an object or an index of an array inside it. */
interface Slot {
  path: string;
  get(): unknown;
  set(v: unknown): void;
}

export function slotsOf(root: { value: unknown }): Slot[] {
  const slots: Slot[] = [{ path: '(root)', get: () => root.value, set: (v) => (root.value = v) }];
  const walk = (value: unknown, path: string, depth: number) => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    for (const key of Object.keys(value)) {
      const holder = value as Record<string, unknown>;
      const child = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
      slots.push({ path: child, get: () => holder[key], set: (v) => (holder[key] = v) });
      walk(holder[key], child, depth + 1);
    }
  };
  walk(root.value, '', 0);
  return slots;
}

const wrongTypeOf = (v: unknown): unknown =>
  typeof v === 'string'
    ? 42
    : typeof v === 'number'
      ? String(v)
      : typeof v === 'boolean'
        ? 'true'
        : Array.isArray(v)
          ? { 0: 'not an array' }
          : v === null
            ? {}
            : ['not', 'an', 'object'];

const HUGE_KEY = 'k'.repeat(100_000);

export function mutate(value: unknown, mutation: Mutation, at: number, pick: number): ProbeValue {
  const root = { value };
  const slots = slotsOf(root);
  const slot = slots[at % slots.length]!;
  const objects = slots.filter((s) => isPlainObject(s.get()));
  const target = objects.length > 0 ? objects[at % objects.length]! : undefined;
  const where = slot.path;
  switch (mutation) {
    case 'wrong-type':
      slot.set(wrongTypeOf(slot.get()));
      return { value: root.value, note: `wrong type at ${where}` };
    case 'drop-field': {
      if (!target) break;
      const keys = Object.keys(target.get() as object);
      if (keys.length === 0) break;
      const key = keys[pick % keys.length]!;
      delete (target.get() as Record<string, unknown>)[key];
      return { value: root.value, note: `without ${target.path}.${key}` };
    }
    case 'extra-field': {
      if (!target) break;
      const key = [HUGE_KEY, 'unexpected', '💥', '\u0000', 'toString', 'hasOwnProperty'][pick % 6]!;
      Object.defineProperty(target.get(), key, { value: 'extra', enumerable: true, writable: true, configurable: true });
      return { value: root.value, note: `extra field ${key.length > 20 ? `of ${key.length} chars` : JSON.stringify(key)} at ${target.path}` };
    }
    case 'pollution': {
      const key = POLLUTION_KEYS[pick % POLLUTION_KEYS.length]!;
      const holder = target?.get() ?? (root.value = {});
      Object.defineProperty(holder, key, { value: pollutionPayload(key), enumerable: true, writable: true, configurable: true });
      return { value: root.value, note: `${key} key at ${target?.path ?? '(root)'}` };
    }
    case 'huge-string':
      slot.set(pick % 2 === 0 ? 'x'.repeat(HUGE_STRING_BYTES) : '💥'.repeat(HUGE_STRING_BYTES / 4));
      return { value: root.value, note: `a 1 MiB string at ${where}` };
    case 'deep-nesting':
      slot.set(pick % 2 === 0 ? DEEP_ARRAY : DEEP_OBJECT);
      return { value: root.value, note: `${DEEP_LEVELS} levels of nesting at ${where}` };
    case 'huge-array':
      slot.set(new Array(HUGE_ARRAY_LENGTH).fill(pick % 2 === 0 ? 1 : 'a'));
      return { value: root.value, note: `an array of ${HUGE_ARRAY_LENGTH} at ${where}` };
    case 'bad-number': {
      const numbers = [-1, 0, 1.5, -1e308, 1e308, 2 ** 53 + 2, ...HUGE_NUMBERS];
      const n = numbers[pick % numbers.length]!;
      slot.set(n);
      return { value: root.value, note: `number ${typeof n === 'string' ? (RAW.get(n) ?? n) : n} at ${where}` };
    }
    case 'nasty-string': {
      const s = NASTY_STRINGS[pick % NASTY_STRINGS.length]!;
      slot.set(s);
      return { value: root.value, note: `string ${JSON.stringify(s)} at ${where}` };
    }
  }
  // Nothing to drop or extend (a primitive): change its type instead.
  slot.set(wrongTypeOf(slot.get()));
  return { value: root.value, note: `wrong type at ${where}` };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
