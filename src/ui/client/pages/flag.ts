import { actionButton, killAction } from '../actions.js';
import type { Poller } from '../api.js';
import { h, render } from '../dom.js';
import { t } from '../i18n.js';
import { controllerReason, inPageLanguage, raw } from '../lang.js';
import { downloadFrom } from '../download.js';
import { dateTime } from '../format.js';
import { live } from '../live.js';
import { announce, showError } from '../status.js';
import type { Page, PageContext, StoredFlag } from '../types.js';
import { dataTable } from '../widgets.js';
import { flagLinks, ownedLine } from './flag-links.js';
import { forEnvironment } from '../../../flags/per-environment.js';
import type { DrillRecord } from '../../../propagation/drill-record.js';
import { drillVerdictWording, msText } from '../../../propagation/drill-verdict.js';
import type { InstanceRef, Propagation } from '../../../propagation/propagation.js';
import { isProductionEnvironment } from '../../../propagation/production-guard.js';

/**
 * One flag in one environment: whether the SDK instances connected there hold its current state
 * (after a kill: has the kill arrived everywhere?), and the rollback drill for release managers.
 */

type Drill = DrillRecord & { auditSeq?: number; report?: string };

const flagPath = (flag: string, env: string, rest: string) => `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(env)}/${rest}`;

function instanceRows(list: InstanceRef[]) {
  return list.map((i) => ({
    attrs: { 'data-instance': i.instanceId ?? i.instance },
    cells: [i.appName ? raw(i.appName) : t('(unknown)'), raw(i.instanceId ?? `#${i.instance}`), dateTime(i.lastSeenAt)],
  }));
}

function propagationView(p: Propagation): HTMLElement[] {
  if (p.instances === 0) return [h('p', { class: 'muted', 'data-instances': '0' }, t('No SDK instance was seen here in the last 5 minutes.'))];
  const last = p.lastConfirmedAt ? t('The last of them got it {when}.', { when: dateTime(p.lastConfirmedAt) }) : '';
  const out: HTMLElement[] = [
    h(
      'p',
      { class: 'propagation-summary', 'data-instances': String(p.instances), 'data-confirmed': String(p.confirmed) },
      h('strong', {}, t('{confirmed} of {instances}', { confirmed: p.confirmed, instances: p.instances })),
      t(' SDK instances seen in the last 5 minutes hold its current state (revision {version}). ', { version: p.version }),
      last,
    ),
  ];
  if (p.pending.length === 0) out.push(h('p', { class: 'muted' }, t('None is pending.')));
  else {
    out.push(
      dataTable({
        cls: 'pending stack',
        caption: t('Pending: not holding it yet'),
        columns: [t('Application'), t('Instance'), t('Last seen')],
        rows: instanceRows(p.pending),
      }),
    );
    if (p.pendingNotListed > 0) out.push(h('p', { class: 'muted' }, t('And {n} more.', { n: p.pendingNotListed })));
  }
  return out;
}

function drillView(d: Drill): HTMLElement {
  const verified = d.instances > 0 && d.confirmed === d.instances && d.restore.restored;
  const report = d.report;
  return h(
    'div',
    { class: 'card drill-result', 'data-verified': String(verified) },
    h('p', {}, h('strong', { class: verified ? 'verdict-pass' : 'verdict-fail' }, inPageLanguage(drillVerdictWording(d)))),
    dataTable({
      cls: 'drill-times',
      caption: t('Time for the kill to reach the instances'),
      columns: [t('Share of instances'), t('Time after the kill')],
      rows: [
        ['50 %', t(msText(d.ms.p50))],
        ['99 %', t(msText(d.ms.p99))],
        ['100 %', t(msText(d.ms.max))],
      ].map((cells) => ({ cells })),
    }),
    d.missing.length
      ? dataTable({
          cls: 'missing stack',
          caption: t('Never had the kill'),
          columns: [t('Application'), t('Instance'), t('Last seen')],
          rows: instanceRows(d.missing),
        })
      : null,
    h(
      'p',
      {},
      d.restore.restored
        ? t('Restored {when}.', { when: dateTime(d.restore.at) })
        : [t('Not restored: '), controllerReason({ reason: d.restore.why, reasonWording: d.restore.whyWording }), '.'],
    ),
    report
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'data-key': 'drill-report',
            onClick: () => downloadFrom(report, 'drill-report.md').then(() => announce(t('Drill report downloaded')), showError),
          },
          t('Drill report (Markdown)'),
        )
      : null,
  );
}

function drillButton(flag: string, env: string, onStart: () => void, onDone: (d: Drill) => void, after: () => void): HTMLElement {
  const production = isProductionEnvironment(env);
  return actionButton(
    {
      label: t('Run a rollback drill'),
      key: `drill:${env}:${flag}`,
      title: t('Rollback drill of {flag} in {env}?', { flag, env }),
      message:
        t(
          '{flag} is killed in {env} at once, the controller waits until every connected SDK instance has the kill (at most 60 s), then restores it and records the times.',
          { flag, env },
        ) + (production ? t(' {env} is a production environment: its users lose the feature while the drill runs.', { env }) : ''),
      confirmLabel: production ? t('Run the drill on production') : t('Run the drill'),
      text: { label: t('Reason'), required: true },
      danger: true,
      path: flagPath(flag, env, 'drill'),
      body: (text) => {
        onStart();
        return { reason: text, ...(production ? { confirm: true } : {}) };
      },
      done: t('Drill of {flag} in {env} finished', { flag, env }),
      onDone: (answer) => onDone(answer as Drill),
    },
    after,
  );
}

export const flagPage: Page = (main, ctx: PageContext) => {
  const name = ctx.param ?? '';
  const picker = h('select', { id: 'flag-env-picker', 'data-key': 'flag-env-picker', translate: 'no' });
  const served = h('div', { class: 'now' });
  const actions = h('div', { class: 'toolbar' });
  const propagation = h('div', { 'aria-live': 'polite' });
  const drillResult = h('div');
  let flag: StoredFlag | undefined;
  let env = ctx.query.get('env') ?? '';
  let drilling = false;
  let shownEnvs = '';
  let propagationPoller: Poller | undefined;

  const drawActions = () => {
    if (!flag) return;
    const kill = forEnvironment(flag.killSwitches, env);
    const buttons: HTMLElement[] = [];
    if (ctx.can('flags:kill')) buttons.push(actionButton(killAction(name, env, !kill), () => flagPoller.refresh()));
    if (ctx.can('flags:drill')) {
      if (drilling) buttons.push(h('button', { type: 'button', class: 'danger', disabled: true, 'data-key': 'drill-running' }, t('Drill running…')));
      else if (kill) buttons.push(h('span', { class: 'muted note' }, t('No drill while the flag is killed: a drill ends by restoring it.')));
      else {
        const start = () => {
          drilling = true;
          drawActions();
        };
        const show = (d: Drill) => render(drillResult, drillView(d));
        const end = () => {
          drilling = false;
          drawActions();
          flagPoller.refresh();
          propagationPoller?.refresh();
        };
        buttons.push(drillButton(name, env, start, show, end));
      }
    }
    render(actions, buttons.length ? buttons : h('span', { class: 'muted' }, t('Nothing your role ({role}) can do here.', { role: ctx.me.role })));
  };

  const draw = () => {
    if (!flag) return;
    const envs = [...new Set([...Object.keys(flag.environments), ...Object.keys(flag.killSwitches)])].sort();
    if (!envs.includes(env)) env = envs.includes('production') ? 'production' : (envs[0] ?? '');
    // Rebuilt only when the environments change, so an open list is not reset under the user.
    if (envs.join('\n') !== shownEnvs) {
      shownEnvs = envs.join('\n');
      render(
        picker,
        envs.map((e) => h('option', { value: e, selected: e === env }, e)),
      );
    }
    const kill = forEnvironment(flag.killSwitches, env);
    const config = forEnvironment(flag.environments, env);
    render(
      served,
      h(
        'p',
        { 'data-served': kill ? 'killed' : config?.enabled ? 'enabled' : 'disabled' },
        h('strong', {}, t('Served: ')),
        kill
          ? [t('killed, served disabled (by '), raw(kill.actor), `, ${dateTime(kill.at)}: `, h('span', { 'data-raw': '' }, kill.reason), ')']
          : config?.enabled
            ? t('enabled')
            : t('disabled'),
      ),
      ownedLine(flag, env),
    );
    drawActions();
  };

  const watchPropagation = () => {
    propagationPoller?.stop();
    if (!env) return;
    propagationPoller = live<Propagation>(flagPath(name, env, 'propagation'), (p) => render(propagation, propagationView(p)));
  };

  picker.addEventListener('change', () => {
    env = picker.value;
    render(drillResult);
    draw();
    watchPropagation();
  });

  render(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/flags' }, t('← All flags'))),
    h('h1', { translate: 'no', 'data-raw': '' }, name),
    flagLinks(name, ctx),
    h('div', { class: 'filters' }, h('label', { for: 'flag-env-picker' }, t('Environment')), picker),
    served,
    h('section', { 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, t('Actions')), actions, drillResult),
    h('section', { 'aria-labelledby': 'propagation-title' }, h('h2', { id: 'propagation-title' }, t('Has its state arrived?')), propagation),
  );
  const flagPoller = live<StoredFlag>(`/api/admin/flags/${encodeURIComponent(name)}`, (f) => {
    const first = !flag;
    flag = f;
    document.title = `${f.name} — ${t('Rollout controller')}`;
    draw();
    if (first) watchPropagation();
  });
  return () => {
    flagPoller.stop();
    propagationPoller?.stop();
  };
};
