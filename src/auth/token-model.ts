import { hash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { environmentNameSchema } from '../flags/schema.js';

export const TOKENS = 'tokens';

export const ROLES = ['viewer', 'editor', 'release-manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const TOKEN_KINDS = ['client', 'frontend', 'alert', 'admin'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** The most environments one alert token is bound to (README, "Limits"). */
export const MAX_ALERT_TOKEN_ENVIRONMENTS = 20;

/** An alert token's environments: at least one, each once. */
const alertEnvironmentsSchema = z
  .array(environmentNameSchema)
  .min(1, 'an alert token needs at least one environment')
  .max(MAX_ALERT_TOKEN_ENVIRONMENTS)
  .refine((names) => new Set(names).size === names.length, 'each environment once');

export const createTokenSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('client'), environment: environmentNameSchema, name: z.string().min(1).max(100) }),
    z.object({ kind: z.literal('frontend'), environment: environmentNameSchema, name: z.string().min(1).max(100) }),
    /** Monitoring systems (Alertmanager, anything that can POST): only /api/alerts/*, only for these environments. */
    z.object({ kind: z.literal('alert'), environments: alertEnvironmentsSchema, name: z.string().min(1).max(100) }),
    z.object({ kind: z.literal('admin'), role: z.enum(ROLES), name: z.string().min(1).max(100) }),
  ])
  .meta({ id: 'CreateToken' });
export type CreateToken = z.infer<typeof createTokenSchema>;

/** What is stored: never the secret, only its SHA-256 (secrets are 192 random bits, so a fast hash is enough). */
export interface StoredToken {
  id: string;
  name: string;
  kind: TokenKind;
  /** The one environment of a client or frontend token. */
  environment?: string;
  /** The environments of an alert token. */
  environments?: string[];
  role?: Role;
  secretHash: string;
  /** First characters of the secret, so people can tell tokens apart without the secret. */
  hint: string;
  createdAt: string;
  createdBy: string;
}

/**
 * A stored token, as the token index reads it and a restore checks it: an admin token has a role,
 * an alert token its environments, the others an environment, or they would grant nothing (or,
 * worse, be taken for something else).
 */
export const storedTokenSchema = z
  .object({
    id: z.string().min(1),
    name: z.string(),
    kind: z.enum(TOKEN_KINDS),
    environment: environmentNameSchema.optional(),
    environments: alertEnvironmentsSchema.optional(),
    role: z.enum(ROLES).optional(),
    secretHash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
    hint: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .superRefine((t, ctx) => {
    if (t.kind === 'admin' && !t.role) ctx.addIssue({ code: 'custom', path: ['role'], message: 'an admin token needs a role' });
    if (t.kind === 'alert' && !t.environments) ctx.addIssue({ code: 'custom', path: ['environments'], message: 'an alert token needs its environments' });
    if ((t.kind === 'client' || t.kind === 'frontend') && !t.environment)
      ctx.addIssue({ code: 'custom', path: ['environment'], message: `a ${t.kind} token needs an environment` });
  }) satisfies z.ZodType<StoredToken>;

export type PublicToken = Omit<StoredToken, 'secretHash'>;

export function hashSecret(secret: string): string {
  // The one-shot hash: every request to a token route pays for this, and it makes no Hash object.
  return hash('sha256', secret, 'hex');
}

/**
 * Secrets read like Unleash's ("<kind>:<environment>.<random>") so people can tell them apart at a
 * glance; an alert token's read "alert:<first environment>+<how many more>.<random>".
 */
export function generateSecret(kind: StoredToken['kind'], environment: string | undefined, random = randomBytes): string {
  return `${kind}:${environment ?? '*'}.${random(24).toString('hex')}`;
}

/** The environment part of a new token's secret: its one environment, or an alert token's first and how many more. */
export function secretEnvironment(input: CreateToken): string | undefined {
  switch (input.kind) {
    case 'admin':
      return undefined;
    case 'alert':
      return input.environments.length === 1 ? input.environments[0] : `${input.environments[0]}+${input.environments.length - 1}`;
    default:
      return input.environment;
  }
}

/** Every environment a token is bound to (none for an admin token). */
export function tokenEnvironments(token: Pick<StoredToken, 'environment' | 'environments'>): string[] {
  return token.environments ?? (token.environment ? [token.environment] : []);
}

export function secretHint(secret: string): string {
  return `${secret.slice(0, secret.indexOf('.') + 5)}…`;
}

export function toPublicToken(token: StoredToken): PublicToken {
  const { secretHash: _hidden, ...rest } = token;
  return rest;
}
