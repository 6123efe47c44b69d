import { ApiError, getJson, sendJson } from '../api.js';
import { confirmAction } from '../confirm.js';
import { type Child, h, render } from '../dom.js';
import { t } from '../i18n.js';
import { raw } from '../lang.js';
import { dateTime } from '../format.js';
import { live } from '../live.js';
import { announce, showError } from '../status.js';
import type { Page, PageContext, PublicToken } from '../types.js';
import { dataTable, secretOnce } from '../widgets.js';

/**
 * Tokens, for admins: who and what may call the controller (SDKs with client and frontend tokens,
 * monitoring with alert tokens, automation with admin tokens), made here with the secret shown
 * once, and revoked on every replica with one click. People sign in with their organisation
 * instead, where that is set up; the controller keeps only each secret's hash.
 */

const KINDS = {
  client: 'client: a server SDK, bound to one environment',
  frontend: 'frontend: a browser SDK, bound to one environment',
  alert: 'alert: a monitoring system, bound to environments',
  admin: 'admin: automation or rolloutctl, with a role',
} as const;
type Kind = keyof typeof KINDS;
const ROLES = ['viewer', 'editor', 'release-manager', 'admin'];

function boundTo(token: PublicToken): Child[] {
  if (token.kind === 'admin') return [t('role '), raw(token.role ?? '')];
  return [raw((token.environments ?? (token.environment ? [token.environment] : [])).join(', '))];
}

/** The form's fields for one kind: an environment, environments, or a role. */
function bindingFields(kind: Kind, environments: string[]): HTMLElement {
  if (kind === 'admin')
    return h(
      'div',
      { class: 'field' },
      h('label', { for: 'tok-role' }, t('Role')),
      h(
        'select',
        { id: 'tok-role', name: 'role', translate: 'no' },
        ROLES.map((r) => h('option', { value: r }, r)),
      ),
    );
  if (kind === 'alert')
    return h(
      'fieldset',
      { class: 'events' },
      h('legend', {}, t('Environments')),
      environments.map((e) =>
        h(
          'div',
          { class: 'field check' },
          h('input', { type: 'checkbox', id: `tok-env-${e}`, name: 'environments', value: e }),
          h('label', { for: `tok-env-${e}`, translate: 'no' }, e),
        ),
      ),
    );
  return h(
    'div',
    { class: 'field' },
    h('label', { for: 'tok-env' }, t('Environment')),
    h(
      'select',
      { id: 'tok-env', name: 'environment', translate: 'no' },
      environments.map((e) => h('option', { value: e }, e)),
    ),
  );
}

/** The body of POST /api/admin/tokens from the form; the API validates it (and says what is wrong). */
function tokenBody(form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const kind = String(data.get('kind')) as Kind;
  const name = String(data.get('name') ?? '').trim();
  if (kind === 'admin') return { kind, name, role: data.get('role') };
  if (kind === 'alert') return { kind, name, environments: data.getAll('environments') };
  return { kind, name, environment: data.get('environment') };
}

export const tokensPage: Page = (main, ctx: PageContext) => {
  if (!ctx.can('tokens:manage')) {
    render(main, h('h1', {}, t('Tokens')), h('p', { class: 'muted' }, t('Only admins see and manage tokens.')));
    return () => {};
  }
  const once = h('div');
  const formRegion = h('div');
  const listRegion = h('div');

  const openForm = async () => {
    let environments: string[] = [];
    try {
      environments = (await getJson<{ environments: Array<{ name: string }> }>('/api/admin/environments')).environments.map((e) => e.name);
    } catch (err) {
      showError(err);
    }
    const kind = h(
      'select',
      { id: 'tok-kind', name: 'kind' },
      Object.entries(KINDS).map(([value, label]) => h('option', { value }, t(label))),
    );
    const binding = h('div', {}, bindingFields('client', environments));
    kind.addEventListener('change', () => render(binding, bindingFields(kind.value as Kind, environments)));
    const form = h(
      'form',
      { class: 'card webhook-form token-form', 'aria-labelledby': 'token-form-title' },
      h('h2', { id: 'token-form-title' }, t('New token')),
      h('div', { class: 'field' }, h('label', { for: 'tok-kind' }, t('Kind')), kind),
      h('div', { class: 'field' }, h('label', { for: 'tok-name' }, t('Name')), h('input', { id: 'tok-name', name: 'name', required: true, maxlength: 100 })),
      binding,
      h(
        'div',
        { class: 'toolbar' },
        h('button', { type: 'submit', class: 'primary' }, t('Create the token')),
        h('button', { type: 'button', class: 'secondary', onClick: () => render(formRegion) }, t('Cancel')),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const made = await sendJson<PublicToken & { secret: string }>('POST', '/api/admin/tokens', tokenBody(form));
        render(formRegion);
        announce(t('Created {kind} token {name}', { kind: t(made.kind), name: made.name }));
        secretOnce(once, t('The secret of {name}, shown this once. Put it where it is used now:', { name: made.name }), made.secret);
        poller.refresh();
      } catch (err) {
        showError(err);
      }
    });
    render(formRegion, form);
    kind.focus();
  };

  const revoke = async (token: PublicToken) => {
    const ok = await confirmAction({
      title: t('Revoke {name}?', { name: token.name }),
      message: t('Every replica stops accepting it at once ({hint}); whatever uses it gets 401 from then on.', { hint: token.hint }),
      confirmLabel: t('Revoke the token'),
      danger: true,
    });
    if (ok === null) return;
    try {
      await sendJson('DELETE', `/api/admin/tokens/${encodeURIComponent(token.id)}`);
      announce(t('Revoked {name}', { name: token.name }));
      poller.refresh();
    } catch (err) {
      showError(err instanceof ApiError ? new ApiError(err.status, err.errorId, t('Revoke refused: {reason}', { reason: err.message })) : err);
    }
  };

  render(
    main,
    h('h1', {}, t('Tokens')),
    h('p', { class: 'muted' }, t('For SDKs, monitoring and automation. A secret is shown once, when the token is made; the controller keeps only its hash.')),
    h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', 'data-key': 'new-token', onClick: () => void openForm() }, t('New token'))),
    once,
    formRegion,
    listRegion,
  );
  const poller = live<{ tokens: PublicToken[] }>('/api/admin/tokens', ({ tokens }) =>
    render(
      listRegion,
      dataTable({
        cls: 'tokens stack',
        caption: t('Tokens'),
        hideCaption: true,
        columns: [t('Token'), t('Kind'), t('Bound to'), t('Secret starts'), t('Made'), t('Actions')],
        rowHeaders: true,
        rows: tokens.map((token) => ({
          attrs: { 'data-token': token.id },
          cells: [
            raw(token.name),
            t(token.kind),
            boundTo(token),
            h('code', { translate: 'no' }, token.hint),
            [dateTime(token.createdAt), t(' by '), raw(token.createdBy)],
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'data-key': `revoke:${token.id}`,
                'aria-label': t('Revoke {name}', { name: token.name }),
                onClick: () => void revoke(token),
              },
              t('Revoke'),
            ),
          ],
        })),
      }),
    ),
  );
  return () => poller.stop();
};
