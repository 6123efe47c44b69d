import { z } from 'zod';
import type { Store } from '../store/port.js';

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

export function exposureBucket(env: string, at: number): string {
  return `exposure:${env}:${Math.floor(at / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS}`;
}

/** Counter field names: "<flag>\tyes", "<flag>\tno", "<flag>\tv\t<variant>" (a tab cannot appear in a flag name). */
export function exposureFields(toggles: ClientMetrics['bucket']['toggles']): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [flag, t] of Object.entries(toggles)) {
    if (t.yes) fields[`${flag}\tyes`] = t.yes;
    if (t.no) fields[`${flag}\tno`] = t.no;
    for (const [variant, n] of Object.entries(t.variants ?? {})) if (n) fields[`${flag}\tv\t${variant}`] = n;
  }
  return fields;
}

/** Counts a metrics report into the bucket of the minute it arrived in (SDK clocks are not trusted). */
export async function recordExposures(store: Store, env: string, metrics: ClientMetrics, now: number): Promise<void> {
  const fields = exposureFields(metrics.bucket.toggles);
  if (Object.keys(fields).length === 0) return;
  await store.incrementCounters(exposureBucket(env, now), fields, EXPOSURE_TTL_SECONDS);
}

/** Sums a flag's exposures over [from, to), bucket by bucket. */
export async function readExposures(store: Store, env: string, flag: string, from: number, to: number): Promise<ExposureCount> {
  const total: ExposureCount = { yes: 0, no: 0, variants: {} };
  for (let t = Math.floor(from / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS; t < to; t += EXPOSURE_BUCKET_MS) {
    const counters = await store.readCounters(exposureBucket(env, t));
    for (const [field, n] of Object.entries(counters)) {
      const [name, kind, variant] = field.split('\t');
      if (name !== flag) continue;
      if (kind === 'yes') total.yes += n;
      else if (kind === 'no') total.no += n;
      else if (kind === 'v' && variant !== undefined) total.variants[variant] = (total.variants[variant] ?? 0) + n;
    }
  }
  return total;
}
