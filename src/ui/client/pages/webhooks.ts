import { ApiError, getJson, sendJson } from '../api.js';
import { confirmAction } from '../confirm.js';
import { h, render } from '../dom.js';
import { t } from '../i18n.js';
import { raw } from '../lang.js';
import { dateTime } from '../format.js';
import { live } from '../live.js';
import { announce, showError } from '../status.js';
import type { DeliveryJob, Page, PageContext, PublicWebhook } from '../types.js';
import { dataTable, secretOnce, type TableRow } from '../widgets.js';
import { scopeOf } from '../../../notifications/event-scope.js';
import { maskUrl } from '../../../notifications/url-mask.js';
import { FORMAT_LABELS, webhookForm, type SavedWebhook } from './webhook-form.js';

/**
 * Where rollout news goes: every webhook with its format, where it posts (keys in URLs masked) and
 * its filters; for admins, creating, changing and deleting them and a "Send test" button that shows
 * what the receiver answered; for everyone, each webhook's recent deliveries.
 */

interface TestAnswer {
  delivered: boolean;
  status?: number;
  ms: number;
  error?: string;
}

const DELIVERIES_SHOWN = 20;

function destination(w: PublicWebhook): string {
  return w.url ? maskUrl(w.url) : (w.to ?? []).join(', ');
}

function filters(w: PublicWebhook): HTMLElement {
  const line = (label: string, values: string[] | undefined) => h('li', {}, `${label}: `, values ? raw(values.join(', ')) : t('all'));
  return h('ul', { class: 'plain small' }, line(t('events'), w.events), line(t('environments'), w.environments), line(t('policies'), w.policies));
}

function testText(id: string, a: TestAnswer): string {
  const how = a.status !== undefined ? t('status {status}, {ms} ms', { status: a.status, ms: a.ms }) : `${a.ms} ms`;
  return a.delivered
    ? t('Test to {id}: delivered ({how}).', { id, how })
    : t('Test to {id}: not delivered ({how}): {error}', { id, how, error: a.error ?? t('no answer') });
}

function deliveryRow(d: DeliveryJob): TableRow {
  const last = d.attempts.at(-1);
  const { flag, environment } = scopeOf(d.event);
  return {
    attrs: { 'data-delivery': d.id, 'data-outcome': d.status },
    cells: [
      dateTime(d.createdAt),
      [raw(d.event.type), flag ? h('div', { class: 'muted small' }, raw(flag), environment ? [t(' in '), raw(environment)] : null) : null],
      h('span', { class: `badge delivery-${d.status}` }, t(d.status)),
      String(d.attempts.length),
      h('span', { lang: 'en' }, last ? [last.status !== undefined ? `${last.status} ` : '', last.error ?? ''].join('').trim() || '–' : '–'),
    ],
  };
}

export const webhooksPage: Page = (main, ctx: PageContext) => {
  const manage = ctx.can('webhooks:manage');
  const formRegion = h('div');
  const once = h('div');
  const testResult = h('p', { id: 'test-result', role: 'status', 'aria-live': 'polite' });
  const listRegion = h('div');
  const deliveriesRegion = h('div');
  let latest: PublicWebhook[] = [];
  let shownDeliveries: string | undefined;

  const closeForm = () => render(formRegion);
  const openForm = (existing?: PublicWebhook) => {
    render(
      formRegion,
      webhookForm({
        existing,
        onCancel: closeForm,
        onSaved: (saved: SavedWebhook) => {
          closeForm();
          announce(t('Saved webhook {id}', { id: saved.id }));
          if (saved.secret) showSecretOnce(saved.id, saved.secret);
          poller.refresh();
        },
      }),
    );
    formRegion.querySelector<HTMLElement>(existing ? '#wh-format' : '#wh-id')?.focus();
  };

  const showSecretOnce = (id: string, secret: string) =>
    secretOnce(once, t('The signing secret of {id}, shown this once. Give it to the receiver now:', { id }), secret);

  const showDeliveries = async (id: string) => {
    shownDeliveries = id;
    try {
      const { deliveries } = await getJson<{ deliveries: DeliveryJob[] }>(`/api/admin/webhooks/${encodeURIComponent(id)}/deliveries?limit=${DELIVERIES_SHOWN}`);
      if (shownDeliveries !== id) return;
      render(
        deliveriesRegion,
        h(
          'section',
          { class: 'card deliveries-card', 'aria-labelledby': 'deliveries-title' },
          h(
            'div',
            { class: 'card-head' },
            h('h2', { id: 'deliveries-title' }, t('Recent deliveries of {id}', { id })),
            h('button', { type: 'button', class: 'secondary', 'data-key': 'refresh-deliveries', onClick: () => void showDeliveries(id) }, t('Refresh')),
          ),
          deliveries.length === 0
            ? h('p', { class: 'muted' }, t('None yet.'))
            : dataTable({
                cls: 'deliveries',
                caption: t('Recent deliveries of {id}, newest first', { id }),
                hideCaption: true,
                columns: [t('When'), t('Event'), t('Outcome'), t('Attempts'), t('Last answer')],
                rows: deliveries.map(deliveryRow),
              }),
        ),
      );
    } catch (err) {
      showError(err);
    }
  };

  const sendTest = async (w: PublicWebhook, button: HTMLButtonElement) => {
    button.disabled = true;
    testResult.textContent = t('Sending a test to {id}…', { id: w.id });
    try {
      const answer = await sendJson<TestAnswer>('POST', `/api/admin/webhooks/${encodeURIComponent(w.id)}/test`);
      testResult.className = answer.delivered ? 'test-ok' : 'test-failed';
      testResult.textContent = testText(w.id, answer);
      await showDeliveries(w.id);
    } catch (err) {
      testResult.textContent = '';
      showError(err);
    } finally {
      button.disabled = false;
    }
  };

  const remove = async (w: PublicWebhook) => {
    const ok = await confirmAction({
      title: t('Delete webhook {id}?', { id: w.id }),
      message: t('Nothing more is sent to {where}; notifications still waiting for it are dropped.', { where: destination(w) }),
      confirmLabel: t('Delete the webhook'),
      danger: true,
    });
    if (ok === null) return;
    try {
      await sendJson('DELETE', `/api/admin/webhooks/${encodeURIComponent(w.id)}`);
      announce(t('Deleted webhook {id}', { id: w.id }));
      if (shownDeliveries === w.id) render(deliveriesRegion);
      poller.refresh();
    } catch (err) {
      showError(err instanceof ApiError ? new ApiError(err.status, err.errorId, t('Delete refused: {reason}', { reason: err.message })) : err);
    }
  };

  const actions = (w: PublicWebhook): HTMLElement => {
    const test = h(
      'button',
      { type: 'button', class: 'primary', 'data-key': `test:${w.id}`, 'aria-label': t('Send test to {id}', { id: w.id }) },
      t('Send test'),
    );
    test.addEventListener('click', () => void sendTest(w, test));
    return h(
      'div',
      { class: 'toolbar' },
      manage ? test : null,
      manage
        ? h(
            'button',
            { type: 'button', class: 'secondary', 'data-key': `edit:${w.id}`, 'aria-label': t('Change {id}', { id: w.id }), onClick: () => openForm(w) },
            t('Change'),
          )
        : null,
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-key': `deliveries:${w.id}`,
          'aria-label': t('Deliveries of {id}', { id: w.id }),
          onClick: () => void showDeliveries(w.id),
        },
        t('Deliveries'),
      ),
      manage
        ? h(
            'button',
            { type: 'button', class: 'danger', 'data-key': `delete:${w.id}`, 'aria-label': t('Delete {id}', { id: w.id }), onClick: () => void remove(w) },
            t('Delete'),
          )
        : null,
    );
  };

  const draw = () =>
    render(
      listRegion,
      latest.length === 0
        ? h('p', { class: 'muted' }, t('No webhooks yet.'))
        : dataTable({
            cls: 'webhooks stack',
            caption: t('Webhooks'),
            hideCaption: true,
            columns: [t('Webhook'), t('Format'), t('Goes to'), t('Filters'), t('Secret'), t('Actions')],
            rowHeaders: true,
            rows: latest.map((w) => ({
              attrs: { 'data-webhook': w.id },
              cells: [
                raw(w.id),
                t(FORMAT_LABELS[w.format]),
                h('span', { class: 'url', translate: 'no', 'data-raw': '' }, destination(w)),
                filters(w),
                w.secretHint ? h('code', { translate: 'no' }, w.secretHint) : '–',
                actions(w),
              ],
            })),
          }),
    );

  render(
    main,
    h('h1', {}, t('Webhooks')),
    h(
      'p',
      { class: 'muted' },
      t('Where rollout news goes: chat robots (Slack, DingTalk, Feishu/Lark, WeCom, Teams), JSON receivers and e-mail. Keys in addresses are masked.'),
    ),
    manage
      ? h(
          'div',
          { class: 'toolbar' },
          h('button', { type: 'button', class: 'primary', 'data-key': 'new-webhook', onClick: () => openForm() }, t('New webhook')),
        )
      : h('p', { class: 'muted' }, t('Only admins create, change, test or delete webhooks.')),
    once,
    formRegion,
    testResult,
    listRegion,
    deliveriesRegion,
  );
  const poller = live<{ webhooks: PublicWebhook[] }>('/api/admin/webhooks', ({ webhooks }) => {
    latest = webhooks;
    draw();
  });
  return () => poller.stop();
};
