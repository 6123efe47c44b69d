import type { Config } from '../config/config.js';
import type { SessionAuthenticator } from '../http/auth.js';
import type { RouteSpec } from '../http/route.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/port.js';
import { authRoutes } from './auth-routes.js';
import { LoginStateSeal } from './login-state.js';
import { OidcClient } from './oidc-client.js';
import { oidcSettingsOf } from './oidc-config.js';
import { SessionCookies } from './session-cookies.js';
import { SessionGate } from './session-gate.js';
import { SessionService } from './session-service.js';

export interface People {
  /** /auth/* (always: /auth/config tells the dashboard whether OIDC sign-in is offered). */
  routes: RouteSpec[];
  /** What lets admin routes take a session cookie; undefined when OIDC is off (tokens only). */
  sessions: SessionAuthenticator | undefined;
}

/** People signing in with OpenID Connect, built from the configuration (src/people/oidc-config.ts). */
export function createPeople(deps: { config: Config; store: Store; logger: Logger; now: () => Date }): People {
  const settings = oidcSettingsOf(deps.config);
  if (!settings) return { routes: authRoutes(undefined), sessions: undefined };
  const logger = deps.logger.child({ component: 'sign-in' });
  const cookies = new SessionCookies(settings.secureCookies);
  const sessions = new SessionService(deps.store, deps.now, settings.sessionTtlMs);
  const gate = new SessionGate(sessions, cookies);
  const client = new OidcClient(settings, logger);
  const seal = new LoginStateSeal(settings.clientSecret);
  logger.info({ issuer: settings.issuer.href, redirectUri: settings.redirectUri }, 'people may sign in with OpenID Connect');
  if (!settings.secureCookies && !isLoopback(new URL(settings.publicUrl).hostname))
    logger.warn({ publicUrl: settings.publicUrl }, 'PUBLIC_URL is plain http: session cookies travel unencrypted; serve the dashboard over https');
  return { routes: authRoutes({ settings, client, seal, cookies, sessions, gate, logger, now: deps.now }), sessions: gate };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
