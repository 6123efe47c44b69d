import { z } from 'zod';
import {
  authoredDependencySchema,
  authoredStrategySchema,
  authoredVariantSchema,
  dependencySchema,
  flagNameSchema,
  segmentSchema,
  storedFlagNameSchema,
  strategySchema,
  variantSchema,
} from './schema.js';
import { uniqueNames } from '../validation/schema-errors.js';

/**
 * Exactly what Unleash's GET /api/client/features returns, so a team can migrate by piping one into
 * the other. Fields Unleash adds that do not affect evaluation (createdAt, lastSeenAt, …) are ignored.
 * Held as it came (see Strictness in schema.ts): what authoring would refuse is kept and reported.
 */
function importedFeatureSchemaOf(parts: {
  name: z.ZodType<string>;
  strategy: typeof strategySchema;
  variant: typeof variantSchema;
  dependency: typeof dependencySchema;
}) {
  return z.object({
    name: parts.name,
    type: z.string().min(1).default('release'),
    description: z.string().nullish(),
    project: z.string().min(1).default('default'),
    enabled: z.boolean(),
    stale: z.boolean().default(false),
    impressionData: z
      .boolean()
      .nullish()
      .transform((v) => v ?? false),
    strategies: z.array(parts.strategy),
    variants: z
      .array(parts.variant)
      .nullish()
      .transform((v) => v ?? []),
    dependencies: z
      .array(parts.dependency)
      .nullish()
      .transform((v) => v ?? []),
  });
}

export const importedFeatureSchema = importedFeatureSchemaOf({
  name: storedFlagNameSchema,
  strategy: strategySchema,
  variant: variantSchema,
  dependency: dependencySchema,
});

/** The same feature as a person would have to write it: what it refuses in an imported one is what the import kept. */
export const authoredFeatureSchema = importedFeatureSchemaOf({
  name: flagNameSchema,
  strategy: authoredStrategySchema,
  variant: authoredVariantSchema,
  dependency: authoredDependencySchema,
});

export const importPayloadSchema = z
  .object({
    version: z.number().int().optional(),
    features: uniqueNames(z.array(importedFeatureSchema), 'flag'),
    segments: z.array(segmentSchema).optional(),
  })
  .meta({ id: 'ClientFeaturesPayload' });

export type ImportPayload = z.infer<typeof importPayloadSchema>;
