import { h, render } from '../dom.js';
import { live } from '../live.js';
import { dateTime } from '../format.js';
import type { BoardEntry, Page } from '../types.js';
import { dataTable, gateMarks, stateBadge, stepper, timeInStep, waitingFor } from '../widgets.js';

/** Every active rollout at a glance, the latest finished ones below. */

function card(r: BoardEntry): HTMLElement {
  const title = `${r.flag} · ${r.environment}`;
  return h(
    'li',
    { class: 'card rollout-card', 'data-rollout': r.id, 'data-state': r.state },
    h(
      'div',
      { class: 'card-head' },
      h('h3', {}, h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}`, 'data-key': `open:${r.id}` }, title)),
      stateBadge(r.state),
    ),
    stepper(r.status, r.state),
    h('p', { class: `served${r.status.served.killed ? ' killed' : ''}` }, r.status.served.text),
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, 'Gates'), h('dd', {}, gateMarks(r.gates, r.gateCount))),
      h('div', {}, h('dt', {}, 'Time in step'), h('dd', {}, timeInStep(r.stepStartedAt, r.state))),
      h('div', {}, h('dt', {}, 'Waiting for'), h('dd', {}, waitingFor(r.status))),
      h('div', {}, h('dt', {}, 'Policy'), h('dd', {}, r.policy)),
    ),
  );
}

export const rolloutsPage: Page = (main) => {
  const region = h('div', { class: 'rollouts' });
  render(main, h('h1', {}, 'Rollouts'), region);
  const poller = live<{ rollouts: BoardEntry[] }>('/api/admin/dashboard/rollouts', ({ rollouts }) => {
    const active = rollouts.filter((r) => r.status.active);
    const finished = rollouts.filter((r) => !r.status.active);
    render(
      region,
      h('h2', {}, `Active (${active.length})`),
      active.length
        ? h('ul', { class: 'cards' }, active.map(card))
        : h('p', { class: 'muted' }, 'No rollout is running. Start one with POST /api/admin/rollouts or rolloutctl start.'),
      finished.length
        ? [
            h('h2', {}, 'Recently finished'),
            dataTable({
              cls: 'finished stack',
              caption: 'Finished rollouts, newest first',
              hideCaption: true,
              columns: ['Flag', 'Environment', 'Outcome', 'Reached', 'Served now', 'Finished'],
              rows: finished.map((r) => ({
                attrs: { 'data-rollout': r.id },
                cells: [
                  h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}` }, r.flag),
                  r.environment,
                  stateBadge(r.state),
                  `${r.percentage}%`,
                  r.status.served.text,
                  dateTime(r.status.ended?.at ?? r.updatedAt),
                ],
              })),
            }),
          ]
        : null,
    );
  });
  return () => poller.stop();
};
