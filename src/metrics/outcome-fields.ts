import { addCounters } from '../store/counters.js';
import { emptyTotals } from './outcome-math.js';
import { UNIT_BUCKETS, type CohortTotals, type OutcomeFields, type OutcomeTotals, type UnitCounts } from './outcome-model.js';

export type { OutcomeFields };

/**
 * Outcomes as flat counter fields, the form they are stored and summed in: numbers
 * "<cohort>\trequests", "<cohort>\terrors", "<cohort>\tlatsum", "<cohort>\tle\t<bound>", and the
 * per-user counts as two vectors (counter fields that add element by element, see
 * store/counters.ts), indexed by hashed user bucket: "<cohort>\tur" (requests) and "<cohort>\tue"
 * (errors). Tab-separated: a tab cannot appear in a cohort or a bound.
 *
 * Per-user counts were first kept one number per bucket, "<cohort>\tur\t<bucket>" and
 * "<cohort>\tue\t<bucket>": up to 256 more fields per flag and time bucket, whose sums made the
 * rollout loop's tick about three times as slow. Fields in that layout are still read (totalsOf
 * adds both), so buckets written before the change count until they expire (two days), and step
 * sums a rollout kept from before count until its step ends.
 *
 * The rollout loop adds windows together in this form and turns the result into OutcomeTotals only
 * at the end. The field names are ordinary object keys, whereas a histogram keyed by bound ("10",
 * "1000") has keys that look like array indices, which V8 keeps as sparse elements: adding such
 * histograms is several times slower, and a tick adds tens of thousands of them.
 */
export function cohortField(cohort: string, kind: 'requests' | 'errors' | 'latsum'): string {
  return `${cohort}\t${kind}`;
}

export function boundField(cohort: string, bound: string): string {
  return `${cohort}\tle\t${bound}`;
}

/** The vector of the per-user counts of a cohort: requests ('ur') or errors ('ue'), indexed by hashed user bucket. */
export function unitField(cohort: string, kind: 'ur' | 'ue'): string {
  return `${cohort}\t${kind}`;
}

/**
 * A cohort's per-user counts as vector fields, as they are stored: a vector without any count is
 * left out and trailing zeros are dropped (vectors of different lengths add as if padded).
 */
export function unitFields(cohort: string, requests: readonly number[], errors: readonly number[]): OutcomeFields {
  const fields: OutcomeFields = {};
  const r = trimmed(requests);
  const e = trimmed(errors);
  if (r.length) fields[unitField(cohort, 'ur')] = r;
  if (e.length) fields[unitField(cohort, 'ue')] = e;
  return fields;
}

function trimmed(counts: readonly number[]): number[] {
  let end = counts.length;
  while (end > 0 && !counts[end - 1]) end--;
  return counts.slice(0, end);
}

export function emptyUnits(): UnitCounts {
  return { requests: new Array<number>(UNIT_BUCKETS).fill(0), errors: new Array<number>(UNIT_BUCKETS).fill(0) };
}

/** "10", "10.0", "1e1" and "+10" are one bound: the spelling field names use ("10", "+Inf"). */
export function canonicalBound(key: string): string {
  return key === '+Inf' ? key : String(Number(key));
}

/**
 * The key of a bound in the histograms of OutcomeTotals made here: signed, as "+Inf" is ("+10").
 * A key that looks like an array index ("10", "1000") is kept by V8 as an element of a sparse
 * backing store, which is several times slower to build and to add than a named property, and
 * every analysis builds histograms. Number() reads "+10" as 10, so readers need not care.
 */
export function histogramKey(bound: string): string {
  return bound === '+Inf' || bound.startsWith('+') ? bound : `+${bound}`;
}

type ParsedField = readonly [cohort: string | undefined, kind: string | undefined, histogramKey: string | undefined];
/** Field names repeat across every bucket and flag (a few cohorts × kinds × bounds), so each is split once. */
const parsedFields = new Map<string, ParsedField>();
function parseField(field: string): ParsedField {
  let parsed = parsedFields.get(field);
  if (!parsed) {
    const [cohort, kind, bound] = field.split('\t');
    parsed = [cohort, kind, bound === undefined ? undefined : histogramKey(bound)] as const;
    if (parsedFields.size < 10_000) parsedFields.set(field, parsed);
  }
  return parsed;
}

/** Adds `source` into `target`, in place (vectors element by element; see store/counters.ts). */
export function addFields(target: OutcomeFields, source: OutcomeFields): OutcomeFields {
  return addCounters(target, source);
}

/** The sum of several field sets, as a new object (the sources are left as they are). */
export function sumFields(...sources: OutcomeFields[]): OutcomeFields {
  const sum: OutcomeFields = {};
  for (const source of sources) addCounters(sum, source);
  return sum;
}

/** Per-cohort totals of a field set; fields of other cohorts or kinds are ignored. */
export function totalsOf(fields: OutcomeFields): OutcomeTotals {
  return totalsOfSum(fields);
}

/**
 * What totalsOf(sumFields(...sources)) gives, without building the sum: each source is added into
 * the totals as it is (the rollout loop makes two totals of several windows for every rollout).
 */
export function totalsOfSum(...sources: OutcomeFields[]): OutcomeTotals {
  const totals = emptyTotals();
  for (const fields of sources) {
    for (const field in fields) {
      const n = fields[field]!;
      const [cohort, kind, bound] = parseField(field);
      if (cohort !== 'treatment' && cohort !== 'control') continue;
      const c: CohortTotals = totals[cohort];
      if (kind === 'ur' || kind === 'ue') addUnits(c, kind, n, bound);
      else if (typeof n !== 'number') continue;
      else if (kind === 'requests') c.requests += n;
      else if (kind === 'errors') c.errors += n;
      else if (kind === 'latsum') c.latencySumMs += n;
      else if (kind === 'le' && bound !== undefined) c.latencyBuckets[bound] = (c.latencyBuckets[bound] ?? 0) + n;
    }
  }
  return totals;
}

/** Adds per-user counts to a cohort's: a vector (one per kind), or one bucket's number in the first layout ("<cohort>\tur\t<bucket>"). */
function addUnits(c: CohortTotals, kind: 'ur' | 'ue', value: OutcomeFields[string], bound: string | undefined): void {
  if (typeof value === 'number') {
    if (bound === undefined) return;
    // Parsed as a histogram key ("+17"); Number() reads it back.
    const bucket = Number(bound);
    if (!(bucket >= 0 && bucket < UNIT_BUCKETS)) return;
    c.units ??= emptyUnits();
    (kind === 'ur' ? c.units.requests : c.units.errors)[bucket]! += value;
    return;
  }
  if (bound !== undefined) return;
  if (!c.units) {
    // The first vector is copied rather than added to zeros: a tick does this for every rollout.
    const first = unitsFrom(value);
    c.units = kind === 'ur' ? { requests: first, errors: unitsFrom([]) } : { requests: unitsFrom([]), errors: first };
    return;
  }
  const into = kind === 'ur' ? c.units.requests : c.units.errors;
  const n = Math.min(value.length, UNIT_BUCKETS);
  for (let k = 0; k < n; k++) into[k]! += value[k]!;
}

/** UNIT_BUCKETS counts: `values` as far as they go, then zeros. */
function unitsFrom(values: readonly number[]): number[] {
  if (values.length >= UNIT_BUCKETS) return values.slice(0, UNIT_BUCKETS);
  const out = new Array<number>(UNIT_BUCKETS).fill(0);
  for (let k = 0; k < values.length; k++) out[k] = values[k]!;
  return out;
}

/** The field set of per-cohort totals (zeros left out, empty histogram buckets kept): the inverse of totalsOf. */
export function fieldsOf(totals: OutcomeTotals): OutcomeFields {
  const fields: OutcomeFields = {};
  for (const cohort of ['treatment', 'control'] as const) {
    const c = totals[cohort];
    if (c.requests) fields[cohortField(cohort, 'requests')] = c.requests;
    if (c.errors) fields[cohortField(cohort, 'errors')] = c.errors;
    if (c.latencySumMs) fields[cohortField(cohort, 'latsum')] = c.latencySumMs;
    for (const key in c.latencyBuckets) {
      const field = boundField(cohort, canonicalBound(key));
      fields[field] = ((fields[field] as number | undefined) ?? 0) + c.latencyBuckets[key]!;
    }
    if (c.units) Object.assign(fields, unitFields(cohort, c.units.requests, c.units.errors));
  }
  return fields;
}

/** Requests of one cohort in a field set. */
export function requestsIn(fields: OutcomeFields, cohort: 'treatment' | 'control'): number {
  const n = fields[cohortField(cohort, 'requests')];
  return typeof n === 'number' ? n : 0;
}
