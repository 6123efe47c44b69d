import { z } from 'zod';
import { ROLES } from '../auth/token-model.js';
import { environmentNameSchema } from '../flags/schema.js';
import { durationSchema } from '../policies/durations.js';
// Choice errors name the allowed values (installed by this module; see there).
import '../validation/schema-errors.js';

/** Store collection of declared environments, one document per name. */
export const ENVIRONMENTS = 'environments';

/**
 * Minimums every policy used in an environment must meet. They are checked when a rollout starts
 * (a policy may be fine for staging and not for production), never when a policy is written.
 */
export const environmentRulesSchema = z
  .object({
    /**
     * Every step, the first included, must ask for at least `required` approvals, and only from
     * roles listed here (a policy that lets a viewer approve would defeat the point).
     * Without `roles`, only the count is enforced.
     */
    approval: z
      .object({
        required: z.number().int().min(1, 'at least 1 (leave out "approval" to ask for none)').max(10),
        roles: z.array(z.enum(ROLES)).min(1).optional(),
      })
      .strict()
      .optional(),
    /** Every step must last at least this long ("5m", "1h" or milliseconds; stored in milliseconds). */
    minStepDuration: durationSchema.optional(),
    /** The policy must have at least one rollback rule, so a bad step is undone without a person. */
    requireRollbackRules: z.boolean().optional(),
    /** The policy must have at least one gate, so no step advances on time alone. */
    requireGates: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'EnvironmentRules' });

export const environmentSchema = z
  .object({
    name: environmentNameSchema,
    description: z.string().max(1000).optional(),
    /** Who answers for it: a team, a person or an address, free text. */
    owner: z.string().min(1).max(200).optional(),
    rules: environmentRulesSchema.optional(),
  })
  .strict()
  .meta({ id: 'Environment' });

/** PUT /api/admin/environments/{name}: the name comes from the path (a name in the body must match it). */
export const environmentBodySchema = environmentSchema
  .partial({ name: true })
  .extend({ reason: z.string().max(1000).optional() })
  .strict()
  .meta({ id: 'EnvironmentInput' });

export type EnvironmentRules = z.output<typeof environmentRulesSchema>;
export type Environment = z.output<typeof environmentSchema>;
export type EnvironmentInput = z.input<typeof environmentSchema>;
