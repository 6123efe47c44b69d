import { h, render } from '../dom.js';
import { t } from '../i18n.js';
import { controllerReason, raw } from '../lang.js';
import { reasonIn } from '../../../rollouts/reason-wording.js';
import { live } from '../live.js';
import { dateTime } from '../format.js';
import type { BoardEntry, Page, PipelineRun, RolloutStatus } from '../types.js';
import { dataTable, gateMarks, stateBadge, stepper, timeInStep, waitingFor } from '../widgets.js';

/** Every active rollout at a glance, the latest finished ones below. */

/** A rollout's title: its flag, or a release's name and how many flags it ramps. */
function titleOf(r: BoardEntry): string {
  return r.release ? t('release {name} ({n} flags: {flags})', { name: r.release.name, n: r.release.flags.length, flags: r.release.flags.join(', ') }) : r.flag;
}

/** One pipeline run on one line: each environment in order with where its stage stands. */
function pipelineLine(run: PipelineRun): HTMLElement {
  const mark = { waiting: '○', active: '●', completed: '✓', stopped: '✕' } as const;
  return h(
    'li',
    { class: `pipeline-run state-${run.state}`, 'data-run': run.id },
    h('strong', { translate: 'no', 'data-raw': '' }, run.pipeline),
    h('strong', {}, ': ', run.release ? t('release {name}', { name: run.release.name }) : raw(run.flag)),
    ' ',
    ...run.stages.flatMap((stage, i) => [
      i > 0 ? h('span', { 'aria-hidden': 'true' }, ' → ') : null,
      h(
        'span',
        { class: `stage stage-${stage.status}`, title: stage.note ? reasonIn({ reason: stage.note, reasonWording: stage.noteWording }, t) : t(stage.status) },
        h('span', { 'aria-hidden': 'true' }, `${mark[stage.status]} `),
        stage.rolloutId ? h('a', { href: `#/rollouts/${encodeURIComponent(stage.rolloutId)}`, translate: 'no' }, stage.environment) : raw(stage.environment),
        h('span', { class: 'sr-only' }, ` ${t(stage.status)}`),
      ),
    ]),
    run.state === 'running'
      ? null
      : h(
          'span',
          { class: 'muted' },
          ` (${t(run.state)}`,
          run.reason ? [t(': '), controllerReason({ reason: run.reason, reasonWording: run.reasonWording })] : null,
          ')',
        ),
    ...run.stages
      .filter((s) => s.status === 'waiting' && s.note)
      .slice(0, 1)
      .map((s) => h('div', { class: 'muted' }, raw(s.environment), t(': '), controllerReason({ reason: s.note ?? '', reasonWording: s.noteWording }))),
  );
}

function card(r: BoardEntry): HTMLElement {
  const title = `${titleOf(r)} · ${r.environment}`;
  return h(
    'li',
    { class: 'card rollout-card', 'data-rollout': r.id, 'data-state': r.state },
    h(
      'div',
      { class: 'card-head' },
      h('h3', {}, h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}`, 'data-key': `open:${r.id}`, translate: r.release ? undefined : 'no' }, title)),
      stateBadge(r.state),
    ),
    stepper(r.status, r.state),
    h('p', { class: `served${r.status.served.killed ? ' killed' : ''}` }, servedText(r.status.served)),
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, t('Gates')), h('dd', {}, gateMarks(r.gates, r.gateCount))),
      h('div', {}, h('dt', {}, t('Time in step')), h('dd', {}, timeInStep(r.stepStartedAt, r.state))),
      h('div', {}, h('dt', {}, t('Waiting for')), h('dd', {}, waitingFor(r.status))),
      h('div', {}, h('dt', {}, t('Policy')), h('dd', {}, raw(r.policy))),
    ),
  );
}

export const rolloutsPage: Page = (main) => {
  const region = h('div', { class: 'rollouts' });
  const pipelines = h('section', { class: 'pipelines', 'aria-label': t('Pipeline runs') });
  render(main, h('h1', {}, t('Rollouts')), pipelines, region);
  const runs = live<{ runs: PipelineRun[] }>('/api/admin/pipeline-runs', ({ runs: all }) => {
    const shown = all.filter((r) => r.state === 'running').concat(all.filter((r) => r.state !== 'running').slice(0, 5));
    render(pipelines, shown.length ? [h('h2', {}, t('Pipelines')), h('ul', { class: 'pipeline-runs' }, shown.map(pipelineLine))] : null);
  });
  const poller = live<{ rollouts: BoardEntry[] }>('/api/admin/dashboard/rollouts', ({ rollouts }) => {
    const active = rollouts.filter((r) => r.status.active);
    const finished = rollouts.filter((r) => !r.status.active);
    render(
      region,
      h('h2', {}, t('Active ({n})', { n: active.length })),
      active.length
        ? h('ul', { class: 'cards' }, active.map(card))
        : h('p', { class: 'muted' }, t('No rollout is running. Start one with POST /api/admin/rollouts or rolloutctl start.')),
      finished.length
        ? [
            h('h2', {}, t('Recently finished')),
            dataTable({
              cls: 'finished stack',
              caption: t('Finished rollouts, newest first'),
              hideCaption: true,
              columns: [t('Flag'), t('Environment'), t('Outcome'), t('Reached'), t('Served now'), t('Finished')],
              rows: finished.map((r) => ({
                attrs: { 'data-rollout': r.id },
                cells: [
                  h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}`, translate: r.release ? undefined : 'no' }, titleOf(r)),
                  raw(r.environment),
                  stateBadge(r.state),
                  `${r.percentage}%`,
                  servedText(r.status.served),
                  dateTime(r.status.ended?.at ?? r.updatedAt),
                ],
              })),
            }),
          ]
        : null,
    );
  });
  return () => {
    poller.stop();
    runs.stop();
  };
};

/** What a rollout serves, in the page's language. */
const servedText = (served: RolloutStatus['served']) => controllerReason({ reason: served.text, reasonWording: served.textWording });
