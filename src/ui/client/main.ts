import { ApiError, forgetToken, getJson, storedToken, storeToken, whenUnauthorized } from './api.js';
import { redrawOnResize } from './chart.js';
import { h, render } from './dom.js';
import { auditPage } from './pages/audit.js';
import { flagPage } from './pages/flag.js';
import { flagsPage } from './pages/flags.js';
import { rolloutPage } from './pages/rollout.js';
import { rolloutsPage } from './pages/rollouts.js';
import { webhooksPage } from './pages/webhooks.js';
import { announce, clearError } from './status.js';
import type { Me, Page, PageContext } from './types.js';

/**
 * The dashboard's shell: sign-in with an admin token, the top bar, and a hash router
 * (#/rollouts, #/rollouts/<id>, #/flags, #/flags/<name>, #/audit, #/webhooks), so the server only ever serves one page.
 */

const PAGES: Record<string, Page> = {
  rollouts: rolloutsPage,
  rollout: rolloutPage,
  flags: flagsPage,
  flag: flagPage,
  audit: auditPage,
  webhooks: webhooksPage,
};

const main = () => document.getElementById('main')!;
let leavePage: (() => void) | undefined;

function parseHash(): { page: string; param?: string; query: URLSearchParams } {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name = 'rollouts', param] = path.split('/');
  if (name === 'rollouts' && param) return { page: 'rollout', param: decodeURIComponent(param), query: new URLSearchParams(search) };
  if (name === 'flags' && param) return { page: 'flag', param: decodeURIComponent(param), query: new URLSearchParams(search) };
  return { page: PAGES[name] ? name : 'rollouts', query: new URLSearchParams(search) };
}

function showPage(me: Me): void {
  leavePage?.();
  const { page, param, query } = parseHash();
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    const current = link.dataset.page === (page === 'rollout' ? 'rollouts' : page === 'flag' ? 'flags' : page);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = 'Rollout controller';
  const ctx: PageContext = { me, can: (p) => me.permissions.includes(p), param, query };
  leavePage = PAGES[page]!(main(), ctx);
}

function signOut(message?: string): void {
  leavePage?.();
  leavePage = undefined;
  forgetToken();
  window.removeEventListener('hashchange', onHashChange);
  document.getElementById('nav')!.hidden = true;
  document.getElementById('who')!.hidden = true;
  clearError();
  signInForm(message);
}

let onHashChange = () => {};

function startSession(me: Me): void {
  const who = document.getElementById('who')!;
  render(
    who,
    h('span', { 'data-role': me.role }, `${me.name} · ${me.role}`),
    h('button', { type: 'button', class: 'secondary', onClick: () => signOut() }, 'Sign out'),
  );
  who.hidden = false;
  document.getElementById('nav')!.hidden = false;
  onHashChange = () => showPage(me);
  window.addEventListener('hashchange', onHashChange);
  showPage(me);
}

function signInForm(message?: string): void {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { id: 'signin-error', class: 'error-text', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', {}, 'Paste an admin token. It is kept in this tab only (session storage) and sent with each request.'),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    try {
      const me = await getJson<Me>('/api/admin/me', token);
      storeToken(token);
      announce(`Signed in as ${me.name} (${me.role})`);
      startSession(me);
    } catch (err) {
      error.textContent =
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? 'That is not an admin token this controller knows.'
          : `Sign-in failed: ${(err as Error).message}`;
      input.focus();
    }
  });
  render(main(), form);
  input.focus();
}

async function boot(): Promise<void> {
  redrawOnResize();
  whenUnauthorized(() => signOut('Your token is no longer accepted; sign in again.'));
  const token = storedToken();
  if (!token) return signInForm();
  try {
    startSession(await getJson<Me>('/api/admin/me', token));
  } catch (err) {
    signOut(err instanceof ApiError ? undefined : `Cannot reach the controller: ${(err as Error).message}`);
  }
}

void boot();
