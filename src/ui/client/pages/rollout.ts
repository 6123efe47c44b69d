import { rolloutActions } from '../actions.js';
import { downloadFrom } from '../download.js';
import { h, render, type Child } from '../dom.js';
import { dateTime, metricValue, samplesText, stateLabel } from '../format.js';
import { counted, judgedOnText, percentOf, shownVerdict, verdictText } from '../../../rollouts/units.js';
import type { Preflight } from '../../../rollouts/preflight.js';
import { baselineText, minutesText, perMinute } from '../../../rollouts/preflight-text.js';
import { live } from '../live.js';
import { showError, announce } from '../status.js';
import type { CheckResult, Page, PageContext, Rollout, RolloutView, RolloutWithStatus, Transition } from '../types.js';
import { dataTable, stateBadge, stepper, timeInStep, waitingFor } from '../widgets.js';
import { rolloutCharts } from './rollout-charts.js';

/** One rollout: where it stands, its charts, what people can do, and the record of every transition. */

function verdictLine(r: Rollout): HTMLElement {
  const v = r.stepVerdict;
  const text = v.kind === 'healthy' ? 'healthy: every gate passes' : `${v.kind}: ${v.reason}`;
  return h('p', { class: `verdict verdict-${v.kind}` }, h('strong', {}, 'Step: '), text);
}

function gateTable(gates: CheckResult[], caption: string): HTMLElement {
  if (gates.length === 0) return h('p', { class: 'muted' }, `${caption}: not judged yet in this step.`);
  return dataTable({
    cls: 'gates stack',
    caption,
    columns: ['Rule', 'Value', 'Threshold', 'Samples', 'Judged on', 'Verdict'],
    rowHeaders: true,
    rows: gates.map((g) => ({
      cells: [
        g.rule,
        metricValue(g.metric, g.value),
        metricValue(g.metric, g.threshold),
        samplesText(g.metric, g.samples),
        judgedOnText(g),
        [h('span', { class: `badge verdict-${shownVerdict(g)}` }, verdictText(g)), g.reason ? h('span', { class: 'muted' }, ` ${g.reason}`) : null],
      ],
    })),
  });
}

function transitionValues(t: Transition): Child[] {
  const parts: Child[] = [];
  for (const g of [...(t.gates ?? []), ...(t.rollbackChecks ?? [])]) {
    parts.push(h('li', {}, `${g.rule}: ${metricValue(g.metric, g.value)} over ${samplesText(g.metric, g.samples)} (${verdictText(g)})`));
  }
  if (t.samples) parts.push(h('li', {}, `samples: treatment ${counted(t.samples.treatment, 'request')}, control ${counted(t.samples.control, 'request')}`));
  for (const a of t.approvals ?? [])
    parts.push(
      h(
        'li',
        {},
        `approved by ${a.by.name}${a.by.role ? ` (${a.by.role})` : ''} at ${dateTime(a.at)}${a.ahead ? ', ahead' : ''}${a.comment ? `: “${a.comment}”` : ''}`,
      ),
    );
  for (const a of t.voidedApprovals ?? []) parts.push(h('li', {}, `approval by ${a.by.name} made void: it must be given again`));
  return parts.length ? [h('ul', { class: 'values' }, parts)] : [];
}

function historyTable(r: Rollout): HTMLElement {
  return dataTable({
    cls: 'history stack',
    caption: 'History: every transition with the values behind it',
    columns: ['When', 'Transition', 'Percentage', 'Why', 'By', 'Values'],
    rows: [...r.history].reverse().map((t) => ({
      cells: [dateTime(t.at), `${stateLabel(t.from)} → ${stateLabel(t.to)}`, `${t.percentage}%`, t.reason, t.actor, transitionValues(t)],
    })),
  });
}

function approvalsList(r: Rollout, steps: number[]): HTMLElement {
  if (r.approvals.length === 0) return h('p', { class: 'muted' }, 'No approvals yet.');
  return h(
    'ul',
    { class: 'approvals' },
    r.approvals.map((a) =>
      h(
        'li',
        {},
        `${steps[a.step] ?? '?'}%${a.ahead ? ' (ahead)' : ''}: ${a.by.name}${a.by.role ? ` (${a.by.role})` : ''}, ` +
          `${dateTime(a.at)}${a.comment ? ` — “${a.comment}”` : ''}`,
      ),
    ),
  );
}

/** The go-live report needs the token, so it is fetched and handed to the browser as a file. */
function reportButton(r: Rollout, format: 'md' | 'html'): HTMLElement {
  const label = format === 'md' ? 'Go-live report (Markdown)' : 'Go-live report (HTML)';
  const button = h('button', { type: 'button', class: 'secondary', 'data-key': `report:${format}` }, label);
  button.addEventListener('click', async () => {
    try {
      await downloadFrom(`/api/admin/rollouts/${encodeURIComponent(r.id)}/report?format=${format}`, `go-live-report.${format}`);
      announce(`${label} downloaded`);
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
      `${ended.state === 'completed' ? 'Completed' : ended.state === 'rolled_back' ? 'Rolled back' : 'Aborted'} on ${dateTime(ended.at)}`,
    ),
    h('p', {}, h('strong', {}, 'Why: '), ended.reason, ` (by ${ended.by})`),
    ended.causeText ? h('p', { class: 'cause' }, h('strong', {}, 'Cause: '), ended.causeText) : null,
    r.status.nextSteps.length
      ? h(
          'ul',
          { class: 'next-steps', 'aria-label': 'What can be done next' },
          r.status.nextSteps.map((s) => h('li', {}, s.text, s.warning ? h('span', { class: 'warning' }, ` — warning: ${s.warning}`) : null)),
        )
      : null,
  );
}

const LIMITED_BY = { traffic: 'traffic', minDuration: 'minimum duration', minSamples: 'minimum samples' } as const;

/** What the start was told about the flag's baseline and how long each step needs (kept on the rollout since its start). */
export function preflightSection(r: Rollout & { preflight?: Preflight }): HTMLElement | null {
  const p = r.preflight;
  if (!p) return null;
  const confidence = percentOf(p.detection.confidence);
  return h(
    'section',
    { 'aria-labelledby': 'preflight-title' },
    h('h2', { id: 'preflight-title' }, 'Pre-flight'),
    h('p', {}, h('strong', {}, 'Baseline at the start: '), baselineText(p)),
    p.warnings?.length
      ? h(
          'ul',
          { class: 'preflight-warnings', 'aria-label': 'Started with force over' },
          p.warnings.map((w) => h('li', { class: 'verdict-failing' }, `Started with force: ${w}`)),
        )
      : null,
    dataTable({
      cls: 'preflight stack',
      caption: `Per step, at the traffic of the start: time to detect a doubling of the error rate at ${confidence} confidence`,
      columns: ['Step', 'Requests', 'To detect a doubling', 'Step lasts at least', 'Limited by'],
      rowHeaders: true,
      rows: p.steps.map((s) => ({
        cells: [
          `${s.percentage}%`,
          perMinute(s.requestsPerMinute),
          s.minutesToDetectDoubling === null ? (s.reason ?? 'no estimate') : minutesText(s.minutesToDetectDoubling),
          s.minutesNeeded === null ? 'waits for traffic' : minutesText(s.minutesNeeded),
          [LIMITED_BY[s.limitedBy], s.beyondMaxDuration ? h('span', { class: 'muted' }, ' (longer than the step may last)') : null],
        ],
      })),
    }),
    p.notes.length
      ? h(
          'ul',
          { class: 'muted' },
          p.notes.map((n) => h('li', {}, n)),
        )
      : null,
  );
}

function view(data: RolloutView, ctx: PageContext, refresh: () => void): Child[] {
  const { rollout: r, series } = data;
  const progress = r.status;
  const actions = rolloutActions(r, ctx, refresh);
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/rollouts' }, '← All rollouts')),
    h('div', { class: 'page-head' }, h('h1', {}, `${r.release ? `release ${r.release.name}` : r.flag} · ${r.environment}`), stateBadge(r.state)),
    r.release ? h('p', { class: 'release-flags' }, `Flags ramped as one (one cohort, one kill): ${r.release.flags.join(', ')}`) : null,
    h('p', { class: 'muted' }, `Policy ${r.policy} · started by ${r.startedBy.name} on ${dateTime(r.createdAt)} · id ${r.id}`),
    stepper(progress, r.state),
    h(
      'div',
      { class: 'now' },
      progress.active ? verdictLine(r) : null,
      h(
        'p',
        { class: `served${progress.served.killed ? ' killed' : ''}`, 'data-served': String(progress.served.percentage) },
        h('strong', {}, 'Served now: '),
        progress.served.text,
      ),
      progress.active ? h('p', {}, h('strong', {}, 'Time in step: '), timeInStep(r.stepStartedAt, r.state)) : null,
      progress.traffic
        ? h('p', { class: progress.traffic.kind === 'not-judged' ? 'traffic verdict-not-judged' : 'traffic', 'data-traffic': progress.traffic.kind }, [
            h('strong', {}, 'Traffic: '),
            progress.traffic.text,
          ])
        : null,
    ),
    endedSection(r),
    progress.active
      ? h(
          'section',
          { 'aria-labelledby': 'waits-title' },
          h('h2', { id: 'waits-title' }, progress.started ? 'To leave this step' : `Before the first step (${progress.steps[0]}%)`),
          waitingFor(progress, true),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'actions-title' },
      h('h2', { id: 'actions-title' }, 'Actions'),
      h(
        'div',
        { class: 'toolbar' },
        actions.length
          ? actions
          : h(
              'span',
              { class: 'muted' },
              progress.nextSteps.length ? `Your role (${ctx.me.role}) cannot take the next steps listed above.` : 'Nothing your role can do in this state.',
            ),
        reportButton(r, 'md'),
        reportButton(r, 'html'),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'gates-title' },
      h('h2', { id: 'gates-title' }, 'Gates'),
      gateTable(r.gates, 'Latest analysis of this step'),
      r.rollbackChecks.length ? gateTable(r.rollbackChecks, 'Rollback rules (recent window)') : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'charts-title' },
      h('h2', { id: 'charts-title' }, 'Over time'),
      h('div', { class: 'charts' }, rolloutCharts(series, progress.served.percentage)),
    ),
    preflightSection(r),
    h('section', { 'aria-labelledby': 'approvals-title' }, h('h2', { id: 'approvals-title' }, 'Approvals'), approvalsList(r, progress.steps)),
    h('section', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'History'), historyTable(r)),
  ];
}

export const rolloutPage: Page = (main, ctx) => {
  const id = ctx.param ?? '';
  render(main, h('p', { class: 'muted' }, 'Loading…'));
  const poller = live<RolloutView>(`/api/admin/rollouts/${encodeURIComponent(id)}/series`, (data) => {
    document.title = `${data.rollout.release ? `release ${data.rollout.release.name}` : data.rollout.flag} · ${data.rollout.environment} — Rollout controller`;
    render(
      main,
      view(data, ctx, () => poller.refresh()),
    );
  });
  return () => poller.stop();
};
