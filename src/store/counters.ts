/**
 * Counter values and how they add up: one rule for both stores and for callers that add sums further
 * (the rollout loop adds windows together).
 *
 * A counter field holds a number, or a vector of numbers that adds element by element. A vector is a
 * fixed set of counters kept as one field (the per-user bucket counts of an outcome report), so that
 * a bucket with 64 such counts per cohort is read, sent and added as a handful of fields instead of
 * hundreds: with one field per count, summing them dominated the rollout loop's tick.
 */

/** A number, or a vector added element by element (vectors of different lengths add as if padded with zeros). */
export type CounterValue = number | number[];
export type CounterFields = Record<string, CounterValue>;

/** The longest vector a counter field may hold (per-user counts use 64). */
export const MAX_COUNTER_VECTOR = 1024;

/**
 * Refuses an increment that no store could apply, before anything is written: a number or vector
 * element that is not finite, an empty vector, or one longer than MAX_COUNTER_VECTOR.
 */
export function checkIncrement(fields: CounterFields): void {
  for (const field in fields) {
    const value = fields[field]!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`counter ${field}: increment must be finite, got ${value}`);
      continue;
    }
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_COUNTER_VECTOR)
      throw new TypeError(`counter ${field}: a vector increment must hold 1 to ${MAX_COUNTER_VECTOR} numbers`);
    for (let k = 0; k < value.length; k++)
      if (!Number.isFinite(value[k])) throw new TypeError(`counter ${field}[${k}]: increment must be finite, got ${value[k]}`);
  }
}

/** The error for a field that holds a number in one place and a vector in another. */
export function mixedKinds(field: string): TypeError {
  return new TypeError(`counter ${field}: holds a number in one place and a vector in another; a field keeps one kind`);
}

/** The first field that `increment` would add to a value of the other kind in `current`. */
export function kindConflict(current: CounterFields, increment: CounterFields): string | undefined {
  for (const field in increment) {
    const had = current[field];
    if (had !== undefined && typeof had !== typeof increment[field]) return field;
  }
  return undefined;
}

/**
 * Adds `source` into `target`, in place, and returns `target`. Vectors add element by element into
 * `target`'s own arrays: a vector of `source` is copied, never shared, so later additions to the sum
 * leave `source` as it was. A field of different kinds on the two sides throws (see mixedKinds).
 */
export function addCounters(target: CounterFields, source: CounterFields): CounterFields {
  for (const field in source) {
    const value = source[field]!;
    const had = target[field];
    if (typeof value === 'number') {
      if (typeof had === 'object') throw mixedKinds(field);
      target[field] = (had ?? 0) + value;
    } else if (had === undefined) target[field] = value.slice();
    else if (typeof had === 'number') throw mixedKinds(field);
    else addVector(had, value);
  }
  return target;
}

/** Adds `source` into `target` element by element, lengthening `target` as needed. */
export function addVector(target: number[], source: ArrayLike<number>): number[] {
  const shared = Math.min(target.length, source.length);
  for (let k = 0; k < shared; k++) target[k]! += source[k]!;
  for (let k = shared; k < source.length; k++) target.push(source[k]!);
  return target;
}
