import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ROLES, type Role } from '../auth/token-model.js';

/**
 * A person's session, as the store keeps it (collection `sessions`, so every replica knows it).
 * The cookie holds a 256-bit random secret; the store holds only its SHA-256 as the document id,
 * so reading the store (or a backup of it) gives no session away. The CSRF token is derived from
 * the secret, so it is stored nowhere and cannot be had from the store either.
 */
export const SESSIONS = 'sessions';

/** A session's person ends their oldest sessions by signing in once more than this (README, "Limits"). */
export const MAX_SESSIONS_PER_PERSON = 20;

export interface SessionPerson {
  /** Stable across sessions and sign-ins: `oidc:<issuer host and path>:<subject>`. */
  id: string;
  issuer: string;
  subject: string;
  name: string;
  email?: string;
}

export interface StoredSession {
  person: SessionPerson;
  role: Role;
  createdAt: string;
  expiresAt: string;
}

/** What the store holds is read back through this: a document that does not fit is no session. */
export const storedSessionSchema = z.object({
  person: z.object({
    id: z.string().min(1).max(1_200),
    issuer: z.string().min(1),
    subject: z.string().min(1),
    name: z.string().min(1),
    email: z.string().optional(),
  }),
  role: z.enum(ROLES),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
}) satisfies z.ZodType<StoredSession>;

/**
 * A person's id is the issuer and the subject, which OpenID Connect guarantees stable and unique
 * together; the issuer's path is kept because one host can serve several issuers (Keycloak realms).
 */
export function personId(issuer: URL, subject: string): string {
  const path = issuer.pathname.replace(/\/+$/, '');
  return `oidc:${issuer.host}${path}:${subject}`;
}

export function newSessionSecret(random = randomBytes): string {
  return random(32).toString('base64url');
}

export function sessionDocumentId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The token a session's writes must send in X-CSRF-Token: a MAC of the session secret, so only its holder has it. */
export function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('rollout-controller csrf').digest('base64url');
}

/** Compares in constant time (both sides are hashed first, so not even the length tells anything). */
export function csrfTokenMatches(secret: string, sent: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(csrfTokenOf(secret)), digest(sent));
}

/** A session secret as the cookie carries it: 43 base64url characters (anything else is not worth a store read). */
export function looksLikeSessionSecret(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
