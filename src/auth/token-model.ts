import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { environmentNameSchema } from '../flags/schema.js';

export const TOKENS = 'tokens';

export const ROLES = ['viewer', 'editor', 'release-manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const createTokenSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('client'), environment: environmentNameSchema, name: z.string().min(1).max(100) }),
    z.object({ kind: z.literal('frontend'), environment: environmentNameSchema, name: z.string().min(1).max(100) }),
    z.object({ kind: z.literal('admin'), role: z.enum(ROLES), name: z.string().min(1).max(100) }),
  ])
  .meta({ id: 'CreateToken' });
export type CreateToken = z.infer<typeof createTokenSchema>;

/** What is stored: never the secret, only its SHA-256 (secrets are 192 random bits, so a fast hash is enough). */
export interface StoredToken {
  id: string;
  name: string;
  kind: 'client' | 'frontend' | 'admin';
  environment?: string;
  role?: Role;
  secretHash: string;
  /** First characters of the secret, so people can tell tokens apart without the secret. */
  hint: string;
  createdAt: string;
  createdBy: string;
}

/**
 * A stored token, as the token index reads it and a restore checks it: an admin token has a role,
 * the others an environment, or they would grant nothing (or, worse, be taken for something else).
 */
export const storedTokenSchema = z
  .object({
    id: z.string().min(1),
    name: z.string(),
    kind: z.enum(['client', 'frontend', 'admin']),
    environment: environmentNameSchema.optional(),
    role: z.enum(ROLES).optional(),
    secretHash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
    hint: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .superRefine((t, ctx) => {
    if (t.kind === 'admin' && !t.role) ctx.addIssue({ code: 'custom', path: ['role'], message: 'an admin token needs a role' });
    if (t.kind !== 'admin' && !t.environment) ctx.addIssue({ code: 'custom', path: ['environment'], message: `a ${t.kind} token needs an environment` });
  }) satisfies z.ZodType<StoredToken>;

export type PublicToken = Omit<StoredToken, 'secretHash'>;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Secrets read like Unleash's ("<kind>:<environment>.<random>") so people can tell them apart at a glance. */
export function generateSecret(kind: StoredToken['kind'], environment: string | undefined, random = randomBytes): string {
  return `${kind}:${environment ?? '*'}.${random(24).toString('hex')}`;
}

export function secretHint(secret: string): string {
  return `${secret.slice(0, secret.indexOf('.') + 5)}…`;
}

export function toPublicToken(token: StoredToken): PublicToken {
  const { secretHash: _hidden, ...rest } = token;
  return rest;
}
