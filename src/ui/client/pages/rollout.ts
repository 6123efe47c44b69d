import { rolloutActions } from '../actions.js';
import { downloadFrom } from '../download.js';
import { h, render, type Child } from '../dom.js';
import { locale, t } from '../i18n.js';
import { controllerReason, raw } from '../lang.js';
import { countedText, dateTime, metricValue, ruleLabel, samplesText, stateLabel, verdictLabel } from '../format.js';
import { judgedOnText, shownVerdict } from '../../../rollouts/units.js';
import { live } from '../live.js';
import { showError, announce } from '../status.js';
import type { CheckResult, Page, PageContext, Rollout, RolloutView, RolloutWithStatus, Transition } from '../types.js';
import { dataTable, stateBadge, stepper, timeInStep, waitingFor } from '../widgets.js';
import { rolloutCharts } from './rollout-charts.js';
import { preflightSection } from './rollout-preflight.js';

/** One rollout: where it stands, its charts, what people can do, and the record of every transition. */

function verdictLine(r: Rollout): HTMLElement {
  const v = r.stepVerdict;
  const text = v.kind === 'healthy' ? t('healthy: every gate passes') : [t(v.kind), t(': '), controllerReason(v)];
  return h('p', { class: `verdict verdict-${v.kind}` }, h('strong', {}, t('Step: ')), text);
}

function gateTable(gates: CheckResult[], caption: string): HTMLElement {
  if (gates.length === 0) return h('p', { class: 'muted' }, t('{what}: not judged yet in this step.', { what: caption }));
  return dataTable({
    cls: 'gates stack',
    caption,
    columns: [t('Rule'), t('Value'), t('Threshold'), t('Samples'), t('Judged on'), t('Verdict')],
    rowHeaders: true,
    rows: gates.map((g) => ({
      cells: [
        ruleLabel(g),
        metricValue(g.metric, g.value),
        metricValue(g.metric, g.threshold),
        samplesText(g.metric, g.samples),
        t(judgedOnText(g)),
        [
          h('span', { class: `badge verdict-${shownVerdict(g)}` }, verdictLabel(shownVerdict(g))),
          g.reason ? [' ', controllerReason({ reason: g.reason, reasonWording: g.reasonWording })] : null,
        ],
      ],
    })),
  });
}

function transitionValues(tr: Transition): Child[] {
  const parts: Child[] = [];
  for (const g of [...(tr.gates ?? []), ...(tr.rollbackChecks ?? [])]) {
    parts.push(
      h(
        'li',
        {},
        ruleLabel(g),
        t(': {value} over {samples} ({verdict})', {
          value: metricValue(g.metric, g.value),
          samples: samplesText(g.metric, g.samples),
          verdict: verdictLabel(shownVerdict(g)),
        }),
      ),
    );
  }
  if (tr.samples)
    parts.push(
      h(
        'li',
        {},
        t('samples: treatment {treatment}, control {control}', {
          treatment: countedText(tr.samples.treatment, 'request'),
          control: countedText(tr.samples.control, 'request'),
        }),
      ),
    );
  for (const a of tr.approvals ?? [])
    parts.push(
      h(
        'li',
        {},
        t('approved by '),
        raw(`${a.by.name}${a.by.role ? ` (${a.by.role})` : ''}`),
        t(' at {when}', { when: dateTime(a.at) }),
        a.ahead ? t(', ahead') : '',
        a.comment ? [': “', h('span', { 'data-raw': '' }, a.comment), '”'] : '',
      ),
    );
  for (const a of tr.voidedApprovals ?? []) parts.push(h('li', {}, t('approval by {name} made void: it must be given again', { name: a.by.name })));
  return parts.length ? [h('ul', { class: 'values' }, parts)] : [];
}

function historyTable(r: Rollout): HTMLElement {
  return dataTable({
    cls: 'history stack',
    caption: t('History: every transition with the values behind it'),
    columns: [t('When'), t('Transition'), t('Percentage'), t('Why'), t('By'), t('Values')],
    rows: [...r.history].reverse().map((tr) => ({
      cells: [dateTime(tr.at), `${stateLabel(tr.from)} → ${stateLabel(tr.to)}`, `${tr.percentage}%`, controllerReason(tr), raw(tr.actor), transitionValues(tr)],
    })),
  });
}

function approvalsList(r: Rollout, steps: number[]): HTMLElement {
  if (r.approvals.length === 0) return h('p', { class: 'muted' }, t('No approvals yet.'));
  return h(
    'ul',
    { class: 'approvals' },
    r.approvals.map((a) =>
      h(
        'li',
        {},
        `${steps[a.step] ?? '?'}%${a.ahead ? t(' (ahead)') : ''}: `,
        raw(`${a.by.name}${a.by.role ? ` (${a.by.role})` : ''}`),
        `, ${dateTime(a.at)}`,
        a.comment ? [' — “', h('span', { 'data-raw': '' }, a.comment), '”'] : null,
      ),
    ),
  );
}

/** The go-live report needs the token, so it is fetched and handed to the browser as a file. */
function reportButton(r: Rollout, format: 'md' | 'html'): HTMLElement {
  const label = format === 'md' ? t('Go-live report (Markdown)') : t('Go-live report (HTML)');
  const button = h('button', { type: 'button', class: 'secondary', 'data-key': `report:${format}` }, label);
  button.addEventListener('click', async () => {
    try {
      await downloadFrom(`/api/admin/rollouts/${encodeURIComponent(r.id)}/report?format=${format}&lang=${locale()}`, `go-live-report.${format}`);
      announce(t('{what} downloaded', { what: label }));
    } catch (err) {
      showError(err);
    }
  });
  return button;
}

/** How the rollout ended (and, for a rollback, the check that caused it), and what a person may do next. */
function endedSection(r: RolloutWithStatus): HTMLElement | null {
  const ended = r.status.ended;
  if (!ended) return null;
  return h(
    'section',
    { 'aria-labelledby': 'ended-title', class: `ended ended-${ended.state}` },
    h(
      'h2',
      { id: 'ended-title' },
      t(`${ended.state === 'completed' ? 'Completed' : ended.state === 'rolled_back' ? 'Rolled back' : 'Aborted'} on {when}`, { when: dateTime(ended.at) }),
    ),
    h('p', {}, h('strong', {}, t('Why: ')), controllerReason(ended), ` (${t('by')} `, raw(ended.by), ')'),
    ended.causeText
      ? h('p', { class: 'cause' }, h('strong', {}, t('Cause: ')), controllerReason({ reason: ended.causeText, reasonWording: ended.causeWording }))
      : null,
    r.status.nextSteps.length
      ? h(
          'ul',
          { class: 'next-steps', 'aria-label': t('What can be done next') },
          r.status.nextSteps.map((s) =>
            h(
              'li',
              {},
              controllerReason({ reason: s.text, reasonWording: s.textWording }),
              s.warning ? h('span', { class: 'warning' }, t(' — warning: '), controllerReason({ reason: s.warning, reasonWording: s.warningWording })) : null,
            ),
          ),
        )
      : null,
  );
}

function view(data: RolloutView, ctx: PageContext, refresh: () => void): Child[] {
  const { rollout: r, series } = data;
  const progress = r.status;
  const actions = rolloutActions(r, ctx, refresh);
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/rollouts' }, t('← All rollouts'))),
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, r.release ? t('release {name}', { name: r.release.name }) : raw(r.flag), ' · ', raw(r.environment)),
      stateBadge(r.state),
    ),
    r.release ? h('p', { class: 'release-flags' }, t('Flags ramped as one (one cohort, one kill): '), raw(r.release.flags.join(', '))) : null,
    h(
      'p',
      { class: 'muted' },
      t('Policy '),
      raw(r.policy),
      t(' · started by '),
      raw(r.startedBy.name),
      t(' on {when} · id ', { when: dateTime(r.createdAt) }),
      raw(r.id),
    ),
    stepper(progress, r.state),
    h(
      'div',
      { class: 'now' },
      progress.active ? verdictLine(r) : null,
      h(
        'p',
        { class: `served${progress.served.killed ? ' killed' : ''}`, 'data-served': String(progress.served.percentage) },
        h('strong', {}, t('Served now: ')),
        controllerReason({ reason: progress.served.text, reasonWording: progress.served.textWording }),
      ),
      progress.active ? h('p', {}, h('strong', {}, t('Time in step: ')), timeInStep(r.stepStartedAt, r.state)) : null,
      progress.traffic
        ? h('p', { class: progress.traffic.kind === 'not-judged' ? 'traffic verdict-not-judged' : 'traffic', 'data-traffic': progress.traffic.kind }, [
            h('strong', {}, t('Traffic: ')),
            controllerReason({ reason: progress.traffic.text, reasonWording: progress.traffic.textWording }),
          ])
        : null,
    ),
    endedSection(r),
    progress.active
      ? h(
          'section',
          { 'aria-labelledby': 'waits-title' },
          h('h2', { id: 'waits-title' }, progress.started ? t('To leave this step') : t('Before the first step ({pct}%)', { pct: progress.steps[0] ?? 0 })),
          waitingFor(progress, true),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'actions-title' },
      h('h2', { id: 'actions-title' }, t('Actions')),
      h(
        'div',
        { class: 'toolbar' },
        actions.length
          ? actions
          : h(
              'span',
              { class: 'muted' },
              progress.nextSteps.length
                ? t('Your role ({role}) cannot take the next steps listed above.', { role: ctx.me.role })
                : t('Nothing your role can do in this state.'),
            ),
        reportButton(r, 'md'),
        reportButton(r, 'html'),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'gates-title' },
      h('h2', { id: 'gates-title' }, t('Gates')),
      gateTable(r.gates, t('Latest analysis of this step')),
      r.rollbackChecks.length ? gateTable(r.rollbackChecks, t('Rollback rules (recent window)')) : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'charts-title' },
      h('h2', { id: 'charts-title' }, t('Over time')),
      h('div', { class: 'charts' }, rolloutCharts(series, progress.served.percentage)),
    ),
    preflightSection(r),
    h('section', { 'aria-labelledby': 'approvals-title' }, h('h2', { id: 'approvals-title' }, t('Approvals')), approvalsList(r, progress.steps)),
    h('section', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, t('History')), historyTable(r)),
  ];
}

export const rolloutPage: Page = (main, ctx) => {
  const id = ctx.param ?? '';
  render(main, h('p', { class: 'muted' }, t('Loading…')));
  const poller = live<RolloutView>(`/api/admin/rollouts/${encodeURIComponent(id)}/series`, (data) => {
    const name = data.rollout.release ? t('release {name}', { name: data.rollout.release.name }) : data.rollout.flag;
    document.title = `${name} · ${data.rollout.environment} — ${t('Rollout controller')}`;
    render(
      main,
      view(data, ctx, () => poller.refresh()),
    );
  });
  return () => poller.stop();
};
