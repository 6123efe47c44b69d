import { emptyTotals } from './outcome-math.js';
import { UNIT_BUCKETS, type CohortTotals, type OutcomeFields, type OutcomeTotals, type UnitCounts } from './outcome-model.js';

export type { OutcomeFields };

/**
 * Outcomes as flat counter fields, the form they are stored and summed in:
 * "<cohort>\trequests", "<cohort>\terrors", "<cohort>\tlatsum", "<cohort>\tle\t<bound>", and per
 * hashed user bucket "<cohort>\tur\t<bucket>" (requests) and "<cohort>\tue\t<bucket>" (errors)
 * (tab-separated: a tab cannot appear in a cohort, a bound or a bucket number).
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

/** The field of one hashed user bucket's requests ('ur') or errors ('ue'). */
export function unitField(cohort: string, kind: 'ur' | 'ue', bucket: number): string {
  return `${cohort}\t${kind}\t${bucket}`;
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

/** Adds `source` into `target`, in place. */
export function addFields(target: OutcomeFields, source: OutcomeFields): OutcomeFields {
  for (const field in source) target[field] = (target[field] ?? 0) + source[field]!;
  return target;
}

/** The sum of several field sets, as a new object (the sources are left as they are). */
export function sumFields(...sources: OutcomeFields[]): OutcomeFields {
  const sum: OutcomeFields = {};
  for (const source of sources) addFields(sum, source);
  return sum;
}

/** Per-cohort totals of a field set; fields of other cohorts or kinds are ignored. */
export function totalsOf(fields: OutcomeFields): OutcomeTotals {
  const totals = emptyTotals();
  for (const field in fields) {
    const n = fields[field]!;
    const [cohort, kind, bound] = parseField(field);
    if (cohort !== 'treatment' && cohort !== 'control') continue;
    const c: CohortTotals = totals[cohort];
    if (kind === 'requests') c.requests += n;
    else if (kind === 'errors') c.errors += n;
    else if (kind === 'latsum') c.latencySumMs += n;
    else if (kind === 'le' && bound !== undefined) c.latencyBuckets[bound] = (c.latencyBuckets[bound] ?? 0) + n;
    else if ((kind === 'ur' || kind === 'ue') && bound !== undefined) {
      // Parsed as a histogram key ("+17"); Number() reads it back.
      const bucket = Number(bound);
      if (!(bucket >= 0 && bucket < UNIT_BUCKETS)) continue;
      c.units ??= emptyUnits();
      (kind === 'ur' ? c.units.requests : c.units.errors)[bucket]! += n;
    }
  }
  return totals;
}

/** The field set of per-cohort totals (zeros left out, empty histogram buckets kept): the inverse of totalsOf. */
export function fieldsOf(totals: OutcomeTotals): OutcomeFields {
  const fields: OutcomeFields = {};
  for (const cohort of ['treatment', 'control'] as const) {
    const c = totals[cohort];
    if (c.requests) fields[cohortField(cohort, 'requests')] = c.requests;
    if (c.errors) fields[cohortField(cohort, 'errors')] = c.errors;
    if (c.latencySumMs) fields[cohortField(cohort, 'latsum')] = c.latencySumMs;
    for (const key in c.latencyBuckets)
      fields[boundField(cohort, canonicalBound(key))] = (fields[boundField(cohort, canonicalBound(key))] ?? 0) + c.latencyBuckets[key]!;
    c.units?.requests.forEach((n, k) => {
      if (n) fields[unitField(cohort, 'ur', k)] = n;
    });
    c.units?.errors.forEach((n, k) => {
      if (n) fields[unitField(cohort, 'ue', k)] = n;
    });
  }
  return fields;
}

/** Requests of one cohort in a field set. */
export function requestsIn(fields: OutcomeFields, cohort: 'treatment' | 'control'): number {
  return fields[cohortField(cohort, 'requests')] ?? 0;
}
