import { z } from 'zod';
import { dependencySchema, flagNameSchema, segmentSchema, strategySchema, variantSchema } from './schema.js';
import { uniqueNames } from '../validation/schema-errors.js';

/**
 * Exactly what Unleash's GET /api/client/features returns, so a team can migrate by piping one into
 * the other. Fields Unleash adds that do not affect evaluation (createdAt, lastSeenAt, …) are ignored.
 */
export const importedFeatureSchema = z.object({
  name: flagNameSchema,
  type: z.string().min(1).default('release'),
  description: z.string().nullish(),
  project: z.string().min(1).default('default'),
  enabled: z.boolean(),
  stale: z.boolean().default(false),
  impressionData: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  strategies: z.array(strategySchema),
  variants: z
    .array(variantSchema)
    .nullish()
    .transform((v) => v ?? []),
  dependencies: z
    .array(dependencySchema)
    .nullish()
    .transform((v) => v ?? []),
});

export const importPayloadSchema = z
  .object({
    version: z.number().int().optional(),
    features: uniqueNames(z.array(importedFeatureSchema), 'flag'),
    segments: z.array(segmentSchema).optional(),
  })
  .meta({ id: 'ClientFeaturesPayload' });

export type ImportPayload = z.infer<typeof importPayloadSchema>;
