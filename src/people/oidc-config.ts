import { z } from 'zod';
import { formatDuration } from '../policies/durations.js';
import { parseRoleMap, type RoleRule } from './role-map.js';

/**
 * Sign-in with OpenID Connect, configured in the environment (docs/operations.md). Off unless
 * OIDC_ISSUER is set; then OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ROLE_MAP and PUBLIC_URL are
 * needed too (the redirect URI is PUBLIC_URL/auth/callback, and the session cookie is `Secure`
 * when PUBLIC_URL is https: the controller itself never terminates TLS).
 */

const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .optional()
    .transform((v) => v?.trim() || undefined);

/** Hosts an identity provider may be reached on over plain http: this machine only (a provider in a test, on a laptop). */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What is wrong with an issuer URL, one thing at a time. */
function issuerProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'a URL, e.g. https://login.example.com/realms/main';
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
    return 'an https:// URL (plain http:// only for a provider on localhost)';
  if (url.search || url.hash) return 'the issuer URL, without a ?query or #fragment';
  return undefined;
}

const SESSION_TTL_MIN_MS = 5 * 60_000;
const SESSION_TTL_MAX_MS = 30 * 86_400_000;
const SESSION_TTL_DEFAULT = '12h';

/** "12h", "30m", "7d": a session's lifetime. */
const sessionTtl = z
  .string()
  .trim()
  .regex(/^\d+(?:\.\d+)?(m|h|d)$/, 'a duration such as 30m, 12h or 7d')
  .transform((text) => {
    const [, amount, unit] = /^([\d.]+)([mhd])$/.exec(text)!;
    return Math.round(Number(amount) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'm' | 'h' | 'd']);
  })
  .pipe(
    z
      .number()
      .min(SESSION_TTL_MIN_MS, `at least ${formatDuration(SESSION_TTL_MIN_MS)}`)
      .max(SESSION_TTL_MAX_MS, `at most ${formatDuration(SESSION_TTL_MAX_MS)}`),
  );

export const oidcConfigShape = {
  /** The provider's issuer URL (its discovery document is ISSUER/.well-known/openid-configuration). */
  OIDC_ISSUER: optionalText(500).pipe(
    z
      .string()
      .superRefine((v, ctx) => {
        const problem = issuerProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  ),
  OIDC_CLIENT_ID: optionalText(500),
  /** Also keys the encryption of the short-lived sign-in cookie, which is why it has a minimum length. */
  OIDC_CLIENT_SECRET: optionalText(2_000).pipe(z.string().min(16, 'at least 16 characters').optional()),
  /** Scopes asked for, separated by spaces; `openid` is always among them. */
  OIDC_SCOPES: z
    .string()
    .max(1_000)
    .optional()
    .transform((v) => v?.trim() || 'openid profile email')
    .pipe(z.string().regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'scopes separated by single spaces, e.g. "openid profile email groups"'))
    .transform((v) => [...new Set(['openid', ...v.split(' ')])]),
  /** The claim that holds a person's groups or roles (a dotted path for nested claims, e.g. realm_access.roles). */
  OIDC_ROLE_CLAIM: z
    .string()
    .optional()
    .transform((v) => v?.trim() || 'groups')
    .pipe(z.string().max(200, 'at most 200 characters')),
  /** `value=role` pairs, the first that matches wins, `*` for anyone (src/people/role-map.ts). */
  OIDC_ROLE_MAP: optionalText(20_000).transform((text, ctx): RoleRule[] | undefined => {
    if (text === undefined) return undefined;
    const parsed = parseRoleMap(text);
    if (parsed.ok) return parsed.rules;
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }),
  /** How long a session lasts after sign-in; then the person signs in again. */
  OIDC_SESSION_TTL: z
    .string()
    .optional()
    .transform((v) => v?.trim() || SESSION_TTL_DEFAULT)
    .pipe(sessionTtl),
};

type OidcConfig = z.infer<z.ZodObject<typeof oidcConfigShape>> & { PUBLIC_URL?: string };

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  roleClaim: string;
  roleRules: RoleRule[];
  sessionTtlMs: number;
  /** PUBLIC_URL: where the dashboard is, and where the provider sends people back to. */
  publicUrl: string;
  redirectUri: string;
  /** The session cookie is `Secure` (and named with the `__Host-` prefix). */
  secureCookies: boolean;
}

const NEEDED = ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ROLE_MAP'] as const;

/** What is wrong with the OIDC variables taken together, naming the variable; undefined when nothing is. */
export function oidcProblem(c: OidcConfig): string | undefined {
  if (!c.OIDC_ISSUER) {
    const stray = (['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ROLE_MAP'] as const).find((k) => c[k] !== undefined);
    return stray ? `OIDC_ISSUER: ${stray} is set but OIDC_ISSUER is not (sign-in with OpenID Connect needs the provider's issuer URL)` : undefined;
  }
  const missing = NEEDED.find((k) => c[k] === undefined);
  if (missing === 'OIDC_ROLE_MAP')
    return 'OIDC_ROLE_MAP: required with OIDC_ISSUER: which claim values give which role, e.g. "rollout-admins=admin,release-managers=release-manager,developers=editor,*=viewer"';
  if (missing) return `${missing}: required with OIDC_ISSUER`;
  if (!c.PUBLIC_URL)
    return 'PUBLIC_URL: required with OIDC_ISSUER: the dashboard’s address, e.g. https://rollouts.example.com (the provider sends people back to PUBLIC_URL/auth/callback)';
  return undefined;
}

/** The sign-in settings, or undefined when OIDC is off. Call on a configuration oidcProblem passed. */
export function oidcSettingsOf(c: OidcConfig): OidcSettings | undefined {
  if (!c.OIDC_ISSUER) return undefined;
  const publicUrl = c.PUBLIC_URL!;
  return {
    issuer: new URL(c.OIDC_ISSUER),
    clientId: c.OIDC_CLIENT_ID!,
    clientSecret: c.OIDC_CLIENT_SECRET!,
    scopes: c.OIDC_SCOPES,
    roleClaim: c.OIDC_ROLE_CLAIM,
    roleRules: c.OIDC_ROLE_MAP!,
    sessionTtlMs: c.OIDC_SESSION_TTL,
    publicUrl,
    redirectUri: `${publicUrl}/auth/callback`,
    secureCookies: new URL(publicUrl).protocol === 'https:',
  };
}
