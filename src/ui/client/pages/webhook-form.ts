import { ApiError, sendJson } from '../api.js';
import { h } from '../dom.js';
import { locale, t } from '../i18n.js';
import type { PublicWebhook } from '../types.js';
import { EVENT_TYPES } from '../../../notifications/event-types.js';
import { maskUrl } from '../../../notifications/url-mask.js';
import { SIGNING, WEBHOOK_FORMATS, type WebhookFormat } from '../../../notifications/webhook-formats.js';

/** Creating or changing a webhook (admins): one form whose fields follow the chosen format. */

export const FORMAT_LABELS: Record<WebhookFormat, string> = {
  json: 'JSON (signed, X-Rollout-Signature)',
  slack: 'Slack',
  dingtalk: 'DingTalk robot',
  feishu: 'Feishu / Lark bot',
  wecom: 'WeCom robot',
  teams: 'Microsoft Teams workflow',
  email: 'E-mail',
};

/** What the secret field asks for, per signing scheme (see SIGNING). */
const SECRET_HELP = {
  rollout: 'Optional: leave empty and one is generated, shown once. Receivers check X-Rollout-Signature with it.',
  vendor: 'The robot’s own signing secret, as the chat app shows it in the robot’s security settings (DingTalk: SEC…; Feishu: signature verification).',
} as const;

const URL_HELP: Partial<Record<WebhookFormat, string>> = {
  wecom: 'WeCom robots do not sign: the key in this address is the credential, so it is shown to admins only.',
  teams: 'Teams workflows do not sign (no HMAC): the sig in this address is the credential, so it is shown to admins only.',
};

export type SavedWebhook = PublicWebhook & { secret?: string };

const commaList = (text: string) =>
  text
    .split(/[,\n]/)
    .map((v) => v.trim())
    .filter(Boolean);

/** A labelled field in its own block, with help text tied to it for screen readers. */
function field(id: string, label: string, control: HTMLElement, help?: HTMLElement): HTMLElement {
  if (help) control.setAttribute('aria-describedby', help.id);
  return h('div', { class: 'field' }, h('label', { for: id }, t(label)), control, help ?? null);
}

export function webhookForm(options: { existing?: PublicWebhook; onSaved(saved: SavedWebhook): void; onCancel(): void }): HTMLFormElement {
  const { existing } = options;
  const id = h('input', {
    id: 'wh-id',
    name: 'id',
    required: true,
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}',
    value: existing?.id ?? '',
    readonly: existing !== undefined,
    'data-key': 'wh-id',
  });
  const format = h(
    'select',
    { id: 'wh-format', name: 'format', 'data-key': 'wh-format' },
    WEBHOOK_FORMATS.map((f) => h('option', { value: f, selected: f === (existing?.format ?? 'json') }, t(FORMAT_LABELS[f]))),
  );
  const url = h('input', { id: 'wh-url', name: 'url', type: 'url', autocomplete: 'off', spellcheck: 'false', 'data-key': 'wh-url' });
  const urlHelp = h('p', { id: 'wh-url-help', class: 'muted small' });
  const to = h('textarea', { id: 'wh-to', name: 'to', rows: 3, 'data-key': 'wh-to' }, (existing?.to ?? []).join('\n'));
  const events = EVENT_TYPES.map((type) =>
    h('input', { type: 'checkbox', id: `wh-event-${type.replace('.', '-')}`, name: 'events', value: type, checked: existing?.events?.includes(type) ?? false }),
  );
  const environments = h('input', {
    id: 'wh-environments',
    name: 'environments',
    value: existing?.environments?.join(', ') ?? '',
    'data-key': 'wh-environments',
  });
  const policies = h('input', { id: 'wh-policies', name: 'policies', value: existing?.policies?.join(', ') ?? '', 'data-key': 'wh-policies' });
  const secret = h('input', { id: 'wh-secret', name: 'secret', type: 'password', autocomplete: 'off', 'data-key': 'wh-secret' });
  const secretHelp = h('p', { id: 'wh-secret-help', class: 'muted small' });
  const rotate = h('input', { id: 'wh-rotate', name: 'rotateSecret', type: 'checkbox' });
  // Messages in the webhook's own language; a new one starts in the language of the person making it.
  const chosenLanguage = existing?.language ?? locale();
  const language = h(
    'select',
    { id: 'wh-language', name: 'language', 'data-key': 'wh-language' },
    h('option', { value: 'en', lang: 'en', selected: chosenLanguage === 'en' }, 'English'),
    h('option', { value: 'zh-CN', lang: 'zh-CN', selected: chosenLanguage === 'zh-CN' }, '简体中文'),
  );
  const error = h('p', { id: 'wh-error', class: 'error-text', role: 'alert' });

  const urlField = field('wh-url', 'URL', url, urlHelp);
  const toField = field(
    'wh-to',
    'Recipients',
    to,
    h('p', { id: 'wh-to-help', class: 'muted small' }, t('One address per line. With Environments, each environment’s news goes to its own list.')),
  );
  const secretField = field('wh-secret', 'Signing secret', secret, secretHelp);
  const rotateField = h(
    'div',
    { class: 'field check' },
    rotate,
    h('label', { for: 'wh-rotate' }, t('Replace the secret with a new generated one (shown once)')),
  );

  /** Only the fields the chosen format takes are shown (and sent). */
  const follow = () => {
    const f = format.value as WebhookFormat;
    const signing = SIGNING[f];
    urlField.hidden = f === 'email';
    toField.hidden = f !== 'email';
    secretField.hidden = signing !== 'rollout' && signing !== 'vendor';
    rotateField.hidden = signing !== 'rollout' || !existing;
    url.required = f !== 'email' && !existing?.url;
    to.required = f === 'email';
    url.placeholder = existing?.url ? t('unchanged: {url}', { url: maskUrl(existing.url) }) : t('the robot’s or workflow’s address');
    const urlHelps = [existing?.url ? t('Leave empty to keep the current address.') : '', URL_HELP[f] ? t(URL_HELP[f]) : ''];
    urlHelp.textContent = urlHelps.filter(Boolean).join(' ');
    const keep = existing?.secretHint && SIGNING[existing.format] === signing ? t(' Leave empty to keep the current one.') : '';
    secretHelp.textContent = signing === 'rollout' || signing === 'vendor' ? `${t(SECRET_HELP[signing])}${signing === 'vendor' ? keep : ''}` : '';
  };
  format.addEventListener('change', follow);
  follow();

  const form = h(
    'form',
    { class: 'card webhook-form', 'aria-labelledby': 'wh-form-title' },
    h('h2', { id: 'wh-form-title' }, existing ? t('Change webhook {id}', { id: existing.id }) : t('New webhook')),
    field('wh-id', 'Webhook id', id),
    field('wh-format', 'Format', format),
    field('wh-language', 'Language of the messages', language),
    urlField,
    toField,
    h(
      'fieldset',
      { class: 'events' },
      h('legend', {}, t('Events (none ticked: every event)')),
      events.map((box) => h('div', { class: 'field check' }, box, h('label', { for: box.id, translate: 'no' }, box.value))),
    ),
    field(
      'wh-environments',
      'Environments',
      environments,
      h('p', { id: 'wh-environments-help', class: 'muted small' }, t('Comma-separated; empty: every environment.')),
    ),
    field('wh-policies', 'Policies', policies, h('p', { id: 'wh-policies-help', class: 'muted small' }, t('Comma-separated; empty: every policy.'))),
    secretField,
    rotateField,
    error,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'submit', class: 'primary' }, t('Save webhook')),
      h('button', { type: 'button', class: 'secondary', onClick: () => options.onCancel() }, t('Cancel')),
    ),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = format.value as WebhookFormat;
    const chosen = events.filter((box) => box.checked).map((box) => box.value);
    const body = {
      format: f,
      language: language.value,
      ...(f !== 'email' && url.value.trim() ? { url: url.value.trim() } : {}),
      ...(f === 'email' ? { to: commaList(to.value) } : {}),
      ...(chosen.length ? { events: chosen } : {}),
      ...(commaList(environments.value).length ? { environments: commaList(environments.value) } : {}),
      ...(commaList(policies.value).length ? { policies: commaList(policies.value) } : {}),
      ...(!secretField.hidden && secret.value ? { secret: secret.value } : {}),
      ...(!rotateField.hidden && rotate.checked ? { rotateSecret: true } : {}),
    };
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
    button.disabled = true;
    error.textContent = '';
    try {
      options.onSaved(await sendJson<SavedWebhook>('PUT', `/api/admin/webhooks/${encodeURIComponent(id.value.trim())}`, body));
    } catch (err) {
      error.textContent = t('Not saved: {reason}', { reason: err instanceof ApiError ? err.message : (err as Error).message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
