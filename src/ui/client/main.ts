import { ApiError, endSession, forgetToken, getJson, storedToken, storeToken, useSession, whenUnauthorized } from './api.js';
import { redrawOnResize } from './chart.js';
import { h, render } from './dom.js';
import { t } from './i18n.js';
import { languageSwitch, localizeShell } from './lang.js';
import { auditPage } from './pages/audit.js';
import { flagPage } from './pages/flag.js';
import { flagEditorPage } from './pages/flag-editor.js';
import { segmentsPage } from './pages/segments.js';
import { policiesPage } from './pages/policies.js';
import { rolloutStartPage } from './pages/rollout-start.js';
import { flagsPage } from './pages/flags.js';
import { rolloutPage } from './pages/rollout.js';
import { rolloutsPage } from './pages/rollouts.js';
import { tokensPage } from './pages/tokens.js';
import { webhooksPage } from './pages/webhooks.js';
import { type AuthConfig, authConfig, signInPage } from './sign-in.js';
import { announce, clearError, showError } from './status.js';
import type { Me, Page, PageContext } from './types.js';

/**
 * The dashboard's shell: sign-in (with the organisation's OpenID Connect, or an admin token), the top bar, and a hash router
 * (#/rollouts, #/rollouts/<id>, #/flags, #/flags/<name>, #/audit, #/webhooks, #/tokens), so the server only ever serves one page.
 */

const PAGES: Record<string, Page> = {
  rollouts: rolloutsPage,
  rollout: rolloutPage,
  flags: flagsPage,
  flag: flagPage,
  'flag-edit': flagEditorPage,
  segments: segmentsPage,
  policies: policiesPage,
  'rollout-start': rolloutStartPage,
  audit: auditPage,
  webhooks: webhooksPage,
  tokens: tokensPage,
};

const main = () => document.getElementById('main')!;
let leavePage: (() => void) | undefined;

function parseHash(): { page: string; param?: string; query: URLSearchParams } {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name = 'rollouts', param] = path.split('/');
  if (name === 'rollouts' && param) return { page: 'rollout', param: decodeURIComponent(param), query: new URLSearchParams(search) };
  if (name === 'flags' && param) return { page: 'flag', param: decodeURIComponent(param), query: new URLSearchParams(search) };
  return { page: PAGES[name] ? name : 'rollouts', param: param ? decodeURIComponent(param) : undefined, query: new URLSearchParams(search) };
}

function showPage(me: Me): void {
  leavePage?.();
  const { page, param, query } = parseHash();
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    const current =
      link.dataset.page === (page === 'rollout' ? 'rollouts' : page === 'flag' || page === 'flag-edit' || page === 'rollout-start' ? 'flags' : page);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = t('Rollout controller');
  const ctx: PageContext = { me, can: (p) => me.permissions.includes(p), param, query };
  leavePage = PAGES[page]!(main(), ctx);
}

function signOut(message?: string): void {
  leavePage?.();
  leavePage = undefined;
  forgetToken();
  useSession(undefined);
  window.removeEventListener('hashchange', onHashChange);
  document.getElementById('nav')!.hidden = true;
  document.getElementById('who')!.hidden = true;
  clearError();
  void signInForm(message);
}

let onHashChange = () => {};
/** Draws what is shown now again, after the language changed. */
let redraw = () => {};

/** Signing out of a session ends it on the controller too, so the cookie is worth nothing from then on. */
async function signOutClicked(me: Me): Promise<void> {
  if (me.via === 'session') {
    try {
      await endSession();
    } catch (err) {
      showError(err);
      return;
    }
  }
  signOut();
}

function startSession(me: Me): void {
  useSession(me);
  const who = document.getElementById('who')!;
  render(
    who,
    h('span', { 'data-role': me.role, title: me.email ?? '', translate: 'no', 'data-raw': '' }, `${me.name} · ${me.role}`),
    h('button', { type: 'button', class: 'secondary', onClick: () => void signOutClicked(me) }, t('Sign out')),
  );
  who.hidden = false;
  // Tokens are for admins only; the page says so too, but the link is not offered to others.
  document.querySelector<HTMLElement>('#nav a[data-page="tokens"]')!.hidden = !me.permissions.includes('tokens:manage');
  document.getElementById('nav')!.hidden = false;
  redraw = () => startSession(me);
  window.removeEventListener('hashchange', onHashChange);
  onHashChange = () => showPage(me);
  window.addEventListener('hashchange', onHashChange);
  showPage(me);
}

async function signInForm(message?: string, config?: AuthConfig): Promise<void> {
  redraw = () => void signInForm(message, config);
  signInPage(
    main(),
    config ?? (await authConfig()),
    (token, me) => {
      storeToken(token);
      announce(t('Signed in as {name} ({role})', { name: me.name, role: me.role }));
      startSession(me);
    },
    message,
  );
}

async function boot(): Promise<void> {
  redrawOnResize();
  localizeShell();
  document.title = t('Rollout controller');
  render(
    document.getElementById('language-switch')!,
    languageSwitch(() => redraw()),
  );
  whenUnauthorized(() => signOut(storedToken() ? t('Your token is no longer accepted; sign in again.') : t('Your session has ended; sign in again.')));
  const token = storedToken();
  const config = token ? undefined : await authConfig();
  // A stored token, else a live session cookie; with neither, nothing to try.
  if (!token && !config?.signedIn) return signInForm(undefined, config);
  try {
    startSession(await getJson<Me>('/api/admin/me', { token: token ?? undefined, probe: true }));
  } catch (err) {
    signOut(err instanceof ApiError ? undefined : t('Cannot reach the controller: {reason}', { reason: (err as Error).message }));
  }
}

void boot();
