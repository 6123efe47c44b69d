import { h, render, type Child, type Props } from './dom.js';
import { sinceAttrs, untilAttrs } from './clocks.js';
import { dateTime, metricValue, ruleLabel, stateLabel, verdictLabel } from './format.js';
import { t } from './i18n.js';
import { controllerReason, raw } from './lang.js';
import { count, shownVerdict } from '../../rollouts/units.js';
import type { CheckResult, Condition, RolloutStatus } from './types.js';

/** Pieces shared by the rollouts list and the rollout page. */

const FINAL_STOPPED = new Set(['rolled_back', 'aborted']);

/** 1% → 10% → 50% → 100%, with the steps done, the one it is on, and those ahead. */
export function stepper(status: RolloutStatus, state: string): HTMLElement {
  const { steps, stepIndex, started } = status;
  const describe = !started
    ? status.awaitingStep !== null
      ? t('Go/No-Go for {pct}%', { pct: status.awaitingStep })
      : t('not started')
    : state === 'completed'
      ? t('completed')
      : t('at {pct}%', { pct: steps[stepIndex] ?? 0 });
  return h(
    'ol',
    { class: 'stepper', 'aria-label': t('Steps: {where}', { where: describe }), 'data-step': started ? String(stepIndex) : '' },
    steps.map((pct, i) => {
      const done = state === 'completed' || (started && i < stepIndex);
      const current = started && state !== 'completed' && i === stepIndex;
      const cls = done ? 'done' : current ? (FINAL_STOPPED.has(state) ? 'current stopped' : 'current') : 'todo';
      return h('li', { class: cls, 'aria-current': current ? 'step' : undefined }, h('span', { class: 'dot', 'aria-hidden': 'true' }), `${pct}%`);
    }),
  );
}

export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state}` }, stateLabel(state));
}

const VERDICT_MARK = { pass: '✓', fail: '✕', inconclusive: '?', 'not-judged': 'i' } as const;

/** Gate results at a glance: one mark per gate, the rule and value in its accessible name. */
export function gateMarks(gates: CheckResult[], total: number): HTMLElement {
  if (gates.length === 0) return h('span', { class: 'muted' }, total === 0 ? t('no gates') : t('not judged yet'));
  return h(
    'span',
    { class: 'gate-marks' },
    gates.map((g) => {
      const shown = shownVerdict(g);
      const label = `${ruleLabel(g)}: ${metricValue(g.metric, g.value)}, ${verdictLabel(shown)}`;
      return h('span', { class: `mark verdict-${shown}`, title: label, role: 'img', 'aria-label': label }, VERDICT_MARK[shown]);
    }),
  );
}

function waitText(item: Condition): Child[] {
  switch (item.kind) {
    case 'time':
      return item.met
        ? [t('minimum time in step reached')]
        : [t('minimum time in step: '), h('span', untilAttrs(Date.parse(item.stepStartedAt) + item.minDurationMs)), t(' left')];
    case 'samples':
      return [t('samples: {have} of {need} treatment requests', { have: count(item.samples), need: count(item.minSamples) })];
    case 'gates':
      return [
        t('gates: {pass} of {total} passing', { pass: item.pass, total: item.total }) +
          (item.fail ? t(', {n} failing', { n: item.fail }) : '') +
          (item.inconclusive ? t(', {n} inconclusive', { n: item.inconclusive }) : ''),
      ];
    case 'approval':
      return [
        t('approval for {pct}%: {have} of {need} ({roles})', {
          pct: item.forPercentage,
          have: item.approvals,
          need: item.required,
          roles: item.roles.join(t(' or ')),
        }),
        ...(item.approvedBy.length ? [t(', given by '), raw(item.approvedBy.join(', '))] : []),
      ];
    case 'window':
      if (item.met) return [t('change window open')];
      // The reason already says when it opens in the window's zone; the countdown says how long that is from here.
      return [
        t('change window closed'),
        ...(item.reason ? [t(': '), controllerReason({ reason: item.reason, reasonWording: item.reasonWording })] : []),
        ...(item.opensAt ? [' (', h('span', untilAttrs(Date.parse(item.opensAt))), ')'] : []),
      ];
    case 'start-time':
      return [
        t('scheduled start: '),
        h('time', { datetime: item.startAt }, dateTime(item.startAt)),
        ' (',
        h('span', untilAttrs(Date.parse(item.startAt))),
        ')',
      ];
    case 'not-before':
      return item.met
        ? [t('not-before time of the {pct}% step passed', { pct: item.forPercentage })]
        : [
            t('{pct}% not before ', { pct: item.forPercentage }),
            h('time', { datetime: item.notBefore }, dateTime(item.notBefore)),
            ' (',
            h('span', untilAttrs(Date.parse(item.notBefore))),
            ')',
          ];
    case 'person':
      return [t('paused: '), controllerReason(item), t('; waiting for a person to resume')];
    case 'flag-killed':
      return [controllerReason(item)];
  }
}

/** What the step still waits for; `all` also lists the conditions already met (ticked). */
export function waitingFor(status: RolloutStatus, all = false): HTMLElement {
  const items = all ? status.waitingFor : status.waitingFor.filter((i) => !i.met);
  if (status.waitingFor.length === 0) return h('span', { class: 'muted' }, t('finished'));
  if (items.length === 0) return h('span', { class: 'muted' }, t('nothing: advances at the next analysis'));
  return h(
    'ul',
    { class: 'waits', 'aria-label': all ? t('Conditions of this step') : t('Waiting for') },
    items.map((item) =>
      h(
        'li',
        { class: `wait wait-${item.kind} ${item.met ? 'met' : 'unmet'}` },
        h('span', { class: 'sr-only' }, item.met ? t('met: ') : t('waiting: ')),
        ...waitText(item),
      ),
    ),
  );
}

export function timeInStep(stepStartedAt: string, state: string): HTMLElement {
  if (state === 'pending' || FINAL_STOPPED.has(state) || state === 'completed') return h('span', { class: 'muted' }, '–');
  return h('span', sinceAttrs(Date.parse(stepStartedAt)));
}

export interface TableRow {
  attrs?: Props;
  cells: Child[];
}

/**
 * A table in a horizontal scroller; at phone width the `stack` tables turn each row into a card
 * whose cells are labelled by their column (data-label, shown by CSS), so nothing scrolls sideways.
 */
export function dataTable(options: {
  cls: string;
  caption: string;
  hideCaption?: boolean;
  columns: string[];
  rows: TableRow[];
  rowHeaders?: boolean;
}): HTMLElement {
  const { columns } = options;
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: options.cls },
      h('caption', { class: options.hideCaption ? 'sr-only' : undefined }, options.caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        options.rows.map((row) =>
          h(
            'tr',
            row.attrs ?? {},
            row.cells.map((cell, i) =>
              i === 0 && options.rowHeaders ? h('th', { scope: 'row', 'data-label': columns[i] }, cell) : h('td', { 'data-label': columns[i] }, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A secret the controller shows this once (a new token, a webhook's signing secret): in a card that
 * stays until the person says they have kept it, since the page cannot show it again.
 */
export function secretOnce(region: HTMLElement, text: string, secret: string): void {
  render(
    region,
    h(
      'div',
      { class: 'card secret-once', role: 'alert' },
      h('p', {}, text),
      h('code', { id: 'secret-once', translate: 'no' }, secret),
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'secondary', onClick: () => render(region) }, t('I have kept it'))),
    ),
  );
}
