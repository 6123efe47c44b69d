import { RETURN_TO_MAX_CHARS, RETURN_TO_PATTERN } from '../../people/browser-contract.js';
import { ApiError, getJson } from './api.js';
import { h, render } from './dom.js';
import { t } from './i18n.js';
import type { Me } from './types.js';

/**
 * The sign-in page: "Sign in with your organisation" when the controller has OpenID Connect set up
 * (GET /auth/config says so), and an admin token for everyone else (and for when the identity
 * provider is away). The organisation's sign-in is a plain link: the browser goes to the provider
 * and comes back with a session cookie the page never sees.
 */

export interface AuthConfig {
  oidc: boolean;
  loginUrl?: string;
  /** The browser holds a live session cookie. */
  signedIn: boolean;
}

/** What the controller offers; a controller that cannot say is taken to offer tokens only. */
export async function authConfig(): Promise<AuthConfig> {
  try {
    const res = await fetch('/auth/config', { cache: 'no-store' });
    return res.ok ? ((await res.json()) as AuthConfig) : { oidc: false, signedIn: false };
  } catch {
    return { oidc: false, signedIn: false };
  }
}

/** A pasted token as people copy it: from a header (`Bearer …`, `Authorization: Bearer …`) or with spaces around. */
export function pastedToken(text: string): string {
  return text
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .trim();
}

/** Why a pasted token does not sign anyone in, in words that say what to do instead. */
export function tokenRefusal(err: unknown): string {
  if (!(err instanceof ApiError)) return t('Sign-in failed: {reason}', { reason: (err as Error).message });
  if (err.status === 401) return t('That is not an admin token this controller knows (it may have been deleted).');
  switch (err.details?.tokenKind) {
    case 'client':
      return t('This is a client token, for server SDKs: sign in with an admin token.');
    case 'frontend':
      return t('This is a frontend token, for browser SDKs: sign in with an admin token.');
    case 'alert':
      return t('This is an alert token, for monitoring systems: sign in with an admin token.');
  }
  return err.status === 403 ? t('That token may not use the dashboard: sign in with an admin token.') : t('Sign-in failed: {reason}', { reason: err.message });
}

/** Renders the sign-in page into `main`; `onToken` is called with a pasted token that signs an admin in, and who that is. */
export function signInPage(main: HTMLElement, config: AuthConfig, onToken: (token: string, me: Me) => void, message?: string): void {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { id: 'signin-error', class: 'error-text', role: 'alert' }, message ?? '');
  const returnTo = RETURN_TO_PATTERN.test(location.hash) && location.hash.length <= RETURN_TO_MAX_CHARS ? location.hash : '#/rollouts';
  const organisation = config.oidc
    ? [
        h(
          'a',
          { class: 'button primary', id: 'signin-oidc', href: `${config.loginUrl ?? '/auth/login'}?returnTo=${encodeURIComponent(returnTo)}` },
          t('Sign in with your organisation'),
        ),
        h('p', { class: 'muted small' }, t('Or, for automation and for people without an organisation account:')),
      ]
    : [];
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, t('Sign in')),
    organisation,
    h('p', {}, t('Paste an admin token. It is kept in this tab only (session storage) and sent with each request.')),
    h('label', { for: 'token' }, t('Admin token')),
    input,
    error,
    h('button', { type: 'submit', class: config.oidc ? 'secondary' : 'primary' }, config.oidc ? t('Sign in with the token') : t('Sign in')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = pastedToken(input.value);
    try {
      onToken(token, await getJson<Me>('/api/admin/me', { token }));
    } catch (err) {
      error.textContent = tokenRefusal(err);
      input.focus();
    }
  });
  render(main, form);
  (document.getElementById('signin-oidc') ?? input).focus();
}
