import { getJson, type Poller } from '../api.js';
import { h, render } from '../dom.js';
import { countedText, dateTime } from '../format.js';
import { t } from '../i18n.js';
import { controllerReason, raw } from '../lang.js';
import { live } from '../live.js';
import { showError } from '../status.js';
import type { AuditEvent, AuditSummary, ChainVerdict, Page, RecentAudit } from '../types.js';
import { dataTable } from '../widgets.js';

/** The audit log, newest first, filtered, with the hash chain's verification. */

const FILTERS = ['action', 'target', 'actor'] as const;
const FILTER_LABELS: Record<(typeof FILTERS)[number], () => string> = { action: () => t('Action'), target: () => t('Target'), actor: () => t('Actor') };

function verdictBanner(v: ChainVerdict | undefined): HTMLElement {
  if (!v) return h('p', { class: 'chain' }, t('Verifying the hash chain…'));
  return v.ok
    ? h(
        'p',
        { class: 'chain chain-ok', 'data-chain': 'ok' },
        t('✓ Hash chain intact: {events}, head #{seq}.', { events: countedText(v.count, 'event'), seq: v.headSeq }),
      )
    : h(
        'p',
        { class: 'chain chain-broken', 'data-chain': 'broken', role: 'alert' },
        t('✕ Hash chain broken at event #{seq}: ', { seq: v.brokenAtSeq ?? '?' }),
        controllerReason({ reason: v.problem ?? '', reasonWording: v.problemWording }),
      );
}

/** Before and after of one event, fetched when its row is opened (the list leaves them out to stay small). */
function detailsOf(e: AuditSummary, cache: Map<number, AuditEvent>, open: Set<number>): HTMLElement {
  const body = h('div', {}, h('p', { class: 'muted' }, t('Loading…')));
  const fill = (full: AuditEvent) =>
    render(
      body,
      h('p', { class: 'small' }, t('hash '), raw(`${full.hash.slice(0, 16)}…`), t(' ← previous '), raw(`${full.prevHash.slice(0, 16)}…`)),
      h(
        'div',
        { class: 'before-after' },
        h('div', {}, h('h4', {}, t('Before')), h('pre', { translate: 'no' }, JSON.stringify(full.before, null, 2))),
        h('div', {}, h('h4', {}, t('After')), h('pre', { translate: 'no' }, JSON.stringify(full.after, null, 2))),
      ),
    );
  const details = h('details', { open: open.has(e.seq), 'data-key': `details:${e.seq}` }, h('summary', {}, t('before / after')), body);
  const load = async () => {
    const cached = cache.get(e.seq);
    if (cached) return fill(cached);
    try {
      const { events } = await getJson<{ events: AuditEvent[] }>(`/api/admin/audit?from=${e.seq}&limit=1`);
      if (events[0]) {
        cache.set(e.seq, events[0]);
        fill(events[0]);
      }
    } catch (err) {
      showError(err);
    }
  };
  details.addEventListener('toggle', () => {
    if (details.open) {
      open.add(e.seq);
      void load();
    } else open.delete(e.seq);
  });
  if (details.open) void load();
  return details;
}

function targetText(target: AuditSummary['target']): HTMLElement {
  return raw(`${target.type} ${target.id}${target.environment ? ` (${target.environment})` : ''}`);
}

export const auditPage: Page = (main, ctx) => {
  const inputs = Object.fromEntries(
    FILTERS.map((name) => [name, h('input', { id: `filter-${name}`, name, type: 'search', value: ctx.query.get(name) ?? '', 'data-key': `filter-${name}` })]),
  ) as Record<(typeof FILTERS)[number], HTMLInputElement>;
  const chain = h('div', {}, verdictBanner(undefined));
  const region = h('div');
  const cache = new Map<number, AuditEvent>();
  const open = new Set<number>();
  let before: number | undefined;
  let verifiedHead = -1;
  let poller: Poller | undefined;

  // Verifying walks the whole log, so it runs when new events arrive, not on every poll.
  const verify = async (head: number) => {
    if (head === verifiedHead) return;
    verifiedHead = head;
    try {
      render(chain, verdictBanner(await getJson<ChainVerdict>('/api/admin/audit/verify')));
    } catch (err) {
      showError(err);
    }
  };

  const draw = (page: RecentAudit) => {
    void verify(page.headSeq);
    render(
      region,
      h('p', { class: 'muted' }, countedText(page.events.length, 'event'), before ? t(' before #{seq}', { seq: before }) : t(', newest first')),
      dataTable({
        cls: 'audit stack',
        caption: t('Audit events'),
        hideCaption: true,
        columns: [t('Seq'), t('When'), t('Who'), t('Action'), t('Target'), t('Reason'), t('Change')],
        rows: page.events.map((e) => ({
          attrs: { 'data-seq': e.seq },
          cells: [
            `#${e.seq}`,
            dateTime(e.at),
            raw(e.actor.name),
            h('code', { translate: 'no' }, e.action),
            targetText(e.target),
            h('span', { 'data-raw': '' }, e.reason ?? ''),
            detailsOf(e, cache, open),
          ],
        })),
      }),
      h(
        'div',
        { class: 'toolbar' },
        before ? h('button', { type: 'button', class: 'secondary', 'data-key': 'newest', onClick: () => restart(undefined) }, t('Newest')) : null,
        page.nextBefore ? h('button', { type: 'button', class: 'secondary', 'data-key': 'older', onClick: () => restart(page.nextBefore!) }, t('Older')) : null,
      ),
    );
  };

  const restart = (nextBefore: number | undefined) => {
    before = nextBefore;
    poller?.stop();
    const query = new URLSearchParams();
    for (const name of FILTERS) if (inputs[name].value.trim()) query.set(name, inputs[name].value.trim());
    if (before) query.set('before', String(before));
    poller = live<RecentAudit>(`/api/admin/dashboard/audit?${query}`, draw);
  };

  let debounce: number | undefined;
  for (const input of Object.values(inputs)) {
    input.addEventListener('input', () => {
      window.clearTimeout(debounce);
      debounce = window.setTimeout(() => restart(undefined), 300);
    });
  }

  render(
    main,
    h('h1', {}, t('Audit log')),
    chain,
    h(
      'form',
      { class: 'filters', role: 'search', onSubmit: (e: Event) => e.preventDefault() },
      FILTERS.map((name) => [h('label', { for: `filter-${name}` }, FILTER_LABELS[name]()), inputs[name]]),
    ),
    region,
  );
  restart(undefined);
  return () => {
    window.clearTimeout(debounce);
    poller?.stop();
  };
};
