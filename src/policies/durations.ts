import { z } from 'zod';
import { keyedUnion } from '../validation/schema-errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "10m", "24h", "2d", or a number of milliseconds. */
export const durationSchema = keyedUnion(
  [z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 30s, 10m or 24h')],
  'a duration',
  'such as 30s, 10m or 24h, or a number of milliseconds',
).transform((value) => {
  if (typeof value === 'number') return value;
  const [, amount, unit] = value.match(/^([\d.]+)(ms|s|m|h|d)$/)!;
  return Math.round(Number(amount) * UNITS[unit!]!);
});

export { formatDuration } from './duration-text.js';
