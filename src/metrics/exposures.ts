import { z } from 'zod';
import type { CounterFields, Store } from '../store/port.js';

/** Exposure counts are kept per environment in one-minute buckets for two days. */
export const EXPOSURE_BUCKET_MS = 60_000;
const EXPOSURE_TTL_SECONDS = 2 * 24 * 3600;

export const clientMetricsSchema = z
  .object({
    appName: z.string().min(1),
    instanceId: z.string().optional(),
    environment: z.string().optional(),
    bucket: z.object({
      start: z.union([z.string(), z.number()]).optional(),
      stop: z.union([z.string(), z.number()]).optional(),
      toggles: z.record(
        z.string(),
        z.object({
          yes: z.number().int().nonnegative().default(0),
          no: z.number().int().nonnegative().default(0),
          variants: z.record(z.string(), z.number().int().nonnegative()).optional(),
        }),
      ),
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
export async function sumExposuresMany(store: Store, queries: ExposureQuery[]): Promise<ExposureCount[]> {
  const sums = await store.sumCounters(queries.map(bucketsOf));
  return sums.map(toCount);
}

/** Sums a flag's exposures over [from, to). */
export async function readExposures(store: Store, env: string, flag: string, from: number, to: number): Promise<ExposureCount> {
  return (await sumExposuresMany(store, [{ environment: env, flag, from, to }]))[0]!;
}
