import { z } from 'zod';
import type { CounterFields, Store } from '../store/port.js';
import { appNameSchema, reportedFlagNameSchema, reportedNameSchema, sdkTextSchema } from './sdk-fields.js';

/** Exposure counts are kept per environment in one-minute buckets for two days. */
export const EXPOSURE_BUCKET_MS = 60_000;
export const EXPOSURE_TTL_SECONDS = 2 * 24 * 3600;

/** Flags one metrics report may count, and variants per flag: far more than an application evaluates. */
export const MAX_REPORTED_FLAGS = 5_000;
export const MAX_REPORTED_VARIANTS = 100;

const atMost = (max: number) => (record: Record<string, unknown>) => Object.keys(record).length <= max;

export const clientMetricsSchema = z
  .object({
    appName: appNameSchema,
    instanceId: sdkTextSchema.optional(),
    environment: sdkTextSchema.optional(),
    bucket: z.object({
      start: z.union([sdkTextSchema, z.number()]).optional(),
      stop: z.union([sdkTextSchema, z.number()]).optional(),
      toggles: z
        .record(
          reportedFlagNameSchema,
          z.object({
            yes: z.number().int().nonnegative().default(0),
            no: z.number().int().nonnegative().default(0),
            variants: z
              .record(reportedNameSchema, z.number().int().nonnegative())
              .refine(atMost(MAX_REPORTED_VARIANTS), `at most ${MAX_REPORTED_VARIANTS} variants`)
              .optional(),
          }),
        )
        .refine(atMost(MAX_REPORTED_FLAGS), `at most ${MAX_REPORTED_FLAGS} flags`),
    }),
  })
  .meta({ id: 'ClientMetrics' });
export type ClientMetrics = z.infer<typeof clientMetricsSchema>;

export interface ExposureCount {
  yes: number;
  no: number;
  variants: Record<string, number>;
}

/**
 * One bucket per environment, flag and minute, so that a rollout's traffic checks read only its
 * own flag's counters (fields "yes", "no", "v\t<variant>").
 */
export function exposureBucket(env: string, flag: string, at: number): string {
  return `exposure:${env}:${flag}:${Math.floor(at / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS}`;
}

function exposureFields(t: ClientMetrics['bucket']['toggles'][string]): Record<string, number> {
  const fields: Record<string, number> = {};
  if (t.yes) fields.yes = t.yes;
  if (t.no) fields.no = t.no;
  for (const [variant, n] of Object.entries(t.variants ?? {})) if (n) fields[`v\t${variant}`] = n;
  return fields;
}

/**
 * Only the flags `known` says exist: an SDK may report any name, and counters for names nobody
 * serves would only fill the store (they expire, but a token could make new ones without end).
 */
export function knownToggles(toggles: ClientMetrics['bucket']['toggles'], known: (flag: string) => boolean): ClientMetrics['bucket']['toggles'] {
  return Object.fromEntries(Object.entries(toggles).filter(([flag]) => known(flag)));
}

/** Counts a metrics report into the bucket of the minute it arrived in (SDK clocks are not trusted). */
export async function recordExposures(store: Store, env: string, metrics: ClientMetrics, now: number): Promise<void> {
  await Promise.all(
    Object.entries(metrics.bucket.toggles).map(([flag, toggle]) => {
      const fields = exposureFields(toggle);
      return Object.keys(fields).length === 0 ? undefined : store.incrementCounters(exposureBucket(env, flag, now), fields, EXPOSURE_TTL_SECONDS);
    }),
  );
}

export interface ExposureQuery {
  environment: string;
  flag: string;
  from: number;
  to: number;
}

function bucketsOf(q: ExposureQuery): string[] {
  const buckets: string[] = [];
  for (let t = Math.floor(q.from / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS; t < q.to; t += EXPOSURE_BUCKET_MS)
    buckets.push(exposureBucket(q.environment, q.flag, t));
  return buckets;
}

/** Exposures are counted in numbers only; a field holding anything else counts as none. */
function toCount(counters: CounterFields): ExposureCount {
  const n = (v: CounterFields[string] | undefined) => (typeof v === 'number' ? v : 0);
  const total: ExposureCount = { yes: n(counters.yes), no: n(counters.no), variants: {} };
  for (const [field, v] of Object.entries(counters)) if (field.startsWith('v\t')) total.variants[field.slice(2)] = n(v);
  return total;
}

/** Sums several flags' exposures over their windows [from, to), whole minutes, in one store call. */
export async function sumExposuresMany(store: Pick<Store, 'sumCounters'>, queries: ExposureQuery[]): Promise<ExposureCount[]> {
  const sums = await store.sumCounters(queries.map(bucketsOf));
  return sums.map(toCount);
}

/** Sums a flag's exposures over [from, to). */
export async function readExposures(store: Store, env: string, flag: string, from: number, to: number): Promise<ExposureCount> {
  return (await sumExposuresMany(store, [{ environment: env, flag, from, to }]))[0]!;
}
