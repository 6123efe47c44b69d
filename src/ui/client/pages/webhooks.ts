import { ApiError, getJson, sendJson } from '../api.js';
import { confirmAction } from '../confirm.js';
import { h, render } from '../dom.js';
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
  const line = (label: string, values: string[] | undefined) => h('li', {}, `${label}: ${values?.join(', ') ?? 'all'}`);
  return h('ul', { class: 'plain small' }, line('events', w.events), line('environments', w.environments), line('policies', w.policies));
}

function testText(id: string, a: TestAnswer): string {
  const status = a.status !== undefined ? `status ${a.status}, ` : '';
  return a.delivered ? `Test to ${id}: delivered (${status}${a.ms} ms).` : `Test to ${id}: not delivered (${status}${a.ms} ms): ${a.error ?? 'no answer'}`;
}

function deliveryRow(d: DeliveryJob): TableRow {
  const last = d.attempts.at(-1);
  const { flag, environment } = scopeOf(d.event);
  return {
    attrs: { 'data-delivery': d.id, 'data-outcome': d.status },
    cells: [
      dateTime(d.createdAt),
      [d.event.type, flag ? h('div', { class: 'muted small' }, `${flag}${environment ? ` in ${environment}` : ''}`) : null],
      h('span', { class: `badge delivery-${d.status}` }, d.status),
      String(d.attempts.length),
      last ? [last.status !== undefined ? `${last.status} ` : '', last.error ?? ''].join('').trim() || '–' : '–',
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
          announce(`Saved webhook ${saved.id}`);
          if (saved.secret) showSecretOnce(saved.id, saved.secret);
          poller.refresh();
        },
      }),
    );
    formRegion.querySelector<HTMLElement>(existing ? '#wh-format' : '#wh-id')?.focus();
  };

  const showSecretOnce = (id: string, secret: string) => secretOnce(once, `The signing secret of ${id}, shown this once. Give it to the receiver now:`, secret);

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
            h('h2', { id: 'deliveries-title' }, `Recent deliveries of ${id}`),
            h('button', { type: 'button', class: 'secondary', 'data-key': 'refresh-deliveries', onClick: () => void showDeliveries(id) }, 'Refresh'),
          ),
          deliveries.length === 0
            ? h('p', { class: 'muted' }, 'None yet.')
            : dataTable({
                cls: 'deliveries',
                caption: `Recent deliveries of ${id}, newest first`,
                hideCaption: true,
                columns: ['When', 'Event', 'Outcome', 'Attempts', 'Last answer'],
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
    testResult.textContent = `Sending a test to ${w.id}…`;
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
      title: `Delete webhook ${w.id}?`,
      message: `Nothing more is sent to ${destination(w)}; notifications still waiting for it are dropped.`,
      confirmLabel: 'Delete the webhook',
      danger: true,
    });
    if (ok === null) return;
    try {
      await sendJson('DELETE', `/api/admin/webhooks/${encodeURIComponent(w.id)}`);
      announce(`Deleted webhook ${w.id}`);
      if (shownDeliveries === w.id) render(deliveriesRegion);
      poller.refresh();
    } catch (err) {
      showError(err instanceof ApiError ? new ApiError(err.status, err.errorId, `Delete refused: ${err.message}`) : err);
    }
  };

  const actions = (w: PublicWebhook): HTMLElement => {
    const test = h('button', { type: 'button', class: 'primary', 'data-key': `test:${w.id}`, 'aria-label': `Send test to ${w.id}` }, 'Send test');
    test.addEventListener('click', () => void sendTest(w, test));
    return h(
      'div',
      { class: 'toolbar' },
      manage ? test : null,
      manage
        ? h('button', { type: 'button', class: 'secondary', 'data-key': `edit:${w.id}`, 'aria-label': `Change ${w.id}`, onClick: () => openForm(w) }, 'Change')
        : null,
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-key': `deliveries:${w.id}`,
          'aria-label': `Deliveries of ${w.id}`,
          onClick: () => void showDeliveries(w.id),
        },
        'Deliveries',
      ),
      manage
        ? h(
            'button',
            { type: 'button', class: 'danger', 'data-key': `delete:${w.id}`, 'aria-label': `Delete ${w.id}`, onClick: () => void remove(w) },
            'Delete',
          )
        : null,
    );
  };

  const draw = () =>
    render(
      listRegion,
      latest.length === 0
        ? h('p', { class: 'muted' }, 'No webhooks yet.')
        : dataTable({
            cls: 'webhooks stack',
            caption: 'Webhooks',
            hideCaption: true,
            columns: ['Webhook', 'Format', 'Goes to', 'Filters', 'Secret', 'Actions'],
            rowHeaders: true,
            rows: latest.map((w) => ({
              attrs: { 'data-webhook': w.id },
              cells: [w.id, FORMAT_LABELS[w.format], h('span', { class: 'url' }, destination(w)), filters(w), w.secretHint ?? '–', actions(w)],
            })),
          }),
    );

  render(
    main,
    h('h1', {}, 'Webhooks'),
    h(
      'p',
      { class: 'muted' },
      'Where rollout news goes: chat robots (Slack, DingTalk, Feishu/Lark, WeCom, Teams), JSON receivers and e-mail. Keys in addresses are masked.',
    ),
    manage
      ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', 'data-key': 'new-webhook', onClick: () => openForm() }, 'New webhook'))
      : h('p', { class: 'muted' }, 'Only admins create, change, test or delete webhooks.'),
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
